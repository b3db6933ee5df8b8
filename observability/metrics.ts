/**
 * The engine's Prometheus metrics (prom-client), one registry per process.
 *
 * Counters move where the thing happens (the API counts placements, activities count money and
 * provider calls, the provider sync times its rounds); the orders-by-status gauge is read from the
 * database when scraped. Workflow-task and activity latencies come from the Temporal SDK's own
 * telemetry, which the worker exposes on its own Prometheus port; /metrics appends that text.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'engine_process_' });

export const placements = new Counter({
  name: 'engine_placements_total',
  help: 'Order placements answered by the API, by outcome (accepted, or the refusal reason).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const moneyCharged = new Counter({
  name: 'engine_money_charged_total',
  help: 'Money debited for orders, in the panel currency.',
  registers: [registry],
});

export const moneyRefunded = new Counter({
  name: 'engine_money_refunded_total',
  help: 'Money refunded to balances, by rule (R-PARTIAL, R-CANCEL-FULL, ...).',
  labelNames: ['rule'] as const,
  registers: [registry],
});

export const providerCalls = new Counter({
  name: 'engine_provider_calls_total',
  help: 'Calls to upstream providers, by provider, action and outcome (ok, error, timeout).',
  labelNames: ['provider', 'action', 'outcome'] as const,
  registers: [registry],
});

export const providerCallSeconds = new Histogram({
  name: 'engine_provider_call_seconds',
  help: 'Latency of calls to upstream providers, by provider and action.',
  labelNames: ['provider', 'action'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const syncRoundSeconds = new Histogram({
  name: 'engine_provider_sync_round_seconds',
  help: 'Duration of one provider-sync polling round, by provider.',
  labelNames: ['provider'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const syncBatchSize = new Histogram({
  name: 'engine_provider_sync_batch_orders',
  help: 'Orders checked per provider-sync round, by provider.',
  labelNames: ['provider'] as const,
  buckets: [0, 1, 10, 50, 100, 250, 500, 1000],
  registers: [registry],
});

export const syncChanges = new Counter({
  name: 'engine_provider_sync_changes_total',
  help: 'Orders whose upstream state changed (and were signaled), by provider.',
  labelNames: ['provider'] as const,
  registers: [registry],
});

export const ordersByStatus = new Gauge({
  name: 'engine_orders',
  help: 'Orders by status, read from the database at scrape time.',
  labelNames: ['status'] as const,
  registers: [registry],
});

// dispatch_uncertain orders wait for support when the provider cannot be searched (API v2 has no
// lookup): alert on these, then settle each with POST /support/orders/:id/resolve-dispatch.
export const dispatchUncertainOrders = new Gauge({
  name: 'engine_dispatch_uncertain_orders',
  help: 'Orders whose dispatch is uncertain (the provider may or may not have them), waiting for support; read at scrape time.',
  registers: [registry],
});

export const dispatchUncertainOldestAge = new Gauge({
  name: 'engine_dispatch_uncertain_oldest_age_seconds',
  help: 'Seconds since the oldest dispatch_uncertain order was placed (0 when there is none); read at scrape time.',
  registers: [registry],
});

/** Money arrives as exact decimal strings; Prometheus counts in floats, which is fine for a dashboard. */
export function countMoney(counter: Counter<string>, amount: string, labels?: Record<string, string>): void {
  const value = Number(amount);
  if (!Number.isFinite(value) || value <= 0) return;
  if (labels) counter.inc(labels, value);
  else counter.inc(value);
}

/** Times a provider call and counts its outcome. */
export async function observeProviderCall<T>(
  provider: string,
  action: string,
  call: () => Promise<T>,
  outcomeOf: (result: T) => 'ok' | 'error' = () => 'ok',
): Promise<T> {
  const end = providerCallSeconds.startTimer({ provider, action });
  try {
    const result = await call();
    providerCalls.inc({ provider, action, outcome: outcomeOf(result) });
    return result;
  } catch (error) {
    providerCalls.inc({ provider, action, outcome: 'error' });
    throw error;
  } finally {
    end();
  }
}

/**
 * The text /metrics serves: our registry, then the SDK's own metrics (workflow task and activity
 * latencies) scraped from the worker's Prometheus endpoint when one is configured.
 */
export async function metricsText(sdkMetricsUrl?: string): Promise<string> {
  const ours = await registry.metrics();
  if (!sdkMetricsUrl) return ours;
  try {
    const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return ours;
    return `${ours}\n# Temporal SDK metrics from ${sdkMetricsUrl}\n${await response.text()}`;
  } catch {
    return ours;
  }
}
