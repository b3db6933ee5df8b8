// action=add → {"order": 23501}, exactly as POST /orders places an order (api/placement.ts): the
// same fast checks (service, type, R-MINMAX, R-BLOCKED, R-ONE-ACTIVE-PER-LINK, R-BALANCE), the same
// reserved id, snapshot and update-with-start on `order-<id>`, and the answer only after the
// debit. Only the answer's shape differs: the engine's integer order id, or `{"error": text}`.
//
// Order fields of service types the engine does not sell yet (drip-feed `runs`/`interval`,
// comments, usernames, subscriptions, scheduled orders...) are refused with a clear text rather
// than ignored: ignoring `runs` would place a different order than the client paid for.
import { placeOrderBody } from '../../schemas';
import type { PlaceOrderBody } from '../../schemas';
import { idempotencyKeyOf } from '../../schemas';
import { ApiError } from '../../errors';
import type { ApiErrorBody } from '../../errors';
import type { Action, V2Context } from '../context';
import { V2_TEXT, V2Error, placementErrorText } from '../errors';
import { field, parseId } from '../parse';
import type { Params } from '../parse';

/** Fields of the reference's other order types (and subscriptions, scheduled orders). */
const UNSUPPORTED_FIELDS = [
  'comments', 'usernames', 'username', 'hashtags', 'hashtag', 'media', 'answer_number', 'keywords',
  // subscriptions
  'min', 'max', 'posts', 'old_posts', 'delay', 'expiry',
  // scheduled orders
  'execute_at',
] as const;

/** The refusal for fields of an order type the engine does not take, or null. */
function unsupportedOrderText(params: Params): string | null {
  if (field(params, 'runs') !== undefined || field(params, 'interval') !== undefined) return V2_TEXT.dripFeed;
  const present = UNSUPPORTED_FIELDS.filter((name) => field(params, name) !== undefined);
  return present.length > 0 ? V2_TEXT.unsupportedFields(present) : null;
}

/** The refusal for an unsupported order: a wrong or unsellable service says so first. */
async function refuseUnsupported(ctx: V2Context, text: string): Promise<never> {
  const serviceId = parseId(field(ctx.params, 'service'));
  const service = serviceId === null ? null : await ctx.deps.prisma.service.findUnique({ where: { id: serviceId } });
  if (!service || !service.active) throw new V2Error(V2_TEXT.incorrectService);
  if (service.type !== 'default') throw new V2Error(V2_TEXT.unsupportedType(service.type));
  throw new V2Error(text);
}

/** service, link, quantity through the REST schema; the first bad field in that order names the text. */
function orderBody(params: Params): PlaceOrderBody {
  const input: Record<string, string> = {};
  for (const name of ['service', 'link', 'quantity'] as const) {
    const value = field(params, name);
    if (value !== undefined) input[name] = value;
  }
  const parsed = placeOrderBody.safeParse(input);
  if (parsed.success) return parsed.data;
  const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
  if (bad.has('service')) throw new V2Error(V2_TEXT.incorrectService);
  if (bad.has('link')) throw new V2Error(V2_TEXT.badLink);
  throw new V2Error(V2_TEXT.incorrectQuantity);
}

export const add: Action = async (ctx) => {
  const unsupported = unsupportedOrderText(ctx.params);
  if (unsupported) await refuseUnsupported(ctx, unsupported);
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
