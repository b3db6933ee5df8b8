/**
 * What the simulator checks in an `add`, per service type, as a real provider does: the fields the
 * API v2 reference lists for the type (domain/order-types readOrder, the same rules the engine
 * applies to its own clients), answered in the providers' texts ("Bad link", "Quantity less than
 * minimal 50", ...). The fields it took are kept on the order, unchanged, for tests to read back.
 */
import Decimal from 'decimal.js';
import { readOrder } from '../domain/order-types';
import type { ServiceTerms } from '../domain/order-types';
import { SERVICE_TYPES, SERVICE_TYPE_NAMES } from '../domain/service-types';
import type { ServiceType } from '../domain/service-types';
import type { SimService } from './catalogue';

/** "Custom Comments" (or "custom_comments") → the type key; an unknown name is a Default service. */
export function simServiceType(service: SimService): ServiceType {
  const key = service.type.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return SERVICE_TYPES.find((t) => t === key || SERVICE_TYPE_NAMES[t].toLowerCase() === service.type.trim().toLowerCase()) ?? 'default';
}

export type AddCheck =
  | {
      ok: true;
      /** What the order delivers: the quantity, the comments' lines, quantity × runs, max × posts. */
      quantity: number;
      charge: Decimal;
      /** link, or the username a subscription names. */
      target: string;
      /** Every field of the `add` besides action, key and service, as received. */
      fields: Record<string, string>;
      /** A subscription's terms, as read from its fields. */
      subscription?: { min: number; max: number; posts: number; oldPosts: number; delayMinutes: number; expiry?: string };
    }
  | { ok: false; text: string };

const NOT_FIELDS = new Set(['action', 'key', 'api', 'service']);

export function checkAddFields(service: SimService, params: Record<string, string>, now: number): AddCheck {
  const terms: ServiceTerms = {
    type: simServiceType(service),
    rate: new Decimal(service.rate).toFixed(5),
    min: service.min,
    max: service.max,
    // A provider that offers drip-feed runs it itself.
    dripfeed: service.dripfeed ? 'provider' : 'none',
  };
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) if (!NOT_FIELDS.has(name) && value !== '') fields[name] = value;
  const read = readOrder(terms, fields, now);
  if (!read.ok) {
    if (read.field === 'link') return { ok: false, text: 'Bad link' };
    if (read.rule === 'R-MINMAX' && ['quantity', 'comments', 'usernames', 'runs'].includes(read.field)) {
      const value = read.value ?? 0;
      return { ok: false, text: value < service.min ? `Quantity less than minimal ${service.min}` : `Quantity more than maximum ${service.max}` };
    }
    if (read.field === 'quantity') return { ok: false, text: 'Incorrect quantity' };
    return { ok: false, text: read.message };
  }
  const order = read.order;
  return {
    ok: true,
    quantity: order.quantity,
    charge: new Decimal(order.charge),
    target: order.link ?? order.subscription!.username,
    fields,
    ...(order.subscription ? { subscription: order.subscription } : {}),
  };
}
