/**
 * npm run bench -- order-types — history events and Temporal Actions of a 10-run drip-feed run by the
 * engine (issue 12), beside a Default order of the same service, placement to Completed; and of a
 * 30-post subscription over 6 weeks (one sync signal per post served, continue-as-new every
 * POSTS_PER_RUN posts): all its runs together, and its longest run.
 *
 * The engine of the tests (test/support/engine.ts) as bench/order-history.ts uses it: each run is
 * dispatched for real to the provider simulator, then moved by the providerUpdate signals the provider
 * sync sends (in_progress with the start count, then completed); the 60 minutes between runs are
 * skipped on the time-skipping server.
 *
 * Actions are estimated from the history as Temporal Cloud counts them (docs.temporal.io/cloud/actions):
 * the start, each signal, update, timer started, activity scheduled (plus its retries), search
 * attribute upsert, and the local activities of one workflow task as one. Figures only.
 */
import type { temporal as proto } from '@temporalio/proto';
import { buildOrderInput, reserveOrderId, startOrder } from '../worker/order-client';
import type { TestEngine } from '../test/support/engine';
import { eventName } from '../test/support/temporal';
import { withTestEngine } from './with-test-engine';

const TEMPLATE = 'bench_order_types_template';
const RUNS = 10;
const POSTS = 30;

async function main(): Promise<void> {
  await withTestEngine(TEMPLATE, async (engine) => {
    const single = await defaultOrder(engine);
    const drip = await dripFeed(engine);
    console.log('');
    for (const [label, events] of [['Default order, Completed', single], [`drip-feed, ${RUNS} runs every 60 min, Completed`, drip]] as const) {
      console.log(`${label.padEnd(44)} ${String(events.length).padStart(4)} events  ${String(actions(events)).padStart(4)} actions`);
    }
    const fixed = single.length;
    const perRun = (drip.length - fixed) / (RUNS - 1);
    console.log(
      `a drip-feed run beyond the first: ${perRun.toFixed(1)} events, ${((actions(drip) - actions(single)) / (RUNS - 1)).toFixed(1)} actions ` +
        `(a Default order: ${fixed} events, ${actions(single)} actions) — ${perRun <= fixed ? 'no more than' : 'MORE than'} a Default order`,
    );
    console.log('\nevents of one middle run of the drip-feed:');
    console.log(middleRun(drip));
    const runs = await subscription(engine);
    const all = runs.flat();
    console.log(
      `\nsubscription, ${POSTS} posts over 6 weeks: ${runs.length} runs, ${all.length} events, ${actions(all)} actions in all; ` +
        `longest run ${Math.max(...runs.map((r) => r.length))} events; per post ${(all.length / POSTS).toFixed(1)} events, ${(actions(all) / POSTS).toFixed(1)} actions`,
    );
  });
}

/** A Default order of 1000 likes: placed, dispatched, started, completed. */
async function defaultOrder(engine: TestEngine): Promise<proto.api.history.v1.IHistoryEvent[]> {
  const userId = await engine.newUser('10.00000');
  const placed = await engine.placeOrder({ userId, quantity: 1000, serviceId: engine.seed.serviceIds.likes });
  const sent = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null, 60_000);
  await signal(engine, placed.orderId, sent.providerOrderId!, 'in_progress', 1000);
  await engine.waitForState(placed.orderId, (s) => s.status === 'in_progress', 60_000);
  await engine.temporal.env.sleep('1 hour');
  engine.simClock!.advance(10 * 60_000);
  await signal(engine, placed.orderId, sent.providerOrderId!, 'completed', 0);
  await engine.handle(placed.orderId).result();
  return (await engine.history(placed.orderId)).events ?? [];
}

/** A drip-feed of RUNS × 100 likes, each run followed as the sync would, 60 minutes apart. */
async function dripFeed(engine: TestEngine): Promise<proto.api.history.v1.IHistoryEvent[]> {
  const userId = await engine.newUser('10.00000');
  const orderId = await reserveOrderId(engine.prisma);
  const input = await buildOrderInput(engine.prisma, orderId, {
    userId,
    serviceId: engine.seed.serviceIds.likes,
    link: engine.uniqueLink('bench-drip'),
    quantity: 100 * RUNS,
    placedAt: await engine.temporal.env.currentTimeMs(),
  });
  input.serviceType = 'default';
  input.dripFeed = { runs: RUNS, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' };
  await startOrder(engine.client, input);
  for (let i = 1; i <= RUNS; i++) {
    const sent = await engine.waitForState(orderId, (s) => (s.dripFeed?.list.length ?? 0) === i && s.dripFeed!.list[i - 1]!.providerOrderId !== null, 60_000);
    const id = sent.dripFeed!.list[i - 1]!.providerOrderId!;
    await signal(engine, orderId, id, 'in_progress', 100);
    await engine.waitForState(orderId, (s) => s.dripFeed!.list[i - 1]!.status === 'in_progress', 60_000);
    engine.simClock!.advance(10 * 60_000); // the simulator delivers the run too (one active order per link)
    await signal(engine, orderId, id, 'completed', 0);
    await engine.waitForState(orderId, (s) => s.dripFeed!.list[i - 1]!.settled, 60_000);
    if (i < RUNS) await engine.temporal.env.sleep('60 minutes');
  }
  await engine.handle(orderId).result();
  return (await engine.history(orderId)).events ?? [];
}

/** A subscription of POSTS posts (max 300), each post's update sent as the sync would, 1.4 days apart. */
async function subscription(engine: TestEngine): Promise<proto.api.history.v1.IHistoryEvent[][]> {
  const service = await engine.prisma.service.create({
    data: { name: 'bench auto likes', category: 'Instagram', type: 'subscriptions', rate: '0.40000', min: 50, max: 5000, providerId: engine.seed.providerId, providerServiceId: '21', cancelable: true },
  });
  const userId = await engine.newUser('10.00000');
  const orderId = await reserveOrderId(engine.prisma);
  const username = `bench_${Date.now().toString(36)}`;
  const input = await buildOrderInput(engine.prisma, orderId, {
    userId,
    serviceId: service.id,
    fields: { username, min: '100', max: '300', posts: String(POSTS), delay: '0' },
    placedAt: await engine.temporal.env.currentTimeMs(),
  });
  await startOrder(engine.client, input);
  const firstRunId = (await engine.handle(orderId).describe()).runId;
  const sent = await engine.waitForState(orderId, (s) => s.providerOrderId !== null, 60_000);
  const delivered: number[] = [];
  const update = async (status: 'active' | 'completed') => {
    await engine.providerUpdate(orderId, {
      status: status === 'active' ? 'in_progress' : 'completed',
      providerId: engine.seed.providerId,
      providerOrderId: sent.providerOrderId!,
      startCount: null,
      remains: null,
      subscription: { status, posts: delivered.length, delivered: [...delivered] },
      raw: { status: status === 'active' ? 'Active' : 'Completed', posts: String(delivered.length), delivered: delivered.map(String) },
    });
  };
  for (let post = 1; post <= POSTS; post++) {
    await engine.temporal.env.sleep(`${(42 * 24) / POSTS} hours`);
    delivered.push(250);
    await update(post === POSTS ? 'completed' : 'active');
    if (post < POSTS) await engine.waitForState(orderId, (s) => (s.subscription?.posts ?? 0) === post, 60_000);
  }
  await engine.handle(orderId).result();
  const runs: proto.api.history.v1.IHistoryEvent[][] = [];
  for (let runId: string | null = firstRunId; runId; ) {
    const events: proto.api.history.v1.IHistoryEvent[] = (await engine.history(orderId, runId)).events ?? [];
    runs.push(events);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? null;
  }
  return runs;
}

async function signal(engine: TestEngine, orderId: number, providerOrderId: string, status: 'in_progress' | 'completed', remains: number) {
  await engine.providerUpdate(orderId, {
    status,
    providerId: engine.seed.providerId,
    providerOrderId,
    startCount: 100,
    remains,
    raw: { order: providerOrderId, start_count: '100', status: status === 'completed' ? 'Completed' : 'In progress', remains: String(remains), currency: 'USD' },
  });
}

/** Temporal Cloud Actions visible in a history (see the file comment). */
function actions(events: proto.api.history.v1.IHistoryEvent[]): number {
  let n = 0;
  let markersInTask = false;
  for (const e of events) {
    const name = eventName(e.eventType);
    if (name === 'WorkflowTaskCompleted') markersInTask = false;
    if (name === 'MarkerRecorded') {
      if (!markersInTask) n += 1;
      markersInTask = true;
      continue;
    }
    if (name === 'ActivityTaskStarted') n += Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
    if (
      [
        'WorkflowExecutionStarted',
        'WorkflowExecutionSignaled',
        'WorkflowExecutionUpdateAccepted',
        'WorkflowExecutionUpdateRejected',
        'TimerStarted',
        'ActivityTaskScheduled',
        'UpsertWorkflowSearchAttributes',
      ].includes(name)
    ) {
      n += 1;
    }
  }
  return n;
}

/** The events between the 5th and the 6th run's dispatch. */
function middleRun(events: proto.api.history.v1.IHistoryEvent[]): string {
  const names = events.map((e) => eventName(e.eventType));
  const dispatches = names.flatMap((n, i) => (n === 'ActivityTaskScheduled' ? [i] : []));
  const slice = names.slice(dispatches[4], dispatches[5]);
  return slice.map((n, i) => `${i + 1}.${n}`).join(' ');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
