/** The pure parts of support's move (workflows/move-state.ts, R-SUBSTITUTE), without Temporal. */
import fc from 'fast-check';
import { decideMove, deliveredBeforeMove, isCurrentUpstream, newMoveRecord, remainingAfterStop, stoppingMove, undelivered } from '../../workflows/move-state';
import { initialOrderState } from '../../workflows/order-state';
import type { MoveRequest, OrderInput, OrderState, ProviderUpdate } from '../../workflows/order-contract';

const T0 = Date.UTC(2026, 0, 1);
const input: OrderInput = {
  orderId: 7, userId: 1, serviceId: 2, providerId: 3, providerServiceId: '1', link: 'https://instagram.com/x',
  linkKey: 'https://instagram.com/x', quantity: 1000, rate: '0.90000', charge: '0.90000', guarantee: { kind: 'none' },
  cancelable: true, placedAt: T0,
};

function started(remains: number | null = 600): OrderState {
  const state = initialOrderState(input);
  state.status = 'in_progress';
  state.providerOrderId = '10001';
  state.remains = remains;
  return state;
}

const request = (extra: Partial<MoveRequest> = {}): MoveRequest => ({
  target: { serviceId: 9, providerId: 4, providerServiceId: '1', min: 50, max: 10_000 },
  requestedBy: { kind: 'support', userId: 2 },
  reason: 'too slow',
  requestId: 'm1',
  ...extra,
});
const idle = { moveInFlight: false, cancelInFlight: false };
const update = (u: Partial<ProviderUpdate>): ProviderUpdate => ({ status: 'partial', startCount: 100, remains: 400, observedAt: T0, ...u });

describe('decideMove', () => {
  it('R-SUBSTITUTE: support may move an in-progress order whose undelivered part fits the target', () => {
    expect(decideMove(started(), request(), idle)).toEqual({ allowed: true });
  });

  it.each([
    ['a user', request({ requestedBy: { kind: 'user', userId: 1 } as never }), idle, 'only support can move an order'],
    ['no reason', request({ reason: '' }), idle, 'a move needs a stated reason'],
    ['no request id', request({ requestId: '' }), idle, 'a move needs a requestId'],
    ['a move in flight', request(), { moveInFlight: true, cancelInFlight: false }, 'a move of this order is already being carried out'],
    ['a cancel in flight', request(), { moveInFlight: false, cancelInFlight: true }, 'a cancel of this order is being carried out'],
    ['its own service', request({ target: { serviceId: 2, providerId: 3, providerServiceId: '1', min: 50, max: 10_000 } }), idle, 'the order is already on this service'],
    ['a target too small for the rest', request({ target: { serviceId: 9, providerId: 4, providerServiceId: '1', min: 50, max: 500 } }), idle, "the undelivered 600 is outside service 9's 50..500"],
  ] as const)('R-SUBSTITUTE: refused with %s', (_, req, busy, reason) => {
    expect(decideMove(started(), req as MoveRequest, busy)).toEqual({ allowed: false, rule: 'R-SUBSTITUTE', reason });
  });

  it.each([
    ['a drip-feed its provider runs', { dripFeed: { mode: 'provider' as const } }, /^a drip-feed its provider runs cannot be moved: the other provider would get runs and interval with the per-run quantity/],
    ['a subscription', { subscription: { username: 'u' } }, /^a subscription cannot be moved/],
    ['a Custom Comments order', { serviceType: 'custom_comments' as const }, /^a Custom Comments order has no quantity to send on in part/],
    ['a Package', { serviceType: 'package' as const }, /^a Package order has no quantity to send on in part/],
  ])('R-SUBSTITUTE: the workflow itself refuses to move %s (its type cannot be sent on as a plain order)', (_, kind, reason) => {
    expect(decideMove(started(), request(), idle, kind)).toEqual({ allowed: false, rule: 'R-SUBSTITUTE', reason: expect.stringMatching(reason) });
  });

  it('R-SUBSTITUTE: a Default order (no type fields, or a Mentions order with its given quantity) still moves', () => {
    expect(decideMove(started(), request(), idle, {})).toEqual({ allowed: true });
    expect(decideMove(started(), request(), idle, { serviceType: 'mentions' })).toEqual({ allowed: true });
  });

  it('R-SUBSTITUTE: a move already waiting for its old upstream order refuses a second one', () => {
    const state = started();
    state.moves = [newMoveRecord(state, request(), T0)];
    expect(stoppingMove(state)).toBe(state.moves[0]);
    expect(decideMove(state, request({ requestId: 'm2' }), idle)).toMatchObject({ allowed: false, reason: 'a move of this order is already being carried out' });
  });

  it('R-SUBSTITUTE: the undelivered part is the last remains, else what the upstream order is for', () => {
    expect(undelivered(started(250))).toBe(250);
    expect(undelivered(started(null))).toBe(1000);
    const moved = started(null);
    moved.upstreamQuantity = 400;
    expect(undelivered(moved)).toBe(400);
    expect(deliveredBeforeMove(moved)).toBe(true);
    expect(deliveredBeforeMove(started())).toBe(false);
  });
});

describe('isCurrentUpstream', () => {
  it('R-SUBSTITUTE: an update about the current upstream order applies; one about another order does not', () => {
    const state = started();
    expect(isCurrentUpstream(state, update({ providerId: 3, providerOrderId: '10001' }))).toBe(true);
    expect(isCurrentUpstream(state, update({ providerId: 3, providerOrderId: '10002' }))).toBe(false);
    expect(isCurrentUpstream(state, update({ providerId: 4, providerOrderId: '10001' }))).toBe(false);
    expect(isCurrentUpstream(state, update({}))).toBe(true); // names nothing: an older sender
  });

  it('R-SUBSTITUTE: before the new dispatch answered, only the upstream orders a move left behind are refused', () => {
    const state = started();
    state.moves = [{ ...newMoveRecord(state, request(), T0), phase: 'moved', quantity: 400 }];
    state.providerOrderId = null;
    state.providerId = 4;
    expect(isCurrentUpstream(state, update({ providerId: 3, providerOrderId: '10001' }))).toBe(false);
    // The sync may read the new upstream order before the dispatch's answer reached the workflow.
    expect(isCurrentUpstream(state, update({ providerId: 4, providerOrderId: '555' }))).toBe(true);
  });
});

describe('remainingAfterStop', () => {
  it('R-SUBSTITUTE: Partial gives its remains, Canceled its remains or all of it; other statuses do not stop it', () => {
    const state = started();
    expect(remainingAfterStop(state, update({ status: 'partial', remains: 400 }))).toBe(400);
    expect(remainingAfterStop(state, update({ status: 'canceled', remains: null }))).toBe(1000);
    expect(remainingAfterStop(state, update({ status: 'canceled', remains: 300 }))).toBe(300);
    expect(remainingAfterStop(state, update({ status: 'partial', remains: null }))).toBe(600);
    expect(remainingAfterStop(state, update({ status: 'completed', remains: 0 }))).toBeNull();
    expect(remainingAfterStop(state, update({ status: 'in_progress' }))).toBeNull();
  });

  it('R-SUBSTITUTE: the rest is always within 0..what the upstream order is for, whatever the provider says (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -5000, max: 5000 }), fc.constantFrom('partial' as const, 'canceled' as const), (upstream, remains, status) => {
        const state = started(null);
        state.upstreamQuantity = upstream;
        const rest = remainingAfterStop(state, update({ status, remains }))!;
        expect(rest).toBeGreaterThanOrEqual(0);
        expect(rest).toBeLessThanOrEqual(upstream);
      }),
    );
  });
});
