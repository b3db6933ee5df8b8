import {
  clampRemains,
  errorText,
  normalizeOrderStatus,
  normalizeRefillStatus,
  parseCancelAnswer,
  parseCount,
  parseId,
  parseMultiStatus,
  parseOrderStatusEntry,
  parseOrdersByLink,
  parseRefillAnswer,
  parseRefillMultiAnswer,
  parseRefillStatusAnswer,
  parseServices,
} from '../../activities/provider/parse';

describe('normalizeOrderStatus: every spelling providers send', () => {
  it.each([
    ['Pending', 'pending'],
    ['pending', 'pending'],
    ['In progress', 'in_progress'],
    ['in progress', 'in_progress'],
    ['in_progress', 'in_progress'],
    ['In_Progress', 'in_progress'],
    ['IN PROGRESS', 'in_progress'],
    ['Processing', 'in_progress'],
    ['processing', 'in_progress'],
    ['Completed', 'completed'],
    ['completed', 'completed'],
    ['Partial', 'partial'],
    ['partial', 'partial'],
    ['Canceled', 'canceled'],
    ['Cancelled', 'canceled'],
    ['cancelled', 'canceled'],
    ['Refunded', 'canceled'],
    [' Completed ', 'completed'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeOrderStatus(raw)).toBe(expected);
  });

  it.each([['Paused'], ['Fail'], [''], [null], [3], [undefined]])('unknown %j → null (never guessed)', (raw) => {
    expect(normalizeOrderStatus(raw)).toBeNull();
  });
});

describe('normalizeRefillStatus', () => {
  it.each([
    ['Pending', 'pending'],
    ['Awaiting', 'pending'],
    ['In progress', 'in_progress'],
    ['Processing', 'in_progress'],
    ['Completed', 'completed'],
    ['Rejected', 'rejected'],
    ['Failed', 'rejected'],
    ['Error', 'rejected'],
    ['error', 'rejected'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeRefillStatus(raw)).toBe(expected);
  });
});

describe('parseCount (remains, start_count)', () => {
  it.each([
    ['157', 157],
    [157, 157],
    ['-12', -12],
    [' 3572 ', 3572],
    ['157.0', 157],
    ['1,234', 1234],
    ['0', 0],
  ])('%j → %j', (raw, n) => {
    expect(parseCount(raw)).toBe(n);
  });
  it.each([['Unknown'], ['unknown'], [''], [null], [undefined], ['12abc'], [Number.NaN], [{}]])('%j → null', (raw) => {
    expect(parseCount(raw)).toBeNull();
  });
});

describe('parseId: integer and string order ids', () => {
  it.each([
    [23501, '23501'],
    ['23501', '23501'],
    [' 23501', '23501'],
    ['0023501', '23501'],
  ])('%j → %j', (raw, id) => expect(parseId(raw)).toBe(id));
  it.each([[0], ['0'], [-1], [1.5], ['abc'], [null], ['']])('%j → null', (raw) => expect(parseId(raw)).toBeNull());
});

describe('parseOrderStatusEntry', () => {
  it('reads the reference answer: numbers as strings', () => {
    const raw = { charge: '0.27819', start_count: '3572', status: 'Partial', remains: '157', currency: 'USD' };
    expect(parseOrderStatusEntry(raw)).toEqual({ status: 'partial', startCount: 3572, remains: 157, charge: '0.27819', currency: 'USD', raw });
  });

  it('reads numbers sent as JSON numbers', () => {
    expect(parseOrderStatusEntry({ charge: 0.9, start_count: 10, status: 'Completed', remains: 0 })).toMatchObject({
      status: 'completed',
      startCount: 10,
      remains: 0,
      charge: '0.9',
    });
  });

  it('R-PARTIAL: remains "Unknown" parses to null, not 0 (no refund can be guessed from it)', () => {
    expect(parseOrderStatusEntry({ status: 'Partial', remains: 'Unknown', start_count: '5' })).toMatchObject({ status: 'partial', remains: null });
  });

  it('R-PARTIAL: negative remains (over-delivery) are kept as the provider said them', () => {
    expect(parseOrderStatusEntry({ status: 'Completed', remains: '-25', start_count: '100' })).toMatchObject({ remains: -25 });
  });

  it('R-COUNTERS: start_count 0 while pending means "not known yet" (null); once started 0 is a real count', () => {
    expect(parseOrderStatusEntry({ status: 'Pending', start_count: '0', remains: '100' })).toMatchObject({ startCount: null });
    expect(parseOrderStatusEntry({ status: 'In progress', start_count: '0', remains: '90' })).toMatchObject({ startCount: 0 });
  });

  it('an error entry and an unrecognised status are errors, never a guessed status', () => {
    expect(parseOrderStatusEntry({ error: 'Incorrect order ID' })).toEqual({ error: 'Incorrect order ID', scope: 'order', raw: { error: 'Incorrect order ID' } });
    expect(parseOrderStatusEntry({ status: 'Paused', remains: '1' })).toMatchObject({ error: 'Unrecognised status "Paused"' });
    expect(parseOrderStatusEntry('Completed')).toMatchObject({ scope: 'order' });
  });
});

describe('clampRemains (R-PARTIAL refund arithmetic)', () => {
  it('R-PARTIAL: negative remains owe nothing', () => expect(clampRemains(-25, 1000)).toBe(0));
  it('R-PARTIAL: remains above quantity owe at most the quantity (a refund never exceeds the charge)', () =>
    expect(clampRemains(1500, 1000)).toBe(1000));
  it('R-PARTIAL: unknown remains stay unknown', () => expect(clampRemains(null, 1000)).toBeNull());
  it('R-PARTIAL: ordinary remains pass through', () => expect(clampRemains(157, 1000)).toBe(157));
});

describe('parseMultiStatus', () => {
  it('reads the multi answer keyed by id, with per-id errors, keyed by the ids as asked', () => {
    const body = {
      '1': { charge: '0.27819', start_count: '3572', status: 'Partial', remains: '157', currency: 'USD' },
      '10': { error: 'Incorrect order ID' },
    };
    const m = parseMultiStatus(body, ['1', '10', '100']);
    expect(m.get('1')).toMatchObject({ status: 'partial', remains: 157 });
    expect(m.get('10')).toMatchObject({ error: 'Incorrect order ID', scope: 'order' });
    expect(m.get('100')).toMatchObject({ error: 'Missing from the provider answer', scope: 'order' });
  });

  it('a whole-call error (bad key) is given to every id with scope "request"', () => {
    const m = parseMultiStatus({ error: 'Invalid API key' }, ['1', '2']);
    expect([...m.values()]).toEqual([
      { error: 'Invalid API key', scope: 'request', raw: { error: 'Invalid API key' } },
      { error: 'Invalid API key', scope: 'request', raw: { error: 'Invalid API key' } },
    ]);
  });

  it('accepts a single-form answer when one id was asked', () => {
    expect(parseMultiStatus({ status: 'Completed', remains: '0', start_count: '1' }, ['42']).get('42')).toMatchObject({ status: 'completed' });
  });

  it('accepts an array form with string order ids', () => {
    const m = parseMultiStatus([{ order: '7', status: 'pending', remains: '10' }], ['7']);
    expect(m.get('7')).toMatchObject({ status: 'pending', remains: 10 });
  });
});

describe('cancel, refill and refill status answers', () => {
  it('cancel: [{order, cancel:1}] is accepted, {error} per id is an error, a whole-call error goes to every id', () => {
    const m = parseCancelAnswer([{ order: 2, cancel: 1 }, { order: '9', cancel: { error: 'Incorrect order ID' } }], ['2', '9', '11']);
    expect(m.get('2')).toEqual({ accepted: true });
    expect(m.get('9')).toEqual({ accepted: false, error: 'Incorrect order ID' });
    expect(m.get('11')).toEqual({ accepted: false, error: 'Missing from the provider answer' });
    expect(parseCancelAnswer({ error: 'Invalid API key' }, ['1']).get('1')).toEqual({ accepted: false, error: 'Invalid API key' });
  });

  it('refill single: {"refill":"1"} (string) and {"refill":1} both give refill id "1"', () => {
    expect(parseRefillAnswer({ refill: '1' })).toEqual({ refillId: '1' });
    expect(parseRefillAnswer({ refill: 1 })).toEqual({ refillId: '1' });
    expect(parseRefillAnswer({ error: 'Order not eligible for refill.' })).toEqual({ error: 'Order not eligible for refill.' });
    expect(parseRefillAnswer({ refill: { error: 'Incorrect order ID' } })).toEqual({ error: 'Incorrect order ID' });
  });

  it('refill multi: integer refill ids and per-order errors', () => {
    const m = parseRefillMultiAnswer([{ order: 1, refill: 1 }, { order: 3, refill: { error: 'Incorrect order ID' } }], ['1', '3']);
    expect(m.get('1')).toEqual({ refillId: '1' });
    expect(m.get('3')).toEqual({ error: 'Incorrect order ID' });
  });

  it('refill status: multi and single forms, quirky spellings normalised', () => {
    const m = parseRefillStatusAnswer(
      [{ refill: 1, status: 'Completed' }, { refill: 2, status: 'Failed' }, { refill: 3, status: { error: 'Refill not found' } }, { refill: 4, status: 'Awaiting' }],
      ['1', '2', '3', '4'],
    );
    expect(m.get('1')).toMatchObject({ status: 'completed' });
    expect(m.get('2')).toMatchObject({ status: 'rejected' });
    expect(m.get('3')).toMatchObject({ error: 'Refill not found', scope: 'order' });
    expect(m.get('4')).toMatchObject({ status: 'pending' });
    expect(parseRefillStatusAnswer({ status: 'Processing' }, ['9']).get('9')).toMatchObject({ status: 'in_progress' });
  });
});

describe('other answers', () => {
  it('orders_by_link: a list is read; an error answer means "not supported" (null)', () => {
    expect(parseOrdersByLink([{ order: '5', status: 'in_progress', created: '2025-01-01T00:00:00.000Z' }])).toEqual([
      { providerOrderId: '5', status: 'in_progress', rawStatus: 'in_progress', created: '2025-01-01T00:00:00.000Z' },
    ]);
    expect(parseOrdersByLink({ error: 'Incorrect request' })).toBeNull();
  });

  it('services: strings and booleans in any of the forms panels use', () => {
    const [s] = parseServices([{ service: 1, name: 'F', type: 'Default', category: 'IG', rate: '0.90', min: '50', max: 10000, refill: true, cancel: '0' }])!;
    expect(s).toMatchObject({ service: '1', rate: '0.90', min: 50, max: 10000, refill: true, cancel: false });
  });

  it('errorText reads the error forms seen in the wild', () => {
    expect(errorText({ error: 'x' })).toBe('x');
    expect(errorText({ error: { message: 'y' } })).toBe('y');
    expect(errorText({ error: true, message: 'z' })).toBe('z');
    expect(errorText({ errors: ['a', 'b'] })).toBe('a; b');
    expect(errorText({ order: 1 })).toBeNull();
    expect(errorText([])).toBeNull();
  });
});
