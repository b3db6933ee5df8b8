// action=cancel, orders=2,9 (at most 100; a single `order` is taken too) →
//   [{"order":2,"cancel":1},{"order":9,"cancel":{"error":"Incorrect order ID"}}]
// Each of the caller's orders gets the order workflow's `cancel` update, exactly as
// POST /orders/:id/cancel sends it (api/cancel.ts): R-CANCEL-REQUEST, R-CANCEL-STALLED and the
// refusals of final orders are the workflow's (and the domain's) decisions. `"cancel": 1` means the
// cancel was accepted; the outcome (Canceled, or Partial/Completed if the provider was faster)
// follows in `status`, where the order shows Processing meanwhile. A refusal is the item's error,
// with its reason. Another user's order, or no order at all, is "Incorrect order ID".
import type { OrderRecord } from '../../../activities/order-records';
import { requestOrderCancel } from '../../cancel';
import type { Action } from '../context';
import { V2_TEXT, V2Error, errorBody } from '../errors';
import { field, itemId, parseIdList } from '../parse';
import type { ListItem } from '../parse';

/** Cancels run this many at a time: each may wait for the provider's answer. */
const CANCEL_CONCURRENCY = 10;

type CancelItem = { order: number | string; cancel: 1 | { error: string } };

/** "order is already completed" → "Order is already completed". */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Runs fn over items, at most `limit` at a time; results in the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}

export const cancel: Action = async (ctx) => {
  const { deps, who, params } = ctx;
  const list = field(params, 'orders') ?? field(params, 'order');
  if (list === undefined) throw new V2Error(V2_TEXT.incorrectOrder);
  const items = parseIdList(list, 'orders');
  if (items.length === 0) throw new V2Error(V2_TEXT.incorrectOrder);

  async function cancelOne(item: ListItem): Promise<CancelItem> {
    const answer = (cancel: CancelItem['cancel']): CancelItem => ({ order: itemId(item), cancel });
    const order: OrderRecord | null = item.id === null ? null : await deps.orders.getOrder(item.id);
    if (!order || order.userId !== who.userId) return answer(errorBody(V2_TEXT.incorrectOrder));
    try {
      const result = await requestOrderCancel(deps.temporal, who, order);
      if (result.accepted) {
        deps.logger.info({ orderId: order.id, userId: who.userId, rule: result.rule }, 'api v2: cancel accepted');
        return answer(1);
      }
      deps.logger.info({ orderId: order.id, userId: who.userId, rule: result.rule, reason: result.reason }, 'api v2: cancel refused');
      return answer(errorBody(sentence(result.reason)));
    } catch (error) {
      // Temporal unreachable, or an open order without its workflow: this item failed, not the call.
      deps.logger.error({ err: error, orderId: order.id, userId: who.userId }, 'api v2: cancel failed');
      return answer(errorBody(V2_TEXT.cancelUnavailable));
    }
  }

  return mapLimit(items, CANCEL_CONCURRENCY, cancelOne);
};
