/**
 * Carries the scenario's events out against the running world, in simulated time: Temporal's clock
 * is skipped to each group of events (env.sleep: timers fire, workflows run), then the group's calls
 * go to the REST API at once, as resellers and support send them. Faults happen between groups.
 * Every call and its answer is kept in the order's journal (printed for a failing order).
 */
import { TYPE_SPECS } from '../domain/order-types';
import { ACTIVE_STATUSES } from '../domain/order-status';
import { FATES, fateToken } from './fates';
import type { ApiAnswer, ApiClient } from './api-client';
import { createRng } from './prng';
import { DAY, HOUR, MINUTE } from './scenario';
import type { Scenario, SimEvent } from './scenario';
import type { Cast } from './setup';
import type { World } from './world';
import { clockHolders } from './clock-holders';
import { runAll } from './run-all';
import { startSkipProfile } from './skip-profile';
import { stats } from './report';
import type { SkipProfile } from './skip-profile';

/** Events within an hour of simulated time go out together, at the first one's time (one time skip per group). */
const GROUP_MS = HOUR;
const CONCURRENCY = 32;
/** A support sweep's cancels and refill retries in flight at once. */
const SWEEP_CONCURRENCY = 8;
/** Real ms the driver waits for a group's calls before simulated time moves on without them. */
const PATIENCE_MS = 2_000;

export interface JournalLine {
  at: number;
  what: string;
  answer: string;
}

export interface DriveResult {
  /** Scenario order index → engine order id (when the API gave one). */
  orderIds: Map<number, number>;
  journal: Map<number, JournalLine[]>;
  /** Answers by event kind and HTTP status: "place 201" → count. */
  answers: Record<string, number>;
  /** Calls about an order that were not sent because the API never gave it an id (its placement was refused): kind → scenario order indexes. */
  withoutOrder: Record<string, number[]>;
  faults: { kills: number; terminatedConnections: number; outages: number };
  /** Contradictions seen while driving (e.g. one Idempotency-Key, two orders). */
  anomalies: string[];
  startedAt: number;
  /** Simulated ms from start to the end of the settle phase. */
  simulatedMs: number;
  /** Wall ms spent skipping time (workflows running) and carrying events out. */
  wallMs: { skipping: number; acting: number; faults: number };
  /** Orders by status sampled over simulated time (for the chart). */
  samples: Array<{ at: number; counts: Record<string, number> }>;
}

export interface DriveOptions {
  progress?: (line: string) => void;
  /** Simulated time allowed after the last event for orders to settle (default 14 days). */
  settleMs?: number;
}

export async function drive(world: World, api: ApiClient, scenario: Scenario, cast: Cast, options: DriveOptions = {}): Promise<DriveResult> {
  const startedAt = world.now();
  const result: DriveResult = {
    orderIds: new Map(),
    journal: new Map(),
    answers: {},
    withoutOrder: {},
    faults: { kills: 0, terminatedConnections: 0, outages: 0 },
    anomalies: [],
    startedAt,
    simulatedMs: 0,
    wallMs: { skipping: 0, acting: 0, faults: 0 },
    samples: [],
  };
  const ctx: Ctx = { world, api, scenario, cast, result, startedAt, forcedBack: new Set(), placing: new Map() };
  const progress = startProgress(ctx, options.progress);
  profile = process.env.SIM_PROFILE ? startSkipProfile(world.temporal) : null;
  skipStart = startedAt;
  const inFlight = new Set<Promise<void>>();
  let lastSample = -Infinity;
  try {
    const events = scenario.events;
    for (let i = 0; i < events.length; ) {
      const first = events[i];
      const group: SimEvent[] = [];
      while (i < events.length && events[i].at < first.at + GROUP_MS) group.push(events[i++]);
      let t = Date.now();
      await skipTo(world, startedAt + first.at);
      result.wallMs.skipping += Date.now() - t;
      for (const batch of splitBarriers(group)) {
        t = Date.now();
        const pending = new Set<string>();
        const calls = runAll(
          batch.map((e) => async () => {
            const label = `${e.kind}#${'order' in e ? e.order : ''}`;
            pending.add(label);
            const started = Date.now();
            await perform(ctx, e);
            if (profile) callLog.push({ kind: e.kind, ms: Date.now() - started });
            pending.delete(label);
          }),
          CONCURRENCY,
        );
        // A call that waits on the engine (a refill or cancel whose provider call retries with backoff)
        // must not hold simulated time: after a moment time skips on while it is still in flight.
        inFlight.add(calls);
        void calls.finally(() => inFlight.delete(calls));
        await Promise.race([calls, new Promise((resolve) => setTimeout(resolve, PATIENCE_MS))]);
        if (profile && pending.size > 0) process.stderr.write(`\nday ${((world.now() - startedAt) / DAY).toFixed(2)}: ${batch.length} calls, after ${((Date.now() - t) / 1000).toFixed(1)} s still pending: ${[...pending].join(' ')}\n`);
        if (profile) actLog.push(Date.now() - t);
        result.wallMs[batch[0].kind === 'kill_worker' || batch[0].kind === 'terminate_db' ? 'faults' : 'acting'] += Date.now() - t;
      }
      if (world.now() - lastSample >= 6 * HOUR) {
        lastSample = world.now();
        result.samples.push({ at: world.now() - startedAt, counts: await countByStatus(world) });
      }
    }
    // Settle: time runs on (support still sweeps) until no order is active or the time is up.
    const settleUntil = world.now() + (options.settleMs ?? 14 * DAY);
    let sweep = 0;
    while (world.now() < settleUntil) {
      const counts = await countByStatus(world);
      const active = ACTIVE_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      result.samples.push({ at: world.now() - startedAt, counts });
      if (active === 0 || (await onlyNeverEndingLeft(ctx))) break;
      await perform(ctx, { at: world.now() - startedAt, kind: 'support_sweep', pick: ++sweep });
      const t = Date.now();
      await skipTo(world, world.now() + 6 * HOUR);
      result.wallMs.skipping += Date.now() - t;
    }
    // Calls still in flight get their answers (time skipping meanwhile, so backoffs pass).
    while (inFlight.size > 0) await skipTo(world, world.now() + 10 * MINUTE);
    result.samples.push({ at: world.now() - startedAt, counts: await countByStatus(world) });
    result.simulatedMs = world.now() - startedAt;
    anomaliesOfCallsNotSent(result);
  } catch (error) {
    // A stuck clock ends the drive, not the run: the books and the replay still say what they can,
    // and the anomaly names what held the clock.
    if (!(error instanceof SimulationStuckError)) throw error;
    result.anomalies.push(error.message);
    result.simulatedMs = world.now() - startedAt;
  } finally {
    progress.stop();
    if (profile) {
      profile.stop();
      for (const line of profile.report()) process.stderr.write(`${line}\n`);
      const slow = skipLog.filter((s) => s.wallMs > 1000);
      process.stderr.write(`batches: ${actLog.length}, ${actLog.filter((ms) => ms >= PATIENCE_MS).length} waited the full patience; acting p50 ${actLog.sort((a, b) => a - b)[Math.floor(actLog.length / 2)]} ms\n`);
      for (const line of callTimes(callLog)) process.stderr.write(`${line}\n`);
      process.stderr.write(`skips: ${skipLog.length}, ${slow.length} over 1 s real (${(slow.reduce((n, s) => n + s.wallMs, 0) / 1000).toFixed(1)} s)\n`);
    }
  }
  return result;
}

interface Ctx {
  world: World;
  api: ApiClient;
  scenario: Scenario;
  cast: Cast;
  result: DriveResult;
  startedAt: number;
  /** Upstream orders whose status answers were forced back to Pending (forced forward again later). */
  forcedBack: Set<number>;
  /** Scenario order index → its placement call (settled), for the calls about that order. */
  placing: Map<number, Promise<void>>;
}

/** What the driver is doing now (shown on the progress line: a stuck run says where). */
let doing = 'setting up';

let profile: SkipProfile | null = null;
let skipStart = 0;
const skipLog: Array<{ simMs: number; wallMs: number }> = [];
const actLog: number[] = [];
/** Each call's real duration by event kind (SIM_PROFILE): which calls make a batch wait. */
const callLog: Array<{ kind: string; ms: number }> = [];

/** Per event kind: calls, p50 / p95 / max ms, and their sum, biggest sum first. */
function callTimes(log: ReadonlyArray<{ kind: string; ms: number }>): string[] {
  const byKind = new Map<string, number[]>();
  for (const { kind, ms } of log) {
    const times = byKind.get(kind) ?? [];
    times.push(ms);
    byKind.set(kind, times);
  }
  return [...byKind]
    .map(([kind, times]) => ({ kind, count: times.length, ...stats(times), sum: times.reduce((n, ms) => n + ms, 0) }))
    .sort((a, b) => b.sum - a.sum)
    .map(({ kind, count, p50, p95, max, sum }) => `calls ${kind}: ${count}, p50 ${p50} ms, p95 ${p95} ms, max ${max} ms, sum ${(sum / 1000).toFixed(1)} s`);
}

/** A skip that takes longer than this in real time means the clock is stuck (SIM_STUCK_SECONDS). */
const STUCK_MS = Number(process.env.SIM_STUCK_SECONDS ?? 300) * 1000;

/** Simulated time stopped moving: something holds the clock for good. The run ends, naming it. */
export class SimulationStuckError extends Error {}

async function skipTo(world: World, at: number): Promise<void> {
  const wait = at - world.now();
  doing = `skipping ${(wait / 60_000).toFixed(0)} min`;
  const t = Date.now();
  profile?.skipping(true);
  if (wait > 0) {
    let watchdog: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => {
        const holders = clockHolders(world.temporal);
        reject(new SimulationStuckError(`simulated time did not move for ${STUCK_MS / 1000} s of real time (skipping ${(wait / 60_000).toFixed(0)} min); held by: ${holders.length > 0 ? holders.join('; ') : 'nothing in flight (a client lock)'}`));
      }, STUCK_MS);
    });
    try {
      await Promise.race([world.env.sleep(wait), stuck]);
    } finally {
      clearTimeout(watchdog);
    }
  }
  profile?.skipping(false);
  skipLog.push({ simMs: wait, wallMs: Date.now() - t });
  if (profile && Date.now() - t > 1000) process.stderr.write(`\nslow skip at day ${((at - skipStart) / 86_400_000).toFixed(2)}: ${wait / 60_000} min in ${((Date.now() - t) / 1000).toFixed(1)} s: ${profile.lastSkip()}\n`);
  doing = 'acting';
}

/**
 * A call about an order is left out only when the order was never placed (its placement refused);
 * one left out for an order that has an id went out too early (before its placement's answer), and
 * the world did less than its scenario says.
 */
function anomaliesOfCallsNotSent(result: DriveResult): void {
  for (const [kind, orders] of Object.entries(result.withoutOrder)) {
    for (const order of orders) {
      if (result.orderIds.has(order)) result.anomalies.push(`order #${order} (${result.orderIds.get(order)}): a ${kind} was not sent, as if the order had no id`);
    }
  }
}

/**
 * Whether every order still active is one nothing will change any more: started at a provider whose
 * fate delivers nothing and never ends it (the `stall` fate's speed 0: the provider starts it at
 * last, after 40 days, and leaves it there). Waiting out the settle time for them only burns wall time
 * (14 simulated days, about 90 s of the default world). A pending one may still be canceled
 * (R-CANCEL-STALLED), so it keeps the settle going.
 */
async function onlyNeverEndingLeft(ctx: Ctx): Promise<boolean> {
  const active = await ctx.world.prisma.order.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, select: { status: true, link: true } });
  return active.length > 0 && active.every((o) => o.status === 'in_progress' && NEVER_ENDING_TOKENS.some((token) => o.link.includes(token)));
}

/** The link tokens of the fates whose provider never delivers and never ends the order. */
const NEVER_ENDING_TOKENS = FATES.filter((f) => f.scenario.speedPerSec === 0 && f.scenario.end === undefined).map((f) => fateToken(f.name));

/** Faults run alone, between the calls before and after them. */
function splitBarriers(group: SimEvent[]): SimEvent[][] {
  const batches: SimEvent[][] = [[]];
  for (const e of group) {
    if (e.kind === 'kill_worker' || e.kind === 'terminate_db') batches.push([e], []);
    else batches[batches.length - 1].push(e);
  }
  return batches.filter((b) => b.length > 0);
}

async function countByStatus(world: World): Promise<Record<string, number>> {
  const rows = await world.prisma.$queryRaw<Array<{ status: string; n: number }>>`SELECT status, COUNT(*)::int AS n FROM orders GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

function note(ctx: Ctx, order: number, what: string, answer: ApiAnswer | string): void {
  const line = { at: ctx.world.now() - ctx.startedAt, what, answer: typeof answer === 'string' ? answer : `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}` };
  const lines = ctx.result.journal.get(order) ?? [];
  lines.push(line);
  ctx.result.journal.set(order, lines);
}

function tally(ctx: Ctx, kind: string, answer: ApiAnswer | { status: string | number }): void {
  const key = `${kind} ${answer.status}`;
  ctx.result.answers[key] = (ctx.result.answers[key] ?? 0) + 1;
}

async function perform(ctx: Ctx, e: SimEvent): Promise<void> {
  doing = e.kind;
  try {
    if (e.kind === 'place' && !e.repeat) {
      const placing = performOne(ctx, e);
      ctx.placing.set(e.order, placing.catch(() => undefined));
      return await placing;
    }
    // A cancel a minute after the placement falls in the placement's group, whose calls go out at
    // once: it waits for the placement's answer (it needs the order's id), then goes out at the
    // same instant, as a reseller's cancel right after the order does. A repeat of the placement
    // does not wait: two identical requests in flight together is the point of it.
    if ('order' in e && e.kind !== 'place') {
      await ctx.placing.get(e.order);
      if (!ctx.result.orderIds.has(e.order)) return void (ctx.result.withoutOrder[e.kind] ??= []).push(e.order);
    }
    await performOne(ctx, e);
  } catch (error) {
    // A call that failed at the transport (the API's database connection was cut, ...): people retry later.
    tally(ctx, e.kind, { status: 'error' });
    if ('order' in e) note(ctx, e.order, e.kind, `transport error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function performOne(ctx: Ctx, e: SimEvent): Promise<void> {
  const { api, cast, scenario, world, result } = ctx;
  const orderId = (index: number) => result.orderIds.get(index);
  const userKey = (index: number) => cast.users[scenario.orders[index].user].key;
  switch (e.kind) {
    case 'place': {
      const spec = scenario.orders[e.order];
      const fate = FATES.find((f) => f.name === spec.fate)!;
      if (fate.oncePerOrder && !e.repeat) world.simulator.state.addScenario(spec.link, fate.scenario);
      const body = orderBody(ctx, spec);
      const answer = await api.call(userKey(e.order), 'POST', '/orders', body, spec.idempotencyKey ? { 'Idempotency-Key': spec.idempotencyKey } : {});
      tally(ctx, e.repeat ? 'place(repeat)' : 'place', answer);
      note(ctx, e.order, e.repeat ? 'place again (same Idempotency-Key)' : 'place', answer);
      const id: number | undefined = answer.body?.order?.id ?? answer.body?.error?.orderId;
      if (id !== undefined) {
        const known = orderId(e.order);
        if (known !== undefined && known !== id) result.anomalies.push(`order #${e.order}: one Idempotency-Key gave orders ${known} and ${id}`);
        if (known === undefined) result.orderIds.set(e.order, id);
      }
      return;
    }
    case 'cancel': {
      const id = orderId(e.order);
      if (id === undefined) return;
      const answer = await api.call(userKey(e.order), 'POST', `/orders/${id}/cancel`, { requestId: e.requestId, reason: 'changed my mind' });
      tally(ctx, 'cancel', answer);
      return note(ctx, e.order, `cancel ${e.requestId}`, answer);
    }
    case 'refill': {
      const id = orderId(e.order);
      if (id === undefined) return;
      // Followers drop before a reseller asks for a refill (R-REFILL-NEED compares counts).
      const link = scenario.orders[e.order].link;
      const count = world.simulator.state.count(link);
      if (count > 0) world.simulator.state.setCount(link, Math.floor(count * 0.8));
      const answer = await api.call(userKey(e.order), 'POST', `/orders/${id}/refills`, { requestId: e.requestId });
      tally(ctx, 'refill', answer);
      return note(ctx, e.order, `refill ${e.requestId}`, answer);
    }
    case 'support_cancel': {
      const id = orderId(e.order);
      if (id === undefined) return;
      const answer = await api.call(cast.supportKey, 'POST', `/support/orders/${id}/cancel`, { refund: e.refund, reason: `simulation: support cancel (${e.refund})`, requestId: e.requestId });
      tally(ctx, `support_cancel(${e.refund})`, answer);
      return note(ctx, e.order, `support cancel refund=${e.refund}`, answer);
    }
    case 'move': {
      const id = orderId(e.order);
      if (id === undefined) return;
      const from = scenario.services[scenario.orders[e.order].service];
      const to = scenario.services.find((s) => s.key === from.key && s.provider === (from.provider === 'main' ? 'backup' : 'main'))!;
      const answer = await api.call(cast.supportKey, 'POST', `/support/orders/${id}/move`, { serviceId: cast.serviceIds[to.index], reason: 'simulation: provider too slow', requestId: e.requestId });
      // A type the engine does not move (R-SUBSTITUTE): its refusal is expected, an accepted move is a bug.
      if (e.typeRefuses && answer.status < 300) result.anomalies.push(`order #${e.order} (${id}): a move was accepted although ${e.typeRefuses}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      tally(ctx, e.typeRefuses ? 'move(type refuses)' : 'move', answer);
      return note(ctx, e.order, `move to ${to.key}@${to.provider}${e.typeRefuses ? ` (expected refused: ${e.typeRefuses})` : ''}`, answer);
    }
    case 'status_backwards': {
      const id = orderId(e.order);
      if (id === undefined) return;
      const row = await world.prisma.order.findUnique({ where: { id }, select: { providerOrderId: true } });
      const upstream = row?.providerOrderId ? Number(row.providerOrderId) : NaN;
      const view = Number.isSafeInteger(upstream) ? world.simulator.state.getOrder(upstream) : null;
      if (!view) return;
      if (e.phase === 'back' && view.status === 'In progress') {
        world.simulator.state.forceOrder(upstream, { status: 'Pending' });
        ctx.forcedBack.add(upstream);
        note(ctx, e.order, `provider ${upstream}: status forced back to Pending`, 'ok');
      } else if (e.phase === 'forward' && ctx.forcedBack.delete(upstream)) {
        world.simulator.state.forceOrder(upstream, { status: 'Completed', remains: '0' });
        note(ctx, e.order, `provider ${upstream}: status forced to Completed`, 'ok');
      }
      return;
    }
    case 'support_sweep':
      return supportSweep(ctx, e.pick);
    case 'block':
    case 'unblock': {
      const user = cast.users[e.user];
      const answer = await api.call(cast.supportKey, 'POST', `/support/users/${user.id}/${e.kind}`, { reason: `simulation: ${e.kind}`, requestId: e.requestId });
      return tally(ctx, e.kind, answer);
    }
    case 'topup': {
      const user = cast.users[e.user];
      const answer = await api.call(cast.adminKey, 'POST', `/admin/users/${user.id}/top-ups`, { amount: e.amount, paymentReference: e.reference });
      return tally(ctx, 'topup', answer);
    }
    case 'withdraw': {
      const user = cast.users[e.user];
      const answer = await api.call(cast.adminKey, 'POST', `/admin/users/${user.id}/withdrawals`, { amount: e.amount, panelAtFault: e.panelAtFault, reason: 'simulation: payout' }, { 'Idempotency-Key': e.key });
      return tally(ctx, 'withdraw', answer);
    }
    case 'chargeback': {
      const user = cast.users[e.user];
      const answer = await api.call(cast.adminKey, 'POST', `/admin/users/${user.id}/chargebacks`, { amount: e.amount, reason: 'simulation: card chargeback' }, { 'Idempotency-Key': e.key });
      return tally(ctx, 'chargeback', answer);
    }
    case 'kill_worker':
      await world.killWorker();
      result.faults.kills++;
      return;
    case 'terminate_db':
      result.faults.terminatedConnections += await world.terminateWorkerConnections();
      return;
    case 'provider_down':
      world.proxy.down(e.provider, world.now() + e.forMs);
      result.faults.outages++;
      return;
  }
}

/**
 * The POST /orders body of an order: its service, its target under the field its type names (`link`,
 * or a subscription's `username`), its fields, and the times the scenario gave relative to now
 * (`execute_at`, a near `expiry`) written from the simulated clock as a reseller's client would.
 */
function orderBody(ctx: Ctx, spec: Scenario['orders'][number]): Record<string, unknown> {
  // A repeat with the same Idempotency-Key sends the same request (the same execute_at).
  const sent = sentBodies.get(spec);
  if (sent) return sent;
  const service = ctx.scenario.services[spec.service];
  const now = ctx.world.now();
  const body: Record<string, unknown> = { service: ctx.cast.serviceIds[spec.service], [TYPE_SPECS[service.type].link ? 'link' : 'username']: spec.link, ...spec.body };
  if (spec.executeAfterMs !== undefined) body.execute_at = utcMinute(now + spec.executeAfterMs);
  if (spec.expiresAfterDays !== undefined) {
    const d = new Date(now + spec.expiresAfterDays * DAY);
    body.expiry = `${d.getUTCDate()}/${d.getUTCMonth() + 1}/${d.getUTCFullYear()}`;
  }
  sentBodies.set(spec, body);
  return body;
}

const sentBodies = new WeakMap<Scenario['orders'][number], Record<string, unknown>>();

/** "YYYY-MM-DD HH:MM" (UTC) of the minute after `at`. */
function utcMinute(at: number): string {
  return new Date(Math.ceil(at / MINUTE) * MINUTE + MINUTE).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * Support's queue: every uncertain dispatch is resolved (attach when the provider has the order,
 * else redispatch, sometimes cancel), and some failed or rejected refills are sent again.
 */
async function supportSweep(ctx: Ctx, pick: number): Promise<void> {
  const { api, cast, world, result } = ctx;
  const rng = createRng(pick);
  const indexOf = new Map([...result.orderIds].map(([index, id]) => [id, index]));
  const list = await api.call(cast.supportKey, 'GET', '/support/orders?status=dispatch_uncertain&limit=200');
  const uncertain = (list.body?.orders ?? []) as Array<{ id: number; link: string; providerId: number; createdAt: string }>;
  // Upstream orders some order already holds (read once per sweep; this sweep's attaches join it).
  const attached = uncertain.length === 0 ? new Set<string | null>() : new Set((await world.prisma.order.findMany({ where: { providerOrderId: { not: null } }, select: { providerOrderId: true } })).map((o) => o.providerOrderId));
  for (const order of uncertain) {
    const provider = [...cast.providerIds].find(([, id]) => id === order.providerId)?.[0];
    const candidates = world.simulator.state
      .listOrders(order.link)
      .filter((o) => o.apiKey === `sim-key-${provider}` && !attached.has(String(o.id)) && o.createdAt >= Date.parse(order.createdAt) - MINUTE);
    const body =
      candidates.length === 1 && rng.chance(0.85)
        ? { action: 'attach', providerOrderId: String(candidates[0].id) }
        : candidates.length === 0 && rng.chance(0.7)
          ? { action: 'redispatch' }
          : { action: 'cancel' };
    const answer = await api.call(cast.supportKey, 'POST', `/support/orders/${order.id}/resolve-dispatch`, { ...body, reason: 'simulation: support resolved the dispatch', requestId: `sweep-${pick}-${order.id}` });
    if (body.providerOrderId !== undefined && answer.status === 200) attached.add(body.providerOrderId);
    tally(ctx, `resolve(${body.action})`, answer);
    const index = indexOf.get(order.id);
    if (index !== undefined) note(ctx, index, `support resolve-dispatch ${JSON.stringify(body)}`, answer);
  }
  // Resellers cancel orders that never started: every stalled one (R-CANCEL-STALLED), some overdue ones.
  // The cancels and retries below are about different orders, from different resellers and agents:
  // they go out at once (SWEEP_CONCURRENCY), not one after another. The choices are drawn first, in
  // list order, so a seed makes the same ones.
  const calls: Array<() => Promise<void>> = [];
  const late = await world.prisma.order.findMany({ where: { status: 'pending', providerOrderId: { not: null }, OR: [{ stalled: true }, { overdue: true }] }, select: { id: true, userId: true, stalled: true }, orderBy: { id: 'asc' } });
  for (const order of late) {
    if (!order.stalled && !rng.chance(0.3)) continue;
    const key = cast.users.find((u) => u.id === order.userId)?.key;
    if (!key) continue;
    // A new request each sweep: the engine answers a repeated requestId with its first answer, and
    // a reseller whose cancel was refused "try again later" sends a new one (with one id for every
    // sweep, a refusal during an outage was all the order ever got, for 40 days).
    calls.push(async () => {
      const answer = await api.call(key, 'POST', `/orders/${order.id}/cancel`, { requestId: `late-${order.id}-${pick}`, reason: 'never started' });
      tally(ctx, 'cancel(late)', answer);
      const index = indexOf.get(order.id);
      if (index !== undefined) note(ctx, index, 'reseller cancels a late order', answer);
    });
  }
  // Support retries a refill as it lists them: a drip-feed's refill, not one of its per-run parts.
  const failed = await world.prisma.refill.findMany({ where: { status: { in: ['failed', 'rejected'] }, parentRefillId: null }, select: { id: true, orderId: true }, orderBy: { id: 'asc' }, take: 100 });
  for (const refill of failed) {
    if (!rng.chance(0.3)) continue;
    calls.push(async () => {
      const answer = await api.call(cast.supportKey, 'POST', `/orders/${refill.orderId}/refills/${refill.id}/retry`, { reason: 'simulation: retry', requestId: `retry-${pick}-${refill.id}` });
      tally(ctx, 'refill_retry', answer);
      const index = indexOf.get(refill.orderId);
      if (index !== undefined) note(ctx, index, `support retries refill ${refill.id}`, answer);
    });
  }
  await runAll(calls, SWEEP_CONCURRENCY);
}

function startProgress(ctx: Ctx, write?: (line: string) => void): { stop(): void } {
  if (!write) return { stop: () => undefined };
  const total = ctx.scenario.orders.length;
  let settled = 0;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const rows = await ctx.world.prisma.$queryRaw<Array<{ n: number }>>`
        SELECT COUNT(*)::int AS n FROM orders WHERE status IN ('completed', 'partial', 'canceled', 'rejected')`;
      settled = rows[0]?.n ?? settled;
    } catch {
      /* the count is best effort */
    } finally {
      busy = false;
    }
    const day = (ctx.world.now() - ctx.startedAt) / DAY;
    write(`day ${day.toFixed(1)}/${ctx.scenario.days}  placed ${ctx.result.orderIds.size}/${total}  settled ${settled}  kills ${ctx.result.faults.kills}  outages ${ctx.result.faults.outages}  (${doing})`);
  };
  const timer = setInterval(() => void tick(), 2_000);
  return { stop: () => clearInterval(timer) };
}
