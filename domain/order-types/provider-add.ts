/**
 * The provider's `add` for an order, in the provider's own API v2 form (docs/smm-api-v2.md, `add`
 * fields by type): the type's fields unchanged, `link` and `quantity` only where the type has them.
 * Pure: the dispatch activity calls it with the order's row.
 */
import type { ServiceType } from '../service-types';
import { TYPE_SPECS } from './spec';

export interface ProviderAddSource {
  serviceType: ServiceType;
  link: string;
  /** The quantity this upstream order is for (the order's, or after a move the part still undelivered). */
  quantity: number;
  providerFields: Record<string, string> | null;
  dripFeed?: { runs: number; intervalMinutes: number; quantityPerRun: number; mode: 'engine' | 'provider' } | null;
}

/** The fields of `add` besides `action`, `service` and the key. */
export function providerAddFields(order: ProviderAddSource): Record<string, string> {
  const spec = TYPE_SPECS[order.serviceType];
  const fields: Record<string, string> = {};
  if (spec.link) fields.link = order.link;
  if (spec.quantity.kind === 'given') fields.quantity = String(order.quantity);
  Object.assign(fields, order.providerFields ?? {});
  if (order.dripFeed?.mode === 'provider') {
    // The provider runs the feed: quantity is per run, as the reference has it.
    fields.quantity = String(order.dripFeed.quantityPerRun);
    fields.runs = String(order.dripFeed.runs);
    fields.interval = String(order.dripFeed.intervalMinutes);
  }
  return fields;
}
