// action=add → {"order": 23501}, exactly as POST /orders places an order (api/placement.ts): the
// same fast checks (service, the type's fields by docs/smm-api-v2.md, R-MINMAX, R-BLOCKED,
// R-ONE-ACTIVE-PER-LINK, R-BALANCE), the same reserved id, snapshot and update-with-start on
// `order-<id>`, and the answer only after the debit. Only the answer's shape differs: the engine's
// integer order id, or `{"error": text}` in the reference's texts.
//
// Every field of every service type is read (link, quantity, comments, usernames, runs, interval,
// username/min/max/posts/..., execute_at); a field the service's type does not take is refused with
// a clear text rather than ignored: ignoring `runs` would place a different order than the client
// paid for.
import { ORDER_REQUEST_FIELDS } from '../../../domain/order-types';
import { placeOrderBody } from '../../schemas';
import type { PlaceOrderBody } from '../../schemas';
import { idempotencyKeyOf } from '../../schemas';
import { ApiError } from '../../errors';
import type { ApiErrorBody } from '../../errors';
import type { Action } from '../context';
import { V2_TEXT, V2Error, placementErrorText } from '../errors';
import { field } from '../parse';
import type { Params } from '../parse';

/** The order's fields through the REST schema; a malformed service, link or quantity gets the reference's text. */
function orderBody(params: Params): PlaceOrderBody {
  const input: Record<string, string> = {};
  for (const name of ORDER_REQUEST_FIELDS) {
    const value = field(params, name);
    if (value !== undefined) input[name] = value;
  }
  const parsed = placeOrderBody.safeParse(input);
  if (parsed.success) return parsed.data;
  const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
  if (bad.has('service')) throw new V2Error(V2_TEXT.incorrectService);
  if (bad.has('link')) throw new V2Error(V2_TEXT.badLink);
  if (bad.has('quantity')) throw new V2Error(V2_TEXT.incorrectQuantity);
  throw new V2Error(parsed.error.issues[0]?.message ?? V2_TEXT.incorrectRequest);
}

export const add: Action = async (ctx) => {
  const body = orderBody(ctx.params);

  let error: ApiErrorBody;
  try {
    // Not part of the protocol, but honoured: a client that sends the REST API's Idempotency-Key
    // header gets the REST API's replay (same key + same order → the first answer).
    const answer = await ctx.placement.place(ctx.who, body, idempotencyKeyOf(ctx.req));
    if (answer.orderId !== undefined) ctx.res.locals.orderId = answer.orderId;
    if (answer.status === 201 && answer.orderId !== undefined) return { order: answer.orderId };
    error = (answer.body as { error: ApiErrorBody }).error;
  } catch (thrown) {
    if (!(thrown instanceof ApiError)) throw thrown;
    error = thrown.toBody().error;
    if (typeof error.orderId === 'number') ctx.res.locals.orderId = error.orderId;
  }
  throw new V2Error(placementErrorText(error, body.quantity));
};
