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
}

const MIN = 60_000;
const HOUR = 60 * MIN;

export const FATES: readonly Fate[] = [
  { name: 'complete', weight: 40, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed' } },
  { name: 'complete_slow', weight: 12, scenario: { startDelayMs: 6 * HOUR, speedPerSec: 0.02, end: 'completed' } },
  { name: 'partial', weight: 8, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.2, end: 'partial', partialRemains: 7 } },
  { name: 'provider_cancel', weight: 4, scenario: { startDelayMs: 2 * HOUR, speedPerSec: 0.1, end: 'canceled', cancelAfterMs: 3 * HOUR } },
  // Past the 24 h start window (R-START-WINDOW) and the 10 days of R-CANCEL-STALLED.
  { name: 'stall', weight: 3, scenario: { startDelayMs: 40 * 24 * HOUR, speedPerSec: 0 } },
  { name: 'over_deliver', weight: 4, scenario: { startDelayMs: 15 * MIN, speedPerSec: 1, end: 'completed', overDeliver: 40 } },
  { name: 'lost_add', weight: 4, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'empty', times: 1 } } },
  { name: 'lost_add_unrecorded', weight: 2, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'reset', times: 1, record: false } } },
  // Answers after the engine's provider timeout (real milliseconds; see world.ts PROVIDER_TIMEOUT_MS).
  { name: 'slow_add', weight: 2, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'hang', times: 1, hangMs: 2_500 } } },
  { name: 'html_502_add', weight: 3, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'http500', times: 1 } } },
  { name: 'html_200_add', weight: 1, oncePerOrder: true, scenario: { startDelayMs: 30 * MIN, speedPerSec: 0.5, add: { respond: 'non_json', times: 1 } } },
  { name: 'add_refused', weight: 2, scenario: { add: { respond: 'error', error: 'private_account' } } },
  { name: 'refill_rejected', weight: 4, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'reject', refillDelayMs: HOUR } },
  { name: 'refill_refused', weight: 2, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'refuse' } },
  { name: 'refill_ok', weight: 6, refillOnly: true, scenario: { startDelayMs: 20 * MIN, speedPerSec: 0.5, end: 'completed', refill: 'accept', refillDelayMs: HOUR, refillDurationMs: 3 * HOUR } },
];

/** The token in a link that selects its fate's scenario (case-insensitive containment in the simulator). */
export function fateToken(name: string): string {
  return `_fate_${name}_`;
}
