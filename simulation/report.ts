/**
 * A run's report: the checks, the figures, and the failing orders' timelines; written as JSON and as
 * a short self-contained HTML page with one chart (orders by status over simulated time, inline SVG).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BookCheck } from './books';

export interface Figures {
  orders: {
    planned: number;
    placed: number;
    byStatus: Record<string, number>;
    /** Per kind of order (service type, `+drip-engine`/`+drip-provider`, `+scheduled`): its statuses. */
    byType: Record<string, Record<string, number>>;
    openInRefillWindow: number;
  };
  refunds: { count: number; total: string; byRule: Record<string, number> };
  providerCalls: { total: number; failedByOutage: number; byAction: Record<string, number>; /** Calls the engine's timeout gave up on, by action (fault-proxy.ts). */ gaveUp: Record<string, number>; /** Real ms from arrival to answer at the fault proxy, calls answered in time. */ answerMs: Stats; perOrder: Stats };
  temporal: { eventsPerOrder: Stats; actionsPerOrder: Stats; activityFailures: number; replayedHistories: number; /** Of those, by the replay process (the rest at the end, in this process). */ replayedByProcess: number; /** Of those, before the drive ended. */ replayedDuringDrive: number; /** Orders whose facts came from the histories the replay process fetched (the rest fetched at the end). */ factsFromReplayProcess: number };
  answers: Record<string, number>;
  /** Calls about orders the API never gave an id (placement refused), not sent: kind → scenario order indexes. */
  eventsWithoutOrder: Record<string, number[]>;
  faults: { kills: number; terminatedConnections: number; outages: number; workerStarts: number };
  /** Where the drive's wall time went: skipping time (the engine working), API calls, faults. */
  driveWallSeconds: { skipping: number; acting: number; faults: number };
  simulatedDays: number;
  wallSeconds: { total: number; setup: number; drive: number; checks: number };
}

export interface Stats {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { mean: 0, p50: 0, p95: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { mean: Math.round((sorted.reduce((s, v) => s + v, 0) / sorted.length) * 10) / 10, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

export interface FailingOrder {
  orderId: number;
  problems: string[];
  journal: string[];
  timeline: string[];
}

export interface SimulationReport {
  seed: number;
  orders: number;
  days: number;
  passed: boolean;
  replay: string;
  checks: Array<{ name: string; claim: string; checked: number; passed: boolean; failures: BookCheck['failures'] }>;
  anomalies: string[];
  figures: Figures;
  failingOrders: FailingOrder[];
  /** Orders still active when the settle time ran out (not a failure), with their journals and histories (at most 3). */
  unsettledOrders: FailingOrder[];
  samples: Array<{ at: number; counts: Record<string, number> }>;
}

export async function writeReport(report: SimulationReport, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `simulation-seed-${report.seed}`);
  await writeFile(`${base}.json`, JSON.stringify(report, null, 2));
  await writeFile(`${base}.html`, renderHtml(report));
  return { json: `${base}.json`, html: `${base}.html` };
}

const COLORS: Record<string, string> = {
  completed: '#2e7d32',
  partial: '#f9a825',
  canceled: '#c62828',
  rejected: '#6d4c41',
  in_progress: '#1565c0',
  pending: '#90caf9',
  dispatch_uncertain: '#8e24aa',
  new: '#bdbdbd',
};

/** Stacked areas: orders by status at each sample, x = simulated days. */
export function renderChart(samples: SimulationReport['samples'], width = 720, height = 260): string {
  const statuses = Object.keys(COLORS);
  const maxTotal = Math.max(1, ...samples.map((s) => statuses.reduce((n, k) => n + (s.counts[k] ?? 0), 0)));
  const maxAt = Math.max(1, ...samples.map((s) => s.at));
  const pad = 40;
  const x = (at: number) => pad + ((width - pad - 10) * at) / maxAt;
  const y = (n: number) => height - pad + -((height - pad - 10) * n) / maxTotal;
  const layers: string[] = [];
  const below = samples.map(() => 0);
  for (const status of statuses) {
    const top = samples.map((s, i) => below[i] + (s.counts[status] ?? 0));
    if (top.every((v, i) => v === below[i])) continue;
    const upper = samples.map((s, i) => `${x(s.at).toFixed(1)},${y(top[i]).toFixed(1)}`);
    const lower = samples.map((s, i) => `${x(s.at).toFixed(1)},${y(below[i]).toFixed(1)}`).reverse();
    layers.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${COLORS[status]}" opacity="0.85"><title>${status}</title></polygon>`);
    top.forEach((v, i) => (below[i] = v));
  }
  const days = maxAt / 86_400_000;
  const ticks = Array.from({ length: 6 }, (_, i) => (days * i) / 5);
  const axis = ticks.map((d) => `<text x="${x(d * 86_400_000).toFixed(1)}" y="${height - pad + 16}" font-size="11" text-anchor="middle">day ${d.toFixed(0)}</text>`).join('');
  const legend = statuses.map((s, i) => `<rect x="${pad + i * 85}" y="${height - 14}" width="10" height="10" fill="${COLORS[s]}"/><text x="${pad + i * 85 + 14}" y="${height - 5}" font-size="10">${s}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 10}" role="img" aria-label="orders by status over simulated time">
<line x1="${pad}" y1="${height - pad}" x2="${width - 10}" y2="${height - pad}" stroke="#333"/><line x1="${pad}" y1="10" x2="${pad}" y2="${height - pad}" stroke="#333"/>
<text x="${pad - 4}" y="16" font-size="11" text-anchor="end">${maxTotal}</text><text x="${pad - 4}" y="${height - pad}" font-size="11" text-anchor="end">0</text>
${layers.join('\n')}${axis}${legend}</svg>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderHtml(r: SimulationReport): string {
  const f = r.figures;
  const rows = r.checks.map((c) => `<tr><td>${c.passed ? '✔' : '✘'}</td><td>${c.name}</td><td>${escape(c.claim)}</td><td>${c.checked}</td><td>${c.failures.length}</td></tr>`).join('');
  const statuses = Object.entries(f.orders.byStatus).map(([s, n]) => `<tr><td>${s}</td><td>${n}</td></tr>`).join('');
  const orderBlocks = (orders: FailingOrder[], note: string) =>
    orders.map((o) => `<h3>order ${o.orderId}${note}</h3><pre>${escape([...o.problems, '', ...o.journal, '', ...o.timeline].join('\n'))}</pre>`).join('');
  const failing = orderBlocks(r.failingOrders, '');
  const unsettled = orderBlocks(r.unsettledOrders, ' (still active, not a failure)');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Simulation seed ${r.seed}: ${r.passed ? 'passed' : 'FAILED'}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}td,th{padding:2px 8px;text-align:left}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}pre{background:#f8f8f8;padding:8px;overflow-x:auto;font-size:12px}</style></head><body>
<h1>Simulation seed ${r.seed}: ${r.passed ? 'passed' : 'FAILED'}</h1>
<p>${f.orders.planned} orders over ${r.days} days (${f.simulatedDays.toFixed(1)} simulated with settling), ${f.wallSeconds.total.toFixed(0)} s wall time. Replay: <code>${escape(r.replay)}</code></p>
<h2>Orders by status over simulated time</h2>${renderChart(r.samples)}
<h2>The books</h2><table><tr><th></th><th>check</th><th>claim</th><th>checked</th><th>failures</th></tr>${rows}</table>
<h2>Figures</h2><table><tr><th>status</th><th>orders</th></tr>${statuses}</table>
<pre>${escape(JSON.stringify({ refunds: f.refunds, providerCalls: f.providerCalls, temporal: f.temporal, faults: f.faults, wallSeconds: f.wallSeconds }, null, 2))}</pre>
${r.anomalies.length ? `<h2>Anomalies</h2><pre>${escape(r.anomalies.join('\n'))}</pre>` : ''}
${failing ? `<h2>Failing orders</h2>${failing}` : ''}
${unsettled ? `<h2>Orders still active when the settle time ran out</h2>${unsettled}` : ''}
</body></html>
`;
}
