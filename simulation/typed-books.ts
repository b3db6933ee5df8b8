/**
 * The books of each order type (issue 12's types in the simulation): what an order must have been
 * charged, from the fields stored on its row, and what a drip-feed and a subscription must have
 * given back. Written from the rules (docs/RULES.md, README's order-type table), not from the
 * engine's code paths: the rounding formulas are the domain's (R-CHARGE, R-PARTIAL), the rest is
 * restated here. Pure functions over the rows books.ts reads.
 */
import { computeCharge, computePackageCharge, computeSubscriptionCharge } from '../domain/charge';
import { decimal, formatMoney } from '../domain/money';
import { TYPE_SPECS, nonEmptyLines } from '../domain/order-types';
import { partialRefund } from '../domain/refund';
import { isServiceType } from '../domain/service-types';

/** One row of order_runs (a drip-feed the engine runs). */
export interface RunRow {
  index: number;
  quantity: number;
  providerOrderId: string | null;
  status: 'pending' | 'in_progress' | 'completed' | 'partial' | 'canceled';
  remains: number | null;
  refunded: string;
}

/** The order row's type columns, as books.ts reads them. */
export interface TypedFields {
  /** orders.service_type: the type at placement. */
  type: string;
  providerFields: Record<string, string> | null;
  dripFeed: { runs: number; intervalMinutes: number; quantityPerRun: number; mode: 'engine' | 'provider' } | null;
  subscription: { username: string; min: number; max: number; posts: number; oldPosts: number; delayMinutes: number; expiry?: string } | null;
  runs: RunRow[];
}

interface MoneyRow extends TypedFields {
  id: number;
  status: string;
  rate: string;
  quantity: number;
  charge: string;
  remains: number | null;
  refundSum: string;
  refundEntries: Array<{ key: string; amount: string }>;
  noRefundCancel: boolean;
  supportFullCancel: boolean;
}

const FINAL = ['completed', 'partial', 'canceled'];

/**
 * The quantity an order is charged for and its charge, by its type (TYPE_SPECS): R-CHARGE on the
 * given quantity (a drip-feed: quantity per run × runs), on the non-empty lines of its list field
 * (Custom Comments, Mentions Custom List, Comment Replies), a Package's fixed price, R-CHARGE-MAX on
 * max × posts. From the row's stored fields and rate snapshot (R-PRICE-SNAPSHOT).
 */
export function expectedCharge(o: Pick<MoneyRow, 'type' | 'rate' | 'quantity' | 'providerFields' | 'dripFeed' | 'subscription'>): { quantity: number; charge: string; rule: string } | { error: string } {
  if (!isServiceType(o.type)) return { error: `unknown service type ${o.type}` };
  const spec = TYPE_SPECS[o.type];
  let quantity: number;
  let rule: string;
  switch (spec.quantity.kind) {
    case 'subscription':
      if (!o.subscription) return { error: 'a subscription order without its terms' };
      quantity = o.subscription.max * o.subscription.posts;
      rule = `R-CHARGE-MAX: rate ${o.rate} × max ${o.subscription.max} × posts ${o.subscription.posts} / 1000`;
      break;
    case 'one':
      quantity = 1;
      rule = `package: the rate ${o.rate} is the price of one order`;
      break;
    case 'lines': {
      const text = o.providerFields?.[spec.quantity.field];
      if (text === undefined) return { error: `a ${o.type} order without its ${spec.quantity.field}` };
      quantity = nonEmptyLines(text).length;
      rule = `rate ${o.rate} × ${quantity} non-empty lines of ${spec.quantity.field} / 1000`;
      break;
    }
    case 'given':
      quantity = o.dripFeed ? o.dripFeed.quantityPerRun * o.dripFeed.runs : o.quantity;
      rule = o.dripFeed ? `rate ${o.rate} × ${o.dripFeed.quantityPerRun} × ${o.dripFeed.runs} runs / 1000` : `rate ${o.rate} × ${quantity} / 1000`;
      break;
  }
  if (spec.charge === 'perOrder') {
    rule = `rate ${o.rate} per order (${quantity} ${spec.quantity.kind === 'lines' ? 'lines' : 'package'})`;
    return { quantity, charge: computePackageCharge(o.rate), rule };
  }
  if (spec.charge === 'subscription') return { quantity, charge: computeSubscriptionCharge(o.rate, o.subscription!.max, o.subscription!.posts), rule };
  return { quantity, charge: computeCharge(o.rate, quantity), rule };
}

/** Units a run delivered: all when Completed, none when Canceled or not begun, quantity - remains otherwise. */
function runDelivered(run: RunRow): number {
  if (run.status === 'completed') return run.quantity;
  if (run.status === 'canceled' || run.status === 'pending') return 0;
  return run.quantity - Math.min(Math.max(run.remains ?? run.quantity, 0), run.quantity);
}

const isRunFinal = (run: RunRow) => run.status === 'completed' || run.status === 'partial' || run.status === 'canceled';

/**
 * A drip-feed the engine runs: each run's refund is the charge of its undelivered part (R-PARTIAL,
 * R-AUTO-CANCEL, R-CANCEL-FULL; key `order-<id>:refund:run-<n>`; the rounding carried over the feed,
 * so the parts add up to exactly the rule on the undelivered total), the runs a cancel stopped before
 * they were sent are refunded together (`:unsent`; a run the cancel stopped while its dispatch was
 * in flight and never placed keeps its row, canceled, with no upstream order and nothing refunded
 * on it, and counts among them), support's full cancel gives back the rest
 * (`:support`). Once the order is final every part is refunded; its status follows what the runs
 * delivered (completed: all, canceled: none, so the whole charge back; partial otherwise), unless
 * support canceled it.
 */
export function checkDripFeedRefunds(o: MoneyRow, fail: (message: string) => void): void {
  const drip = o.dripFeed!;
  const prefix = `order-${o.id}:refund`;
  const parts = new Map<string, string>();
  const runDue = (run: RunRow) => partialRefund(o.charge, o.quantity, run.quantity - runDelivered(run));
  const hasRunEntry = (run: RunRow) => o.refundEntries.some((e) => e.key === `${prefix}:run-${run.index}`);
  const stoppedBeforeSent = (run: RunRow) => run.status === 'canceled' && run.providerOrderId === null && decimal(run.refunded).isZero() && !hasRunEntry(run);
  const sentRuns = o.runs.filter((r) => !stoppedBeforeSent(r));
  const unsentUnits = Math.max(drip.runs - sentRuns.length, 0) * drip.quantityPerRun;
  const unsentDue = partialRefund(o.charge, o.quantity, unsentUnits);
  // The engine carries the rounding over the feed (domain/drip-feed.ts carriedPartRefund): a part may
  // get its own rounded-down amount plus less than 0.00001 for each part settled before it.
  const carry = decimal('0.00001').times(drip.runs + 1);
  const withinCarry = (amount: string, own: string) => decimal(amount).gte(decimal(own)) && decimal(amount).minus(decimal(own)).lt(carry);
  for (const e of o.refundEntries) {
    const part = e.key.startsWith(prefix) ? e.key.slice(prefix.length) : e.key;
    parts.set(part, e.amount);
    const run = /^:run-(\d+)$/.exec(part);
    if (run) {
      const r = o.runs.find((x) => x.index === Number(run[1]));
      if (!r) fail(`refund ${e.key} names run ${run[1]}, which has no row`);
      else if (!isRunFinal(r)) fail(`run ${r.index} was refunded ${e.amount} while it is still ${r.status}`);
      else if (!withinCarry(e.amount, runDue(r))) fail(`run ${r.index} (${r.status}, ${runDelivered(r)} of ${r.quantity} delivered): refunded ${e.amount}, R-PARTIAL gives ${runDue(r)} (plus under ${carry} of rounding carried from earlier parts)`);
      if (r && !decimal(r.refunded).eq(decimal(e.amount))) fail(`run ${r.index}: its row says refunded ${r.refunded}, its ledger entry ${e.amount}`);
    } else if (part === ':unsent') {
      if (!withinCarry(e.amount, unsentDue)) fail(`runs not sent (${unsentUnits} units): refunded ${e.amount}, the rule gives ${unsentDue} (plus under ${carry} of rounding carried from earlier parts)`);
    } else if (part === ':support') {
      if (!o.supportFullCancel) fail(`refund ${e.key} without support's full-refund cancel`);
    } else fail(`refund entry ${e.key} is no part of a drip-feed (run-<n>, unsent, support)`);
  }
  if (!FINAL.includes(o.status)) return;
  const sum = decimal(o.refundSum);
  if (o.noRefundCancel) return; // support's R-CANCEL-NO-REFUND stopped it: the parts refunded before stand
  if (o.supportFullCancel && o.status === 'canceled') {
    if (!sum.eq(decimal(o.charge))) fail(`canceled by support with a full refund: refunded ${o.refundSum} of ${o.charge}`);
    return;
  }
  for (const r of sentRuns) {
    if (!isRunFinal(r)) fail(`run ${r.index} is still ${r.status} after the order ended ${o.status}`);
    else if (!decimal(runDue(r)).isZero() && !parts.has(`:run-${r.index}`)) fail(`run ${r.index} ended ${r.status}: its refund ${runDue(r)} was never posted`);
  }
  if (!decimal(unsentDue).isZero() && !parts.has(':unsent')) fail(`${drip.runs - sentRuns.length} runs were never sent: their refund ${unsentDue} was never posted`);
  const delivered = o.runs.reduce((n, r) => n + runDelivered(r), 0);
  const outcome = delivered >= o.quantity ? 'completed' : delivered === 0 ? 'canceled' : 'partial';
  if (o.status !== outcome) fail(`${o.status}, but its runs delivered ${delivered} of ${o.quantity} (${outcome})`);
  // The parts add up to exactly the rule on the undelivered total: all of the charge when nothing was delivered.
  const partsSum = [...parts].filter(([part]) => part !== ':support').reduce((n, [, amount]) => n.plus(decimal(amount)), decimal('0'));
  const due = decimal(partialRefund(o.charge, o.quantity, o.quantity - Math.min(delivered, o.quantity)));
  if (!partsSum.eq(due)) {
    fail(
      o.status === 'canceled'
        ? `canceled with nothing delivered, refunded ${o.refundSum} of its charge ${o.charge} (R-CANCEL-FULL: all of it)`
        : `its refund parts add up to ${partsSum.toFixed(5)}, the rule on its ${o.quantity - delivered} undelivered units gives ${due.toFixed(5)}`,
    );
  }
  if (o.status === 'partial' && o.remains !== o.quantity - delivered) fail(`remains ${o.remains}, its runs left ${o.quantity - delivered} undelivered`);
}

/**
 * A subscription: charged max × posts (R-CHARGE-MAX); when it ends, one refund by
 * R-SUBSCRIPTION-UNSERVED of every unit not served, from what the provider served (the posts never
 * served at max, max less what each served post got): charge × unserved / (max × posts), rounded
 * down. All served: completed; none: canceled with the whole charge back; else partial. Support's
 * cancel: the whole charge, or nothing (R-CANCEL-NO-REFUND). Never at the provider: the whole charge.
 */
export function checkSubscriptionRefund(
  o: MoneyRow,
  upstream: { subscription?: { status: string; delivered: number[] } } | null,
  fail: (message: string) => void,
): void {
  const terms = o.subscription!;
  const sum = decimal(o.refundSum);
  if (!FINAL.includes(o.status)) {
    if (!sum.isZero()) fail(`${o.status} subscription already refunded ${o.refundSum}`);
    return;
  }
  let expected: string;
  let why: string;
  if (o.noRefundCancel) [expected, why] = ['0.00000', 'support: no refund'];
  else if (o.supportFullCancel && o.status === 'canceled') [expected, why] = [formatMoney(o.charge), 'support: full refund'];
  else if (!upstream) {
    [expected, why] = [formatMoney(o.charge), 'never at the provider'];
    if (o.status !== 'canceled') fail(`${o.status}, but it never reached its provider (canceled expected)`);
  } else if (!upstream.subscription) {
    return fail('its upstream order is no subscription at the provider');
  } else {
    const { status, delivered } = upstream.subscription;
    if (status === 'Active' || status === 'Paused') fail(`${o.status}, while the provider's subscription is still ${status}`);
    const served = delivered.slice(0, terms.posts);
    const unserved = (terms.posts - served.length) * terms.max + served.reduce((n, got) => n + terms.max - Math.min(Math.max(got, 0), terms.max), 0);
    expected = partialRefund(o.charge, terms.max * terms.posts, unserved);
    why = `R-SUBSCRIPTION-UNSERVED: ${served.length} of ${terms.posts} posts served (${served.join(', ') || 'none'}; max ${terms.max}), ${unserved} units unserved`;
    const outcome = unserved === 0 || decimal(expected).isZero() ? 'completed' : served.length === 0 ? 'canceled' : 'partial';
    if (o.status !== outcome) fail(`${o.status}, but the provider ended it ${status} with ${why} (${outcome} expected)`);
    if (o.remains !== null && o.remains !== unserved) fail(`remains ${o.remains}, ${unserved} units were not served`);
  }
  if (!sum.eq(decimal(expected))) fail(`${o.status}: refunded ${o.refundSum}, the rule gives ${expected} (${why})`);
}
