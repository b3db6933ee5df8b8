/**
 * What the world sells and how its orders look, one entry per service type (domain/service-types.ts).
 * The catalogue (services on the panel and at the simulated providers) and the order generator both
 * read this table only: a new order type is one more entry here (its services, its share of orders,
 * and the request body of one order), nothing else in the simulation changes.
 */
import type { ServiceType } from '../domain/service-types';
import type { Rng } from './prng';

export interface CatalogueEntry {
  /** Stable name within the world (scenario, report). */
  key: string;
  name: string;
  /** Services of one category and type are "similar": support may move orders between them (R-SUBSTITUTE). */
  category: string;
  /** Price per 1000, a 5-decimal string. */
  rate: string;
  min: number;
  max: number;
  refill: { kind: 'none' } | { kind: 'days'; days: number } | { kind: 'lifetime' };
  cancelable: boolean;
}

export interface OrderShape {
  type: ServiceType;
  /** Relative share of the orders. */
  weight: number;
  services: readonly CatalogueEntry[];
  /** Link of a fresh target (the fate token is appended by the scenario). */
  link(rng: Rng, n: number): string;
  /** The POST /orders body besides `service` and `link`: quantity, and the fields this type needs. */
  body(rng: Rng, service: CatalogueEntry): Record<string, unknown>;
  /** The charge of one order when it is not rate × quantity / 1000 (books.ts checks every debit against it). */
  charge?(rate: string, quantity: number): string;
}

/** A quantity within the service's bounds, mostly round numbers as resellers send them. */
function roundQuantity(rng: Rng, service: CatalogueEntry): number {
  const steps = [1, 2, 5, 10, 20, 50].map((f) => f * service.min).filter((q) => q <= service.max);
  return rng.chance(0.8) ? rng.pick(steps) : rng.int(service.min, Math.min(service.max, service.min * 40));
}

export const ORDER_SHAPES: readonly OrderShape[] = [
  {
    type: 'default',
    weight: 1,
    services: [
      { key: 'ig-followers-r30', name: 'Instagram Followers [Refill 30D]', category: 'Instagram Followers', rate: '0.90000', min: 50, max: 10000, refill: { kind: 'days', days: 30 }, cancelable: true },
      { key: 'ig-followers-nr', name: 'Instagram Followers [No refill]', category: 'Instagram Followers', rate: '0.45000', min: 50, max: 20000, refill: { kind: 'none' }, cancelable: false },
      { key: 'ig-likes', name: 'Instagram Likes', category: 'Instagram Likes', rate: '0.12000', min: 10, max: 50000, refill: { kind: 'none' }, cancelable: true },
      { key: 'tt-views', name: 'TikTok Views', category: 'TikTok Views', rate: '0.02000', min: 100, max: 1000000, refill: { kind: 'none' }, cancelable: false },
      { key: 'yt-views-life', name: 'YouTube Views [Lifetime refill]', category: 'YouTube Views', rate: '1.50000', min: 100, max: 100000, refill: { kind: 'lifetime' }, cancelable: false },
    ],
    link: (rng, n) => `https://instagram.com/sim-${n}-${rng.int(0, 1e6).toString(36)}`,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service) }),
  },
  // Issue 12 (drip-feed, subscriptions, packages, comments, ...): one entry per type, e.g.
  //   { type: 'custom_comments', weight: 0.2, services: [...], link, body: (rng) => ({ comments: '...' }) }
];
