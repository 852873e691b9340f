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
  /**
   * Runs within `delayMs` at the latest (sooner if already due sooner); during a run, bounds the
   * wait after it. For work whose due time the process learns of between runs.
   */
  wakeWithin(delayMs: number): void;
}

export interface PollLoopOptions<T> {
  /**
   * The wait after a run that succeeded, from what it returned (for a loop that knows when its
   * next work is due); `pollMs` after a failed run. Unused when `pollMs` is 0.
   */
  waitAfter?: (result: T) => number;
  /**
   * Least time from the end of one run to the start of the next when woken: wakes arriving
   * together (a burst of commits) share one run. Default 0.
   */
  minGapMs?: number;
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
  /** When the timer fires (performance.now()), for wakeWithin. */
  let timerAtMs = Number.POSITIVE_INFINITY;
  /** The latest the run after the current one may start (wakeWithin during a run). */
  let nextRunByMs = Number.POSITIVE_INFINITY;
  const minGapMs = options.minGapMs ?? 0;
  let lastEndMs = Number.NEGATIVE_INFINITY;
  /** Runs within `delayMs`, unless the timer already fires sooner. */
  const runWithin = (delayMs: number) => {
    if (performance.now() + delayMs < timerAtMs) schedule(delayMs);
  };
  const schedule = (delayMs: number) => {
    if (timer) clearTimeout(timer);
    timerAtMs = performance.now() + delayMs;
    timer = setTimeout(tick, delayMs);
  };
  const tick = () => {
    timer = undefined;
    timerAtMs = Number.POSITIVE_INFINITY;
    if (stopped) return;
    wokenDuringRun = false;
    nextRunByMs = Number.POSITIVE_INFINITY;
    let waitMs = pollMs;
    running = runDue()
      .then((result) => {
        if (options.waitAfter) waitMs = options.waitAfter(result);
      })
      .catch(onError)
      .finally(() => {
        running = undefined;
        lastEndMs = performance.now();
        if (stopped) return;
        if (wokenDuringRun) schedule(minGapMs);
        else if (pollMs > 0 || nextRunByMs < Number.POSITIVE_INFINITY)
          schedule(Math.max(0, Math.min(pollMs > 0 ? waitMs : Infinity, nextRunByMs - performance.now())));
      });
  };
  if (pollMs > 0) schedule(pollMs);
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
      runWithin(Math.max(0, lastEndMs + minGapMs - performance.now()));
    },
    wakeWithin(delayMs) {
      if (stopped) return;
      const byMs = performance.now() + Math.max(0, delayMs);
      if (running) nextRunByMs = Math.min(nextRunByMs, byMs);
      else runWithin(Math.max(0, delayMs));
    },
  };
}

/**
 * For a loop that sleeps until its next work is due (`waitAfter`): how long to sleep after a
 * look that started at `lookedAtMs`, given when the next work is due (undefined: none waits).
 * At most `fallbackPollMs`. Work already due at the look and still waiting is held back by
 * something whose end this process is not told of: look again after `pollMs`, as polling would.
 */
export function msUntilDue(
  dueAtMs: number | undefined,
  at: { lookedAtMs: number; nowMs: number },
  pollMs: number,
  fallbackPollMs: number,
): number {
  if (dueAtMs === undefined) return fallbackPollMs;
  if (dueAtMs <= at.lookedAtMs) return Math.min(pollMs, fallbackPollMs);
  return Math.min(fallbackPollMs, Math.max(0, dueAtMs - at.nowMs));
}

/**
 * Answers true at most once per `everyMs` of the given clock readings (the first call always):
 * for housekeeping that a loop may attempt on every run. A reading `everyMs` behind the last also
 * counts (a test clock set back).
 */
export function atMostEvery(everyMs: number): (nowMs: number) => boolean {
  let lastMs: number | undefined;
  return (nowMs) => {
    if (lastMs !== undefined && Math.abs(nowMs - lastMs) < everyMs) return false;
    lastMs = nowMs;
    return true;
  };
}
