/**
 * Runs `runDue` every `pollMs` (0: never; tests call runDue themselves), one run at a time:
 * the next wait starts when a run ends. The work itself is durable rows; this loop only decides
 * when to look for them, so losing it (a crash) loses nothing.
 */
export interface PollLoop {
  /** Stops polling and waits for a run in progress to finish. */
  stop(): Promise<void>;
  /**
   * Runs now instead of at the end of the current wait (even with `pollMs` 0); during a run,
   * runs once more as soon as it ends, since the run may have looked before the news arrived.
   */
  wake(): void;
}

export interface PollLoopOptions<T> {
  /**
   * The wait after a run that succeeded, from what it returned (for a loop that knows when its
   * next work is due); `pollMs` after a failed run. Unused when `pollMs` is 0.
   */
  waitAfter?: (result: T) => number;
}

export function startPollLoop<T>(
  runDue: () => Promise<T>,
  pollMs: number,
  onError: (error: unknown) => void,
  options: PollLoopOptions<T> = {},
): PollLoop {
  let stopped = false;
  let running: Promise<unknown> | undefined;
  let wokenDuringRun = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    wokenDuringRun = false;
    let waitMs = pollMs;
    running = runDue()
      .then((result) => {
        if (options.waitAfter) waitMs = options.waitAfter(result);
      })
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (wokenDuringRun) timer = setTimeout(tick, 0);
        else if (pollMs > 0) timer = setTimeout(tick, Math.max(0, waitMs));
      });
  };
  if (pollMs > 0) timer = setTimeout(tick, pollMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    wake() {
      if (stopped) return;
      if (running) {
        wokenDuringRun = true;
        return;
      }
      if (timer) clearTimeout(timer);
      timer = setTimeout(tick, 0);
    },
  };
}
