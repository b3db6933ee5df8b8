/**
 * Which order types support can move (R-SUBSTITUTE): plain data and a pure function, used by the API
 * (api/routes/support-orders.ts) before asking and by the workflow's move validator (workflows/move-state.ts).
 */
import type { ServiceType } from '../service-types';
import { SERVICE_TYPE_NAMES } from '../service-types';
import { TYPE_SPECS } from './spec';

/** What an order is, as far as a move cares (OrderInput's type fields; all absent: a Default order). */
export interface MovableKind {
  serviceType?: ServiceType;
  dripFeed?: { mode: 'engine' | 'provider' } | null;
  subscription?: unknown;
}

/**
 * R-SUBSTITUTE sends the undelivered quantity to the new service as one plain order. An order that
 * cannot be sent on that way is refused with the reason (null: it can): its lines, a package or a
 * subscription have no quantity to split; an engine drip-feed sends each run anew; a drip-feed its
 * provider runs would be sent again with `runs`/`interval` and the per-run quantity, i.e. another
 * feed of a different size. Used by the API before asking and by the workflow's move validator.
 */
export function unmovableKind(kind: MovableKind): string | null {
  if (kind.subscription) return 'a subscription cannot be moved: cancel it and place a new one';
  if (kind.dripFeed?.mode === 'engine') return 'a drip-feed sends each run anew; cancel it (the runs not sent are refunded) and place it again on the other service';
  if (kind.dripFeed?.mode === 'provider') {
    return 'a drip-feed its provider runs cannot be moved: the other provider would get runs and interval with the per-run quantity, not what is undelivered; cancel it and place it again on the other service';
  }
  const type = kind.serviceType ?? 'default';
  if (TYPE_SPECS[type].quantity.kind !== 'given') return `a ${SERVICE_TYPE_NAMES[type]} order has no quantity to send on in part: cancel it and place a new one`;
  return null;
}
