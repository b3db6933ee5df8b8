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
  /** Port for the SDK's Prometheus metrics (TEMPORAL_METRICS_PORT, default 9464; 'off' for none). */
  metricsPort?: string;
  /**
   * Address the metrics endpoint listens on (TEMPORAL_METRICS_HOST, default 127.0.0.1). In a
   * container, 0.0.0.0, so the API container can scrape it (docker-compose.yml's SDK_METRICS_URL).
   */
  metricsHost?: string;
}

/** host:port as a socket address; an IPv6 host needs brackets. */
function socketAddress(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where this process itself reaches the endpoint: a wildcard listen address is reached on loopback. */
function localUrl(host: string, port: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${socketAddress(reachable, port)}/metrics`;
}

/** Installs the runtime once per process; returns the SDK metrics URL, when the endpoint is up. */
export function installTemporalRuntime(options: TemporalRuntimeOptions = {}): string | undefined {
  const level = options.level ?? 'WARN';
  const log = pino({ level: level.toLowerCase() === 'trace' ? 'trace' : level.toLowerCase(), base: { component: 'temporal' } });
  const logger = new DefaultLogger(level, (entry) => {
    const method = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    log[method]({ ...entry.meta }, entry.message);
  });
  const port = options.metricsPort || '9464';
  const host = options.metricsHost || '127.0.0.1';
  if (port !== 'off') {
    try {
      Runtime.install({
        logger,
        shutdownSignals: [],
        telemetryOptions: { metrics: { prometheus: { bindAddress: socketAddress(host, port) } } },
      });
      return localUrl(host, port);
    } catch (error) {
      log.warn({ err: error }, `Temporal SDK metrics not exposed on ${socketAddress(host, port)}; set TEMPORAL_METRICS_PORT to a free port`);
    }
  }
  Runtime.install({ logger, shutdownSignals: [] });
  return undefined;
}
