/**
 * How the entry points (npm start, npm run api, npm run worker) end: the first SIGINT/SIGTERM stops
 * every part in order and exits 0 (1 if a part failed to stop, or after SHUTDOWN_TIMEOUT_MS);
 * a second signal exits at once with 130. A part that fails on its own (fail()) stops everything
 * the same way, with exit 1. A signal or failure that arrives while the parts are still starting is
 * kept and acted on as soon as they are up (or the start fails).
 *
 * A signal within DUPLICATE_WINDOW_MS of the first is the same one delivered twice, not a second
 * Ctrl-C: tsx passes a signal on to its child again when the child has not acknowledged it within
 * 30 ms, which happens on a loaded machine.
 */
const DUPLICATE_WINDOW_MS = 2_000;

export interface StopOnSignal {
  /** The parts are up: `stop` ends them. Returns at once; the process exits once they are stopped. */
  ready(stop: () => Promise<void>): void;
  /** A part failed while running: stop everything and exit 1. */
  fail(error: unknown): void;
}

export function stopOnSignal(log: (line: string) => void, shutdownTimeoutMs: number): StopOnSignal {
  let stop: (() => Promise<void>) | undefined;
  let pending: { reason: string; exitCode: number } | undefined;
  let receivedAt = 0;

  const shutdown = async (reason: string, exitCode: number, stopParts: () => Promise<void>) => {
    log(`${reason}: stopping`);
    const timer = setTimeout(() => {
      log(`did not stop within ${shutdownTimeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting`);
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    let code = exitCode;
    try {
      await stopParts();
      log(exitCode === 0 ? 'stopped cleanly' : 'stopped');
    } catch (error) {
      log(`stopped with errors: ${error instanceof Error ? error.message : String(error)}`);
      code = 1;
    }
    clearTimeout(timer);
    // Everything we started is stopped; a library's idle handle must not keep the process alive.
    process.exit(code);
  };

  const begin = (reason: string, exitCode: number) => {
    pending = { reason, exitCode };
    if (stop) void shutdown(reason, exitCode, stop);
    else log(`${reason}: will stop as soon as the parts now starting are up`);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (pending) {
      if (Date.now() - receivedAt < DUPLICATE_WINDOW_MS) return;
      log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    receivedAt = Date.now();
    begin(signal, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  return {
    ready(stopParts) {
      stop = stopParts;
      if (pending) void shutdown(pending.reason, pending.exitCode, stopParts);
    },
    fail(error) {
      if (pending) return;
      begin(`failed: ${error instanceof Error ? error.message : String(error)}`, 1);
    },
  };
}
