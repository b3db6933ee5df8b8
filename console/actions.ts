// The forms' actions, each one REST call (console/rest-client.ts) to the route a script would use:
// the form's fields become the route's JSON body, blank fields left out (so the route's own checks
// name what is missing). The form's hidden requestId makes a double submit one action.
import type { RestClient } from './rest-client';

type Form = Record<string, string>;

export interface ActionCall {
  path: string;
  body: Record<string, string>;
  headers?: Record<string, string>;
}

/** The form's fields that are filled in, trimmed. */
function filled(form: Form, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = typeof form[n] === 'string' ? form[n].trim() : '';
    if (v !== '') out[n] = v;
  }
  return out;
}

/** Support's powers over one order, by the console's action name. */
export const ORDER_ACTIONS: Record<string, (orderId: number, form: Form, refillId?: number) => ActionCall> = {
  cancel: (id, f) => ({ path: `/support/orders/${id}/cancel`, body: filled(f, ['refund', 'reason', 'requestId']) }),
  move: (id, f) => ({ path: `/support/orders/${id}/move`, body: filled(f, ['serviceId', 'reason', 'requestId']) }),
  'resolve-dispatch': (id, f) => ({
    path: `/support/orders/${id}/resolve-dispatch`,
    body: filled(f, f.action === 'attach' ? ['action', 'providerOrderId', 'reason', 'requestId'] : ['action', 'reason', 'requestId']),
  }),
  retry: (id, f, refillId) => ({ path: `/orders/${id}/refills/${refillId}/retry`, body: filled(f, ['reason', 'requestId']) }),
};

/** Powers over one account. Corrections take their key in the Idempotency-Key header, as the route asks. */
export const USER_ACTIONS: Record<string, (userId: number, form: Form) => ActionCall> = {
  block: (id, f) => ({ path: `/support/users/${id}/block`, body: filled(f, ['reason', 'requestId']) }),
  unblock: (id, f) => ({ path: `/support/users/${id}/unblock`, body: filled(f, ['reason', 'requestId']) }),
  corrections: (id, f) => ({
    path: `/admin/users/${id}/corrections`,
    body: filled(f, ['amount', 'reason']),
    headers: f.requestId ? { 'Idempotency-Key': `console-correction:${f.requestId}` } : undefined,
  }),
};

export async function runAction(rest: RestClient, call: ActionCall) {
  return rest.post(call.path, call.body, call.headers);
}
