/**
 * The search attributes every order workflow carries, kept current as the order moves, so engineers
 * can find orders on any Temporal server (`temporal workflow list --query 'OrderStatus="dispatch_uncertain"
 * AND ProviderId=3'`, the Web UI, `npm run orders -- --query ...`). Workflow-safe: types and pure code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';
import type { OrderState } from './order-contract';

export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.INT);
export const OrderStatusKey = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const OrderUserIdKey = defineSearchAttributeKey('OrderUserId', SearchAttributeType.INT);
export const OrderServiceIdKey = defineSearchAttributeKey('OrderServiceId', SearchAttributeType.INT);
export const ProviderIdKey = defineSearchAttributeKey('ProviderId', SearchAttributeType.INT);
/** Flags that are set: overdue, stalled, cancel_requested, refill_failed, dispatch_uncertain. */
export const OrderFlagsKey = defineSearchAttributeKey('OrderFlags', SearchAttributeType.KEYWORD_LIST);
export const OrderOverdueKey = defineSearchAttributeKey('OrderOverdue', SearchAttributeType.BOOL);
export const OrderStalledKey = defineSearchAttributeKey('OrderStalled', SearchAttributeType.BOOL);

/** Name → type, for registering them on a server that needs it (OperatorService.AddSearchAttributes). */
export const ORDER_SEARCH_ATTRIBUTES = [
  OrderIdKey,
  OrderStatusKey,
  OrderUserIdKey,
  OrderServiceIdKey,
  ProviderIdKey,
  OrderFlagsKey,
  OrderOverdueKey,
  OrderStalledKey,
] as const;

export function orderFlags(state: OrderState): string[] {
  const flags: string[] = [];
  if (state.flags.overdue) flags.push('overdue');
  if (state.flags.stalled) flags.push('stalled');
  if (state.flags.cancelRequested) flags.push('cancel_requested');
  if (state.flags.refillFailed) flags.push('refill_failed');
  if (state.status === 'dispatch_uncertain') flags.push('dispatch_uncertain');
  return flags;
}

/** The attributes for an order's state; compared as text so unchanged states upsert nothing. */
export function orderSearchAttributes(state: OrderState): SearchAttributePair[] {
  return [
    { key: OrderIdKey, value: state.orderId },
    { key: OrderStatusKey, value: state.status },
    { key: OrderUserIdKey, value: state.userId },
    { key: OrderServiceIdKey, value: state.serviceId },
    { key: ProviderIdKey, value: state.providerId },
    { key: OrderFlagsKey, value: orderFlags(state) },
    { key: OrderOverdueKey, value: state.flags.overdue },
    { key: OrderStalledKey, value: state.flags.stalled },
  ];
}

/** Only the pairs whose value differs from `before` (null before: all of them). */
export function changedSearchAttributes(before: SearchAttributePair[] | null, now: SearchAttributePair[]): SearchAttributePair[] {
  if (!before) return now;
  const previous = new Map(before.map((pair) => [pair.key.name, JSON.stringify(pair.value)]));
  return now.filter((pair) => previous.get(pair.key.name) !== JSON.stringify(pair.value));
}
