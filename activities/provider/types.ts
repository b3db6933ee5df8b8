/** Result types of the engine's API v2 provider client. */
import type { SubscriptionUpstream } from '../../domain/subscription';

/** An order's status at the provider, normalised from every spelling providers use. */
export type ProviderOrderStatus = 'pending' | 'in_progress' | 'completed' | 'partial' | 'canceled';
export type ProviderRefillStatus = 'pending' | 'in_progress' | 'completed' | 'rejected';

export interface AddOrderRequest {
  service: string | number;
  /** Absent for subscriptions (they name a `username`). */
  link?: string;
  /** Absent for types whose quantity is not sent (Package, Custom Comments, subscriptions). */
  quantity?: number;
  /** Other fields for non-default service types or drip-feed (runs, interval, comments, username...). */
  extra?: Record<string, string | number>;
}

/**
 * What an `add` call tells the engine.
 * - placed: the provider answered with an order id.
 * - refused: the provider answered an error that will not change by waiting (bad link, incorrect service,
 *   quantity limits, private account, hidden counter...): the order was not placed; the engine cancels it
 *   with a full refund (R-AUTO-CANCEL).
 * - retry_later: the provider answered an error and did not place the order, but the cause is temporary
 *   (funds at the provider, an active order on the link there, rate limit, our key, unknown texts), or the
 *   request provably never reached it (connection refused): retry with backoff.
 * - uncertain: the provider may or may not have the order (timeout, connection lost after sending, empty
 *   or non-JSON body, 5xx). NEVER retry blindly: reconcile first (findOrdersByLink, support).
 */
export type AddOrderResult =
  | { kind: 'placed'; providerOrderId: string }
  | { kind: 'refused'; reason: string; code: RefusedCode }
  | { kind: 'retry_later'; reason: string; code: RetryCode }
  | { kind: 'uncertain'; reason: string; code: UncertainCode };

export type RefusedCode =
  | 'bad_link'
  | 'incorrect_service'
  | 'quantity'
  | 'private_account'
  | 'counter_disabled'
  | 'invalid_request';
export type RetryCode = 'funds' | 'active_order' | 'auth' | 'rate_limit' | 'temporary' | 'not_sent' | 'unknown_error';
export type UncertainCode = 'timeout' | 'connection_lost' | 'empty_body' | 'non_json' | 'http_5xx' | 'unexpected_answer';

export interface OrderStatusInfo {
  status: ProviderOrderStatus;
  /** null when absent, unreadable, or 0 while the order is still pending (providers fill 0 before start). */
  startCount: number | null;
  /** As the provider said it: may be negative (over-delivery) or above quantity; null when "Unknown". */
  remains: number | null;
  charge?: string;
  currency?: string;
  /** The provider's answer for this order, untouched. */
  raw: unknown;
  /** A subscription's answer (issue 12): its own status, posts served and what each got. */
  subscription?: SubscriptionUpstream;
}

/**
 * An error about one id: scope 'order' when the provider answered so for this id ("Incorrect order ID"),
 * 'request' when the whole call was answered with an error (bad key...) and every id got it.
 */
export interface ProviderIdError {
  error: string;
  scope: 'order' | 'request';
  raw?: unknown;
}

export type OrderStatusResult = OrderStatusInfo | ProviderIdError;

export type CancelResult = { accepted: true } | { accepted: false; error: string; uncertain?: boolean };

export type RefillResult = { refillId: string } | { error: string; uncertain?: boolean };

export type RefillStatusResult = { status: ProviderRefillStatus; raw: unknown } | ProviderIdError;

export interface ProviderOrderSummary {
  providerOrderId: string;
  /** null when the status text is not recognised (rawStatus keeps it). */
  status: ProviderOrderStatus | null;
  rawStatus: unknown;
  /** As the provider gave it. */
  created: string | null;
}

export interface ProviderService {
  service: string;
  name: string;
  type: string;
  category: string;
  rate: string;
  min: number | null;
  max: number | null;
  refill: boolean;
  cancel: boolean;
  raw: unknown;
}

export type BalanceResult = { balance: string; currency: string } | { error: string };
export type CountResult = { count: number } | { error: string };

export function isIdError(r: OrderStatusResult | RefillStatusResult): r is ProviderIdError {
  return 'error' in r;
}
