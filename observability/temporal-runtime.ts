/**
 * The Temporal SDK runtime of an engine process: its logs as pino JSON lines (workflow logs carry
 * the workflow id and run id the SDK attaches, ours add the order id; workflow logging is
 * replay-safe: the SDK drops log calls made while replaying history), and its own metrics
 * (workflow task and activity latencies, polls, cache) on a Prometheus endpoint that /metrics
 * appends.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import pino from 'pino';

export interface TemporalRuntimeOptions {
  /** Temporal SDK log level (TEMPORAL_LOG_LEVEL), default WARN. */
  level?: LogLevel;
  /** Port for the SDK's Prometheus metrics on 127.0.0.1 (TEMPORAL_METRICS_PORT, default 9464; 'off' for none). */
  metricsPort?: string;
}

/** Installs the runtime once per process; returns the SDK metrics URL, when the endpoint is up. */
export function installTemporalRuntime(options: TemporalRuntimeOptions = {}): string | undefined {
  const level = options.level ?? 'WARN';
  const log = pino({ level: level.toLowerCase() === 'trace' ? 'trace' : level.toLowerCase(), base: { component: 'temporal' } });
  const logger = new DefaultLogger(level, (entry) => {
    const method = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    log[method]({ ...entry.meta }, entry.message);
  });
  const port = options.metricsPort ?? '9464';
  if (port !== 'off') {
    try {
      Runtime.install({
        logger,
        shutdownSignals: [],
        telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
      });
      return `http://127.0.0.1:${port}/metrics`;
    } catch (error) {
      log.warn({ err: error }, `Temporal SDK metrics not exposed on port ${port}; set TEMPORAL_METRICS_PORT to a free port`);
    }
  }
  Runtime.install({ logger, shutdownSignals: [] });
  return undefined;
}
