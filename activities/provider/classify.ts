/**
 * Pure classification of an `add` call's outcome (see AddOrderResult in ./types).
 *
 * The rule that matters: only an answer proves what happened. An order id proves the order exists; an
 * explicit {"error": ...} (from a provider that answered, not a 5xx) proves it was NOT placed; anything
 * else after the request may have left the socket (timeout, connection lost, empty or non-JSON body, 5xx)
 * proves nothing, and a blind retry could duplicate the order (upstream has no idempotency key): that is
 * 'uncertain'. A request that provably never reached the provider (connection refused, DNS failure) is
 * safe to retry.
 *
 * Error texts are free text and matched loosely (case-insensitive substrings). Decision for texts we do
 * not recognise: the provider did answer and did not place the order, so they are never 'uncertain';
 * they are 'refused' (→ R-AUTO-CANCEL, full refund) only when they read as a validation refusal of this
 * order ("invalid ...", "... not found", "must ...", "... required"); otherwise 'retry_later', so that an
 * unforeseen temporary condition never cancels a customer's order. The engine bounds retry_later (its
 * backoff has a deadline), after which it cancels with a full refund or hands the order to support.
 */
import { errorText, parseId, parseJsonBody } from './parse';
import type { AddOrderResult, RefusedCode, RetryCode } from './types';

/** How a request failed before any answer arrived. */
export type TransportFailureKind =
  /** Our timeout fired (no answer, or the body stalled). */
  | 'timeout'
  /** The connection was never established: the request cannot have reached the provider. */
  | 'not_sent'
  /** Anything else (reset, closed socket, TLS...): the request may have been received. */
  | 'connection_lost';

export type AddCallOutcome =
  | { type: 'answer'; httpStatus: number; bodyText: string }
  | { type: 'failure'; failure: TransportFailureKind; message: string };

type TextRule<C> = { code: C; any: readonly string[] };

/** Temporary conditions: checked first, since their texts may also contain "invalid", "not" etc. */
const RETRY_RULES: readonly TextRule<RetryCode>[] = [
  { code: 'funds', any: ['not enough funds', 'insufficient funds', 'insufficient balance', 'not enough balance', 'low balance', 'balance is too low', 'top up'] },
  { code: 'active_order', any: ['active order', 'already have an order', 'already has an order', 'wait until order', 'order in progress for this link', 'already in progress', 'already running', 'being processed', 'duplicate'] },
  { code: 'auth', any: ['api key', 'apikey', 'api_key', 'unauthorized', 'unauthorised', 'not authorized', 'authentication', 'your account', 'user is banned', 'user banned', 'api access'] },
  { code: 'rate_limit', any: ['too many requests', 'rate limit', 'too many orders', 'slow down', 'request limit'] },
  { code: 'temporary', any: ['temporarily', 'temporary', 'try again', 'try later', 'maintenance', 'overloaded', 'busy', 'timeout', 'timed out', 'wait'] },
];

/** Refusals of this very order, that waiting will not change (R-AUTO-CANCEL). */
const REFUSED_RULES: readonly TextRule<RefusedCode>[] = [
  { code: 'bad_link', any: ['bad link', 'invalid link', 'incorrect link', 'wrong link', 'link is invalid', 'link is not valid', 'link format', 'invalid url', 'incorrect url', 'bad url', 'invalid username', 'incorrect username'] },
  { code: 'incorrect_service', any: ['incorrect service', 'invalid service', 'service not found', 'service does not exist', 'service is disabled', 'service disabled', 'service not active', 'service is not active', 'service is inactive', 'service unavailable', 'service is unavailable', 'service is not available'] },
  { code: 'quantity', any: ['quantity less', 'quantity more', 'minimal', 'maximal', 'min quantity', 'max quantity', 'minimum quantity', 'maximum quantity', 'invalid quantity', 'incorrect quantity', 'quantity must', 'quantity should'] },
  { code: 'private_account', any: ['private', 'closed account', 'account is closed', 'not public', 'account not found', 'user not found', 'profile not found', 'page not found', 'post not found', 'video not found', 'does not exist', "doesn't exist", 'deleted', 'restricted'] },
  { code: 'counter_disabled', any: ['counter', 'hidden like', 'likes are hidden', 'hide like', 'hidden view'] },
  { code: 'invalid_request', any: ['incorrect request', 'invalid request', 'bad request', 'incorrect', 'invalid', 'wrong', 'not found', 'not exist', 'not allowed', 'not supported', 'unsupported', 'prohibited', 'forbidden', 'required', 'missing', 'must', 'not valid'] },
];

function match<C>(rules: readonly TextRule<C>[], text: string): C | null {
  for (const r of rules) if (r.any.some((s) => text.includes(s))) return r.code;
  return null;
}

/** Classifies the text of an explicit {"error": ...} answer to `add` (the order was not placed). */
export function classifyAddErrorText(
  text: string,
): { kind: 'refused'; code: RefusedCode } | { kind: 'retry_later'; code: RetryCode } {
  const t = text.toLowerCase().replace(/\s+/g, ' ');
  const retry = match(RETRY_RULES, t);
  if (retry) return { kind: 'retry_later', code: retry };
  const refused = match(REFUSED_RULES, t);
  if (refused) return { kind: 'refused', code: refused };
  return { kind: 'retry_later', code: 'unknown_error' };
}

function snippet(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}

/** Classifies the whole outcome of an `add` call. */
export function classifyAddOutcome(o: AddCallOutcome): AddOrderResult {
  if (o.type === 'failure') {
    if (o.failure === 'not_sent') return { kind: 'retry_later', code: 'not_sent', reason: `request not sent: ${o.message}` };
    if (o.failure === 'timeout') return { kind: 'uncertain', code: 'timeout', reason: `no answer in time: ${o.message}` };
    return { kind: 'uncertain', code: 'connection_lost', reason: `connection lost: ${o.message}` };
  }
  const { httpStatus, bodyText } = o;
  const parsed = parseJsonBody(bodyText);
  if (parsed.ok) {
    const v = parsed.value;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'order' in v) {
      const id = parseId((v as { order: unknown }).order);
      if (id !== null) return { kind: 'placed', providerOrderId: id };
    }
  }
  if (httpStatus >= 500) {
    return { kind: 'uncertain', code: 'http_5xx', reason: `HTTP ${httpStatus}: ${snippet(bodyText) || '(empty body)'}` };
  }
  if (httpStatus === 429) return { kind: 'retry_later', code: 'rate_limit', reason: `HTTP 429: ${snippet(bodyText)}` };
  if (!parsed.ok) {
    return parsed.reason === 'empty'
      ? { kind: 'uncertain', code: 'empty_body', reason: `HTTP ${httpStatus} with an empty body` }
      : { kind: 'uncertain', code: 'non_json', reason: `HTTP ${httpStatus}, not JSON: ${snippet(bodyText)}` };
  }
  const err = errorText(parsed.value);
  if (err !== null) {
    const c = classifyAddErrorText(err);
    return c.kind === 'refused' ? { kind: 'refused', code: c.code, reason: err } : { kind: 'retry_later', code: c.code, reason: err };
  }
  return { kind: 'uncertain', code: 'unexpected_answer', reason: `HTTP ${httpStatus}, unexpected answer: ${snippet(bodyText)}` };
}
