/**
 * A drip-feed the engine runs itself (issue 12): `runs` provider orders of `quantityPerRun` each, one
 * at a time, the next `intervalMinutes` after the previous one was sent. Plain functions, no I/O: the
 * order workflow (workflows/order-drip-feed.ts) decides with them, tests check them on their own.
 *
 * Money: the feed is charged once for quantity × runs. What a run did not deliver is refunded when the
 * run ends (R-PARTIAL for its undelivered part, R-AUTO-CANCEL when the provider refused or canceled
 * it, R-CANCEL-FULL when a cancel stopped it before it started); runs a cancel stopped before they were
 * sent are refunded together (R-CANCEL-FULL). The rounding is carried over the feed (carriedPartRefund):
 * each part gets the rule's amount on all that the settled parts left undelivered, rounded down, less
 * what the earlier parts got, so the parts add up to exactly the rule's amount on the feed's
 * undelivered total, never more than its charge.
 */
import { ZERO_MONEY, addMoney, maxMoney, subMoney } from './money';
import { partialRefund } from './refund';
import type { RuleId } from './rule-ids';

export type DripRunStatus = 'pending' | 'in_progress' | 'completed' | 'partial' | 'canceled';

export interface DripRun {
  /** 1-based. */
  index: number;
  quantity: number;
  providerOrderId: string | null;
  status: DripRunStatus;
  startCount: number | null;
  remains: number | null;
  /** Epoch ms when its `add` was sent (workflow time); null until then. */
  sentAt: number | null;
  finishedAt: number | null;
  /** Why it ended canceled (the provider's refusal, a cancel). */
  reason: string | null;
  /** The refund of its undelivered part, once posted (null: not yet, or nothing due). */
  refund: { amount: string; rule: RuleId } | null;
  /** Settled: its refund (possibly nothing) is done. */
  settled: boolean;
}

export interface DripFeedProgress {
  runs: number;
  intervalMinutes: number;
  quantityPerRun: number;
  /** Runs begun so far, oldest first (the last may be in flight). */
  list: DripRun[];
  /** A cancel stopped the runs not yet sent. */
  stopped: boolean;
  /** The refund of the runs never sent, once posted. */
  unsentRefund: { amount: string; rule: RuleId } | null;
  /** Runs begun before this workflow run (a long feed continues as new); absent: 0. */
  runsAtRunStart?: number;
}

export function newDripFeed(spec: { runs: number; intervalMinutes: number; quantityPerRun: number }): DripFeedProgress {
  return { runs: spec.runs, intervalMinutes: spec.intervalMinutes, quantityPerRun: spec.quantityPerRun, list: [], stopped: false, unsentRefund: null };
}

export const isRunFinal = (run: DripRun) => run.status === 'completed' || run.status === 'partial' || run.status === 'canceled';

export function newRun(feed: DripFeedProgress): DripRun {
  return {
    index: feed.list.length + 1,
    quantity: feed.quantityPerRun,
    providerOrderId: null,
    status: 'pending',
    startCount: null,
    remains: null,
    sentAt: null,
    finishedAt: null,
    reason: null,
    refund: null,
    settled: false,
  };
}

/** Units a run delivered: all (Completed), quantity - remains (Partial, in flight), none (Canceled, not started). */
export function runDelivered(run: DripRun): number {
  if (run.status === 'completed') return run.quantity;
  if (run.status === 'canceled' || run.status === 'pending') return 0;
  const remains = Math.min(Math.max(run.remains ?? run.quantity, 0), run.quantity);
  return run.quantity - remains;
}

export const deliveredTotal = (feed: DripFeedProgress) => feed.list.reduce((sum, run) => sum + runDelivered(run), 0);

/** Units of the runs not begun (all of them once a cancel stopped the feed, else none yet owed back). */
export const unsentQuantity = (feed: DripFeedProgress) => (feed.runs - feed.list.length) * feed.quantityPerRun;

export const currentRun = (feed: DripFeedProgress): DripRun | undefined => feed.list[feed.list.length - 1];

/** The feed has nothing left to do: every run begun has ended, and no run is left to send. */
export function feedDone(feed: DripFeedProgress): boolean {
  const current = currentRun(feed);
  if (current && !isRunFinal(current)) return false;
  return feed.stopped || feed.list.length >= feed.runs;
}

/**
 * When the next run may be sent: at once for the first, else `intervalMinutes` after the previous
 * run was sent; never while a run is in flight (one run at a time), null when none is left.
 */
export function nextRunAt(feed: DripFeedProgress): number | null {
  if (feed.stopped || feed.list.length >= feed.runs) return null;
  const previous = currentRun(feed);
  if (!previous) return 0;
  if (!isRunFinal(previous)) return null;
  const sentAt = previous.sentAt ?? previous.finishedAt ?? 0;
  return sentAt + feed.intervalMinutes * 60_000;
}

/**
 * A final run's refund: the charge of what it did not deliver (`charge` and `quantity` are the
 * feed's). Canceled: R-CANCEL-FULL when a cancel asked for it, else R-AUTO-CANCEL (the provider
 * refused or canceled it); Partial: R-PARTIAL; Completed: nothing (R-NO-REFUND-DONE).
 */
export function runRefund(charge: string, quantity: number, run: DripRun, cancelAsked: boolean): { amount: string; rule: RuleId } {
  const undelivered = run.quantity - runDelivered(run);
  const amount = partialRefund(charge, quantity, undelivered);
  const rule: RuleId = run.status === 'partial' ? 'R-PARTIAL' : run.status === 'canceled' ? (cancelAsked ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL') : 'R-NO-REFUND-DONE';
  return { amount, rule };
}

/**
 * A part's refund (a run, or the runs not sent) with the rounding carried over the whole feed: what
 * the rule gives on everything undelivered among the parts settled so far, this one included, less
 * what those parts already got back. Rounding each part down on its own (runRefund, unsentRefund)
 * can leave a feed that delivered nothing a few 0.00001 short of its charge (rate 0.12345, 2 runs of
 * 10: charge 0.00247, two parts of 0.00123), against R-CANCEL-FULL / R-AUTO-CANCEL; carried, the
 * parts always add up to the rule's amount on the undelivered total (never more than the charge).
 */
export function carriedPartRefund(charge: string, quantity: number, feed: DripFeedProgress, undeliveredPart: number): string {
  let undelivered = undeliveredPart;
  let refunded = ZERO_MONEY;
  for (const run of feed.list) {
    if (!run.settled) continue;
    undelivered += run.quantity - runDelivered(run);
    if (run.refund) refunded = addMoney(refunded, run.refund.amount);
  }
  if (feed.unsentRefund !== null) {
    undelivered += unsentQuantity(feed);
    refunded = addMoney(refunded, feed.unsentRefund.amount);
  }
  return maxMoney(subMoney(partialRefund(charge, quantity, undelivered), refunded), ZERO_MONEY);
}

/** R-CANCEL-FULL for the runs a cancel stopped before they were sent. */
export function unsentRefund(charge: string, quantity: number, feed: DripFeedProgress): string {
  return partialRefund(charge, quantity, unsentQuantity(feed));
}

/**
 * The feed's own status and counters, from its runs: Completed when all of it was delivered,
 * Canceled when nothing was, else Partial with the undelivered total as its remains.
 */
export function feedOutcome(feed: DripFeedProgress, quantity: number): { status: 'completed' | 'partial' | 'canceled'; remains: number } {
  const delivered = deliveredTotal(feed);
  const remains = Math.max(quantity - delivered, 0);
  if (remains === 0) return { status: 'completed', remains: 0 };
  if (delivered === 0) return { status: 'canceled', remains };
  return { status: 'partial', remains };
}

/** The run a provider status answer is about moves only forward (Pending → In progress → final). */
export function advanceRun(run: DripRun, update: { status: DripRunStatus; startCount: number | null; remains: number | null }, now: number): boolean {
  if (isRunFinal(run)) return false;
  const order: Record<DripRunStatus, number> = { pending: 0, in_progress: 1, completed: 2, partial: 2, canceled: 2 };
  let changed = false;
  if (order[update.status] > order[run.status]) {
    run.status = update.status;
    changed = true;
    if (isRunFinal(run)) run.finishedAt = now;
  }
  if (run.startCount === null && update.startCount !== null) {
    run.startCount = update.startCount;
    changed = true;
  }
  const remains = run.status === 'completed' ? 0 : update.remains;
  if (remains !== null && remains !== run.remains) {
    run.remains = remains;
    changed = true;
  }
  return changed;
}
