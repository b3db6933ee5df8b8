// API v2 errors: always `{"error": "<text>"}` with HTTP 200, in the texts panels use, so the
// reseller scripts that match them loosely ("Not enough funds", "Incorrect order ID") keep working.
// Every text the endpoint can answer is here; nothing else reaches a client.
import type { ApiErrorBody } from '../errors';
import { typeLabel } from './actions/services';

/** At most this many ids in one `status`, `cancel`, `refill` or `refill_status` call. */
export const MAX_IDS = 100;

export const V2_TEXT = {
  incorrectRequest: 'Incorrect request',
  invalidKey: 'Invalid API key',
  incorrectService: 'Incorrect service ID',
  badLink: 'Bad link',
  incorrectQuantity: 'Incorrect quantity',
  quantityBelow: (min: number) => `Quantity less than minimal ${min}`,
  quantityAbove: (max: number) => `Quantity more than maximum ${max}`,
  notEnoughFunds: 'Not enough funds on balance',
  /** R-ONE-ACTIVE-PER-LINK: the panels' sentence, then the holder (the rule says the refusal names it). */
  linkBusy: (holderOrderId?: number) =>
    `You have active order with this link. Please wait until order being completed.${holderOrderId !== undefined ? ` Active order: ${holderOrderId}` : ''}`,
  accountBlocked: 'Your account is blocked: it can place no orders',
  incorrectOrder: 'Incorrect order ID',
  tooManyIds: (what: string) => `Too many ${what}: at most ${MAX_IDS} per request`,
  /** No answer from the order's workflow in time: the order may still be placed (and paid). */
  placementPending: (orderId: number) =>
    `Order ${orderId} is not confirmed yet; check it with action=status&order=${orderId} before placing it again`,
  /** A service whose type the engine does not know (a catalogue row outside SERVICE_TYPES). */
  unsupportedType: (type: string) => `Service type "${typeLabel(type)}" is not supported`,
  idempotencyKeyReused: 'This Idempotency-Key was already used with a different request',
  cancelUnavailable: 'Cancel could not be requested now, try again later',
  /** The desk without a refill feature behind it (refillsNotAvailable). */
  refillUnavailable: 'Refill is not available for this order',
  /** Temporal did not answer the refill request (the refill feature's desk, api/refills.ts). */
  refillUnavailableNow: 'Refill could not be requested now, try again later',
  refillNotFound: 'Refill not found',
  temporary: 'Temporary error, try again later',
} as const;

/** A refusal the endpoint answers as `{"error": text}`. */
export class V2Error extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = 'V2Error';
  }
}

/** `{"error": text}`: the one error shape. */
export const errorBody = (text: string) => ({ error: text });

/**
 * The API v2 text of a REST placement error (api/placement.ts: thrown ApiError bodies and the
 * refusals the order workflow answered), so `add` refuses exactly what POST /orders refuses.
 */
/** Fields whose R-MINMAX refusal is a quantity to a client (the quantity, the lines it counts, runs). */
const QUANTITY_FIELDS = new Set(['quantity', 'comments', 'usernames', 'runs']);

export function placementErrorText(error: ApiErrorBody, quantity: number | undefined): string {
  switch (error.code) {
    case 'unknown_service':
      return V2_TEXT.incorrectService;
    case 'unsupported_service_type':
      return V2_TEXT.unsupportedType(typeof error.serviceType === 'string' ? error.serviceType : 'unknown');
    case 'quantity_out_of_range': {
      // R-MINMAX. Without min/max the service is inactive: to a client it does not exist.
      const { min, max, value } = error as { min?: number; max?: number; value?: number };
      if (typeof min !== 'number' || typeof max !== 'number') return V2_TEXT.incorrectService;
      // A subscription's min/max out of the service's range: the field's own clear text.
      if (error.field !== undefined && !QUANTITY_FIELDS.has(error.field)) return error.message;
      const counted = typeof value === 'number' ? value : (quantity ?? 0);
      return counted < min ? V2_TEXT.quantityBelow(min) : V2_TEXT.quantityAbove(max);
    }
    case 'service_changed':
      // The service changed between the checks and the snapshot (deactivated, range narrowed).
      return error.rule === 'R-MINMAX' ? V2_TEXT.incorrectService : V2_TEXT.badLink;
    case 'insufficient_funds':
      return V2_TEXT.notEnoughFunds;
    case 'link_busy':
      return V2_TEXT.linkBusy(typeof error.holderOrderId === 'number' ? error.holderOrderId : undefined);
    case 'user_blocked':
      return V2_TEXT.accountBlocked;
    case 'placement_pending':
    case 'placement_unavailable':
      return typeof error.orderId === 'number' ? V2_TEXT.placementPending(error.orderId) : V2_TEXT.temporary;
    case 'idempotency_key_reused':
      return V2_TEXT.idempotencyKeyReused;
    case 'invalid_order':
      // A field the type does not take, drip-feed not offered, a past execute_at...: the clear text.
      return error.message;
    case 'invalid_request':
      // A missing or malformed field of the type (comments, username, runs...): its clear text;
      // a missing link is the reference's "Bad link".
      if (error.field === 'link') return V2_TEXT.badLink;
      if (error.field === 'quantity') return V2_TEXT.incorrectQuantity;
      return typeof error.field === 'string' && error.field !== 'Idempotency-Key' ? error.message : V2_TEXT.incorrectRequest;
    default:
      // invalid_request (a malformed Idempotency-Key header), placement_failed, anything new.
      return V2_TEXT.incorrectRequest;
  }
}
