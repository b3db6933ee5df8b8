/**
 * One simulation run: the scenario from the seed, the world, the drive through simulated time, then
 * the books, the replay and the figures. Returns the report (the caller prints and writes it).
 */
import { ACTIVE_STATUSES } from '../domain/order-status';
import { addMoney } from '../domain/money';
import { fetchAllRuns } from '../observability/history-fetch';
import { renderTimeline } from '../observability/timeline';
import { orderWorkflowId } from '../workflows/order-contract';
import { createApiClient } from './api-client';
import { checkBooks } from './books';
import type { UpstreamOrder } from './books';
import { drive } from './driver';
import type { DriveResult } from './driver';
import { collectOrderFacts, replayAll } from './histories';
import type { OrderWorkflowFacts, ReplayOutcome } from './histories';
import { stats } from './report';
import type { FailingOrder, SimulationReport } from './report';
import { DAY, generateScenario } from './scenario';
import type { ScenarioOptions } from './scenario';
import { setUpWorld } from './setup';
import { simKey, startWorld } from './world';
import type { World } from './world';

export interface RunOptions extends ScenarioOptions {
  /** A migrated, empty database (tests); default an embedded PostgreSQL of the run's own. */
  databaseUrl?: string;
  /** Progress lines while it runs (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Failing orders printed with their timelines (default 10). */
  maxFailingOrders?: number;
}

const running = new Set<World>();

/** Stops the worlds of runs in progress (the CLI calls it on Ctrl-C: nothing is left behind). */
export async function stopRunningWorlds(): Promise<void> {
  await Promise.all([...running].map((w) => w.stop()));
}

export async function runSimulation(options: RunOptions): Promise<SimulationReport> {
  const t0 = Date.now();
  const scenario = generateScenario(options);
  const world = await startWorld({ scenario, databaseUrl: options.databaseUrl, log: options.progress });
  running.add(world);
  try {
    const api = createApiClient(world.apiUrl);
    const cast = await setUpWorld(world, api, scenario);
    await world.workerReady;
    const t1 = Date.now();
    const driven = await drive(world, api, scenario, cast, { progress: options.progress });
    const t2 = Date.now();
    options.progress?.('checking the books and replaying every history...');
    const orderIds = [...new Set(driven.orderIds.values())].sort((a, b) => a - b);
    const allIds = (await world.prisma.order.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((o) => o.id);
    // The replay process answers the facts of the runs it fetched during the drive, then takes every
    // run left (open ones too) while this process fetches the facts of the orders it did not have,
    // then checks the books (this thread and PostgreSQL): a closed run's history is fetched once in
    // the whole run, and the books do not wait for the replay. Any run the replay process did not
    // reach is replayed here at the end, in worker threads.
    const finishing = world.earlyReplay.finish();
    let t = Date.now();
    const { facts, fetched } = await collectOrderFacts(world.env.client, allIds, await finishing.runFacts);
    options.progress?.(`facts of ${allIds.length} orders in ${((Date.now() - t) / 1000).toFixed(1)} s: ${allIds.length - fetched} from the replay process, ${fetched} fetched (open ones, those closed last)`);
    t = Date.now();
    const apiKeyOf = new Map([...cast.providerIds].map(([key, id]) => [id, simKey(key)]));
    const [checks, { replay, replayedEarly }] = await Promise.all([
      checkBooks({ prisma: world.prisma, workflows: facts, upstream: { orders: upstreamOrders(world), apiKeyOf } }).then((done) => {
        options.progress?.(`books checked in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        return done;
      }),
      finishing.replayed.then(async (replayedEarly) => {
        options.progress?.(`replay process done ${((Date.now() - t) / 1000).toFixed(1)} s after the facts: ${replayedEarly.byRunId.size} runs, ${replayedEarly.byRunId.size - replayedEarly.duringDrive} of them after the drive`);
        return { replayedEarly, replay: await replayAll(world.env.client, world.bundle, facts.values(), [...cast.providerIds.values()], 2, replayedEarly.byRunId) };
      }),
    ]);
    checks.push({
      name: 'replay',
      claim: "every history replays on today's code (Worker.runReplayHistories)",
      checked: replay.replayed,
      failures: replay.failures.map((f) => ({ orderId: Number(/^order-(\d+)$/.exec(f.workflowId)?.[1]) || undefined, message: `${f.workflowId} run ${f.runId}: ${f.error}` })),
    });
    const t3 = Date.now();
    const passed = checks.every((c) => c.failures.length === 0) && driven.anomalies.length === 0;
    const failingOrders = await describeFailingOrders(world, checks, driven, options.maxFailingOrders ?? 10);
    const unsettledOrders = await describeUnsettledOrders(world, driven);
    return {
      seed: options.seed,
      orders: scenario.orders.length,
      days: scenario.days,
      passed,
      replay: `npm run simulate -- --seed ${options.seed} --orders ${scenario.orders.length} --days ${scenario.days}${options.kills !== undefined ? ` --kills ${options.kills}` : ''}`,
      checks: checks.map((c) => ({ name: c.name, claim: c.claim, checked: c.checked, passed: c.failures.length === 0, failures: c.failures.slice(0, 200) })),
      anomalies: driven.anomalies,
      figures: await figures(world, scenario.orders.length, orderIds.length, driven, facts, { ...replay, duringDrive: replayedEarly.duringDrive, factsFromProcess: allIds.length - fetched }, { t0, t1, t2, t3 }),
      failingOrders,
      unsettledOrders,
      samples: driven.samples,
    };
  } finally {
    running.delete(world);
    await world.stop();
  }
}

/** Every order the providers hold, with when they took it and, for a subscription, what it served. */
function upstreamOrders(world: World): UpstreamOrder[] {
  return world.simulator.state.listOrders().map((o) => {
    const order: UpstreamOrder = { apiKey: o.apiKey, id: o.id, link: o.link, createdAt: o.createdAt, fields: o.fields };
    if (o.fields.posts !== undefined && o.fields.link === undefined) {
      const body = world.simulator.state.status(o.apiKey, String(o.id)) as { status?: string; delivered?: Array<string | number> };
      order.subscription = { status: String(body.status), delivered: (body.delivered ?? []).map(Number) };
    }
    return order;
  });
}

async function figures(
  world: World,
  planned: number,
  placed: number,
  driven: DriveResult,
  facts: Map<number, OrderWorkflowFacts>,
  replay: ReplayOutcome & { duringDrive: number; factsFromProcess: number },
  t: { t0: number; t1: number; t2: number; t3: number },
): Promise<SimulationReport['figures']> {
  const byStatus = Object.fromEntries(
    (await world.prisma.$queryRaw<Array<{ status: string; n: number }>>`SELECT status, COUNT(*)::int AS n FROM orders GROUP BY status ORDER BY status`).map((r) => [r.status, r.n]),
  );
  const typeRows = await world.prisma.$queryRaw<Array<{ kind: string; status: string; n: number }>>`
    SELECT service_type || COALESCE('+drip-' || (drip_feed->>'mode'), '') || CASE WHEN execute_at IS NOT NULL THEN '+scheduled' ELSE '' END AS kind,
           status, COUNT(*)::int AS n
      FROM orders GROUP BY 1, 2 ORDER BY 1, 2`;
  const byType: Record<string, Record<string, number>> = {};
  for (const r of typeRows) (byType[r.kind] ??= {})[r.status] = r.n;
  const refundRows = await world.prisma.$queryRaw<Array<{ reason: string | null; n: number; total: string }>>`
    SELECT reason, COUNT(*)::int AS n, SUM(amount)::text AS total FROM ledger_entries WHERE kind = 'refund' GROUP BY reason`;
  const total = refundRows.reduce((sum, r) => addMoney(sum, r.total), '0');
  const rows = await world.prisma.order.findMany({ select: { id: true, link: true, providerOrderId: true, provider: { select: { apiUrl: true } } } });
  const calls = world.proxy.calls;
  const perOrder = rows.map((o) => {
    const provider = /\/p\/([^/]+)\//.exec(o.provider.apiUrl)?.[1] ?? '';
    return (calls.addsByLink.get(`${provider}:${o.link}`) ?? 0) + (o.providerOrderId ? (calls.byOrder.get(`${provider}:${o.providerOrderId}`) ?? 0) : 0);
  });
  const all = [...facts.values()];
  return {
    orders: { planned, placed, byStatus, byType, openInRefillWindow: all.filter((f) => f.open).length },
    refunds: { count: refundRows.reduce((n, r) => n + r.n, 0), total, byRule: countByRule(refundRows) },
    providerCalls: { total: calls.total, failedByOutage: calls.failed, byAction: calls.byAction, gaveUp: calls.gaveUp, answerMs: stats(calls.answerMs), perOrder: stats(perOrder) },
    temporal: { eventsPerOrder: stats(all.map((f) => f.events)), actionsPerOrder: stats(all.map((f) => f.actions)), activityFailures: all.reduce((n, f) => n + f.activityFailures, 0), replayedHistories: replay.replayed, replayedByProcess: replay.replayedBefore, replayedDuringDrive: replay.duringDrive, factsFromReplayProcess: replay.factsFromProcess },
    answers: driven.answers,
    eventsWithoutOrder: driven.withoutOrder,
    faults: { ...driven.faults, workerStarts: world.workerStarts },
    driveWallSeconds: { skipping: driven.wallMs.skipping / 1000, acting: driven.wallMs.acting / 1000, faults: driven.wallMs.faults / 1000 },
    simulatedDays: driven.simulatedMs / DAY,
    wallSeconds: { total: (t.t3 - t.t0) / 1000, setup: (t.t1 - t.t0) / 1000, drive: (t.t2 - t.t1) / 1000, checks: (t.t3 - t.t2) / 1000 },
  };
}

/** Refunds per rule ID (a reason reads "R-PARTIAL: run 2 ended partial"; the numbers in it vary). */
function countByRule(rows: Array<{ reason: string | null; n: number }>): Record<string, number> {
  const byRule: Record<string, number> = {};
  for (const r of rows) {
    const rule = /^(R-[A-Z-]+)/.exec(r.reason ?? '')?.[1] ?? 'other';
    byRule[rule] = (byRule[rule] ?? 0) + r.n;
  }
  return byRule;
}

async function describeFailingOrders(world: World, checks: Array<{ failures: Array<{ orderId?: number; message: string }> }>, driven: DriveResult, max: number): Promise<FailingOrder[]> {
  const problems = new Map<number, string[]>();
  for (const c of checks) for (const f of c.failures) if (f.orderId !== undefined) problems.set(f.orderId, [...(problems.get(f.orderId) ?? []), f.message]);
  return describeOrders(world, problems, driven, max);
}

/**
 * Orders still active when the settle time ran out (not a failure: a provider may stall for good),
 * with their journals and histories: the simulated days spent waiting on them show in the wall time.
 */
async function describeUnsettledOrders(world: World, driven: DriveResult, max = 3): Promise<FailingOrder[]> {
  const rows = await world.prisma.order.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, select: { id: true, status: true }, orderBy: { id: 'asc' } });
  return describeOrders(world, new Map(rows.map((r) => [r.id, [`still ${r.status} when the settle time ran out`]])), driven, max);
}

async function describeOrders(world: World, problems: Map<number, string[]>, driven: DriveResult, max: number): Promise<FailingOrder[]> {
  const indexOf = new Map([...driven.orderIds].map(([index, id]) => [id, index]));
  const out: FailingOrder[] = [];
  for (const [orderId, list] of [...problems].slice(0, max)) {
    const index = indexOf.get(orderId);
    const journal = (index !== undefined ? (driven.journal.get(index) ?? []) : []).map((l) => `  day ${(l.at / DAY).toFixed(3)}  ${l.what} → ${l.answer}`);
    const timeline = await fetchAllRuns(world.env.client, orderWorkflowId(orderId)).then((runs) => renderTimeline(runs), (error) => [`no history: ${String(error)}`]);
    out.push({ orderId, problems: list, journal: index !== undefined ? [`scenario order #${index}:`, ...journal] : [], timeline });
  }
  return out;
}
