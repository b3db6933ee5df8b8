import type { OrderStatus } from './order-status';
import type { RefillGuarantee } from './refill-policy';
import type { RuleId } from './rule-ids';

/**
 * R-SUBSTITUTE: support may move an order that has not finished to another, similar service or
 * provider to get it done in time; the order keeps its charge (and the terms it was sold with:
 * R-PRICE-SNAPSHOT), and the new provider gets the part still undelivered.
 *
 * "Similar" is decided here, from the catalogue:
 * - same category and same type (the same kind of units for the same kind of link);
 * - active, and a different service from the order's current one;
 * - a guarantee at least as long as the order's, so its refills still have somewhere to go
 *   (none < N days < M days (N < M) < lifetime);
 * - the undelivered quantity within the target's min..max, or its provider would refuse it.
 */
export interface SubstituteService {
  id: number;
  category: string;
  type: string;
  active: boolean;
  min: number;
  max: number;
  guarantee: RefillGuarantee;
}

export interface SubstituteInput {
  status: OrderStatus;
  current: SubstituteService;
  target: SubstituteService;
  /** The order's own guarantee (snapshotted at placement). */
  guarantee: RefillGuarantee;
  /** Units not delivered yet: the order's remains if reported, else its quantity. */
  undelivered: number;
}

export type SubstituteDecision = { allowed: true } | { allowed: false; rule: RuleId; reason: string };

const MOVABLE: readonly OrderStatus[] = ['pending', 'in_progress'];

function guaranteeRank(g: RefillGuarantee): number {
  if (g.kind === 'none') return 0;
  if (g.kind === 'lifetime') return Number.POSITIVE_INFINITY;
  return g.days;
}

/** Why an order in this status cannot be moved, or null when it can (pending, in_progress). */
export function unmovableReason(status: OrderStatus): string | null {
  if (MOVABLE.includes(status)) return null;
  if (status === 'dispatch_uncertain') return 'the order\'s dispatch is uncertain: resolve it first';
  if (status === 'new') return 'the order is still being placed; try again in a moment';
  return `the order is ${status}: only an order that has not finished can be moved`;
}

/** Whether `undelivered` units fit the target service's quantity bounds. */
export function fitsTarget(undelivered: number, target: { min: number; max: number }): boolean {
  return undelivered >= target.min && undelivered <= target.max;
}

export function decideSubstitute(input: SubstituteInput): SubstituteDecision {
  const refuse = (reason: string): SubstituteDecision => ({ allowed: false, rule: 'R-SUBSTITUTE', reason });
  const { status, current, target } = input;
  const unmovable = unmovableReason(status);
  if (unmovable) return refuse(unmovable);
  if (target.id === current.id) return refuse('the order is already on this service');
  if (!target.active) return refuse(`service ${target.id} is not active`);
  if (target.category !== current.category || target.type !== current.type) {
    return refuse(`service ${target.id} is not similar: category/type "${target.category}"/"${target.type}", the order's is "${current.category}"/"${current.type}"`);
  }
  if (guaranteeRank(target.guarantee) < guaranteeRank(input.guarantee)) {
    return refuse(`service ${target.id} guarantees less than the order was sold with`);
  }
  if (!fitsTarget(input.undelivered, target)) {
    return refuse(`the undelivered ${input.undelivered} is outside service ${target.id}'s ${target.min}..${target.max}`);
  }
  return { allowed: true };
}
