// action=refill and action=refill_status, in the reference's shapes:
//   refill        order=1            → {"refill": "1"}        (the refill id, a string here)
//   refill        orders=1,3         → [{"order":1,"refill":1},{"order":3,"refill":{"error":"Incorrect order ID"}}]
//   refill_status refill=1           → {"status": "Completed"}
//   refill_status refills=1,3        → [{"refill":1,"status":"Completed"},{"refill":3,"status":{"error":"Refill not found"}}]
//
// Everything the protocol needs is here; what a refill IS comes from one RefillDesk: apiV2Router's
// default is the engine's (api/refills.ts createRefillDesk: the order workflow's `refill` update,
// R-REFILL-* refusals as the item's error, the refills table id as the refill id).
// `refillsNotAvailable` remains for a deployment without refills: "Refill is not available for this
// order" / "Refill not found". Ownership is checked here, before the desk is asked: another user's
// order is "Incorrect order ID".
import type { OrderRecord } from '../../../activities/order-records';
import type { AuthContext } from '../../auth';
import type { Action } from '../context';
import { V2_TEXT, V2Error, errorBody } from '../errors';
import { field, itemId, parseId, parseIdList } from '../parse';

export type RefillRequestOutcome = { refill: number } | { error: string };
export type RefillStatusOutcome = { status: string } | { error: string };

/** Where refills live: the one seam the refill feature wires. */
export interface RefillDesk {
  /** Ask for a refill of one of the caller's orders (R-REFILL-* checks belong to the desk). */
  request(who: AuthContext, order: OrderRecord): Promise<RefillRequestOutcome>;
  /** The status (Pending, In progress, Completed, Rejected) of a refill, if it is the caller's. */
  status(who: AuthContext, refillId: number): Promise<RefillStatusOutcome>;
}

export const refillsNotAvailable: RefillDesk = {
  async request() {
    return { error: V2_TEXT.refillUnavailable };
  },
  async status() {
    return { error: V2_TEXT.refillNotFound };
  },
};

export const refill: Action = async ({ deps, who, params, refills }) => {
  async function requestOne(id: number | null): Promise<RefillRequestOutcome> {
    const order = id === null ? null : await deps.orders.getOrder(id);
    if (!order || order.userId !== who.userId) return { error: V2_TEXT.incorrectOrder };
    return refills.request(who, order);
  }
  const list = field(params, 'orders');
  if (list === undefined) {
    const outcome = await requestOne(parseId(field(params, 'order')));
    if ('error' in outcome) throw new V2Error(outcome.error);
    return { refill: String(outcome.refill) };
  }
  const items = parseIdList(list, 'orders');
  if (items.length === 0) throw new V2Error(V2_TEXT.incorrectOrder);
  const answers = [];
  for (const item of items) {
    const outcome = await requestOne(item.id);
    answers.push({ order: itemId(item), refill: 'error' in outcome ? errorBody(outcome.error) : outcome.refill });
  }
  return answers;
};

export const refillStatus: Action = async ({ who, params, refills }) => {
  async function statusOne(id: number | null): Promise<RefillStatusOutcome> {
    return id === null ? { error: V2_TEXT.refillNotFound } : refills.status(who, id);
  }
  const list = field(params, 'refills');
  if (list === undefined) {
    const outcome = await statusOne(parseId(field(params, 'refill')));
    if ('error' in outcome) throw new V2Error(outcome.error);
    return { status: outcome.status };
  }
  const items = parseIdList(list, 'refills');
  if (items.length === 0) throw new V2Error(V2_TEXT.refillNotFound);
  const answers = [];
  for (const item of items) {
    const outcome = await statusOne(item.id);
    answers.push({ refill: itemId(item), status: 'error' in outcome ? errorBody(outcome.error) : outcome.status });
  }
  return answers;
};
