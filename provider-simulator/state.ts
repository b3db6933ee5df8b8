import Decimal from 'decimal.js';
import type { SimService } from './catalogue';
import { checkAddFields } from './order-fields';
import type { Clock } from './clock';
import { expiryInstant, subscriptionAt } from './subscription';
import type { SimSubscription, SubscriptionAt } from './subscription';
import { memoryOrderIds } from './order-ids';
import type { OrderIdSequence } from './order-ids';
import {
  addErrorText,
  DEFAULT_BEHAVIOUR,
  resolveBehaviour,
  ruleMatches,
  type Behaviour,
  type Quirks,
  type Scenario,
  type ScenarioRule,
} from './scenarios';

/**
 * The simulator's state and protocol logic, with no HTTP in it. Progress is computed from elapsed time
 * whenever an order is read (status, count, orders_by_link...): no background timers, so a virtual clock
 * drives everything. Terminal states are materialised once, at the first read that sees them.
 */

export type OrderCanon = 'Pending' | 'In progress' | 'Completed' | 'Partial' | 'Canceled';
export type RefillCanon = 'Pending' | 'In progress' | 'Completed' | 'Rejected';
type FinalCanon = 'Completed' | 'Partial' | 'Canceled';

export const TEXT = {
  badKey: 'Invalid API key',
  badRequest: 'Incorrect request',
  badService: 'Incorrect service ID',
  badLink: 'Bad link',
  funds: 'Not enough funds on balance',
  activeOrder: 'You have active order with this link. Please wait until order being completed.',
  badOrder: 'Incorrect order ID',
  notRefillable: 'Order not eligible for refill.',
  refillNotFound: 'Refill not found',
  notCancelable: 'Order cannot be canceled',
  tooMany: 'Too many ids: at most 100 per request',
} as const;

export interface ForcedFields {
  status?: string;
  start_count?: string | number;
  remains?: string | number;
  charge?: string | number;
}

export interface SimOrder {
  id: number;
  apiKey: string;
  service: SimService;
  link: string;
  linkKey: string;
  quantity: number;
  charge: Decimal;
  createdAt: number;
  behaviour: Behaviour;
  startCount: number | null;
  cancelRequestedAt: number | null;
  final: { status: FinalCanon; delivered: number; at: number } | null;
  forced: ForcedFields;
  refillIds: number[];
  /** A drip-feed parent (add with `runs`): run k starts k × interval after the first, `perRun` each. */
  drip?: { runs: number; perRun: number; intervalMs: number };
  /** A subscription to future posts (provider-simulator/subscription.ts). */
  sub?: SimSubscription;
  /** The `add` fields as received (besides action, key, service): the type's fields unchanged. */
  fields: Record<string, string>;
}

export interface SimRefill {
  id: number;
  orderId: number;
  createdAt: number;
  outcome: 'accept' | 'reject';
  applied: boolean;
  forcedStatus?: string;
}

export interface CallLogEntry {
  seq: number;
  at: number;
  /** `count` for the count source; the API's action otherwise (lower-cased; '' when absent). */
  action: string;
  /** How many order or refill ids the call addressed (0 for add, services, balance...). */
  ids: number;
  link?: string;
}

export type JsonAnswer = { kind: 'json'; body: unknown; httpStatus?: number };
export type AddDirective =
  | JsonAnswer
  | { kind: 'empty' | 'reset' | 'http500' | 'non_json' }
  | { kind: 'hang'; hangMs: number; late: JsonAnswer };

export interface SimulatorCoreOptions {
  apiKeys: readonly string[];
  catalogue: readonly SimService[];
  clock: Clock;
  /** Overrides of the default behaviour of orders that no scenario matches. */
  defaults?: Partial<Behaviour>;
  /** After an accepted cancel, the order ends this long after the request (0: at the next read). */
  cancelDelayMs?: number;
  /** The provider-side balance of every key, a decimal string. */
  balance?: string;
  /** Refuse an `add` while the same link has an active order, as upstream providers do (default true). */
  oneActivePerLink?: boolean;
  /** Upstream order ids (provider-simulator/order-ids.ts); default in memory from `firstOrderId` (10001). */
  orderIds?: OrderIdSequence;
  firstOrderId?: number;
}

export interface OrderView {
  id: number;
  apiKey: string;
  service: number;
  link: string;
  quantity: number;
  charge: string;
  createdAt: number;
  status: OrderCanon;
  delivered: number;
  startCount: number | null;
  cancelRequestedAt: number | null;
  refillIds: number[];
  behaviour: Behaviour;
  /** A drip-feed parent: its runs, quantity per run and interval. */
  drip?: { runs: number; perRun: number; intervalMs: number };
  /** The `add` fields as received (the type's fields unchanged). */
  fields: Record<string, string>;
}

const MAX_IDS = 100;
const MAX_LOG = 50_000;

export function linkKeyOf(link: string): string {
  return link.trim().replace(/\/+$/, '');
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function isFinalCanon(s: string): s is FinalCanon {
  return s === 'Completed' || s === 'Partial' || s === 'Canceled';
}

/** Reads a forced status loosely, to know whether it ends the order. */
function canonOf(raw: string): OrderCanon | null {
  const s = raw.trim().toLowerCase().replace(/[_\s]+/g, ' ');
  if (s === 'pending') return 'Pending';
  if (s === 'in progress' || s === 'processing') return 'In progress';
  if (s === 'completed') return 'Completed';
  if (s === 'partial') return 'Partial';
  if (s === 'canceled' || s === 'cancelled' || s === 'refunded') return 'Canceled';
  return null;
}

export function styleStatus(canon: string, q: Quirks): string {
  let s = q.statusMap?.[canon] ?? canon;
  if (q.statusCase === 'lower') s = s.toLowerCase();
  else if (q.statusCase === 'snake') s = s.toLowerCase().replace(/\s+/g, '_');
  else if (q.statusCase === 'upper') s = s.toUpperCase();
  return s;
}

function splitIds(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

function toId(token: string): number | null {
  return /^\d{1,15}$/.test(token) ? Number(token) : null;
}

export class SimulatorCore {
  readonly catalogue: readonly SimService[];
  readonly clock: Clock;
  private readonly apiKeys: Set<string>;
  private readonly defaults: Behaviour;
  private readonly cancelDelayMs: number;
  private readonly initialBalance: Decimal;
  private readonly oneActivePerLink: boolean;

  private readonly orderIds: OrderIdSequence;
  private nextRefillId = 1;
  private nextRuleId = 1;
  private seq = 0;
  private balances = new Map<string, Decimal>();
  readonly orders = new Map<number, SimOrder>();
  readonly refills = new Map<number, SimRefill>();
  private linkOrders = new Map<string, SimOrder[]>();
  private linkBase = new Map<string, number>();
  private rules: ScenarioRule[] = [];
  private log: CallLogEntry[] = [];
  private callCounts = new Map<string, number>();

  constructor(opts: SimulatorCoreOptions) {
    this.apiKeys = new Set(opts.apiKeys);
    this.catalogue = opts.catalogue;
    this.clock = opts.clock;
    this.defaults = { ...DEFAULT_BEHAVIOUR, ...opts.defaults, quirks: { ...DEFAULT_BEHAVIOUR.quirks, ...opts.defaults?.quirks } };
    this.cancelDelayMs = opts.cancelDelayMs ?? 0;
    this.initialBalance = new Decimal(opts.balance ?? '100000');
    this.oneActivePerLink = opts.oneActivePerLink ?? true;
    this.orderIds = opts.orderIds ?? memoryOrderIds(opts.firstOrderId);
  }

  // ---------------------------------------------------------------- control (tests, /_sim)

  /** Clears orders, refills, scenarios, counts, balances and the call log. Order ids keep increasing. */
  reset(): void {
    this.orders.clear();
    this.refills.clear();
    this.linkOrders.clear();
    this.linkBase.clear();
    this.balances.clear();
    this.rules = [];
    this.clearCalls();
  }

  addScenario(linkContains: string, scenario: Scenario): ScenarioRule {
    const rule: ScenarioRule = { id: this.nextRuleId++, linkContains, scenario, addUsed: 0 };
    this.rules.push(rule);
    return rule;
  }

  scenarios(): readonly ScenarioRule[] {
    return this.rules;
  }

  removeScenario(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  isKey(key: string | undefined): key is string {
    return key !== undefined && this.apiKeys.has(key);
  }

  recordCall(action: string, ids: number, link?: string): void {
    this.callCounts.set(action, (this.callCounts.get(action) ?? 0) + 1);
    this.log.push({ seq: ++this.seq, at: this.clock(), action, ids, ...(link !== undefined ? { link } : {}) });
    // Long benchmark runs: keep the newest entries; the per-action counts stay exact.
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  /** The newest calls (at most 50,000 are kept), optionally of one action. */
  calls(action?: string): CallLogEntry[] {
    return action ? this.log.filter((c) => c.action === action) : [...this.log];
  }

  /** Exact number of calls per action since the last reset. */
  callCountsByAction(): Record<string, number> {
    return Object.fromEntries(this.callCounts);
  }

  clearCalls(): void {
    this.log = [];
    this.callCounts.clear();
  }

  /** Sets a link's current count; later deliveries keep adding to it. A lower value is a drop. */
  setCount(link: string, count: number): number {
    const key = linkKeyOf(link);
    const now = this.clock();
    const current = this.countOf(key, now);
    this.linkBase.set(key, this.baseOf(key) + (count - current));
    return this.countOf(key, now);
  }

  setBalance(key: string, balance: string): void {
    this.balances.set(key, new Decimal(balance));
  }

  /**
   * Forces what an order's status answer says. A forced status that ends the order (Completed, Partial,
   * Canceled and their spellings) also ends it internally (with the provider-side refund); `refill_status`
   * forces the answer about the order's latest refill.
   */
  forceOrder(id: number, patch: ForcedFields & { refill_status?: string }): OrderView | null {
    const o = this.orders.get(id);
    if (!o) return null;
    const now = this.clock();
    const { refill_status, ...fields } = patch;
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) (o.forced as Record<string, unknown>)[k] = v;
    }
    if (fields.status !== undefined) {
      const canon = canonOf(fields.status);
      if (canon && isFinalCanon(canon) && !o.final) {
        const remains = typeof fields.remains === 'number' || /^-?\d+$/.test(String(fields.remains ?? ''))
          ? Number(fields.remains)
          : null;
        const delivered = canon === 'Canceled' ? 0 : remains !== null ? o.quantity - remains : this.timeline(o, now).delivered;
        this.finalize(o, canon, delivered, now);
      }
    }
    if (refill_status !== undefined) {
      const last = o.refillIds[o.refillIds.length - 1];
      const r = last !== undefined ? this.refills.get(last) : undefined;
      if (r) r.forcedStatus = refill_status;
    }
    return this.view(o);
  }

  getOrder(id: number): OrderView | null {
    const o = this.orders.get(id);
    return o ? this.view(o) : null;
  }

  listOrders(link?: string): OrderView[] {
    const list = link !== undefined ? this.linkOrders.get(linkKeyOf(link)) ?? [] : [...this.orders.values()];
    return list.map((o) => this.view(o));
  }

  /** Creates an order directly (no scenario `add` answers, no balance or link checks): bulk test setup. */
  seedOrder(apiKey: string, serviceId: number, link: string, quantity: number): number {
    const service = this.catalogue.find((s) => s.service === serviceId);
    if (!service) throw new Error(`no service ${serviceId}`);
    return this.createOrder(apiKey, service, link, quantity, this.behaviourFor(link)).id;
  }

  // ---------------------------------------------------------------- protocol

  services(): unknown[] {
    return this.catalogue.map((s) => ({
      service: s.service,
      name: s.name,
      type: s.type,
      category: s.category,
      rate: s.rate,
      min: String(s.min),
      max: String(s.max),
      refill: s.refill,
      cancel: s.cancel,
      dripfeed: s.dripfeed ?? false,
    }));
  }

  balance(key: string): unknown {
    return { balance: this.balanceOf(key).toFixed(5), currency: 'USD' };
  }

  add(key: string, p: Record<string, string>): AddDirective {
    const link = p.link?.trim() ?? '';
    // Scenarios match the link, or the username a subscription names.
    const target = link || (p.username?.trim() ?? '');
    const matching = target ? this.rules.filter((r) => ruleMatches(r, target)) : [];
    const behaviour = resolveBehaviour(this.defaults, matching);
    const q = behaviour.quirks;
    const err = (text: string): JsonAnswer => ({ kind: 'json', body: { error: text }, httpStatus: q.errorHttpStatus });

    // The newest matching rule whose `add` part still has uses left decides how `add` answers.
    let addRule: ScenarioRule | undefined;
    for (let i = matching.length - 1; i >= 0; i--) {
      const r = matching[i]!;
      const a = r.scenario.add;
      if (a && (a.times === undefined || r.addUsed < a.times)) {
        addRule = r;
        break;
      }
    }
    if (addRule) addRule.addUsed++;
    const scripted = addRule?.scenario.add;
    if (scripted?.respond === 'error') return err(addErrorText(scripted));

    const serviceId = toId(p.service?.trim() ?? '');
    const service = serviceId !== null ? this.catalogue.find((s) => s.service === serviceId) : undefined;
    if (!service) return err(TEXT.badService);
    if (link && (/\s/.test(link) || link.length > 2000)) return err(TEXT.badLink);
    // The fields of the service's type (link, quantity, comments, runs, username/min/max/posts...).
    const checked = checkAddFields(service, p, this.clock());
    if (!checked.ok) return err(checked.text);
    const { quantity: total, charge } = checked;
    if (this.balanceOf(key).lt(charge)) return err(TEXT.funds);
    if (this.oneActivePerLink && this.hasActiveOrder(linkKeyOf(checked.target))) return err(TEXT.activeOrder);

    const record = scripted?.record ?? true;
    const order = scripted && !record ? null : this.createOrder(key, service, checked.target, total, behaviour, { charge, fields: checked.fields });
    // Drip-feed (the provider runs it): quantity is per run, the order is quantity × runs, one run
    // every `interval` minutes.
    const runs = Number(checked.fields.runs ?? 1);
    if (order && runs > 1) order.drip = { runs, perRun: total / runs, intervalMs: Number(checked.fields.interval ?? 0) * 60_000 };
    const sub = checked.subscription;
    if (order && sub) {
      order.sub = { min: sub.min, max: sub.max, posts: sub.posts, oldPosts: Math.min(sub.oldPosts, sub.posts), delayMs: sub.delayMinutes * 60_000, expiresAt: expiryInstant(sub.expiry) };
    }
    const ok: JsonAnswer = order
      ? { kind: 'json', body: { order: q.stringIds ? String(order.id) : order.id } }
      : { kind: 'json', body: { error: TEXT.badRequest } };
    if (!scripted) return ok;
    if (scripted.respond === 'hang') return { kind: 'hang', hangMs: scripted.hangMs ?? 120_000, late: ok };
    return { kind: scripted.respond };
  }

  status(key: string, token: string): unknown {
    const o = this.ownOrder(key, token);
    return o ? this.statusBody(o) : { error: TEXT.badOrder };
  }

  statusMulti(key: string, raw: string): unknown {
    const tokens = splitIds(raw);
    if (tokens.length === 0) return { error: TEXT.badRequest };
    if (tokens.length > MAX_IDS) return { error: TEXT.tooMany };
    const out: Record<string, unknown> = {};
    for (const t of tokens) {
      const o = this.ownOrder(key, t);
      out[t] = o ? this.statusBody(o) : { error: TEXT.badOrder };
    }
    return out;
  }

  cancel(key: string, raw: string): unknown {
    const tokens = splitIds(raw);
    if (tokens.length === 0) return { error: TEXT.badRequest };
    if (tokens.length > MAX_IDS) return { error: TEXT.tooMany };
    const now = this.clock();
    return tokens.map((t) => {
      const o = this.ownOrder(key, t);
      if (!o) return { order: toId(t) ?? t, cancel: { error: TEXT.badOrder } };
      const id = o.behaviour.quirks.stringIds ? String(o.id) : o.id;
      const { canon } = this.observe(o, now);
      const cancelable = o.service.cancel && o.behaviour.cancel === 'accept' && !isFinalCanon(canon);
      if (!cancelable) return { order: id, cancel: { error: TEXT.notCancelable } };
      // Acknowledgement only: the order ends later (after cancelDelayMs, at the next read).
      o.cancelRequestedAt ??= now;
      return { order: id, cancel: 1 };
    });
  }

  refill(key: string, token: string): unknown {
    const r = this.requestRefill(key, token);
    return typeof r === 'string' ? { error: r } : { refill: String(r.id) };
  }

  refillMulti(key: string, raw: string): unknown {
    const tokens = splitIds(raw);
    if (tokens.length === 0) return { error: TEXT.badRequest };
    if (tokens.length > MAX_IDS) return { error: TEXT.tooMany };
    return tokens.map((t) => {
      const r = this.requestRefill(key, t);
      const o = this.ownOrder(key, t);
      const order = o ? (o.behaviour.quirks.stringIds ? String(o.id) : o.id) : toId(t) ?? t;
      return { order, refill: typeof r === 'string' ? { error: r } : r.id };
    });
  }

  refillStatus(key: string, token: string): unknown {
    const r = this.ownRefill(key, token);
    return r ? { status: this.refillStatusText(r) } : { error: TEXT.refillNotFound };
  }

  refillStatusMulti(key: string, raw: string): unknown {
    const tokens = splitIds(raw);
    if (tokens.length === 0) return { error: TEXT.badRequest };
    if (tokens.length > MAX_IDS) return { error: TEXT.tooMany };
    return tokens.map((t) => {
      const r = this.ownRefill(key, t);
      return { refill: toId(t) ?? t, status: r ? this.refillStatusText(r) : { error: TEXT.refillNotFound } };
    });
  }

  /** Extension: this key's recent orders for a link (newest first, at most 100). */
  ordersByLink(key: string, link: string): unknown {
    if (!link.trim()) return { error: TEXT.badLink };
    const now = this.clock();
    const list = (this.linkOrders.get(linkKeyOf(link)) ?? []).filter((o) => o.apiKey === key);
    return list
      .slice(-MAX_IDS)
      .reverse()
      .map((o) => ({
        order: o.behaviour.quirks.stringIds ? String(o.id) : o.id,
        status: o.forced.status ?? styleStatus(this.observe(o, now).canon, o.behaviour.quirks),
        created: new Date(o.createdAt).toISOString(),
      }));
  }

  /** Extension: the link's current count (followers, likes, views...). */
  count(link: string): number {
    const key = linkKeyOf(link);
    const now = this.clock();
    for (const o of this.linkOrders.get(key) ?? []) {
      this.observe(o, now);
      for (const rid of o.refillIds) this.refillCanon(this.refills.get(rid)!, now);
    }
    return this.countOf(key, now);
  }

  // ---------------------------------------------------------------- internals

  private balanceOf(key: string): Decimal {
    let b = this.balances.get(key);
    if (!b) {
      b = this.initialBalance;
      this.balances.set(key, b);
    }
    return b;
  }

  private behaviourFor(link: string): Behaviour {
    return resolveBehaviour(this.defaults, this.rules.filter((r) => ruleMatches(r, link)));
  }

  private createOrder(
    key: string,
    service: SimService,
    link: string,
    quantity: number,
    behaviour: Behaviour,
    typed?: { charge: Decimal; fields: Record<string, string> },
  ): SimOrder {
    const charge = typed?.charge ?? new Decimal(service.rate).mul(quantity).div(1000).toDecimalPlaces(5, Decimal.ROUND_HALF_UP);
    this.balances.set(key, this.balanceOf(key).minus(charge));
    const o: SimOrder = {
      id: this.orderIds.next(),
      apiKey: key,
      service,
      link,
      linkKey: linkKeyOf(link),
      quantity,
      charge,
      createdAt: this.clock(),
      behaviour,
      startCount: null,
      cancelRequestedAt: null,
      final: null,
      forced: {},
      refillIds: [],
      fields: typed?.fields ?? { link, quantity: String(quantity) },
    };
    this.orders.set(o.id, o);
    const list = this.linkOrders.get(o.linkKey) ?? [];
    list.push(o);
    this.linkOrders.set(o.linkKey, list);
    return o;
  }

  private hasActiveOrder(linkKey: string): boolean {
    const now = this.clock();
    return (this.linkOrders.get(linkKey) ?? []).some((o) => !isFinalCanon(this.observe(o, now).canon));
  }

  private ownOrder(key: string, token: string): SimOrder | null {
    const id = toId(token.trim());
    const o = id !== null ? this.orders.get(id) : undefined;
    return o && o.apiKey === key ? o : null;
  }

  private ownRefill(key: string, token: string): SimRefill | null {
    const id = toId(token.trim());
    const r = id !== null ? this.refills.get(id) : undefined;
    return r && this.orders.get(r.orderId)?.apiKey === key ? r : null;
  }

  private baseOf(linkKey: string): number {
    let b = this.linkBase.get(linkKey);
    if (b === undefined) {
      b = 100 + (hash(linkKey) % 9900);
      this.linkBase.set(linkKey, b);
    }
    return b;
  }

  private countOf(linkKey: string, now: number): number {
    let n = this.baseOf(linkKey);
    for (const o of this.linkOrders.get(linkKey) ?? []) n += this.timeline(o, now).delivered;
    return Math.max(0, n);
  }

  /**
   * Where an order is at time `now`, from its behaviour alone. Ends the order (once) when an end event
   * has passed: natural completion, the provider's own cancel, or an accepted cancel request.
   */
  private timeline(o: SimOrder, now: number): { canon: OrderCanon; delivered: number } {
    if (o.final) return { canon: o.final.status, delivered: o.final.delivered };
    if (o.sub) return this.subscriptionTimeline(o, o.sub, now);
    const b = o.behaviour;
    const start = o.createdAt + b.startDelayMs;
    const target = b.end === 'partial' ? Math.max(0, o.quantity - b.partialRemains) : o.quantity + b.overDeliver;
    const drip = o.drip;
    const deliveredAt = drip
      ? (t: number) => Math.min(target, dripDelivered(drip, t - start, b.speedPerSec))
      : (t: number) => (t < start ? 0 : Math.min(target, Math.floor(((t - start) * b.speedPerSec) / 1000)));
    const doneAt = b.speedPerSec <= 0 ? Infinity : drip ? dripDoneAt(drip, start, target, b.speedPerSec) : start + Math.ceil((target * 1000) / b.speedPerSec);
    const autoCancelAt = b.end === 'canceled' ? o.createdAt + (b.cancelAfterMs ?? b.startDelayMs) : Infinity;
    const userCancelAt = o.cancelRequestedAt !== null ? o.cancelRequestedAt + this.cancelDelayMs : Infinity;
    const cancelAt = Math.min(autoCancelAt, userCancelAt);

    if (b.end !== 'canceled' && doneAt <= cancelAt && now >= doneAt) {
      this.finalize(o, b.end === 'partial' ? 'Partial' : 'Completed', target, doneAt);
      return { canon: o.final!.status, delivered: target };
    }
    if (now >= cancelAt) {
      const d = deliveredAt(cancelAt);
      this.finalize(o, d > 0 ? 'Partial' : 'Canceled', d, cancelAt);
      return { canon: o.final!.status, delivered: d };
    }
    return { canon: now < start ? 'Pending' : 'In progress', delivered: deliveredAt(now) };
  }

  /** Where a subscription is at `now` (its posts served), ending it (once) as an order too. */
  private subscriptionAt(o: SimOrder, sub: SimSubscription, now: number): SubscriptionAt {
    const b = o.behaviour;
    const autoCancelAt = b.end === 'canceled' ? o.createdAt + (b.cancelAfterMs ?? b.startDelayMs) : Infinity;
    const userCancelAt = o.cancelRequestedAt !== null ? o.cancelRequestedAt + this.cancelDelayMs : Infinity;
    const startAt = o.createdAt + b.startDelayMs;
    const pause = b.pauseAfterMs !== null ? { from: startAt + b.pauseAfterMs, until: startAt + b.pauseAfterMs + b.pauseForMs } : undefined;
    return subscriptionAt(sub, o.id, startAt, b.postEveryMs, now, Math.min(autoCancelAt, userCancelAt), pause);
  }

  private subscriptionTimeline(o: SimOrder, sub: SimSubscription, now: number): { canon: OrderCanon; delivered: number } {
    const at = this.subscriptionAt(o, sub, now);
    const delivered = at.delivered.reduce((a, b) => a + b, 0);
    if (at.endedAt === null) return { canon: now < o.createdAt + o.behaviour.startDelayMs ? 'Pending' : 'In progress', delivered };
    // Ended: the provider refunds its customer what was not served (Partial), or all of it (no post).
    this.finalize(o, at.canon === 'Completed' ? 'Completed' : delivered > 0 ? 'Partial' : 'Canceled', delivered, at.endedAt);
    return { canon: o.final!.status, delivered };
  }

  /** timeline() plus recording the start count the first time the order is seen started (R-COUNTERS). */
  private observe(o: SimOrder, now: number): { canon: OrderCanon; delivered: number } {
    const t = this.timeline(o, now);
    if (o.startCount === null && (t.canon !== 'Pending' && !(t.canon === 'Canceled' && t.delivered === 0))) {
      o.startCount = this.countOf(o.linkKey, now) - t.delivered;
    }
    return t;
  }

  private finalize(o: SimOrder, status: FinalCanon, delivered: number, at: number): void {
    if (o.final) return;
    o.final = { status, delivered, at };
    const remains = Math.min(o.quantity, Math.max(0, o.quantity - delivered));
    const refund =
      status === 'Canceled' ? o.charge : status === 'Partial' ? o.charge.mul(remains).div(o.quantity).toDecimalPlaces(5, Decimal.ROUND_DOWN) : null;
    if (refund) this.balances.set(o.apiKey, this.balanceOf(o.apiKey).plus(refund));
  }

  private statusBody(o: SimOrder): Record<string, unknown> {
    const now = this.clock();
    const { canon, delivered } = this.observe(o, now);
    const q = o.behaviour.quirks;
    const num = (n: number) => (q.numericFields ? n : String(n));
    if (o.sub) {
      // A subscription answers as panels do: its own status, the posts served and what each got.
      const at = this.subscriptionAt(o, o.sub, now);
      const body: Record<string, unknown> = {
        charge: q.numericFields ? o.charge.toNumber() : o.charge.toFixed(5),
        status: styleStatus(at.canon, q),
        posts: num(at.delivered.length),
        delivered: at.delivered.map(num),
        currency: 'USD',
      };
      for (const [k, v] of Object.entries(o.forced)) if (v !== undefined) body[k] = v;
      return body;
    }
    const started = o.startCount !== null && canon !== 'Pending';
    const body: Record<string, unknown> = {
      charge: q.numericFields ? o.charge.toNumber() : o.charge.toFixed(5),
      start_count: num(started ? o.startCount! : 0),
      status: styleStatus(canon, q),
      remains: q.remainsUnknown ? 'Unknown' : num(o.quantity - delivered),
      currency: 'USD',
    };
    // A drip-feed parent also says how many of its runs have begun (as panels do).
    if (o.drip) body.runs = num(Math.min(o.drip.runs, Math.max(0, Math.floor((now - o.createdAt - o.behaviour.startDelayMs) / Math.max(1, o.drip.intervalMs)) + 1)));
    for (const [k, v] of Object.entries(o.forced)) if (v !== undefined) body[k] = v;
    return body;
  }

  private requestRefill(key: string, token: string): SimRefill | string {
    const o = this.ownOrder(key, token);
    if (!o) return TEXT.badOrder;
    const now = this.clock();
    const { canon } = this.observe(o, now);
    if (canon !== 'Completed' || !o.service.refill || o.behaviour.refill === 'refuse') return TEXT.notRefillable;
    const last = o.refillIds[o.refillIds.length - 1];
    if (last !== undefined) {
      const c = this.refillCanon(this.refills.get(last)!, now);
      if (c === 'Pending' || c === 'In progress') return TEXT.notRefillable;
    }
    const r: SimRefill = { id: this.nextRefillId++, orderId: o.id, createdAt: now, outcome: o.behaviour.refill === 'reject' ? 'reject' : 'accept', applied: false };
    this.refills.set(r.id, r);
    o.refillIds.push(r.id);
    return r;
  }

  private refillCanon(r: SimRefill, now: number): RefillCanon {
    const o = this.orders.get(r.orderId)!;
    const b = o.behaviour;
    if (now < r.createdAt + b.refillDelayMs) return 'Pending';
    if (r.outcome === 'reject') return 'Rejected';
    if (now < r.createdAt + b.refillDelayMs + b.refillDurationMs) return 'In progress';
    if (!r.applied) {
      // The refill restores the link up to start count + delivered, never more.
      r.applied = true;
      const delivered = this.timeline(o, now).delivered;
      const target = (o.startCount ?? 0) + delivered;
      const current = this.countOf(o.linkKey, now);
      if (current < target) this.linkBase.set(o.linkKey, this.baseOf(o.linkKey) + (target - current));
    }
    return 'Completed';
  }

  private refillStatusText(r: SimRefill): string {
    const canon = this.refillCanon(r, this.clock());
    return r.forcedStatus ?? styleStatus(canon, this.orders.get(r.orderId)!.behaviour.quirks);
  }

  private view(o: SimOrder): OrderView {
    const { canon, delivered } = this.observe(o, this.clock());
    return {
      id: o.id,
      apiKey: o.apiKey,
      service: o.service.service,
      link: o.link,
      quantity: o.quantity,
      charge: o.charge.toFixed(5),
      createdAt: o.createdAt,
      status: canon,
      delivered,
      startCount: o.startCount,
      cancelRequestedAt: o.cancelRequestedAt,
      refillIds: [...o.refillIds],
      behaviour: o.behaviour,
      ...(o.drip ? { drip: { ...o.drip } } : {}),
      fields: { ...o.fields },
    };
  }
}

/** Units a drip-feed parent delivered `elapsed` ms after its first run started: each run at `speed` a second. */
function dripDelivered(drip: { runs: number; perRun: number; intervalMs: number }, elapsed: number, speedPerSec: number): number {
  let n = 0;
  for (let k = 0; k < drip.runs; k++) {
    const t = elapsed - k * drip.intervalMs;
    if (t < 0) break;
    n += Math.min(drip.perRun, Math.floor((t * speedPerSec) / 1000));
  }
  return n;
}

/** When a drip-feed parent has delivered `target` units (its last run's end, or earlier for a Partial). */
function dripDoneAt(drip: { runs: number; perRun: number; intervalMs: number }, start: number, target: number, speedPerSec: number): number {
  const runMs = Math.ceil((drip.perRun * 1000) / speedPerSec);
  const fullRuns = Math.floor(target / drip.perRun);
  const rest = target - fullRuns * drip.perRun;
  if (rest === 0) return start + (fullRuns - 1) * drip.intervalMs + runMs;
  return start + fullRuns * drip.intervalMs + Math.ceil((rest * 1000) / speedPerSec);
}
