/**
 * npm run bench -- refills — history events per continue-as-new run of an order that follows its
 * refill guarantee, and the number of runs of a 30-day and a 365-day guarantee with one refill a
 * week, and of a lifetime guarantee left alone for three years (issue "Refill guarantees", Figures).
 *
 * SIMULATED with time skipping, not computed: the engine of the tests (test/support/engine.ts
 * startTestEngine: ephemeral embedded PostgreSQL, the in-memory Temporal server with time skipping,
 * the provider simulator over HTTP, the real engine worker). Each order is placed and dispatched for
 * real, completed by the providerUpdate signals the sync sends; then every 7 days (env.sleep) a
 * refill is requested through the `refill` update, sent to the simulator for real, and completed by
 * the refillUpdate signals the sync sends; the workflow continues-as-new on its own (every
 * REFILLS_PER_RUN refills, RUN_MAX_AGE_MS, or a large history) and closes when the window does.
 * The chain of runs is then followed from the first run and each run's history counted.
 *
 * Figures only: nothing is asserted; exit 1 only when something failed to run.
 */
import type { temporal as proto } from '@temporalio/proto';
import type { TestEngine } from '../test/support/engine';
import { eventName } from '../test/support/temporal';
import { withTestEngine } from './with-test-engine';
import { requestRefill } from '../worker/order-client';
import { refillUpdateSignal } from '../workflows/order-messages';
import { REFILLS_PER_RUN, RUN_MAX_AGE_MS } from '../workflows/order-workflow';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const TEMPLATE = 'bench_refills_template';

interface Chain {
  label: string;
  runs: number[];
  refills: number;
  status: string;
  /** Workflow time from placement to the close (or to now, while it runs). */
  spanDays: number;
}

async function main(): Promise<void> {
  await withTestEngine(TEMPLATE, async (engine) => {
    console.log(
      `simulated with time skipping: one refill every 7 days (request → provider refill → refillUpdate signals), ` +
        `continue-as-new every ${REFILLS_PER_RUN} refills or ${RUN_MAX_AGE_MS / DAY} days of a run`,
    );

    const days30 = await service(engine, 'Followers [Refill 30D]', { refillKind: 'days', refillDays: 30 });
    const days365 = await service(engine, 'Followers [Refill 365D]', { refillKind: 'days', refillDays: 365 });
    const lifetime = await service(engine, 'Followers [Lifetime]', { refillKind: 'lifetime', refillDays: null });

    const chains = [
      await weekly(engine, '30-day guarantee, a refill a week', days30),
      await weekly(engine, '365-day guarantee, a refill a week', days365),
      await idle(engine, 'lifetime guarantee, 3 years without a refill', lifetime, 3 * 365 * DAY),
    ];

    console.log('');
    for (const c of chains) {
      const max = Math.max(...c.runs);
      const mean = c.runs.reduce((a, b) => a + b, 0) / c.runs.length;
      console.log(
        `${c.label.padEnd(46)} ${String(c.runs.length).padStart(3)} runs, ${String(c.refills).padStart(2)} refills, ` +
          `events per run max ${max}, mean ${mean.toFixed(0)} (${c.status} after ${c.spanDays.toFixed(0)} days)`,
      );
      console.log(`  events of each run: ${c.runs.join(', ')}`);
    }
    // Per refill: a run of the 365-day chain with refills against an idle run of the lifetime chain.
    const busy = chains[1]!;
    const middle = busy.runs.slice(1, -1);
    const quietRun = chains[2]!.runs[Math.min(1, chains[2]!.runs.length - 1)]!;
    if (middle.length > 0) {
      const perRun = middle.reduce((a, b) => a + b, 0) / middle.length;
      const refillsPerRun = (RUN_MAX_AGE_MS / DAY) / 7;
      console.log(
        `\nper refill ≈ ${((perRun - quietRun) / refillsPerRun).toFixed(1)} events ` +
          `(a middle run of the 365-day chain: ${perRun.toFixed(0)} events with ~${refillsPerRun.toFixed(1)} refills; a quiet run: ${quietRun})`,
      );
    }
  });
}

async function service(engine: TestEngine, name: string, refill: { refillKind: string; refillDays: number | null }): Promise<number> {
  const row = await engine.prisma.service.create({
    data: {
      name, category: 'Instagram', providerId: engine.seed.noLookupProviderId, providerServiceId: '1',
      rate: '0.90000', min: 50, max: 10000, cancelable: true, ...refill,
    },
  });
  return row.id;
}

/** Placed, dispatched to the simulator, completed there and here. */
async function completed(engine: TestEngine, serviceId: number): Promise<{ orderId: number; userId: number; placedAt: number; firstRunId: string }> {
  const userId = await engine.newUser('10.00000');
  const placed = await engine.placeOrder({ userId, serviceId });
  await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null, 60_000);
  engine.simClock!.advance(10 * MINUTE);
  await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount: 100, remains: 1000 });
  await engine.providerUpdate(placed.orderId, { status: 'completed', startCount: 100, remains: 0 });
  await engine.waitForState(placed.orderId, (s) => s.status === 'completed' && s.refills !== undefined, 60_000);
  const firstRunId = (await engine.handle(placed.orderId).describe()).runId;
  return { orderId: placed.orderId, userId, placedAt: placed.input.placedAt, firstRunId };
}

async function weekly(engine: TestEngine, label: string, serviceId: number): Promise<Chain> {
  const order = await completed(engine, serviceId);
  let refills = 0;
  for (let week = 1; ; week++) {
    const at = order.placedAt + week * 7 * DAY;
    const now = await engine.temporal.env.currentTimeMs();
    if ((await engine.handle(order.orderId).describe()).status.name !== 'RUNNING') break;
    await engine.temporal.env.sleep(Math.max(1, at - now));
    if ((await engine.handle(order.orderId).describe()).status.name !== 'RUNNING') break;
    const answer = await requestRefill(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId }, requestId: `week-${week}` });
    if (!answer.accepted) break; // R-REFILL-WINDOW: the window closed
    refills++;
    engine.simClock!.advance(MINUTE);
    for (const status of ['in_progress', 'completed'] as const) {
      await engine.handle(order.orderId).signal(refillUpdateSignal, {
        refillId: answer.refill.refillId, providerRefillId: answer.refill.providerRefillId!, status, observedAt: await engine.temporal.env.currentTimeMs(),
      });
    }
    await engine.waitForState(order.orderId, (s) => s.refills?.recent.find((r) => r.refillId === answer.refill.refillId)?.status === 'completed', 60_000);
  }
  const final = await engine.handle(order.orderId).result(); // the window closes on its own timer
  return { label, ...(await chain(engine, order.orderId, order.firstRunId)), refills, status: final.status, spanDays: ((await engine.temporal.env.currentTimeMs()) - order.placedAt) / DAY };
}

async function idle(engine: TestEngine, label: string, serviceId: number, forMs: number): Promise<Chain> {
  const order = await completed(engine, serviceId);
  await engine.temporal.env.sleep(forMs);
  await engine.waitForState(order.orderId, (s) => s.status === 'completed', 60_000);
  const described = await engine.handle(order.orderId).describe();
  return { label, ...(await chain(engine, order.orderId, order.firstRunId)), refills: 0, status: described.status.name.toLowerCase(), spanDays: forMs / DAY };
}

/** Events of each run, following the continue-as-new chain from the first run. */
async function chain(engine: TestEngine, orderId: number, firstRunId: string): Promise<{ runs: number[] }> {
  const runs: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: proto.api.history.v1.IHistory = await engine.client.workflow.getHandle(`order-${orderId}`, runId).fetchHistory();
    const events: proto.api.history.v1.IHistoryEvent[] = history.events ?? [];
    runs.push(events.length);
    const last: proto.api.history.v1.IHistoryEvent | undefined = events.at(-1);
    runId = last && eventName(last.eventType) === 'WorkflowExecutionContinuedAsNew'
      ? (last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined)
      : undefined;
  }
  return { runs };
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
