/**
 * The order workflow's refill decisions and state changes (issue "Refill guarantees"), as pure
 * functions over OrderState: deterministic (time is a parameter), so they run in the workflow
 * sandbox and in plain unit tests. The rules themselves are domain/refill-policy.ts's.
 */
import { combineRefillParts } from '../domain/drip-feed-refill';
import { decideRefill, refillWindowClosesAt } from '../domain/refill-policy';
import { DAY_MS } from '../domain/time';
import type { RefillMirrorPatch } from '../activities/refill-records';
import type {
  OrderRefills,
  OrderState,
  RefillPart,
  RefillRecord,
  RefillRequest,
  RefillResult,
  RefillStatus,
  RefillUpdate,
  RetryRefillRequest,
} from './order-contract';

/** Refills kept in OrderState (and carried across continue-as-new); the refills table has them all. */
export const KEPT_REFILLS = 20;
/**
 * A refill the provider has not finished this long after it was sent is failed (support decides):
 * the terms say 0-3 days, "in rare cases it can reach 14 days".
 */
export const REFILL_STUCK_AFTER_MS = 14 * DAY_MS;
/** Not a rule of RULES.md: who may ask. A user refills only their own orders. */
export const ACCESS_RULE = 'ACCESS';
/** A malformed request (no request id, unknown requester kind). */
export const REQUEST_RULE = 'REQUEST';

export type RefillDecision = { accepted: true } | { accepted: false; rule: string; reason: string };

export function emptyRefills(): OrderRefills {
  return { voidReason: null, lastCompletedAt: null, total: 0, recent: [] };
}

export function isInFlight(status: RefillStatus): boolean {
  return status === 'pending' || status === 'in_progress';
}

/** The refill with the provider now, if any (one at a time: it is always the newest). */
export function refillInFlight(state: OrderState): RefillRecord | null {
  return state.refills?.recent.find((r) => isInFlight(r.status)) ?? null;
}

export function findRefill(state: OrderState, refillId: number): RefillRecord | null {
  return state.refills?.recent.find((r) => r.refillId === refillId) ?? null;
}

export function findRefillByRequest(state: OrderState, requestId: string): RefillRecord | null {
  return state.refills?.recent.find((r) => r.requestId === requestId) ?? null;
}

function validRequester(by: unknown): boolean {
  const b = by as RefillRequest['requestedBy'] | undefined;
  return !!b && typeof b === 'object' && ['user', 'support', 'admin'].includes(b.kind) && Number.isSafeInteger(b.userId);
}

export function validRequestId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 200;
}

/**
 * Whether a new refill request is accepted now (the update's validator): who asks, then
 * domain decideRefill over what the workflow knows (R-REFILL-SERVICE, -STATUS, -VOID once found,
 * -WINDOW, one in flight or queued, -COOLDOWN from completion and from the last completed refill).
 * R-BLOCKED, R-REFILL-VOID and R-REFILL-NEED need the database or the provider: the refill
 * activity checks them before anything is sent.
 */
export function decideRefillRequest(state: OrderState, request: RefillRequest, now: number, queued: boolean): RefillDecision {
  if (!request || typeof request !== 'object' || !validRequester(request.requestedBy)) {
    return { accepted: false, rule: REQUEST_RULE, reason: 'requestedBy must name a user, support or admin' };
  }
  if (!validRequestId(request.requestId)) return { accepted: false, rule: REQUEST_RULE, reason: 'requestId must be 1 to 200 characters' };
  if (request.requestedBy.kind === 'user' && request.requestedBy.userId !== state.userId) {
    return { accepted: false, rule: ACCESS_RULE, reason: "only the order's owner (or support) can request its refill" };
  }
  try {
    const decision = decideRefill({
      status: state.status,
      guarantee: state.guarantee,
      placedAt: state.timestamps.placedAt,
      completedAt: state.timestamps.finishedAt,
      lastRefillCompletedAt: state.refills?.lastCompletedAt ?? null,
      refillInFlight: queued || refillInFlight(state) !== null,
      voided: (state.refills?.voidReason ?? null) !== null,
      now,
    });
    if (decision.accepted) return decision;
    if (decision.rule === 'R-REFILL-VOID' && state.refills?.voidReason) return { ...decision, reason: state.refills.voidReason };
    return decision;
  } catch (error) {
    // An order whose times are unusable (a bug): refuse rather than fail the workflow task.
    return { accepted: false, rule: 'R-REFILL-STATUS', reason: `the order cannot be refilled: ${(error as Error).message}` };
  }
}

/** R-REFILL-SUPPORT: support (or an admin) sends a failed or rejected refill again. */
export function decideRetry(state: OrderState, request: RetryRefillRequest, queued: boolean): RefillDecision {
  if (!request || typeof request !== 'object' || !validRequester(request.requestedBy)) {
    return { accepted: false, rule: REQUEST_RULE, reason: 'requestedBy must name a user, support or admin' };
  }
  if (request.requestedBy.kind === 'user') return { accepted: false, rule: 'R-REFILL-SUPPORT', reason: 'only support can retry a refill' };
  const refill = Number.isSafeInteger(request.refillId) ? findRefill(state, request.refillId) : null;
  if (!refill) return { accepted: false, rule: 'R-REFILL-SUPPORT', reason: `refill ${String(request.refillId)} is not one of this order's recent refills` };
  if (refill.status !== 'failed' && refill.status !== 'rejected') {
    return { accepted: false, rule: 'R-REFILL-SUPPORT', reason: `refill ${refill.refillId} is ${refill.status}: only a failed or rejected refill can be retried` };
  }
  if (queued || refillInFlight(state) !== null) return { accepted: false, rule: 'R-REFILL-COOLDOWN', reason: 'a refill is already in progress' };
  return { accepted: true };
}

const RANK: Record<RefillStatus, number> = { pending: 0, in_progress: 1, completed: 2, rejected: 2, failed: 2 };

/**
 * Applies the sync's refillUpdate: forward only (pending → in_progress → completed | rejected), for
 * the refill it names as sent (a late update about an earlier attempt is ignored). Returns whether
 * anything changed. R-REFILL-COOLDOWN: the next refill's cooldown starts when this one completes.
 */
export function applyRefillUpdate(state: OrderState, update: RefillUpdate, now: number): boolean {
  const owner = state.refills ? findRefillOfPart(state, update.refillId) : null;
  if (owner) return applyPartUpdate(state, owner.refill, owner.part, update, now);
  const refill = state.refills ? findRefill(state, update.refillId) : null;
  if (!refill || !state.refills) return false;
  if (refill.providerRefillId === null || refill.providerRefillId !== update.providerRefillId) return false;
  if (!isInFlight(refill.status)) return false;
  const target = update.status;
  if (!(target in RANK) || RANK[target] <= RANK[refill.status]) return false;
  refill.status = target;
  refill.updatedAt = now;
  if (target === 'completed') {
    refill.completedAt = now;
    refill.reason = null;
    state.refills.lastCompletedAt = now;
  } else if (target === 'rejected') {
    const said = rawStatus(update.raw);
    refill.reason = `the provider rejected the refill${said ? ` (status ${JSON.stringify(said)})` : ''}`;
  }
  refreshRefillFlag(state);
  return true;
}

/** The drip-feed refill one of whose parts (a run order's provider refill) has this row id. */
function findRefillOfPart(state: OrderState, partRefillId: number): { refill: RefillRecord; part: RefillPart } | null {
  for (const refill of state.refills?.recent ?? []) {
    const part = refill.parts?.find((p) => p.refillId === partRefillId);
    if (part) return { refill, part };
  }
  return null;
}

/**
 * A drip-feed refill's part moves forward like a refill does; the refill's own status then follows
 * its parts (combineRefillParts). R-REFILL-COOLDOWN starts when the last part completes.
 */
function applyPartUpdate(state: OrderState, refill: RefillRecord, part: RefillPart, update: RefillUpdate, now: number): boolean {
  if (part.providerRefillId === null || part.providerRefillId !== update.providerRefillId) return false;
  if (!isInFlight(part.status) || !isInFlight(refill.status)) return false;
  const target = update.status;
  if (!(target in RANK) || RANK[target] <= RANK[part.status]) return false;
  part.status = target;
  if (target === 'completed') part.completedAt = now;
  if (target === 'rejected') {
    const said = rawStatus(update.raw);
    part.reason = `the provider rejected the refill${said ? ` (status ${JSON.stringify(said)})` : ''}`;
  }
  const combined = combineRefillParts(refill.parts!);
  refill.status = combined.status;
  refill.reason = combined.reason;
  refill.updatedAt = now;
  if (combined.status === 'completed') {
    refill.completedAt = now;
    state.refills!.lastCompletedAt = now;
  }
  refreshRefillFlag(state);
  return true;
}

function rawStatus(raw: unknown): string | null {
  if (typeof raw === 'string') return raw;
  if (raw && typeof raw === 'object' && typeof (raw as { status?: unknown }).status === 'string') return (raw as { status: string }).status;
  return null;
}

/** flags.refillFailed (search attribute flag refill_failed): the latest refill was not taken. */
export function refreshRefillFlag(state: OrderState): void {
  const latest = state.refills?.recent.at(-1);
  state.flags.refillFailed = latest !== undefined && (latest.status === 'failed' || latest.status === 'rejected');
}

/** Adds or replaces a refill record (newest last), keeping the last KEPT_REFILLS. */
export function putRefill(state: OrderState, record: RefillRecord): void {
  const refills = (state.refills ??= emptyRefills());
  const i = refills.recent.findIndex((r) => r.refillId === record.refillId);
  if (i >= 0) refills.recent.splice(i, 1);
  refills.recent.push(record);
  while (refills.recent.length > KEPT_REFILLS) refills.recent.shift();
  refreshRefillFlag(state);
}

/** A refill with no progress at the provider for REFILL_STUCK_AFTER_MS fails (returns whether one did). */
export function expireStuckRefill(state: OrderState, now: number): boolean {
  const refill = refillInFlight(state);
  if (!refill || now - refill.updatedAt < REFILL_STUCK_AFTER_MS) return false;
  refill.status = 'failed';
  refill.reason = 'the provider reported no progress on the refill for 14 days';
  refill.updatedAt = now;
  refreshRefillFlag(state);
  return true;
}

/** When the refill in flight would be failed as stuck, or null. */
export function stuckAt(state: OrderState): number | null {
  const refill = refillInFlight(state);
  return refill ? refill.updatedAt + REFILL_STUCK_AFTER_MS : null;
}

/**
 * Whether the workflow still follows the order's guarantee: a completed order with a guarantee,
 * not void, whose window is open (a lifetime guarantee never closes), or with a refill in flight.
 */
export function guaranteeOpen(state: OrderState, now: number): boolean {
  if (state.status !== 'completed' || state.guarantee.kind === 'none') return false;
  if (refillInFlight(state) !== null) return true;
  if (state.refills?.voidReason) return false;
  const closesAt = refillWindowClosesAt(state.timestamps.placedAt, state.guarantee);
  return closesAt === null || now <= closesAt;
}

/** The mirrored fields of a refill, as text (compared to know what the row lacks). */
export function refillSnapshot(r: RefillRecord): string {
  const base = [r.status, r.providerRefillId, r.reason, r.completedAt];
  // A drip-feed refill's parts are rows too: a part that moved is written with its refill.
  return JSON.stringify(r.parts ? [...base, r.parts.map((p) => [p.status, p.reason])] : base);
}

/** A drip-feed refill part's mirrored fields, as text. */
export function partSnapshot(p: RefillPart): string {
  return JSON.stringify([p.status, p.reason, p.completedAt]);
}

export function refillMirrorPatch(r: RefillRecord): RefillMirrorPatch {
  return { status: r.status, providerRefillId: r.providerRefillId, reason: r.reason, completedAt: r.completedAt };
}

/** A refill result as answered again later: an accepted refill shows its current record. */
export function refreshAnswer(state: OrderState, result: RefillResult): RefillResult {
  const refillId = result.accepted ? result.refill.refillId : result.refill?.refillId;
  const current = refillId !== undefined ? findRefill(state, refillId) : null;
  if (!current) return result;
  return { ...result, refill: { ...current } } as RefillResult;
}
