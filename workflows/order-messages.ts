/**
 * Typed definitions of the order workflow's messages (names from order-contract.ts), for the
 * workflow's handlers and for clients (`handle.signal(providerUpdateSignal, update)`).
 * defineSignal/defineUpdate/defineQuery only build descriptors, so this file is safe to import
 * outside a workflow too.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ORDER_MESSAGES } from './order-contract';
import type {
  CancelRequest,
  CancelResult,
  DispatchResolution,
  MoveRequest,
  MoveResult,
  OrderState,
  PlacementResult,
  ProviderUpdate,
  RefillRequest,
  RefillResult,
  RefillUpdate,
  ResolveDispatchResult,
  RetryRefillRequest,
} from './order-contract';

export const placementUpdate = defineUpdate<PlacementResult, []>(ORDER_MESSAGES.placement);
export const cancelUpdate = defineUpdate<CancelResult, [CancelRequest]>(ORDER_MESSAGES.cancel);
export const cancelSignal = defineSignal<[CancelRequest]>(ORDER_MESSAGES.cancelSignal);
export const providerUpdateSignal = defineSignal<[ProviderUpdate]>(ORDER_MESSAGES.providerUpdate);
export const resolveDispatchUpdate = defineUpdate<ResolveDispatchResult, [DispatchResolution]>(ORDER_MESSAGES.resolveDispatch);
export const moveUpdate = defineUpdate<MoveResult, [MoveRequest]>(ORDER_MESSAGES.move);
export const refillRequestUpdate = defineUpdate<RefillResult, [RefillRequest]>(ORDER_MESSAGES.refill);
export const retryRefillUpdate = defineUpdate<RefillResult, [RetryRefillRequest]>(ORDER_MESSAGES.retryRefill);
export const refillUpdateSignal = defineSignal<[RefillUpdate]>(ORDER_MESSAGES.refillUpdate);
export const stateQuery = defineQuery<OrderState, []>(ORDER_MESSAGES.state);

/** The update id of placement: one placement per workflow, so a retried placement is the same update. */
export const PLACEMENT_UPDATE_ID = 'placement';

/** Failure type of a cancel refused by the update's validator; details[0] is the CancelResult. */
export const CANCEL_REFUSED_FAILURE = 'CancelRefused';

/** Failure type of a move or a dispatch resolution refused by its validator; details[0] is the result. */
export const SUPPORT_REFUSED_FAILURE = 'SupportActionRefused';

/** Failure type of a refill (or retry) refused by the update's validator; details[0] is the RefillResult. */
export const REFILL_REFUSED_FAILURE = 'RefillRefused';

/** Reject reasons the workflow writes (orders.reject_reason, OrderState.rejectReason). */
export const REJECT_MESSAGES = {
  insufficientFunds: 'not enough funds',
  linkBusy: (holderOrderId: number) => `active order for this link: ${holderOrderId}`,
  userBlocked: 'user is blocked: no new orders',
} as const;
