/**
 * Support's move of an order to another service (R-SUBSTITUTE), the parts that need no Temporal
 * API: pure functions over OrderState, used by the order workflow and tested on their own.
 *
 * A move in words: the old upstream order (if any) is asked to cancel; its final answer (Canceled or
 * Partial, with remains) says how much is still undelivered; that part goes to the new service as a
 * fresh dispatch. The order keeps its quantity, charge and terms; `upstreamQuantity` is what the
 * current upstream order is for, and the provider's remains are counted against it.
 */
import { unmovableKind } from '../domain/order-types/movable';
import type { MovableKind } from '../domain/order-types/movable';
import { fitsTarget, unmovableReason } from '../domain/substitute';
import { clampRemains } from '../domain/refund';
import type { MoveRecord, MoveRequest, OrderState, ProviderUpdate } from './order-contract';

export type MoveDecision = { allowed: true } | { allowed: false; rule: string; reason: string };

/** Units not delivered yet: the provider's last remains, else all the current upstream order is for. */
export function undelivered(state: OrderState): number {
  return state.remains ?? upstreamQuantity(state);
}

/** The quantity the current (or next) upstream order is for. */
export function upstreamQuantity(state: OrderState): number {
  return state.upstreamQuantity ?? state.quantity;
}

/** The move waiting for the old upstream order to stop, if any. */
export function stoppingMove(state: OrderState): MoveRecord | null {
  const last = state.moves?.[state.moves.length - 1];
  return last && last.phase === 'stopping' ? last : null;
}

/**
 * Whether support's move request is accepted now. The API checked the target is similar
 * (domain/substitute.ts decideSubstitute, from the catalogue); this checks what only the workflow
 * knows: the status, what is in flight, and the undelivered part against the target's bounds.
 */
export function decideMove(
  state: OrderState,
  request: MoveRequest | undefined,
  busy: { moveInFlight: boolean; cancelInFlight: boolean },
  kind: MovableKind = {},
): MoveDecision {
  const refuse = (reason: string): MoveDecision => ({ allowed: false, rule: 'R-SUBSTITUTE', reason });
  if (!request || typeof request !== 'object' || !request.target) return refuse('a move needs a target service');
  if (request.requestedBy?.kind !== 'support' && request.requestedBy?.kind !== 'admin') return refuse('only support can move an order');
  if (typeof request.reason !== 'string' || request.reason.trim() === '') return refuse('a move needs a stated reason');
  if (typeof request.requestId !== 'string' || request.requestId === '') return refuse('a move needs a requestId');
  // The order's type (the input's, which a provider-run drip-feed's state does not show).
  const typed = unmovableKind(state.dripFeed ? { ...kind, dripFeed: { mode: 'engine' } } : kind);
  if (typed) return refuse(typed);
  const unmovable = unmovableReason(state.status);
  if (unmovable) return refuse(unmovable);
  if (busy.moveInFlight || stoppingMove(state)) return refuse('a move of this order is already being carried out');
  if (busy.cancelInFlight || state.flags.cancelRequested) return refuse('a cancel of this order is being carried out');
  if (request.target.serviceId === state.serviceId) return refuse('the order is already on this service');
  const rest = undelivered(state);
  if (!fitsTarget(rest, request.target)) {
    return refuse(`the undelivered ${rest} is outside service ${request.target.serviceId}'s ${request.target.min}..${request.target.max}`);
  }
  return { allowed: true };
}

export function newMoveRecord(state: OrderState, request: MoveRequest, now: number): MoveRecord {
  return {
    requestId: request.requestId,
    requestedBy: request.requestedBy,
    reason: request.reason.trim(),
    from: { serviceId: state.serviceId, providerId: state.providerId, providerOrderId: state.providerOrderId },
    to: { serviceId: request.target.serviceId, providerId: request.target.providerId },
    quantity: null,
    phase: 'stopping',
    outcome: null,
    requestedAt: now,
    updatedAt: now,
  };
}

/**
 * Whether a provider update is about the order's current upstream order. An update names the
 * upstream order it read (the sync sends it); one about an order this order moved away from is
 * late news and changes nothing. Updates that name nothing (older senders) are taken as current.
 */
export function isCurrentUpstream(state: OrderState, update: ProviderUpdate): boolean {
  if (update.providerOrderId === undefined) return true;
  if (state.providerOrderId !== null) {
    return update.providerOrderId === state.providerOrderId && (update.providerId === undefined || update.providerId === state.providerId);
  }
  // Not dispatched yet as far as the workflow knows (the sync may be ahead of the dispatch's answer):
  // current unless it is an upstream order a move left behind.
  return !(state.moves ?? []).some(
    (m) => m.from.providerOrderId === update.providerOrderId && (update.providerId === undefined || m.from.providerId === update.providerId),
  );
}

/**
 * The units still owed once the old upstream order stopped: a Partial's remains, or for a Canceled
 * its remains if given, else all it was for. Null for an update that does not stop it.
 */
export function remainingAfterStop(state: OrderState, update: ProviderUpdate): number | null {
  if (update.status !== 'canceled' && update.status !== 'partial') return null;
  const whole = upstreamQuantity(state);
  const remains = typeof update.remains === 'number' && Number.isSafeInteger(update.remains) ? update.remains : null;
  if (remains !== null) return clampRemains(whole, remains);
  return update.status === 'canceled' ? whole : (state.remains ?? whole);
}

/** Part of the order was delivered before a move: an upstream cancel now ends it Partial, not Canceled. */
export function deliveredBeforeMove(state: OrderState): boolean {
  return state.upstreamQuantity !== undefined && state.upstreamQuantity < state.quantity;
}
