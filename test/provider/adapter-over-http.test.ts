/**
 * The adapter (activities/provider) against the simulator as a real HTTP server on a loopback port:
 * no HTTP mocks. Time inside the simulator is a virtual clock the tests advance.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import {
  clampRemains,
  createProviderClient,
  isIdError,
  ProviderUnavailableError,
  type OrderStatusInfo,
  type OrderStatusResult,
} from '../../activities/provider';
import { closedPort, startHarness, type CallsAnswer, type SimHarness } from './helpers';

let h: SimHarness;

beforeAll(async () => {
  h = await startHarness({ defaults: { startDelayMs: 10_000, speedPerSec: 10 } });
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  expect((await h.control('POST', '/reset')).status).toBe(200);
});

let linkSeq = 0;
const newLink = (tag = 'user') => `https://instagram.com/${tag}_${++linkSeq}`;

async function place(link: string, quantity = 100, service = 1): Promise<string> {
  const r = await h.client.addOrder({ service, link, quantity });
  if (r.kind !== 'placed') throw new Error(`not placed: ${JSON.stringify(r)}`);
  return r.providerOrderId;
}

async function statusOf(id: string): Promise<OrderStatusResult> {
  return (await h.client.getStatuses([id])).get(id)!;
}

function ok(r: OrderStatusResult | undefined): OrderStatusInfo {
  if (!r || isIdError(r)) throw new Error(`expected a status, got ${JSON.stringify(r)}`);
  return r;
}

async function scenario(linkContains: string, s: unknown): Promise<void> {
  const res = await h.control('POST', '/scenarios', { linkContains, scenario: s });
  expect(res.status).toBe(201);
}

async function calls(action?: string): Promise<CallsAnswer> {
  return (await h.control<CallsAnswer>('GET', `/calls${action ? `?action=${action}` : ''}`)).body;
}

describe('getStatuses: batching', () => {
  it('a batch of 250 ids takes exactly 3 status calls of 100, 100 and 50 ids (the call log proves it)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) ids.push(await place(newLink('batch')));
    await h.control('DELETE', '/calls');

    const statuses = await h.client.getStatuses(ids);

    expect(statuses.size).toBe(250);
    for (const id of ids) expect(ok(statuses.get(id)).status).toBe('pending');
    const log = await calls('status');
    expect(log.total).toBe(3);
    expect(log.calls.map((c) => c.ids)).toEqual([100, 100, 50]);
  });

  it('duplicate ids are asked once', async () => {
    const id = await place(newLink());
    await h.control('DELETE', '/calls');
    const m = await h.client.getStatuses([id, id, id]);
    expect(m.size).toBe(1);
    expect((await calls('status')).calls.map((c) => c.ids)).toEqual([1]);
  });

  it('ids the provider does not know get a per-id "Incorrect order ID" error; the others their status', async () => {
    const id = await place(newLink());
    const m = await h.client.getStatuses([id, '999999', 'abc']);
    expect(ok(m.get(id)).status).toBe('pending');
    expect(m.get('999999')).toMatchObject({ error: 'Incorrect order ID', scope: 'order' });
    expect(m.get('abc')).toMatchObject({ error: 'Incorrect order ID', scope: 'order' });
  });

  it('a bad key answers one error for the whole call, given to every id with scope "request"', async () => {
    const id = await place(newLink());
    const other = createProviderClient({ apiUrl: h.sim.apiUrl, apiKey: 'wrong', timeoutMs: 2000 });
    expect((await other.getStatuses([id])).get(id)).toMatchObject({ error: 'Invalid API key', scope: 'request' });
  });
});

describe('order life over HTTP, driven by the virtual clock', () => {
  it('R-COUNTERS: pending (start count unknown) → in progress with the link count at start → completed, count grown by the delivery', async () => {
    const link = newLink('life');
    await h.control('POST', '/counts', { link, count: 3572 });
    const id = await place(link, 100);

    expect(ok(await statusOf(id))).toMatchObject({ status: 'pending', startCount: null, remains: 100, charge: '0.09000', currency: 'USD' });
    h.clock.advance(10_000 + 5_000); // started, 50 delivered
    expect(ok(await statusOf(id))).toMatchObject({ status: 'in_progress', startCount: 3572, remains: 50 });
    expect(await h.client.readCount(h.sim.countUrl, link)).toEqual({ count: 3622 });
    h.clock.advance(60_000);
    expect(ok(await statusOf(id))).toMatchObject({ status: 'completed', startCount: 3572, remains: 0 });
    expect(await h.client.readCount(h.sim.countUrl, link)).toEqual({ count: 3672 });
  });

  it('R-PARTIAL: a scenario ending Partial answers the configured remains', async () => {
    await scenario('partial-157', { end: 'partial', partialRemains: 157, startDelayMs: 0, speedPerSec: 1000 });
    const id = await place(newLink('partial-157'), 1000);
    h.clock.advance(5_000);
    expect(ok(await statusOf(id))).toMatchObject({ status: 'partial', remains: 157 });
  });

  it('R-AUTO-CANCEL: a provider that cancels the order itself is read as canceled, with nothing delivered', async () => {
    await scenario('autocancel', { end: 'canceled', cancelAfterMs: 3_000 });
    const id = await place(newLink('autocancel'), 100);
    expect(ok(await statusOf(id)).status).toBe('pending');
    h.clock.advance(3_000);
    expect(ok(await statusOf(id))).toMatchObject({ status: 'canceled', remains: 100 });
  });

  it('a stalled order (speed 0) stays in progress however long it waits', async () => {
    await scenario('stalled', { startDelayMs: 0, speedPerSec: 0 });
    const id = await place(newLink('stalled'));
    h.clock.advance(30 * 86_400_000);
    expect(ok(await statusOf(id))).toMatchObject({ status: 'in_progress', remains: 100 });
  });
});

describe('addOrder: classification over real HTTP', () => {
  it('a placed order returns the provider id as a string, and the provider has it', async () => {
    const link = newLink();
    const id = await place(link, 200, 4);
    expect(id).toMatch(/^\d+$/);
    expect(h.sim.state.getOrder(Number(id))).toMatchObject({ link, quantity: 200, service: 4, charge: '0.24000' });
  });

  it('R-AUTO-CANCEL: "Bad link" is refused and nothing was recorded', async () => {
    await scenario('badlink', { add: { respond: 'error', error: 'bad_link' } });
    const link = newLink('badlink');
    expect(await h.client.addOrder({ service: 1, link, quantity: 100 })).toEqual({ kind: 'refused', code: 'bad_link', reason: 'Bad link' });
    expect(h.sim.state.listOrders(link)).toHaveLength(0);
  });

  it('R-AUTO-CANCEL: quantity limits, unknown service and a private account are refused', async () => {
    expect(await h.client.addOrder({ service: 1, link: newLink(), quantity: 10 })).toEqual({
      kind: 'refused',
      code: 'quantity',
      reason: 'Quantity less than minimal 50',
    });
    expect(await h.client.addOrder({ service: 1, link: newLink(), quantity: 10_001 })).toMatchObject({ kind: 'refused', code: 'quantity' });
    expect(await h.client.addOrder({ service: 999, link: newLink(), quantity: 100 })).toMatchObject({
      kind: 'refused',
      code: 'incorrect_service',
      reason: 'Incorrect service ID',
    });
    await scenario('privacc', { add: { respond: 'error', error: 'private_account' } });
    expect(await h.client.addOrder({ service: 1, link: newLink('privacc'), quantity: 100 })).toMatchObject({ kind: 'refused', code: 'private_account' });
  });

  it('"Not enough funds on balance" twice then OK: retry_later, retry_later, placed', async () => {
    await scenario('funds', { add: { respond: 'error', error: 'not_enough_funds', times: 2 } });
    const req = { service: 1, link: newLink('funds'), quantity: 100 };
    expect(await h.client.addOrder(req)).toEqual({ kind: 'retry_later', code: 'funds', reason: 'Not enough funds on balance' });
    expect(await h.client.addOrder(req)).toMatchObject({ kind: 'retry_later', code: 'funds' });
    expect(await h.client.addOrder(req)).toMatchObject({ kind: 'placed' });
  });

  it('a real shortfall of the provider balance is retry_later "funds"', async () => {
    await h.control('POST', '/balance', { balance: '0.01' });
    expect(await h.client.addOrder({ service: 1, link: newLink(), quantity: 100 })).toMatchObject({ kind: 'retry_later', code: 'funds' });
    expect(await h.client.balance()).toEqual({ balance: '0.01000', currency: 'USD' });
  });

  it('"You have active order with this link" once then OK: retry_later then placed', async () => {
    await scenario('busy-link', { add: { respond: 'error', error: 'active_order', times: 1 } });
    const req = { service: 1, link: newLink('busy-link'), quantity: 100 };
    expect(await h.client.addOrder(req)).toMatchObject({ kind: 'retry_later', code: 'active_order' });
    expect(await h.client.addOrder(req)).toMatchObject({ kind: 'placed' });
  });

  it('the provider itself refuses a second active order for the same link (retry_later "active_order")', async () => {
    const link = newLink();
    await place(link);
    expect(await h.client.addOrder({ service: 3, link: `${link}/`, quantity: 100 })).toMatchObject({ kind: 'retry_later', code: 'active_order' });
  });

  it('an error answered with HTTP 400 is read from the body (refused, not uncertain)', async () => {
    await scenario('err400', { add: { respond: 'error', error: 'bad_link' }, quirks: { errorHttpStatus: 400 } });
    expect(await h.client.addOrder({ service: 1, link: newLink('err400'), quantity: 100 })).toMatchObject({ kind: 'refused', code: 'bad_link' });
  });

  it('the ambiguous add, empty body: uncertain, yet the provider recorded the order; orders_by_link finds it; a blind retry is refused as "active order" and never tells the id', async () => {
    await scenario('empty-add', { add: { respond: 'empty', times: 1 } });
    const link = newLink('empty-add');

    const r = await h.client.addOrder({ service: 1, link, quantity: 100 });

    expect(r).toMatchObject({ kind: 'uncertain', code: 'empty_body' });
    const recorded = h.sim.state.listOrders(link);
    expect(recorded).toHaveLength(1);
    const found = await h.client.findOrdersByLink(link);
    expect(found).toEqual([expect.objectContaining({ providerOrderId: String(recorded[0]!.id), status: 'pending' })]);
    expect(await h.client.addOrder({ service: 1, link, quantity: 100 })).toMatchObject({ kind: 'retry_later', code: 'active_order' });
    expect(h.sim.state.listOrders(link)).toHaveLength(1);
  });

  it('the ambiguous add, hanging past the client timeout: uncertain (timeout), yet the provider recorded the order, and orders_by_link finds it', async () => {
    await scenario('hang-add', { add: { respond: 'hang', hangMs: 10_000, times: 1 } });
    const link = newLink('hang-add');
    const started = Date.now();

    const r = await h.clientWith(300).addOrder({ service: 1, link, quantity: 100 });

    expect(r).toMatchObject({ kind: 'uncertain', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const recorded = h.sim.state.listOrders(link);
    expect(recorded).toHaveLength(1);
    expect((await h.client.findOrdersByLink(link))!.map((o) => o.providerOrderId)).toEqual([String(recorded[0]!.id)]);
  });

  it('a connection reset after the order was recorded is uncertain (connection_lost)', async () => {
    await scenario('reset-add', { add: { respond: 'reset', times: 1 } });
    const link = newLink('reset-add');
    expect(await h.client.addOrder({ service: 1, link, quantity: 100 })).toMatchObject({ kind: 'uncertain', code: 'connection_lost' });
    expect(h.sim.state.listOrders(link)).toHaveLength(1);
  });

  it('a 5xx page and a non-JSON 200 page are uncertain', async () => {
    await scenario('five-hundred', { add: { respond: 'http500', record: false } });
    await scenario('html-page', { add: { respond: 'non_json' } });
    expect(await h.client.addOrder({ service: 1, link: newLink('five-hundred'), quantity: 100 })).toMatchObject({ kind: 'uncertain', code: 'http_5xx' });
    expect(await h.client.addOrder({ service: 1, link: newLink('html-page'), quantity: 100 })).toMatchObject({ kind: 'uncertain', code: 'non_json' });
  });

  it('a provider that is not listening (connection refused) is retry_later "not_sent": nothing can have been placed', async () => {
    const port = await closedPort();
    const dead = createProviderClient({ apiUrl: `http://127.0.0.1:${port}/api/v2`, apiKey: 'k', timeoutMs: 2000 });
    expect(await dead.addOrder({ service: 1, link: newLink(), quantity: 100 })).toMatchObject({ kind: 'retry_later', code: 'not_sent' });
  });
});

describe('status quirks, each parsed', () => {
  async function finishedWith(tag: string, s: Record<string, unknown>, advanceMs = 60_000, quantity = 100) {
    await scenario(tag, { startDelayMs: 0, speedPerSec: 10, ...s });
    const id = await place(newLink(tag), quantity);
    h.clock.advance(advanceMs);
    return { id, r: ok(await statusOf(id)) };
  }

  it('lowercase statuses ("in progress", "completed")', async () => {
    await scenario('lower', { startDelayMs: 0, speedPerSec: 10, quirks: { statusCase: 'lower' } });
    const id = await place(newLink('lower'));
    h.clock.advance(1_000);
    const s1 = ok(await statusOf(id));
    expect([s1.raw, s1.status]).toEqual([expect.objectContaining({ status: 'in progress' }), 'in_progress']);
    h.clock.advance(60_000);
    const s2 = ok(await statusOf(id));
    expect([s2.raw, s2.status]).toEqual([expect.objectContaining({ status: 'completed' }), 'completed']);
  });

  it('snake_case statuses ("in_progress")', async () => {
    const { r } = await finishedWith('snake', { quirks: { statusCase: 'snake' } }, 1_000);
    expect(r.raw).toMatchObject({ status: 'in_progress' });
    expect(r.status).toBe('in_progress');
  });

  it('"Processing" for in progress', async () => {
    const { r } = await finishedWith('processing', { quirks: { statusMap: { 'In progress': 'Processing' } } }, 1_000);
    expect(r.raw).toMatchObject({ status: 'Processing' });
    expect(r.status).toBe('in_progress');
  });

  it('R-AUTO-CANCEL: "Cancelled" and "Refunded" are canceled', async () => {
    const a = await finishedWith('cancelled', { end: 'canceled', cancelAfterMs: 0, quirks: { statusMap: { Canceled: 'Cancelled' } } });
    expect([a.r.raw, a.r.status]).toEqual([expect.objectContaining({ status: 'Cancelled' }), 'canceled']);
    const b = await finishedWith('refunded', { end: 'canceled', cancelAfterMs: 0, quirks: { statusMap: { Canceled: 'Refunded' } } });
    expect([b.r.raw, b.r.status]).toEqual([expect.objectContaining({ status: 'Refunded' }), 'canceled']);
  });

  it('R-PARTIAL: "remains":"Unknown" parses to null', async () => {
    const { r } = await finishedWith('unknown-remains', { end: 'partial', partialRemains: 40, quirks: { remainsUnknown: true } });
    expect(r.raw).toMatchObject({ remains: 'Unknown' });
    expect(r).toMatchObject({ status: 'partial', remains: null });
    expect(clampRemains(r.remains, 100)).toBeNull();
  });

  it('R-PARTIAL: negative remains (over-delivery) parse as negative and owe no refund', async () => {
    const { r } = await finishedWith('overdeliver', { overDeliver: 12 });
    expect(r.raw).toMatchObject({ remains: '-12' });
    expect(r).toMatchObject({ status: 'completed', remains: -12 });
    expect(clampRemains(r.remains, 100)).toBe(0);
  });

  it('R-PARTIAL: remains larger than the quantity (forced) parse, and clamp to the quantity', async () => {
    const id = await place(newLink('toolarge'), 100);
    expect((await h.control('POST', `/orders/${id}`, { status: 'Partial', remains: '1500' })).status).toBe(200);
    const r = ok(await statusOf(id));
    expect(r).toMatchObject({ status: 'partial', remains: 1500 });
    expect(clampRemains(r.remains, 100)).toBe(100);
  });

  it('string order ids in the add answer and in orders_by_link', async () => {
    await scenario('strids', { quirks: { stringIds: true } });
    const link = newLink('strids');
    const res = await h.rawApi({ key: h.sim.apiKey, action: 'add', service: '1', link, quantity: '100' });
    expect(res.text).toMatch(/^\{"order":"\d+"\}$/);
    const id = (JSON.parse(res.text) as { order: string }).order;
    expect((await h.client.findOrdersByLink(link))![0]!.providerOrderId).toBe(id);
    expect(ok(await statusOf(id)).status).toBe('pending');
  });

  it('numbers sent as JSON numbers', async () => {
    const { r } = await finishedWith('numeric', { quirks: { numericFields: true } });
    expect(r.raw).toMatchObject({ remains: 0, charge: 0.09 });
    expect(r).toMatchObject({ status: 'completed', remains: 0, charge: '0.09' });
  });

  it('a forced unknown status is an error for that id, never a guess', async () => {
    const id = await place(newLink());
    await h.control('POST', `/orders/${id}`, { status: 'Paused' });
    expect(await statusOf(id)).toMatchObject({ error: 'Unrecognised status "Paused"', scope: 'order' });
  });
});

describe('cancelOrders', () => {
  it('R-CANCEL-REQUEST: cancel:1 is only an acknowledgement; the order ends Canceled at the next status read', async () => {
    const id = await place(newLink());
    expect(await h.client.cancelOrders([id])).toEqual(new Map([[id, { accepted: true }]]));
    expect(ok(await statusOf(id))).toMatchObject({ status: 'canceled', remains: 100 });
  });

  it('R-PARTIAL: canceling an order that started delivering ends it Partial with the undelivered remains', async () => {
    const id = await place(newLink());
    h.clock.advance(10_000 + 3_000); // 30 delivered
    expect((await h.client.cancelOrders([id])).get(id)).toEqual({ accepted: true });
    expect(ok(await statusOf(id))).toMatchObject({ status: 'partial', remains: 70 });
  });

  it('unknown ids, services without cancel and finished orders answer per-id errors', async () => {
    const noCancel = await place(newLink(), 100, 2);
    await scenario('done-fast', { startDelayMs: 0, speedPerSec: 1000 });
    const done = await place(newLink('done-fast'));
    h.clock.advance(1_000);
    const m = await h.client.cancelOrders([noCancel, done, '424242']);
    expect(m.get(noCancel)).toEqual({ accepted: false, error: 'Order cannot be canceled' });
    expect(m.get(done)).toEqual({ accepted: false, error: 'Order cannot be canceled' });
    expect(m.get('424242')).toEqual({ accepted: false, error: 'Incorrect order ID' });
  });

  it('150 ids take 2 cancel calls', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => String(900_000 + i));
    await h.control('DELETE', '/calls');
    const m = await h.client.cancelOrders(ids);
    expect(m.size).toBe(150);
    expect((await calls('cancel')).calls.map((c) => c.ids)).toEqual([100, 50]);
  });

  it('with a cancel delay the order stays as it was until the delay has passed', async () => {
    const other = await startHarness({ cancelDelayMs: 60_000, defaults: { startDelayMs: 600_000 } });
    try {
      const r = await other.client.addOrder({ service: 1, link: newLink(), quantity: 100 });
      const id = r.kind === 'placed' ? r.providerOrderId : '';
      expect((await other.client.cancelOrders([id])).get(id)).toEqual({ accepted: true });
      expect(ok((await other.client.getStatuses([id])).get(id)).status).toBe('pending');
      other.clock.advance(60_000);
      expect(ok((await other.client.getStatuses([id])).get(id)).status).toBe('canceled');
    } finally {
      await other.close();
    }
  });
});

describe('refills and the count source', () => {
  async function completed(tag: string, extra: Record<string, unknown> = {}) {
    await scenario(tag, { startDelayMs: 0, speedPerSec: 100, refillDelayMs: 1_000, refillDurationMs: 5_000, ...extra });
    const link = newLink(tag);
    await h.control('POST', '/counts', { link, count: 1000 });
    const id = await place(link, 500);
    h.clock.advance(10_000);
    expect(ok(await statusOf(id))).toMatchObject({ status: 'completed', startCount: 1000 });
    return { id, link };
  }

  it('R-REFILL-NEED: a drop shows in the count; an accepted refill goes Pending → In progress → Completed and restores start count + quantity', async () => {
    const { id, link } = await completed('refill-ok');
    expect(await h.client.readCount(h.sim.countUrl, link)).toEqual({ count: 1500 });
    await h.control('POST', '/counts', { link, drop: 300 });
    expect(await h.client.readCount(h.sim.countUrl, link)).toEqual({ count: 1200 });

    const r = await h.client.refill(id);
    expect(r).toEqual({ refillId: expect.stringMatching(/^\d+$/) });
    const refillId = 'refillId' in r ? r.refillId : '';
    expect((await h.client.refillStatuses([refillId])).get(refillId)).toMatchObject({ status: 'pending' });
    h.clock.advance(2_000);
    expect((await h.client.refillStatuses([refillId])).get(refillId)).toMatchObject({ status: 'in_progress' });
    h.clock.advance(5_000);
    expect((await h.client.refillStatuses([refillId])).get(refillId)).toMatchObject({ status: 'completed' });
    expect(await h.client.readCount(h.sim.countUrl, link)).toEqual({ count: 1500 });
  });

  it('a refill accepted then rejected by the provider reads "rejected"', async () => {
    const { id } = await completed('refill-reject', { refill: 'reject' });
    const r = await h.client.refill(id);
    const refillId = 'refillId' in r ? r.refillId : '';
    h.clock.advance(2_000);
    expect((await h.client.refillStatuses([refillId])).get(refillId)).toMatchObject({ status: 'rejected' });
  });

  it('a refused refill request returns the provider text; a not-completed order and an unknown id too', async () => {
    const { id } = await completed('refill-refuse', { refill: 'refuse' });
    expect(await h.client.refill(id)).toEqual({ error: 'Order not eligible for refill.' });
    const running = await place(newLink());
    expect(await h.client.refill(running)).toEqual({ error: 'Order not eligible for refill.' });
    expect(await h.client.refill('777777')).toEqual({ error: 'Incorrect order ID' });
  });

  it('multi refill: integer refill ids per order and per-order errors', async () => {
    const a = await completed('refill-multi-a');
    const b = await completed('refill-multi-b');
    const m = await h.client.refillMany([a.id, b.id, '555555']);
    expect(m.get(a.id)).toEqual({ refillId: expect.stringMatching(/^\d+$/) });
    expect(m.get(b.id)).toEqual({ refillId: expect.stringMatching(/^\d+$/) });
    expect(m.get('555555')).toEqual({ error: 'Incorrect order ID' });
  });

  it('forced refill statuses "Awaiting", "Failed", "Error", "Processing" normalise; unknown refill ids are errors', async () => {
    const { id } = await completed('refill-forced');
    const r = await h.client.refill(id);
    const refillId = 'refillId' in r ? r.refillId : '';
    const expectations: [string, string][] = [['Awaiting', 'pending'], ['Processing', 'in_progress'], ['Failed', 'rejected'], ['Error', 'rejected']];
    for (const [raw, norm] of expectations) {
      await h.control('POST', `/orders/${id}`, { refill_status: raw });
      expect((await h.client.refillStatuses([refillId])).get(refillId)).toMatchObject({ status: norm });
    }
    expect((await h.client.refillStatuses(['99999'])).get('99999')).toMatchObject({ error: 'Refill not found', scope: 'order' });
  });
});

describe('other calls', () => {
  it('balance and services read the provider answers', async () => {
    expect(await h.client.balance()).toEqual({ balance: '100000.00000', currency: 'USD' });
    const services = await h.client.services();
    expect(Array.isArray(services) && services.length).toBeGreaterThanOrEqual(5);
    expect(Array.isArray(services) && services[0]).toMatchObject({ service: '1', rate: '0.90', min: 50, max: 10000, refill: true, cancel: true });
  });

  it('orders_by_link lists only the caller\'s orders for that link, newest first', async () => {
    const link = newLink();
    await scenario(link, { startDelayMs: 0, speedPerSec: 1000 });
    const first = await place(link);
    h.clock.advance(1_000);
    const second = await place(link);
    const found = await h.client.findOrdersByLink(`${link}/`);
    expect(found!.map((o) => [o.providerOrderId, o.status])).toEqual([
      [second, 'in_progress'],
      [first, 'completed'],
    ]);
    expect(await h.client.findOrdersByLink(newLink('nobody'))).toEqual([]);
  });
});

describe('a provider that is not the simulator', () => {
  let server: import('node:http').Server;
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/api/v2', (req, res) => {
      if (req.body.action === 'status') return void res.status(502).type('text/html').send('<h1>Bad gateway</h1>');
      res.json({ error: 'Incorrect request' });
    });
    app.get('/count', (_req, res) => void res.json({ error: 'Unknown link' }));
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const client = () => createProviderClient({ apiUrl: `${url}/api/v2`, apiKey: 'k', timeoutMs: 2000 });

  it('findOrdersByLink returns null when the provider does not support orders_by_link', async () => {
    expect(await client().findOrdersByLink('https://instagram.com/x')).toBeNull();
  });

  it('a status read answered by a 502 page throws ProviderUnavailableError (retryable), not a parsed status', async () => {
    await expect(client().getStatuses(['1'])).rejects.toMatchObject({ name: 'ProviderUnavailableError', reason: 'http_5xx' });
  });

  it('a status read against a closed port throws ProviderUnavailableError "not_sent"', async () => {
    const port = await closedPort();
    const dead = createProviderClient({ apiUrl: `http://127.0.0.1:${port}/api/v2`, apiKey: 'k', timeoutMs: 2000 });
    const err = await dead.getStatuses(['1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(err).toMatchObject({ reason: 'not_sent' });
  });

  it('writes never throw: a cancel that got no answer is reported per id as uncertain', async () => {
    const port = await closedPort();
    const dead = createProviderClient({ apiUrl: `http://127.0.0.1:${port}/api/v2`, apiKey: 'k', timeoutMs: 2000 });
    expect((await dead.cancelOrders(['1'])).get('1')).toMatchObject({ accepted: false, uncertain: true });
    expect(await dead.refill('1')).toMatchObject({ uncertain: true });
  });

  it('a count source answering an error gives {error}', async () => {
    expect(await client().readCount(`${url}/count`, 'https://instagram.com/x')).toEqual({ error: 'Unknown link' });
  });
});

describe('add by service type', () => {
  it('sends the extra fields, and no link or quantity when the order has none (a subscription)', async () => {
    const username = `adapter_sub_${Date.now()}`;
    const r = await h.client.addOrder({ service: 21, extra: { username, min: '100', max: '200', posts: '3', delay: '0' } });
    expect(r).toMatchObject({ kind: 'placed' });
    const id = Number((r as { providerOrderId: string }).providerOrderId);
    expect(h.sim.state.getOrder(id)).toMatchObject({ link: username, quantity: 600, fields: { username, min: '100', max: '200', posts: '3', delay: '0' } });
  });
});
