/**
 * Runs `runDue` every `pollMs` (0: never; tests call runDue themselves), one run at a time:
 * the next wait starts when a run ends. The work itself is durable rows; this loop only decides
 * when to look for them, so losing it (a crash) loses nothing.
 */
export interface PollLoop {
  /** Stops polling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export function startPollLoop(runDue: () => Promise<unknown>, pollMs: number, onError: (error: unknown) => void): PollLoop {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    running = runDue()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollMs);
      });
  };
  if (pollMs > 0) timer = setTimeout(tick, pollMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
