import { API_V2_STATUS_TABLE, toApiV2Status } from '../../domain/api-v2-status';
import { ORDER_STATUSES, OrderStatus, isFinal } from '../../domain/order-status';

// Expected values written out here, independently of the table in the source.
const rows: [OrderStatus, boolean, string][] = [
  ['new', false, 'Pending'],
  ['new', true, 'Pending'],
  ['pending', false, 'Pending'],
  ['pending', true, 'Processing'],
  ['dispatch_uncertain', false, 'Pending'],
  ['dispatch_uncertain', true, 'Processing'],
  ['in_progress', false, 'In progress'],
  ['in_progress', true, 'Processing'],
  ['completed', false, 'Completed'],
  ['completed', true, 'Completed'],
  ['partial', false, 'Partial'],
  ['partial', true, 'Partial'],
  ['canceled', false, 'Canceled'],
  ['canceled', true, 'Canceled'],
  ['rejected', false, 'Canceled'],
  ['rejected', true, 'Canceled'],
];

describe('API v2 status mapping', () => {
  it.each(rows)('API-V2: engine %s with cancelRequested=%s is shown as %j', (status, cancelRequested, api) => {
    expect(toApiV2Status(status, { cancelRequested })).toBe(api);
  });

  it('API-V2: the table has exactly one documented row per status and cancel flag', () => {
    expect(API_V2_STATUS_TABLE).toHaveLength(ORDER_STATUSES.length * 2);
    for (const status of ORDER_STATUSES) {
      for (const cancelRequested of [false, true]) {
        const matches = API_V2_STATUS_TABLE.filter((r) => r.status === status && r.cancelRequested === cancelRequested);
        expect(matches).toHaveLength(1);
        expect(matches[0].why.length).toBeGreaterThan(0);
      }
    }
  });

  it('R-START-WINDOW: overdue, stalled and refillFailed flags do not change the API status', () => {
    for (const status of ORDER_STATUSES) {
      const plain = toApiV2Status(status, { cancelRequested: false });
      const flagged = toApiV2Status(status, { cancelRequested: false, overdue: true, stalled: true, refillFailed: true } as never);
      expect(flagged).toBe(plain);
    }
  });

  it('API-V2: a non-final engine status never shows as a final API status (resellers would stop polling)', () => {
    for (const status of ORDER_STATUSES.filter((s) => !isFinal(s))) {
      for (const cancelRequested of [false, true]) {
        expect(['Pending', 'In progress', 'Processing']).toContain(toApiV2Status(status, { cancelRequested }));
      }
    }
  });

  it('API-V2: an unknown engine status is an error, not a guess', () => {
    expect(() => toApiV2Status('shipped' as OrderStatus, { cancelRequested: false })).toThrow(/unknown order status/);
  });
});
