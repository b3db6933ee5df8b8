import fc from 'fast-check';
import { CancelInput, decideCancel, decideSupportCancel } from '../../domain/cancel-policy';
import { ORDER_STATUSES } from '../../domain/order-status';

const H = 60 * 60 * 1000;
const D = 24 * H;
const placedAt = Date.UTC(2025, 2, 1, 0, 0, 0);
const base: CancelInput = {
  status: 'pending', placedAt, startedAt: null, now: placedAt + H, serviceCancelable: true, suspended: false,
};

describe('decideCancel', () => {
  it('R-CANCEL-REQUEST: a pending order of a cancelable service can be canceled (the provider is asked)', () => {
    expect(decideCancel(base)).toEqual({ allowed: true, rule: 'R-CANCEL-REQUEST' });
  });

  it('R-CANCEL-REQUEST: an in-progress order of a cancelable service can be canceled', () => {
    expect(decideCancel({ ...base, status: 'in_progress', startedAt: placedAt + 2 * H, now: placedAt + 5 * H }))
      .toEqual({ allowed: true, rule: 'R-CANCEL-REQUEST' });
  });

  it('R-NO-REFUND-DONE: a completed order cannot be canceled', () => {
    expect(decideCancel({ ...base, status: 'completed' })).toEqual({
      allowed: false, rule: 'R-NO-REFUND-DONE', reason: 'order is already completed',
    });
  });

  it.each([
    ['partial', /already partially completed/],
    ['canceled', /already canceled/],
    ['rejected', /never paid/],
    ['new', /still being placed/],
    ['dispatch_uncertain', /being confirmed with the provider.*support/],
  ] as const)('R-CANCEL-REQUEST: a %s order is refused with a reason the user understands', (status, reason) => {
    const d = decideCancel({ ...base, status });
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.reason).toMatch(reason);
  });

  it('R-CANCEL-REQUEST: a second cancel while one is being carried out is refused', () => {
    expect(decideCancel({ ...base, cancelRequested: true })).toEqual({
      allowed: false, rule: 'R-CANCEL-REQUEST', reason: 'a cancel request is already in progress',
    });
  });

  const noCancel: CancelInput = { ...base, serviceCancelable: false };

  it('R-CANCEL-STALLED: without cancel support, an order not started at exactly 10 days is still refused, with the date', () => {
    const d = decideCancel({ ...noCancel, now: placedAt + 10 * D });
    expect(d).toEqual({
      allowed: false,
      rule: 'R-CANCEL-STALLED',
      reason: 'this service does not support cancellation; it can be canceled if the order has not started ' +
        'more than 10 days after it was placed (after 2025-03-11T00:00:00.000Z)',
    });
  });

  it('R-CANCEL-STALLED: without cancel support, an order not started for more than 10 days can be canceled', () => {
    expect(decideCancel({ ...noCancel, now: placedAt + 10 * D + 1 })).toEqual({ allowed: true, rule: 'R-CANCEL-STALLED' });
  });

  it('R-CANCEL-STALLED: without cancel support, a started order is refused, however old', () => {
    const d = decideCancel({ ...noCancel, status: 'in_progress', startedAt: placedAt + 11 * D, now: placedAt + 20 * D });
    expect(d).toEqual({
      allowed: false, rule: 'R-CANCEL-STALLED',
      reason: 'this service does not support cancellation and the order has already started',
    });
  });

  it('R-CANCEL-STALLED: without cancel support, an order whose execution is suspended can be canceled, even started', () => {
    expect(decideCancel({ ...noCancel, status: 'in_progress', startedAt: placedAt + H, now: placedAt + 2 * D, suspended: true }))
      .toEqual({ allowed: true, rule: 'R-CANCEL-STALLED' });
  });

  it('R-CANCEL-STALLED: refuses instants that are not whole milliseconds', () => {
    expect(() => decideCancel({ ...base, now: NaN })).toThrow(/now/);
  });

  it('R-CANCEL-REQUEST: every refusal carries a non-empty reason, and only pending/in_progress are ever allowed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ORDER_STATUSES), fc.boolean(), fc.boolean(), fc.boolean(),
        fc.integer({ min: 0, max: 30 * D }),
        (status, serviceCancelable, suspended, cancelRequested, offset) => {
          const d = decideCancel({ status, placedAt, startedAt: null, now: placedAt + offset, serviceCancelable, suspended, cancelRequested });
          if (d.allowed) expect(['pending', 'in_progress']).toContain(status);
          else expect(d.reason.length).toBeGreaterThan(10);
        },
      ),
    );
  });
});

describe('decideSupportCancel (support and admin)', () => {
  const open = ['pending', 'dispatch_uncertain', 'in_progress'] as const;

  it.each(open)('R-CANCEL-FULL: a %s order is canceled with a full refund, whatever the service\'s cancel flag', (status) => {
    expect(decideSupportCancel({ status, mode: 'full_refund', reason: undefined, supportCancelInFlight: false })).toEqual({ allowed: true, rule: 'R-CANCEL-FULL' });
  });

  it.each(open)('R-CANCEL-NO-REFUND: a %s order is canceled without a refund when a reason is stated', (status) => {
    expect(decideSupportCancel({ status, mode: 'no_refund', reason: 'fraudulent link', supportCancelInFlight: false })).toEqual({ allowed: true, rule: 'R-CANCEL-NO-REFUND' });
  });

  it.each([undefined, '', '   '])('R-CANCEL-NO-REFUND: no stated reason (%p) → refused', (reason) => {
    expect(decideSupportCancel({ status: 'in_progress', mode: 'no_refund', reason, supportCancelInFlight: false })).toEqual({
      allowed: false,
      rule: 'R-CANCEL-NO-REFUND',
      reason: 'a cancel without refund needs a stated reason',
    });
  });

  it('R-CANCEL-FULL / R-NO-REFUND-DONE / R-PARTIAL: final and unpaid orders are refused with the same texts a user gets', () => {
    for (const status of ['completed', 'partial', 'canceled', 'rejected', 'new'] as const) {
      const decision = decideSupportCancel({ status, mode: 'full_refund', reason: 'x', supportCancelInFlight: false });
      const user = decideCancel({ ...base, status });
      expect(decision).toEqual(user);
    }
  });

  it('R-CANCEL-FULL: a second support cancel while one is carried out is refused', () => {
    expect(decideSupportCancel({ status: 'pending', mode: 'full_refund', reason: 'x', supportCancelInFlight: true })).toEqual({
      allowed: false,
      rule: 'R-CANCEL-FULL',
      reason: 'a cancel by support is already being carried out',
    });
  });

  it('R-CANCEL-FULL: every status gets an answer, and only paid unfinished orders are accepted (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORDER_STATUSES), fc.constantFrom('full_refund' as const, 'no_refund' as const), fc.string(), (status, mode, reason) => {
        const d = decideSupportCancel({ status, mode, reason, supportCancelInFlight: false });
        const accepted = (open as readonly string[]).includes(status) && (mode === 'full_refund' || reason.trim() !== '');
        expect(d.allowed).toBe(accepted);
      }),
    );
  });
});
