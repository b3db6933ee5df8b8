/**
 * How the entry points (npm start, npm run api, npm run worker) end: the first SIGINT/SIGTERM stops
 * every part in order and exits 0 (1 if a part failed to stop, or after SHUTDOWN_TIMEOUT_MS);
 * a second signal exits at once with 130. A signal that arrives while the parts are still starting
 * is kept and acted on as soon as they are up (or the start fails).
 *
 * A signal within DUPLICATE_WINDOW_MS of the first is the same one delivered twice, not a second
 * Ctrl-C: tsx passes a signal on to its child again when the child has not acknowledged it within
 * 30 ms, which happens on a loaded machine.
 */
const DUPLICATE_WINDOW_MS = 2_000;

export interface StopOnSignal {
  /** The parts are up: `stop` ends them. Returns at once; the process exits once they are stopped. */
  ready(stop: () => Promise<void>): void;
}

export function stopOnSignal(log: (line: string) => void, shutdownTimeoutMs: number): StopOnSignal {
  let stop: (() => Promise<void>) | undefined;
  let received: NodeJS.Signals | undefined;
  let receivedAt = 0;

  const shutdown = async (signal: NodeJS.Signals, stopParts: () => Promise<void>) => {
    log(`${signal}: stopping`);
    const timer = setTimeout(() => {
      log(`did not stop within ${shutdownTimeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting`);
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    let code = 0;
    try {
      await stopParts();
      log('stopped cleanly');
    } catch (error) {
      log(`stopped with errors: ${error instanceof Error ? error.message : String(error)}`);
      code = 1;
    }
    clearTimeout(timer);
    // Everything we started is stopped; a library's idle handle must not keep the process alive.
    process.exit(code);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      if (Date.now() - receivedAt < DUPLICATE_WINDOW_MS) return;
      log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    received = signal;
    receivedAt = Date.now();
    if (stop) void shutdown(signal, stop);
    else log(`${signal}: will stop as soon as the parts now starting are up`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  return {
    ready(stopParts) {
      stop = stopParts;
      if (received) void shutdown(received, stopParts);
    },
  };
}
