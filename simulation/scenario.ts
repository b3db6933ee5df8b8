/**
 * The world of one run as a pure function of (seed, orders, days): users, providers, the catalogue
 * (from ORDER_SHAPES), and every event in simulated time: placements (with bursts, repeats of one
 * Idempotency-Key, links ordered again), cancels, refills, support's actions, money, provider outages
 * and faults. Nothing here does I/O; the driver (driver.ts) carries the events out.
 */
import { TYPE_SPECS } from '../domain/order-types';
import type { ServiceType } from '../domain/service-types';
import { FATES, fateFits, fateToken } from './fates';
import type { Fate } from './fates';
import { ORDER_SHAPES } from './order-shapes';
import type { CatalogueEntry, OrderShape } from './order-shapes';
import { createRng } from './prng';
import type { Rng } from './prng';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface ScenarioOptions {
  seed: number;
  orders: number;
  days: number;
  /** Worker kills (SIGKILL of the worker process); default max(1, round(days / 20)). */
  kills?: number;
}

export interface ProviderSpec {
  key: string;
  /** Supports orders_by_link: a lost `add` answer is reconciled by the engine; otherwise support resolves it. */
  supportsLinkLookup: boolean;
}

export interface ServiceSpec extends CatalogueEntry {
  /** Index in Scenario.services. */
  index: number;
  type: ServiceType;
  /** The order shape it belongs to (ORDER_SHAPES name). */
  shape: string;
  provider: string;
  /** The simulator's service id at that provider. */
  providerServiceId: number;
}

export interface UserSpec {
  key: string;
  reseller: boolean;
  openingBalance: string;
}

export interface OrderSpec {
  index: number;
  user: number;
  service: number;
  /** Its target: the `link`, or a subscription's `username` (TYPE_SPECS says which field carries it). */
  link: string;
  fate: string;
  /** The POST /orders body besides `service` and the target. */
  body: Record<string, unknown>;
  idempotencyKey: string | null;
  /**
   * Placed for later: `execute_at` is this long after the moment it is placed (the driver writes the
   * minute from the simulated clock). Absent: sent at once.
   */
  executeAfterMs?: number;
  /** A subscription that expires: `expiry` is the simulated day this many days after placement. */
  expiresAfterDays?: number;
}

export type SimEvent = { at: number } & (
  | { kind: 'place'; order: number; repeat: boolean }
  | { kind: 'cancel'; order: number; requestId: string }
  | { kind: 'refill'; order: number; requestId: string }
  | { kind: 'support_cancel'; order: number; refund: 'full' | 'none'; requestId: string }
  /** `typeRefuses`: the order's type cannot be moved (R-SUBSTITUTE): a refusal is expected, an acceptance is a bug. */
  | { kind: 'move'; order: number; requestId: string; typeRefuses?: string }
  | { kind: 'status_backwards'; order: number; phase: 'back' | 'forward' }
  | { kind: 'support_sweep'; pick: number }
  | { kind: 'block'; user: number; requestId: string }
  | { kind: 'unblock'; user: number; requestId: string }
  | { kind: 'topup'; user: number; amount: string; reference: string }
  | { kind: 'withdraw'; user: number; amount: string; key: string; panelAtFault: boolean }
  | { kind: 'chargeback'; user: number; amount: string; key: string }
  | { kind: 'kill_worker' }
  | { kind: 'terminate_db' }
  | { kind: 'provider_down'; provider: string; forMs: number }
);

export interface Scenario {
  seed: number;
  days: number;
  providers: ProviderSpec[];
  services: ServiceSpec[];
  users: UserSpec[];
  orders: OrderSpec[];
  fates: readonly Fate[];
  /** Sorted by `at` (ms since the start of the world); ties keep generation order. */
  events: SimEvent[];
}

export const PROVIDERS: readonly ProviderSpec[] = [
  { key: 'main', supportsLinkLookup: true },
  { key: 'backup', supportsLinkLookup: true },
  { key: 'nolookup', supportsLinkLookup: false },
];

export function generateScenario(options: ScenarioOptions): Scenario {
  const { seed, orders: orderCount, days } = options;
  if (!Number.isSafeInteger(orderCount) || orderCount < 1) throw new RangeError(`orders must be a whole number ≥ 1, got ${orderCount}`);
  if (!(days >= 1)) throw new RangeError(`days must be ≥ 1, got ${days}`);
  const root = createRng(seed);
  const services = catalogue();
  const users = makeUsers(root.fork('users'), orderCount);
  const events: SimEvent[] = [];
  const orders = makeOrders(root.fork('orders'), { orderCount, days, services, users, events });
  addFollowUps(root.fork('follow-ups'), { orders, services, events });
  addMoneyAndAccounts(root.fork('money'), { days, users, events });
  addSupportSweeps(root.fork('support'), { days, events });
  addFaults(root.fork('faults'), { days, kills: options.kills ?? Math.max(1, Math.round(days / 20)), events });
  const indexed = events.map((e, i) => [e, i] as const);
  indexed.sort((a, b) => a[0].at - b[0].at || a[1] - b[1]);
  return { seed, days, providers: [...PROVIDERS], services, users, orders, fates: FATES, events: indexed.map(([e]) => e) };
}

/** Every shape's services at `main` and `backup` (moves go between them), and at `nolookup`. */
function catalogue(): ServiceSpec[] {
  const services: ServiceSpec[] = [];
  let simId = 0;
  for (const shape of ORDER_SHAPES) {
    for (const entry of shape.services) {
      simId++;
      for (const provider of PROVIDERS) {
        services.push({ ...entry, index: services.length, type: shape.type, shape: shape.name, provider: provider.key, providerServiceId: simId });
      }
    }
  }
  return services;
}

function makeUsers(rng: Rng, orderCount: number): UserSpec[] {
  const small = Math.min(300, Math.max(5, Math.round(orderCount / 40)));
  const users: UserSpec[] = [{ key: 'reseller', reseller: true, openingBalance: money(Math.max(500, orderCount * 2)) }];
  for (let i = 0; i < small; i++) users.push({ key: `small-${i}`, reseller: false, openingBalance: money(rng.int(0, 60)) });
  return users;
}

function money(n: number): string {
  return n.toFixed(5);
}

interface OrderContext {
  orderCount: number;
  days: number;
  services: ServiceSpec[];
  users: UserSpec[];
  events: SimEvent[];
}

/** Placement times: spread over the days with daily rhythm, plus a few one-hour bursts. */
function placementTimes(rng: Rng, orderCount: number, days: number): number[] {
  const horizon = days * DAY;
  const bursts = Array.from({ length: Math.max(2, Math.round(days / 5)) }, () => rng.int(0, horizon - HOUR));
  const times: number[] = [];
  for (let i = 0; i < orderCount; i++) {
    if (rng.chance(0.15)) times.push(rng.pick(bursts) + rng.int(0, HOUR));
    else {
      // Busier in the (UTC) evening: a second draw rejects half the night hours.
      let t = rng.int(0, horizon - 1);
      if ((t % DAY) < 8 * HOUR && rng.chance(0.5)) t = rng.int(0, horizon - 1);
      times.push(t);
    }
  }
  return times.sort((a, b) => a - b);
}

/**
 * Which shape each order has: weighted by the shapes' shares, with every shape at least once when
 * there are enough orders (a small world still sells and checks every type).
 */
function shapePlan(rng: Rng, orderCount: number): OrderShape[] {
  const plan = Array.from({ length: orderCount }, () => rng.weighted(ORDER_SHAPES.map((s) => [s, s.weight] as const)));
  if (orderCount < ORDER_SHAPES.length * 2) return plan;
  const missing = ORDER_SHAPES.filter((shape) => !plan.includes(shape));
  // Only orders of the most common shape give their place up (the mix stays what it was).
  const common = plan.map((shape, i) => (shape === ORDER_SHAPES[0] ? i : -1)).filter((i) => i >= 0);
  for (const shape of missing) {
    if (common.length === 0) break;
    const [i] = common.splice(rng.int(0, common.length - 1), 1);
    plan[i] = shape;
  }
  return plan;
}

function makeOrders(rng: Rng, ctx: OrderContext): OrderSpec[] {
  const times = placementTimes(rng.fork('times'), ctx.orderCount, ctx.days);
  const shapes = shapePlan(rng.fork('shapes'), ctx.orderCount);
  const linksByUser = new Map<number, Array<{ link: string; fate: string; byLink: boolean }>>();
  const providerOf = (r: Rng) => r.weighted([['main', 70], ['backup', 15], ['nolookup', 15]] as const);
  const orders: OrderSpec[] = [];
  const seen = new Set<OrderShape>();
  for (let index = 0; index < ctx.orderCount; index++) {
    const shape = shapes[index];
    // The big reseller sells everything: the first order of each shape is its own (a small world's
    // only subscription is not lost to a small user's empty balance).
    const user = !seen.has(shape) || rng.chance(0.45) ? 0 : rng.int(1, ctx.users.length - 1);
    seen.add(shape);
    const entry = rng.pick(shape.services);
    const provider = providerOf(rng);
    const service = ctx.services.find((s) => s.key === entry.key && s.provider === provider)!;
    const byLink = TYPE_SPECS[shape.type].link;
    const earlier = linksByUser.get(user) ?? [];
    let link: string;
    let fate: string;
    const again = earlier.length > 0 && rng.chance(0.12) ? rng.pick(earlier) : undefined;
    if (again && again.byLink === byLink && fits(again.fate, service)) {
      // The same account ordered again: refused while the earlier order is active (R-ONE-ACTIVE-PER-LINK).
      ({ link, fate } = again);
    } else {
      fate = pickFate(rng, service).name;
      link = `${shape.target(rng, index)}${fateToken(fate)}`;
      earlier.push({ link, fate, byLink });
      linksByUser.set(user, earlier);
    }
    const idempotencyKey = rng.chance(0.6) ? `sim-${index}-${rng.int(0, 1e9).toString(36)}` : null;
    const spec: OrderSpec = { index, user, service: service.index, link, fate, body: shape.body(rng, service), idempotencyKey };
    // Resellers schedule some orders for later (any type): 2 h to 3 days ahead.
    if (rng.chance(0.06)) spec.executeAfterMs = rng.int(2 * 60, 72 * 60) * MINUTE;
    // Some subscriptions end by their expiry before all their posts are served.
    if (shape.type === 'subscriptions' && spec.body.expiry === undefined && rng.chance(0.2)) spec.expiresAfterDays = rng.int(0, 1);
    orders.push(spec);
    const at = times[index];
    ctx.events.push({ at, kind: 'place', order: index, repeat: false });
    // A reseller's retry: the same request with the same Idempotency-Key, at once or minutes later.
    if (idempotencyKey && rng.chance(0.08)) ctx.events.push({ at: at + (rng.chance(0.5) ? 0 : rng.int(1, 10) * MINUTE), kind: 'place', order: index, repeat: true });
  }
  return orders;
}

function fits(fate: string, service: ServiceSpec): boolean {
  return fateFits(FATES.find((f) => f.name === fate)!, { subscription: service.type === 'subscriptions', refill: service.refill.kind !== 'none' });
}

function pickFate(rng: Rng, service: ServiceSpec): Fate {
  return rng.weighted(FATES.filter((f) => fits(f.name, service)).map((f) => [f, f.weight] as const));
}

/**
 * Why the engine refuses to move an order of this kind (R-SUBSTITUTE sends on the undelivered part
 * of a quantity: a package, lines, a drip-feed or a subscription has none to split), or null.
 */
export function moveRefusedByType(service: ServiceSpec, order: OrderSpec): string | null {
  if (service.type === 'subscriptions') return 'a subscription cannot be moved';
  if (order.body.runs !== undefined) return 'a drip-feed cannot be moved';
  if (TYPE_SPECS[service.type].quantity.kind !== 'given') return `a ${service.type} order has no quantity to send on in part`;
  return null;
}

function addFollowUps(rng: Rng, ctx: { orders: OrderSpec[]; services: ServiceSpec[]; events: SimEvent[] }): void {
  const placedAt = new Map<number, number>();
  for (const e of ctx.events) if (e.kind === 'place' && !e.repeat) placedAt.set(e.order, e.at);
  for (const order of ctx.orders) {
    const at = placedAt.get(order.index)!;
    const service = ctx.services[order.service];
    const id = (what: string) => `sim-${what}-${order.index}-${rng.int(0, 1e9).toString(36)}`;
    const r = rng.next();
    if (r < 0.06) {
      const requestId = id('cancel');
      const when = at + rng.int(1, 30 * 60) * MINUTE / 60;
      ctx.events.push({ at: when, kind: 'cancel', order: order.index, requestId });
      if (rng.chance(0.3)) ctx.events.push({ at: when + rng.int(0, 5) * MINUTE, kind: 'cancel', order: order.index, requestId });
    } else if (r < 0.075) {
      ctx.events.push({ at: at + rng.int(10, 40 * 60) * MINUTE / 10, kind: 'support_cancel', order: order.index, refund: 'full', requestId: id('scancel') });
    } else if (r < 0.082) {
      ctx.events.push({ at: at + rng.int(10, 40 * 60) * MINUTE / 10, kind: 'support_cancel', order: order.index, refund: 'none', requestId: id('scancel') });
    } else if (r < 0.102 && service.provider !== 'nolookup') {
      const when = at + rng.int(30, 20 * 60) * MINUTE;
      const typeRefuses = moveRefusedByType(service, order);
      ctx.events.push({ at: when, kind: 'move', order: order.index, requestId: id('move'), ...(typeRefuses ? { typeRefuses } : {}) });
      // Support acting on one order at once: a second agent cancels it in the same instant.
      if (rng.chance(0.2)) ctx.events.push({ at: when, kind: 'support_cancel', order: order.index, refund: 'full', requestId: id('scancel') });
    } else if (r < 0.112 && service.type !== 'subscriptions') {
      ctx.events.push({ at: at + rng.int(60, 180) * MINUTE, kind: 'status_backwards', order: order.index, phase: 'back' });
      ctx.events.push({ at: at + rng.int(300, 600) * MINUTE, kind: 'status_backwards', order: order.index, phase: 'forward' });
    }
    // A scheduled order canceled before it is sent: the whole charge back, whatever the cancel flag.
    if (order.executeAfterMs !== undefined && rng.chance(0.3)) {
      ctx.events.push({ at: at + rng.int(10, Math.max(11, order.executeAfterMs / MINUTE - 90)) * MINUTE, kind: 'cancel', order: order.index, requestId: id('cancel-scheduled') });
    }
    if (service.refill.kind !== 'none' && rng.chance(0.4)) {
      const requestId = id('refill');
      const when = at + rng.int(2 * 24, 25 * 24) * HOUR;
      ctx.events.push({ at: when, kind: 'refill', order: order.index, requestId });
      if (rng.chance(0.3)) ctx.events.push({ at: when + rng.int(0, 3) * MINUTE, kind: 'refill', order: order.index, requestId });
      if (rng.chance(0.2)) ctx.events.push({ at: when + rng.int(1, 5) * DAY, kind: 'refill', order: order.index, requestId: id('refill') });
    }
  }
}

function addMoneyAndAccounts(rng: Rng, ctx: { days: number; users: UserSpec[]; events: SimEvent[] }): void {
  const horizon = ctx.days * DAY;
  let n = 0;
  const key = (what: string) => `sim-${what}-${++n}-${rng.int(0, 1e9).toString(36)}`;
  for (let t = rng.int(0, 3 * DAY); t < horizon; t += rng.int(2 * DAY, 4 * DAY)) {
    ctx.events.push({ at: t, kind: 'topup', user: 0, amount: money(rng.int(200, 2000)), reference: key('pay') });
  }
  for (let u = 1; u < ctx.users.length; u++) {
    const count = rng.int(0, Math.ceil(ctx.days / 10));
    for (let i = 0; i < count; i++) {
      const reference = key('pay');
      const at = rng.int(0, horizon - 1);
      ctx.events.push({ at, kind: 'topup', user: u, amount: money(rng.int(5, 80)), reference });
      // A payment notification delivered twice: one top-up (the reference is its key).
      if (rng.chance(0.1)) ctx.events.push({ at: at + rng.int(0, 60) * MINUTE, kind: 'topup', user: u, amount: money(rng.int(5, 80)), reference });
    }
  }
  const some = (count: number, push: (at: number, user: number) => void) => {
    for (let i = 0; i < count; i++) push(rng.int(DAY, horizon - 1), rng.int(0, ctx.users.length - 1));
  };
  some(Math.max(1, Math.round(ctx.days / 8)), (at, user) => {
    const k = key('withdraw');
    const amount = money(rng.int(1, 40));
    const panelAtFault = rng.chance(0.3);
    ctx.events.push({ at, kind: 'withdraw', user, amount, key: k, panelAtFault });
    if (rng.chance(0.3)) ctx.events.push({ at: at + MINUTE, kind: 'withdraw', user, amount, key: k, panelAtFault });
  });
  some(Math.max(1, Math.round(ctx.days / 12)), (at, user) => ctx.events.push({ at, kind: 'chargeback', user, amount: money(rng.int(1, 30)), key: key('chargeback') }));
  some(Math.max(1, Math.round(ctx.days / 15)), (at, user) => {
    if (user === 0) user = 1;
    ctx.events.push({ at, kind: 'block', user, requestId: key('block') });
    ctx.events.push({ at: at + rng.int(6, 72) * HOUR, kind: 'unblock', user, requestId: key('unblock') });
  });
}

/** Support looks at the queue every few hours: uncertain dispatches to resolve, failed refills to retry. */
function addSupportSweeps(rng: Rng, ctx: { days: number; events: SimEvent[] }): void {
  for (let t = 4 * HOUR; t < ctx.days * DAY; t += rng.int(3, 8) * HOUR) ctx.events.push({ at: t, kind: 'support_sweep', pick: rng.int(0, 1e9) });
}

function addFaults(rng: Rng, ctx: { days: number; kills: number; events: SimEvent[] }): void {
  const horizon = ctx.days * DAY;
  for (let i = 0; i < ctx.kills; i++) ctx.events.push({ at: rng.int(HOUR, horizon - 1), kind: 'kill_worker' });
  for (let i = 0; i < Math.max(1, Math.round(ctx.days / 4)); i++) ctx.events.push({ at: rng.int(HOUR, horizon - 1), kind: 'terminate_db' });
  // Bursts of failing provider calls (every action answers an HTML 502), and outages of hours.
  for (let i = 0; i < Math.max(1, Math.round(ctx.days / 2)); i++) {
    ctx.events.push({ at: rng.int(0, horizon - 1), kind: 'provider_down', provider: rng.pick(PROVIDERS).key, forMs: rng.int(5, 45) * MINUTE });
  }
  for (let i = 0; i < Math.max(1, Math.round(ctx.days / 10)); i++) {
    ctx.events.push({ at: rng.int(0, horizon - 1), kind: 'provider_down', provider: rng.pick(PROVIDERS).key, forMs: rng.int(2, 6) * HOUR });
  }
}
