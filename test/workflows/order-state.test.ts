/** The order workflow's pure state changes (workflows/order-state.ts), without Temporal. */
import { applyProviderUpdate, initialOrderState, mirrorPatch, mirrorSnapshot } from '../../workflows/order-state';
import type { OrderInput, OrderState, ProviderUpdate } from '../../workflows/order-contract';

const T0 = Date.UTC(2026, 0, 1);
const input: OrderInput = {
  orderId: 7,
  userId: 1,
  serviceId: 2,
  providerId: 3,
  providerServiceId: '1',
  link: 'https://instagram.com/x',
  linkKey: 'https://instagram.com/x',
  quantity: 1000,
  rate: '0.90000',
  charge: '0.90000',
  guarantee: { kind: 'none' },
  cancelable: true,
  placedAt: T0,
};

function pending(): OrderState {
  const state = initialOrderState(input);
  state.status = 'pending';
  state.providerOrderId = '10001';
  return state;
}

const update = (u: Partial<ProviderUpdate>): ProviderUpdate => ({ status: 'in_progress', startCount: 100, remains: 1000, observedAt: T0 + 1000, ...u });

describe('applyProviderUpdate', () => {
  it('R-COUNTERS: the start records start count, remains and the start time; the first start count stays', () => {
    const state = pending();
    expect(applyProviderUpdate(state, update({}), T0 + 2000)).toBe('moved');
    expect(state).toMatchObject({ status: 'in_progress', startCount: 100, remains: 1000 });
    expect(state.timestamps.startedAt).toBe(T0 + 1000);
    expect(applyProviderUpdate(state, update({ startCount: 555, remains: 400 }), T0 + 3000)).toBe('progress');
    expect(state).toMatchObject({ startCount: 100, remains: 400 });
  });

  it('forward moves only: duplicates, "Pending" after a start and anything after a final status change nothing', () => {
    const state = pending();
    applyProviderUpdate(state, update({}), T0 + 2000);
    expect(applyProviderUpdate(state, update({}), T0 + 3000)).toBe('ignored');
    expect(applyProviderUpdate(state, update({ status: 'pending', remains: 1000 }), T0 + 3000)).toBe('ignored');
    expect(applyProviderUpdate(state, update({ status: 'partial', remains: 300 }), T0 + 4000)).toBe('moved');
    expect(state.timestamps.finishedAt).toBe(T0 + 4000);
    const after = JSON.stringify(state);
    expect(applyProviderUpdate(state, update({ status: 'canceled', remains: 1000 }), T0 + 5000)).toBe('ignored');
    expect(applyProviderUpdate(state, update({ status: 'partial', remains: 10 }), T0 + 5000)).toBe('ignored');
    expect(JSON.stringify(state)).toBe(after);
  });

  it('nothing applies before the order is paid (status new)', () => {
    const state = initialOrderState(input);
    expect(applyProviderUpdate(state, update({ status: 'completed', remains: 0 }), T0)).toBe('ignored');
    expect(state.status).toBe('new');
  });

  it('R-PARTIAL inputs: remains are clamped to 0..quantity; "Unknown" (null) keeps the last known value', () => {
    const over = pending();
    applyProviderUpdate(over, update({ status: 'partial', remains: -50, raw: { remains: '-50' } }), T0);
    expect(over).toMatchObject({ remains: 0, lastProviderAnswer: { remains: '-50' } });
    const under = pending();
    applyProviderUpdate(under, update({ status: 'partial', remains: 5000 }), T0);
    expect(under.remains).toBe(1000);
    const unknown = pending();
    applyProviderUpdate(unknown, update({ remains: 600 }), T0);
    applyProviderUpdate(unknown, update({ status: 'partial', remains: null }), T0 + 1);
    expect(unknown).toMatchObject({ status: 'partial', remains: 600 });
  });

  it('a canceled order never started: no start time; a start reported in the future counts as now', () => {
    const canceled = pending();
    applyProviderUpdate(canceled, update({ status: 'canceled', startCount: null }), T0 + 10);
    expect(canceled.timestamps.startedAt).toBeNull();
    const skewed = pending();
    applyProviderUpdate(skewed, update({ observedAt: T0 + 60_000 }), T0 + 10);
    expect(skewed.timestamps.startedAt).toBe(T0 + 10);
  });
});

describe('mirror patch', () => {
  it('holds exactly the changed mirrored fields, null when nothing changed', () => {
    const state = pending();
    const written = mirrorSnapshot(state);
    expect(mirrorPatch(written, mirrorSnapshot(state), state)).toBeNull();
    applyProviderUpdate(state, update({ raw: { status: 'In progress' } }), T0 + 2000);
    state.flags.overdue = true;
    expect(mirrorPatch(written, mirrorSnapshot(state), state)).toEqual({
      status: 'in_progress',
      overdue: true,
      startCount: 100,
      remains: 1000,
      lastProviderAnswer: { status: 'In progress' },
      startedAt: T0 + 1000,
    });
  });
});
