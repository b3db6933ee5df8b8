/**
 * The simulator's wire format, checked with raw HTTP (no adapter): what it accepts and the exact shapes
 * it answers, per the API v2 reference; and its control API.
 */
import { startProviderSimulator } from '../../provider-simulator';
import { startHarness, type CallsAnswer, type SimHarness } from './helpers';

let h: SimHarness;
const KEY = 'proto-key';
const OTHER_KEY = 'other-key';

beforeAll(async () => {
  h = await startHarness({ apiKey: [KEY, OTHER_KEY], defaults: { startDelayMs: 0, speedPerSec: 10 } });
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.control('POST', '/reset');
});

let n = 0;
const link = () => `https://www.tiktok.com/@proto_${++n}`;
const json = async (params: Record<string, string>, contentType?: string) => JSON.parse((await h.rawApi(params, contentType)).text) as unknown;
const add = async (key = KEY, l = link(), quantity = '100') => (await json({ key, action: 'add', service: '1', link: l, quantity })) as { order: number };

describe('requests the simulator accepts', () => {
  it.each([
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=UTF-8',
    'application/x-www-form-urlencoded;charset=utf-8',
    'application/x-www-form-urlencoded; charset=ISO-8859-1',
    'application/x-www-form-urlencoded; charset=windows-1251',
  ])('form bodies with content type %j', async (ct) => {
    expect(await json({ key: KEY, action: 'balance' }, ct)).toEqual({ balance: '100000.00000', currency: 'USD' });
  });

  it('JSON bodies, with numbers and arrays as values', async () => {
    const res = await fetch(h.sim.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ key: KEY, action: 'add', service: 1, link: link(), quantity: 100 }),
    });
    const { order } = (await res.json()) as { order: number };
    const multi = await fetch(h.sim.apiUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: KEY, action: 'status', orders: [order] }) });
    expect(Object.keys((await multi.json()) as object)).toEqual([String(order)]);
  });

  it('"api" as the key\'s name (quirk)', async () => {
    expect(await json({ api: KEY, action: 'balance' })).toEqual({ balance: '100000.00000', currency: 'USD' });
  });

  it('errors are {"error": text} with HTTP 200: bad key, unknown action, missing action', async () => {
    const cases: Record<string, string>[] = [{ key: 'nope', action: 'balance' }, { key: KEY, action: 'fly' }, { key: KEY }];
    for (const params of cases) {
      const res = await h.rawApi(params);
      expect(res.status).toBe(200);
      expect(Object.keys(JSON.parse(res.text) as object)).toEqual(['error']);
    }
    expect(await json({ key: 'nope', action: 'balance' })).toEqual({ error: 'Invalid API key' });
    expect(await json({ key: KEY, action: 'fly' })).toEqual({ error: 'Incorrect request' });
  });
});

describe('answers in the reference shapes', () => {
  it('services: the catalogue with rate as a string and refill/cancel flags', async () => {
    const list = (await json({ key: KEY, action: 'services' })) as Record<string, unknown>[];
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const s of list) {
      expect(Object.keys(s)).toEqual(['service', 'name', 'type', 'category', 'rate', 'min', 'max', 'refill', 'cancel', 'dripfeed']);
      expect(typeof s.service).toBe('number');
      expect(s.rate).toMatch(/^\d+\.\d+$/);
    }
    const names = list.map((s) => String(s.name)).join(' ');
    for (const platform of ['Instagram', 'TikTok', 'YouTube']) expect(names).toContain(platform);
  });

  it('add: {"order": <integer>}, ids increasing', async () => {
    const a = await add();
    const b = await add();
    expect(Number.isInteger(a.order)).toBe(true);
    expect(b.order).toBe(a.order + 1);
  });

  it('add with runs (drip-feed): the order is quantity × runs and charged for it', async () => {
    const { order } = (await json({ key: KEY, action: 'add', service: '1', link: link(), quantity: '100', runs: '3', interval: '30' })) as { order: number };
    expect(h.sim.state.getOrder(order)).toMatchObject({ quantity: 300, charge: '0.27000' });
  });

  it('status (single): charge, start_count, status, remains as strings, currency USD', async () => {
    await h.control('POST', '/counts', { link: 'https://www.tiktok.com/@fixed', count: 3572 });
    const { order } = await add(KEY, 'https://www.tiktok.com/@fixed', '200');
    h.clock.advance(4_300); // 43 of 200 delivered
    expect(await json({ key: KEY, action: 'status', order: String(order) })).toEqual({
      charge: '0.18000',
      start_count: '3572',
      status: 'In progress',
      remains: '157',
      currency: 'USD',
    });
  });

  it('status (multi): keyed by id, per-id {"error":"Incorrect order ID"}, other keys\' orders invisible', async () => {
    const mine = await add();
    const theirs = await add(OTHER_KEY);
    const body = (await json({ key: KEY, action: 'status', orders: `${mine.order},${theirs.order},1` })) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([String(mine.order), String(theirs.order), '1'].sort());
    expect(body[String(mine.order)]).toMatchObject({ status: 'In progress' });
    expect(body[String(theirs.order)]).toEqual({ error: 'Incorrect order ID' });
    expect(body['1']).toEqual({ error: 'Incorrect order ID' });
  });

  it('status (multi): more than 100 ids is refused', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1)).join(',');
    expect(await json({ key: KEY, action: 'status', orders: ids })).toEqual({ error: expect.stringContaining('100') });
  });

  it('cancel: [{order, cancel: 1}] and [{order, cancel: {error}}]', async () => {
    const { order } = await add();
    expect(await json({ key: KEY, action: 'cancel', orders: `${order},9` })).toEqual([
      { order, cancel: 1 },
      { order: 9, cancel: { error: 'Incorrect order ID' } },
    ]);
  });

  it('refill: single {"refill":"<id>"} (string), multi [{order, refill: <int>}], refill_status single and multi', async () => {
    const a = await add();
    const b = await add();
    h.clock.advance(60_000);
    const single = (await json({ key: KEY, action: 'refill', order: String(a.order) })) as { refill: string };
    expect(single).toEqual({ refill: expect.stringMatching(/^\d+$/) });
    const multi = (await json({ key: KEY, action: 'refill', orders: `${b.order},3` })) as { order: number; refill: unknown }[];
    expect(multi).toEqual([
      { order: b.order, refill: expect.any(Number) },
      { order: 3, refill: { error: 'Incorrect order ID' } },
    ]);
    expect(await json({ key: KEY, action: 'refill_status', refill: single.refill })).toEqual({ status: 'Pending' });
    expect(await json({ key: KEY, action: 'refill_status', refills: `${single.refill},${multi[0]!.refill},999` })).toEqual([
      { refill: Number(single.refill), status: 'Pending' },
      { refill: multi[0]!.refill, status: 'Pending' },
      { refill: 999, status: { error: 'Refill not found' } },
    ]);
    expect(await json({ key: KEY, action: 'refill_status', refill: '999' })).toEqual({ error: 'Refill not found' });
  });

  it('balance: {"balance": "<decimal string>", "currency": "USD"}, debited by each order\'s charge', async () => {
    await add(KEY, link(), '1000'); // 0.90
    expect(await json({ key: KEY, action: 'balance' })).toEqual({ balance: '99999.10000', currency: 'USD' });
  });

  it('orders_by_link (extension): [{order, status, created}] of this key only', async () => {
    const l = link();
    const { order } = await add(KEY, l);
    expect(await json({ key: KEY, action: 'orders_by_link', link: l })).toEqual([
      { order, status: 'In progress', created: new Date(h.clock.now()).toISOString() },
    ]);
    expect(await json({ key: OTHER_KEY, action: 'orders_by_link', link: l })).toEqual([]);
  });

  it('GET /count?link= (extension): {"count": <int>}, growing with delivery', async () => {
    const l = link();
    await h.control('POST', '/counts', { link: l, count: 50 });
    await add(KEY, l, '100');
    h.clock.advance(2_000);
    const res = await fetch(`${h.sim.countUrl}?link=${encodeURIComponent(l)}`);
    expect(await res.json()).toEqual({ count: 70 });
  });
});

describe('control API', () => {
  it('POST /_sim/scenarios validates the scenario (unknown fields are a 400)', async () => {
    expect((await h.control('POST', '/scenarios', { linkContains: 'x', scenario: { speedPerSec: 5 } })).status).toBe(201);
    const bad = await h.control<{ error: string }>('POST', '/scenarios', { linkContains: 'x', scenario: { sped: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('sped');
  });

  it('the newest matching scenario wins field by field, and older ones still apply to other fields', async () => {
    await h.control('POST', '/scenarios', { linkContains: 'layered', scenario: { startDelayMs: 1000, speedPerSec: 1 } });
    await h.control('POST', '/scenarios', { linkContains: 'layered-fast', scenario: { speedPerSec: 50 } });
    const { order } = await add(KEY, 'https://x.com/layered-fast');
    expect(h.sim.state.getOrder(order)!.behaviour).toMatchObject({ startDelayMs: 1000, speedPerSec: 50 });
  });

  it('GET /_sim/calls counts calls by action with their id counts; DELETE clears it', async () => {
    await json({ key: KEY, action: 'status', orders: '1,2,3' });
    await json({ key: KEY, action: 'balance' });
    const log = (await h.control<CallsAnswer>('GET', '/calls')).body;
    expect(log.byAction).toEqual({ status: 1, balance: 1 });
    expect(log.calls.map((c) => [c.action, c.ids])).toEqual([['status', 3], ['balance', 0]]);
    await h.control('DELETE', '/calls');
    expect((await h.control<CallsAnswer>('GET', '/calls')).body.total).toBe(0);
  });

  it('POST /_sim/orders/:id forces status, start_count, remains verbatim; 404 for unknown orders', async () => {
    const { order } = await add();
    const forced = { status: 'completed', start_count: '12', remains: '-3' };
    expect((await h.control('POST', `/orders/${order}`, forced)).status).toBe(200);
    expect(await json({ key: KEY, action: 'status', order: String(order) })).toMatchObject(forced);
    expect((await h.control('POST', '/orders/1', { status: 'Completed' })).status).toBe(404);
  });

  it('POST /_sim/reset forgets orders, scenarios and the call log', async () => {
    const { order } = await add();
    await h.control('POST', '/scenarios', { linkContains: 'x', scenario: {} });
    await h.control('POST', '/reset');
    expect(await json({ key: KEY, action: 'status', order: String(order) })).toEqual({ error: 'Incorrect order ID' });
    expect((await h.control<unknown[]>('GET', '/scenarios')).body).toEqual([]);
    expect((await h.control<CallsAnswer>('GET', '/calls')).body.calls.map((c) => c.action)).toEqual(['status']);
  });
});

describe('lifecycle', () => {
  it('startProviderSimulator picks a free port, uses the real clock by default, and close() ends a hanging answer', async () => {
    const sim = await startProviderSimulator({ defaults: { startDelayMs: 0, speedPerSec: 1_000_000 } });
    expect(sim.port).toBeGreaterThan(0);
    expect(sim.apiUrl).toBe(`${sim.url}/api/v2`);
    sim.state.addScenario('hang', { add: { respond: 'hang' } });
    const pending = fetch(sim.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: sim.apiKey, action: 'add', service: '1', link: 'https://x.com/hang', quantity: '100' }).toString(),
    }).then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await sim.close();
    expect(await pending).toBe('closed');
  });
});

describe('add by service type: the fields the reference lists, checked and kept unchanged', () => {
  const order = (answer: unknown) => h.sim.state.getOrder((answer as { order: number }).order)!;

  it.each([
    ['8', 'Package', {}, 1, '1.50000'],
    ['9', 'Custom Comments', { comments: 'nice!\n\n great pic \n' }, 2, '0.04000'],
    ['10', 'Custom Comments Package', { comments: 'a\nb\nc' }, 3, '2.50000'],
    ['11', 'Mentions', { quantity: '100', usernames: 'alice\nbob' }, 100, '0.40000'],
    ['12', 'Mentions with Hashtags', { quantity: '100', usernames: 'alice', hashtags: '#a\n#b' }, 100, '0.50000'],
    ['13', 'Mentions Custom List', { usernames: 'alice\nbob\ncarol' }, 3, '0.01800'],
    ['14', 'Mentions Hashtag', { quantity: '100', hashtag: '#fashion' }, 100, '0.45000'],
    ['15', 'Mentions User Followers', { quantity: '100', username: 'natgeo' }, 100, '0.45000'],
    ['16', 'Mentions Media Likers', { quantity: '100', media: 'https://www.instagram.com/p/xyz' }, 100, '0.45000'],
    ['17', 'Comment Likes', { quantity: '10', username: 'alice' }, 10, '0.03000'],
    ['18', 'Comment Replies', { username: 'alice', comments: 'hey\nho' }, 2, '0.05000'],
    ['19', 'Poll', { quantity: '50', answer_number: '2' }, 50, '0.10000'],
    ['20', 'SEO', { quantity: '100', keywords: 'buy shoes\ncheap shoes' }, 100, '0.10000'],
  ] as const)('service %s (%s): placed, charged by its type, fields kept as sent', async (service, _name, fields, quantity, charge) => {
    const l = link();
    const o = order(await json({ key: KEY, action: 'add', service, link: l, ...fields }));
    expect(o).toMatchObject({ quantity, charge, fields: { link: l, ...fields } });
  });

  it('Subscriptions: username, min, max, posts, delay; no link; charged at max × posts (R-CHARGE-MAX)', async () => {
    const fields = { username: `sub_${++n}`, min: '100', max: '200', posts: '5', delay: '30' };
    const o = order(await json({ key: KEY, action: 'add', service: '21', ...fields }));
    expect(o).toMatchObject({ quantity: 1000, charge: '0.20000', link: fields.username, fields });
  });

  it('wrong or missing fields: the providers\' texts, nothing placed', async () => {
    const before = h.sim.state.listOrders().length;
    expect(await json({ key: KEY, action: 'add', service: '9', link: link() })).toEqual({ error: 'comments is required: the comments, one per line' });
    expect(await json({ key: KEY, action: 'add', service: '9', comments: 'x' })).toEqual({ error: 'Bad link' });
    expect(await json({ key: KEY, action: 'add', service: '19', link: link(), quantity: '10', answer_number: '1' })).toEqual({ error: 'Quantity less than minimal 50' });
    expect(await json({ key: KEY, action: 'add', service: '19', link: link(), quantity: '50', answer_number: 'x' })).toEqual({ error: 'answer_number must be a whole number' });
    expect(await json({ key: KEY, action: 'add', service: '2', link: link(), quantity: '100', runs: '2', interval: '5' })).toEqual({ error: 'drip-feed is not offered for this service' });
    expect(await json({ key: KEY, action: 'add', service: '21', username: 'u', min: '100', max: '200', delay: '30' })).toMatchObject({ error: expect.stringMatching(/^posts is required/) });
    expect(h.sim.state.listOrders().length).toBe(before);
  });
});
