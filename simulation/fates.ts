/**
 * What happens to an order at its provider, chosen per order from the seed. Each fate is a
 * provider-simulator scenario (provider-simulator/README.md) for the links that carry its token;
 * `oncePerOrder` fates hold an `add` misbehaviour that happens once for that order only (a rule
 * registered for its exact link), as a flaky provider does.
 */
import type { Scenario } from '../provider-simulator/scenarios';

export interface Fate {
  name: string;
  weight: number;
  scenario: Scenario;
  /** The rule is registered for the order's own link (its `add.times` counts for this order only). */
  oncePerOrder?: boolean;
  /** Only for services with a refill guarantee (the fate is about refills). */
  refillOnly?: boolean;
  /**
   * Which orders it is meant for: `plain` ones (delivery of a quantity: partial, over-delivery,
   * stall...), `subscription`s (posts served over days), or both (absent: the `add` misbehaving).
   */
  for?: 'plain' | 'subscription';
}

const MIN = 60_000;
const HOUR = 60 * MIN;

export const FATES: readonly Fate[] = [
  // Plain orders (and every run of an engine drip-feed: its runs share the link, so the fate).
  { name: 'complete', for: 'plain', weight: 40, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed' } },
  { name: 'complete_slow', for: 'plain', weight: 12, scenario: { startDelayMs: 6 * HOUR, speedPerSec: 0.02, end: 'completed' } },
  { name: 'partial', for: 'plain', weight: 8, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.2, end: 'partial', partialRemains: 7 } },
  { name: 'provider_cancel', for: 'plain', weight: 4, scenario: { startDelayMs: 2 * HOUR, speedPerSec: 0.1, end: 'canceled', cancelAfterMs: 3 * HOUR } },
  // Past the 24 h start window (R-START-WINDOW) and the 10 days of R-CANCEL-STALLED.
  { name: 'stall', for: 'plain', weight: 3, scenario: { startDelayMs: 40 * 24 * HOUR, speedPerSec: 0 } },
  { name: 'over_deliver', for: 'plain', weight: 4, scenario: { startDelayMs: 15 * MIN, speedPerSec: 1, end: 'completed', overDeliver: 40 } },
  // Any order, subscriptions too: the `add` misbehaves (once for that order, or refused for good).
  { name: 'lost_add', weight: 4, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'empty', times: 1 } } },
  { name: 'lost_add_unrecorded', weight: 2, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'reset', times: 1, record: false } } },
  // Answers after the engine's provider timeout (real milliseconds; see world.ts PROVIDER_TIMEOUT_MS).
  { name: 'slow_add', weight: 2, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'hang', times: 1, hangMs: 900 } } },
  { name: 'html_502_add', weight: 3, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'http500', times: 1 } } },
  { name: 'html_200_add', weight: 1, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'non_json', times: 1 } } },
  { name: 'add_refused', weight: 2, scenario: { add: { respond: 'error', error: 'private_account' } } },
  { name: 'refill_rejected', for: 'plain', weight: 4, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'reject', refillDelayMs: HOUR } },
  { name: 'refill_refused', for: 'plain', weight: 2, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'refuse' } },
  { name: 'refill_ok', for: 'plain', weight: 6, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'accept', refillDelayMs: HOUR, refillDurationMs: 3 * HOUR } },
  // Subscriptions (posts every 8 h, see BASE_RULES): served steadily, paused for a day, dropped by the provider.
  { name: 'sub_steady', for: 'subscription', weight: 30, scenario: { startDelayMs: 30 * MIN } },
  { name: 'sub_paused', for: 'subscription', weight: 8, scenario: { startDelayMs: 30 * MIN, pauseAfterMs: 4 * HOUR, pauseForMs: 24 * HOUR } },
  { name: 'sub_provider_cancel', for: 'subscription', weight: 6, scenario: { startDelayMs: 30 * MIN, end: 'canceled', cancelAfterMs: 20 * HOUR } },
  { name: 'sub_dropped_at_once', for: 'subscription', weight: 5, scenario: { startDelayMs: 2 * HOUR, end: 'canceled', cancelAfterMs: 3 * HOUR } },
];

/** Whether a fate suits an order of this kind (a subscription or not) and guarantee. */
export function fateFits(fate: Fate, order: { subscription: boolean; refill: boolean }): boolean {
  if (fate.refillOnly && !order.refill) return false;
  if (fate.for === 'plain' && order.subscription) return false;
  if (fate.for === 'subscription' && !order.subscription) return false;
  return true;
}

/**
 * Rules registered at the simulator before the fates' (older: a fate's fields override them): the
 * world's accounts post every 8 hours (subscriptions end in days, not weeks).
 */
export const BASE_RULES: ReadonlyArray<{ token: string; scenario: Scenario }> = [{ token: 'sim_account_', scenario: { postEveryMs: 8 * HOUR } }];

/** The token in a link that selects its fate's scenario (case-insensitive containment in the simulator). */
export function fateToken(name: string): string {
  return `_fate_${name}_`;
}
