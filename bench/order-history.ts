/**
 * npm run bench -- order-history — history events of one order workflow, placement to final status,
 * for a delivery that takes 1 hour and one that takes 5 days (issue 3, "Figures": the same number,
 * and under 40), plus a Partial order.
 *
 * The engine of the tests (test/support/engine.ts startTestEngine): an ephemeral embedded PostgreSQL
 * (never DATABASE_URL: this writes rows) with a migrated template, as jest's global setup makes it;
 * the in-memory Temporal server with time skipping and the SDK's time-skipping client; the provider
 * simulator over HTTP; the real engine worker. Each order is placed as the API places it
 * (update-with-start), dispatched to the simulator for real, then moved by the providerUpdate signals
 * the provider sync sends (ORDER_MESSAGES.providerUpdate: the sync signals only a status change or
 * the first start count, never remains progress), with the delivery time skipped in between:
 *
 *   place → dispatched → signal in_progress → env.sleep(delivery) → signal completed|partial → closed
 *
 * Figures only: the answers ("equal", "under 40") are printed, not asserted; exit 1 only when
 * something failed to run.
 */
import type { temporal as proto } from '@temporalio/proto';
import type { TestEngine } from '../test/support/engine';
import { eventName } from '../test/support/temporal';
import { withTestEngine } from './with-test-engine';
import { ORDER_MESSAGES } from '../workflows/order-contract';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TEMPLATE = 'bench_order_history_template';

interface Measured {
  label: string;
  events: string[];
  /** Workflow time from the first event to the last (shows the delivery time was really spent). */
  spanMs: number;
  status: string;
}

async function main(): Promise<void> {
  await withTestEngine(TEMPLATE, async (engine) => {
    console.log(
      `progress: the "${ORDER_MESSAGES.providerUpdate}" signal (ORDER_MESSAGES.providerUpdate) sent by this script as the ` +
        'provider sync sends it (in_progress with the start count, then the final status; the real sync workflow is not ' +
        'running); dispatch is the real `add` to the provider simulator; the delivery time is skipped with env.sleep',
    );

    const hour = await deliver(engine, '1 hour delivery, Completed', HOUR, 'completed');
    const days = await deliver(engine, '5 days delivery, Completed', 5 * DAY, 'completed');
    const partial = await deliver(engine, '1 day delivery, Partial (remains 300 of 1000)', DAY, 'partial');

    console.log('');
    for (const m of [hour, days, partial]) {
      console.log(`${m.label.padEnd(46)} ${String(m.events.length).padStart(3)} events  (status ${m.status}, workflow time ${span(m.spanMs)})`);
    }
    const equal = sameList(hour.events, days.events);
    const under40 = hour.events.length < 40 && days.events.length < 40;
    console.log(
      `1 hour vs 5 days: ${hour.events.length} vs ${days.events.length} events — ` +
        `${equal ? 'EQUAL (the same event list)' : 'NOT equal'}, ${under40 ? 'both under 40' : 'NOT under 40'}`,
    );

    console.log('\nevents of the 1-hour Completed order (the 5-day one is the same list):');
    console.log(compact(hour.events));
    const extra = multisetDiff(partial.events, hour.events);
    const missing = multisetDiff(hour.events, partial.events);
    console.log(
      `\nPartial vs Completed: ${partial.events.length} vs ${hour.events.length} events` +
        (extra.length > 0 ? `; Partial adds ${extra.join(', ')}` : '') +
        (missing.length > 0 ? `; and lacks ${missing.join(', ')}` : '') +
        ' (the R-PARTIAL refund activity)',
    );
  });
}

/** One order of a fresh user: placed, dispatched, started, `deliveryMs` of skipped time, finished. */
async function deliver(engine: TestEngine, label: string, deliveryMs: number, final: 'completed' | 'partial'): Promise<Measured> {
  const userId = await engine.newUser('10.00000');
  // A service without a refill guarantee: a guaranteed order's workflow stays open for its refills
  // after Completed (those runs are bench/refills.ts's figures).
  const placed = await engine.placeOrder({ userId, quantity: 1000, serviceId: engine.seed.serviceIds.likes });
  const orderId = placed.orderId;
  const dispatched = await engine.waitForState(orderId, (s) => s.providerOrderId !== null, 60_000);
  const id = dispatched.providerOrderId;
  // The sync's update carries the provider's answer as received (string numbers, as providers send them).
  await engine.providerUpdate(orderId, {
    status: 'in_progress',
    startCount: 100,
    remains: 1000,
    raw: { order: id, charge: '0.12', start_count: '100', status: 'In progress', remains: '1000', currency: 'USD' },
  });
  await engine.waitForState(orderId, (s) => s.status === 'in_progress', 60_000);
  await engine.temporal.env.sleep(deliveryMs);
  const remains = final === 'partial' ? 300 : 0;
  await engine.providerUpdate(orderId, {
    status: final,
    startCount: 100,
    remains,
    raw: { order: id, charge: '0.12', start_count: '100', status: final === 'partial' ? 'Partial' : 'Completed', remains: String(remains), currency: 'USD' },
  });
  const state = await engine.handle(orderId).result();
  const history = await engine.history(orderId);
  const events = history.events ?? [];
  return {
    label,
    events: events.map((e) => eventName(e.eventType)),
    spanMs: events.length > 1 ? eventMs(events[events.length - 1]!) - eventMs(events[0]!) : 0,
    status: state.status,
  };
}

function eventMs(event: proto.api.history.v1.IHistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
}

function span(ms: number): string {
  if (ms >= DAY) return `${(ms / DAY).toFixed(2)} days`;
  if (ms >= HOUR) return `${(ms / HOUR).toFixed(2)} h`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** Names in `a` not matched one-for-one in `b`. */
function multisetDiff(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const n of b) left.set(n, (left.get(n) ?? 0) + 1);
  const out: string[] = [];
  for (const n of a) {
    const k = left.get(n) ?? 0;
    if (k > 0) left.set(n, k - 1);
    else out.push(n);
  }
  return out;
}

/** Numbered, several to a line. */
function compact(names: string[]): string {
  const items = names.map((n, i) => `${i + 1}.${n}`);
  const lines: string[] = [];
  let line = ' ';
  for (const item of items) {
    if (line.length + item.length + 1 > 110) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${item}`;
  }
  if (line.trim()) lines.push(line);
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
