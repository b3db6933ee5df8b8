// Every order type through the API (issue 12): REST POST /orders, API v2 `add`, POST /orders/batch,
// the catalogue and support's search. The order workflow is the in-process fake (the same first
// activity: the row and the debit), so these prove what the API takes, charges and refuses; the
// real workflow, provider and simulator are in test/api/order-types-e2e.test.ts.
import request from 'supertest';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';
import { fakeTemporal } from './support/fake-temporal';
import { expectV2Answer, expectV2Error, postForm } from '../api-v2/support';

let api: TestApi;
let linkSeq = 0;
const newLink = () => `https://instagram.com/p/types_${++linkSeq}`;

beforeAll(async () => {
  api = await startTestApi({ temporal: (deps) => fakeTemporal(deps).client });
});
afterAll(async () => {
  await api.close();
});

const post = (path: string, body: unknown, key: string, headers: Record<string, string> = {}) =>
  request(api.app).post(path).set(bearer(key)).set(headers).send(body as object);
const v2add = (key: string, fields: Record<string, string | number>) => postForm(api.app, { key, action: 'add', ...fields });

async function user(balance = '100') {
  return makeUser(api.prisma, { balance });
}

/** A refusal writes nothing and leaves the balance alone. */
async function refusedRest(key: string, userId: number, body: unknown, status: number, error: Record<string, unknown>) {
  const before = await writeCounts(api.prisma);
  const balance = await api.ledger.balanceOf(userId);
  const res = await post('/orders', body, key);
  expect(res.status).toBe(status);
  expect(res.body.error).toMatchObject(error);
  expect(await writeCounts(api.prisma)).toEqual(before);
  expect(await api.ledger.balanceOf(userId)).toBe(balance);
}
async function refusedV2(key: string, userId: number, fields: Record<string, string | number>, text: string | RegExp) {
  const before = await writeCounts(api.prisma);
  const balance = await api.ledger.balanceOf(userId);
  expectV2Error(await v2add(key, fields), text);
  expect(await writeCounts(api.prisma)).toEqual(before);
  expect(await api.ledger.balanceOf(userId)).toBe(balance);
}

describe('REST POST /orders by service type', () => {
  it.each([
    ['mentions', { quantity: 100, usernames: 'alice\nbob' }, 100],
    ['mentions_with_hashtags', { quantity: 100, usernames: 'alice', hashtags: '#a' }, 100],
    ['mentions_hashtag', { quantity: 100, hashtag: '#fashion' }, 100],
    ['mentions_user_followers', { quantity: 100, username: 'natgeo' }, 100],
    ['mentions_media_likers', { quantity: 100, media: 'https://instagram.com/p/m1' }, 100],
    ['comment_likes', { quantity: 100, username: 'alice' }, 100],
    ['poll', { quantity: 100, answer_number: 2 }, 100],
    ['seo', { quantity: 100, keywords: 'buy shoes\ncheap shoes' }, 100],
  ] as const)('R-CHARGE, R-PRICE-SNAPSHOT: %s places with its fields kept on the order, charged rate × quantity / 1000', async (type, fields, quantity) => {
    const { serviceId } = await makeService(api.prisma, { type, rate: '2.5', min: 10, max: 1000 });
    const u = await user();
    const res = await post('/orders', { service: serviceId, link: newLink(), ...fields }, u.key);
    expect(res.status).toBe(201);
    const sent = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'quantity').map(([k, v]) => [k, String(v)]));
    expect(res.body.order).toMatchObject({ serviceType: type, quantity, charge: '0.25000', typeFields: sent });
    const row = await api.prisma.order.findUniqueOrThrow({ where: { id: res.body.order.id } });
    expect(row).toMatchObject({ serviceType: type, providerFields: sent });
    expect(await api.ledger.balanceOf(u.userId)).toBe('99.75000');
  });

  it('R-PRICE-SNAPSHOT: a Package costs its rate per order, whatever it holds; a later price change does not touch it', async () => {
    const { serviceId } = await makeService(api.prisma, { type: 'package', rate: '7.25', min: 1, max: 1 });
    const u = await user();
    const res = await post('/orders', { service: serviceId, link: newLink() }, u.key);
    expect(res.status).toBe(201);
    expect(res.body.order).toMatchObject({ serviceType: 'package', quantity: 1, charge: '7.25000' });
    await api.prisma.service.update({ where: { id: serviceId }, data: { rate: '9' } });
    expect((await request(api.app).get(`/orders/${res.body.order.id}`).set(bearer(u.key))).body.order.charge).toBe('7.25000');
  });

  it('R-MINMAX: Custom Comments is charged for its non-empty lines, and min/max apply to them', async () => {
    const { serviceId } = await makeService(api.prisma, { type: 'custom_comments', rate: '20', min: 2, max: 3 });
    const u = await user();
    const comments = 'great!\n\n nice \nwow';
    const res = await post('/orders', { service: serviceId, link: newLink(), comments }, u.key);
    expect(res.status).toBe(201);
    expect(res.body.order).toMatchObject({ quantity: 3, charge: '0.06000', typeFields: { comments } });
    await refusedRest(u.key, u.userId, { service: serviceId, link: newLink(), comments: 'a\nb\nc\nd' }, 422, { code: 'quantity_out_of_range', field: 'comments', rule: 'R-MINMAX', max: 3, value: 4 });
    await refusedRest(u.key, u.userId, { service: serviceId, link: newLink() }, 400, { code: 'invalid_request', field: 'comments', rule: 'required' });
  });

  it('R-CHARGE-MAX: a subscription is charged rate × max × posts / 1000 at placement; an unlimited one is refused', async () => {
    const { serviceId } = await makeService(api.prisma, { type: 'subscriptions', rate: '0.8', min: 50, max: 1000 });
    const u = await user();
    const body = { service: serviceId, username: `sub_${++linkSeq}`, min: 100, max: 500, posts: 30, delay: 30, expiry: '31/12/2099' };
    const res = await post('/orders', body, u.key);
    expect(res.status).toBe(201);
    expect(res.body.order).toMatchObject({
      serviceType: 'subscriptions',
      quantity: 15000,
      charge: '12.00000',
      subscription: { username: body.username, min: 100, max: 500, posts: 30, oldPosts: 0, delayMinutes: 30, expiry: '31/12/2099' },
    });
    const { posts: _posts, ...unlimited } = body;
    await refusedRest(u.key, u.userId, { ...unlimited, username: 'other' }, 422, { code: 'invalid_order', field: 'posts', rule: 'R-CHARGE-MAX' });
    await refusedRest(u.key, u.userId, { ...body, username: 'x', delay: 7 }, 400, { field: 'delay' });
    await refusedRest(u.key, u.userId, { ...body, username: 'y', max: 5000 }, 422, { rule: 'R-MINMAX', field: 'max' });
    await refusedRest(u.key, u.userId, { ...body, username: 'z', link: newLink() }, 422, { field: 'link', rule: 'service_type' });
  });

  it('R-ONE-ACTIVE-PER-LINK holds for a subscription\'s username', async () => {
    const { serviceId } = await makeService(api.prisma, { type: 'subscriptions', rate: '0.8', min: 50, max: 1000 });
    const u = await user();
    const body = { service: serviceId, username: `busy_${++linkSeq}`, min: 100, max: 200, posts: 2, delay: 0 };
    const first = await post('/orders', body, u.key);
    expect(first.status).toBe(201);
    await refusedRest(u.key, u.userId, { ...body, username: `@${body.username.toUpperCase()}` }, 409, { code: 'link_busy', holderOrderId: first.body.order.id });
  });

  it('R-CHARGE: a drip-feed is charged once for quantity × runs, only on a service that offers it', async () => {
    const feed = await makeService(api.prisma, { dripfeed: 'engine', rate: '1', min: 50, max: 1000 });
    const plain = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user();
    const res = await post('/orders', { service: feed.serviceId, link: newLink(), quantity: 100, runs: 10, interval: 60 }, u.key);
    expect(res.status).toBe(201);
    expect(res.body.order).toMatchObject({ quantity: 1000, charge: '1.00000', dripFeed: { runs: 10, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' } });
    await refusedRest(u.key, u.userId, { service: plain.serviceId, link: newLink(), quantity: 100, runs: 10, interval: 60 }, 422, { code: 'invalid_order', rule: 'drip_feed' });
    await refusedRest(u.key, u.userId, { service: feed.serviceId, link: newLink(), quantity: 200, runs: 10, interval: 60 }, 422, { rule: 'R-MINMAX', field: 'runs', value: 2000 });
    await refusedRest(u.key, u.userId, { service: feed.serviceId, link: newLink(), quantity: 100, runs: 1, interval: 60 }, 400, { field: 'runs' });
  });

  it('scheduled: execute_at "YYYY-MM-DD HH:MM" UTC in the future becomes the order\'s executeAt; past or malformed is refused', async () => {
    const { serviceId } = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user();
    const at = new Date(Date.now() + 2 * 86_400_000);
    const text = at.toISOString().slice(0, 16).replace('T', ' ');
    const res = await post('/orders', { service: serviceId, link: newLink(), quantity: 100, execute_at: text }, u.key);
    expect(res.status).toBe(201);
    expect(res.body.order.executeAt).toBe(`${at.toISOString().slice(0, 16)}:00.000Z`);
    await refusedRest(u.key, u.userId, { service: serviceId, link: newLink(), quantity: 100, execute_at: '2020-01-01 10:00' }, 422, { field: 'execute_at' });
    await refusedRest(u.key, u.userId, { service: serviceId, link: newLink(), quantity: 100, execute_at: 'tomorrow' }, 400, { field: 'execute_at', rule: 'format' });
  });
});

describe('API v2 add by service type: the reference\'s fields and texts', () => {
  it('places Package, Custom Comments, Mentions Custom List, Comment Replies, Poll, Subscriptions', async () => {
    const u = await user();
    const pkg = await makeService(api.prisma, { type: 'package', rate: '3', min: 1, max: 1 });
    const cc = await makeService(api.prisma, { type: 'custom_comments', rate: '10', min: 1, max: 100 });
    const list = await makeService(api.prisma, { type: 'mentions_custom_list', rate: '10', min: 1, max: 100 });
    const replies = await makeService(api.prisma, { type: 'comment_replies', rate: '10', min: 1, max: 100 });
    const poll = await makeService(api.prisma, { type: 'poll', rate: '1', min: 10, max: 1000 });
    const sub = await makeService(api.prisma, { type: 'subscriptions', rate: '1', min: 10, max: 1000 });
    const answers = [
      await v2add(u.key, { service: pkg.serviceId, link: newLink() }),
      await v2add(u.key, { service: cc.serviceId, link: newLink(), comments: 'a\nb' }),
      await v2add(u.key, { service: list.serviceId, link: newLink(), usernames: 'a\nb\nc' }),
      await v2add(u.key, { service: replies.serviceId, link: newLink(), username: 'alice', comments: 'x' }),
      await v2add(u.key, { service: poll.serviceId, link: newLink(), quantity: '100', answer_number: '3' }),
      await v2add(u.key, { service: sub.serviceId, username: `v2sub_${++linkSeq}`, min: '10', max: '20', posts: '5', delay: '0' }),
    ].map((res) => (expectV2Answer(res) as { order: number }).order);
    const rows = await api.prisma.order.findMany({ where: { id: { in: answers } }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.serviceType, r.quantity, r.charge.toFixed(5)])).toEqual([
      ['package', 1, '3.00000'],
      ['custom_comments', 2, '0.02000'],
      ['mentions_custom_list', 3, '0.03000'],
      ['comment_replies', 1, '0.01000'],
      ['poll', 100, '0.10000'],
      ['subscriptions', 100, '0.10000'],
    ]);
    expect(rows[3].providerFields).toEqual({ username: 'alice', comments: 'x' });
  });

  it('wrong or missing fields: the reference\'s texts where it has them, clear ones elsewhere, nothing written', async () => {
    const u = await user();
    const cc = await makeService(api.prisma, { type: 'custom_comments', rate: '10', min: 5, max: 100 });
    const poll = await makeService(api.prisma, { type: 'poll', rate: '1', min: 10, max: 1000 });
    const sub = await makeService(api.prisma, { type: 'subscriptions', rate: '1', min: 10, max: 1000 });
    const feed = await makeService(api.prisma, { dripfeed: 'provider', rate: '1', min: 50, max: 1000 });
    await refusedV2(u.key, u.userId, { service: cc.serviceId, comments: 'a' }, 'Bad link');
    await refusedV2(u.key, u.userId, { service: cc.serviceId, link: newLink(), comments: 'a\nb' }, 'Quantity less than minimal 5');
    await refusedV2(u.key, u.userId, { service: cc.serviceId, link: newLink() }, 'comments is required: the comments, one per line');
    await refusedV2(u.key, u.userId, { service: poll.serviceId, link: newLink(), quantity: 5, answer_number: 1 }, 'Quantity less than minimal 10');
    await refusedV2(u.key, u.userId, { service: poll.serviceId, link: newLink(), quantity: 50 }, 'answer_number is required');
    await refusedV2(u.key, u.userId, { service: poll.serviceId, link: newLink(), quantity: 50, answer_number: 'two' }, 'answer_number must be a whole number');
    await refusedV2(u.key, u.userId, { service: poll.serviceId, link: newLink(), answer_number: 1 }, 'Incorrect quantity');
    await refusedV2(u.key, u.userId, { service: sub.serviceId, username: 'u1', min: 10, max: 20, delay: 0 }, /^posts is required/);
    await refusedV2(u.key, u.userId, { service: sub.serviceId, username: 'u1', min: 10, max: 2000, posts: 2, delay: 0 }, 'max above maximum 1000');
    await refusedV2(u.key, u.userId, { service: feed.serviceId, link: newLink(), quantity: 600, runs: 2, interval: 5 }, 'Quantity more than maximum 1000');
    await refusedV2(u.key, u.userId, { service: feed.serviceId, link: newLink(), quantity: 100, runs: 2 }, 'interval is required');
  });

  it('services: each type by its API v2 name, dripfeed true where offered', async () => {
    const u = await user();
    const feed = await makeService(api.prisma, { dripfeed: 'engine' });
    const mentions = await makeService(api.prisma, { type: 'mentions_with_hashtags' });
    const list = expectV2Answer(await postForm(api.app, { key: u.key, action: 'services' })) as Array<Record<string, unknown>>;
    expect(list.find((s) => s.service === feed.serviceId)).toMatchObject({ type: 'Default', dripfeed: true });
    expect(list.find((s) => s.service === mentions.serviceId)).toMatchObject({ type: 'Mentions with Hashtags', dripfeed: false });
  });
});

describe('POST /orders/batch (mass orders)', () => {
  it('each line its own order and its own answer; a refused line places nothing and stops nothing', async () => {
    const { serviceId } = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user('1');
    const res = await post('/orders/batch', [
      { service: serviceId, link: newLink(), quantity: 100 },
      { service: serviceId, link: newLink(), quantity: 10 },
      { service: serviceId, link: 'not a link', quantity: 100 },
      { service: serviceId, link: newLink(), quantity: 1000 },
      { service: serviceId, link: newLink(), quantity: 200 },
    ], u.key);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ placed: 2, refused: 3 });
    expect(res.body.results.map((r: { line: number; status: number }) => [r.line, r.status])).toEqual([[1, 201], [2, 422], [3, 400], [4, 402], [5, 201]]);
    expect(res.body.results[1].error).toMatchObject({ rule: 'R-MINMAX', field: 'quantity' });
    expect(await api.ledger.balanceOf(u.userId)).toBe('0.70000');
  });

  it('the panels\' text form service|link|quantity, one per line', async () => {
    const { serviceId } = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user();
    const text = `${serviceId}|${newLink()}|100\n\n${serviceId}|${newLink()}\n${serviceId}|${newLink()}|abc\n`;
    const res = await request(api.app).post('/orders/batch').set(bearer(u.key)).set('Content-Type', 'text/plain').send(text);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 400, 400]);
  });

  it('a batch sent as a form is refused 415, naming both Content-Types the route reads (JSON and the text form)', async () => {
    const { serviceId } = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user();
    const before = await api.prisma.order.count();
    const res = await request(api.app).post('/orders/batch').set(bearer(u.key)).type('form').send(`${serviceId}|${newLink()}|100`);
    expect(res.status).toBe(415);
    expect(res.body.error.accepted).toEqual(['application/json', 'text/plain']);
    expect(await api.prisma.order.count()).toBe(before);
  });

  it('Idempotency-Key per batch: a retried batch answers the same results and places nothing twice; other content is 409', async () => {
    const { serviceId } = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const u = await user();
    const lines = [{ service: serviceId, link: newLink(), quantity: 100 }, { service: serviceId, link: newLink(), quantity: 5 }];
    const first = await post('/orders/batch', lines, u.key, { 'Idempotency-Key': 'mass-1' });
    const orders = await api.prisma.order.count();
    const again = await post('/orders/batch', lines, u.key, { 'Idempotency-Key': 'mass-1' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await api.prisma.order.count()).toBe(orders);
    expect(await api.ledger.balanceOf(u.userId)).toBe('99.90000');
    const other = await post('/orders/batch', [lines[0]], u.key, { 'Idempotency-Key': 'mass-1' });
    expect(other.status).toBe(409);
  });

  it('at most 100 lines; none is a 400 and writes nothing', async () => {
    const u = await user();
    const before = await writeCounts(api.prisma);
    const lines = Array.from({ length: 101 }, () => ({ service: 1, link: newLink(), quantity: 100 }));
    expect((await post('/orders/batch', lines, u.key)).body.error).toMatchObject({ rule: 'max' });
    expect((await post('/orders/batch', [], u.key)).status).toBe(400);
    expect((await post('/orders/batch', { nope: 1 }, u.key)).status).toBe(400);
    expect(await writeCounts(api.prisma)).toEqual(before);
  });
});

describe('catalogue and support', () => {
  it('admin sets a service\'s type (key or API v2 name) and drip-feed; drip-feed on a non-Default type is refused', async () => {
    const provider = await api.prisma.provider.create({ data: { name: 'p-types', apiUrl: 'http://127.0.0.1:1/api/v2', apiKey: 'k' } });
    const base = { name: 'S', category: 'C', providerId: provider.id, providerServiceId: '1', rate: '1.00', min: 1, max: 100 };
    const created = await post('/admin/services', { ...base, type: 'Custom Comments' }, api.adminKey);
    expect(created.status).toBe(201);
    expect(created.body.service).toMatchObject({ type: 'custom_comments', dripfeed: 'none' });
    expect((await post('/admin/services', { ...base, type: 'poll', dripfeed: 'engine' }, api.adminKey)).body.error).toMatchObject({ field: 'dripfeed' });
    expect((await post('/admin/services', { ...base, type: 'weird' }, api.adminKey)).body.error).toMatchObject({ field: 'type' });
    const patched = await request(api.app).patch(`/admin/services/${created.body.service.id}`).set(bearer(api.adminKey)).send({ type: 'default', dripfeed: 'provider' });
    expect(patched.body.service).toMatchObject({ type: 'default', dripfeed: 'provider' });
    const back = await request(api.app).patch(`/admin/services/${created.body.service.id}`).set(bearer(api.adminKey)).send({ type: 'seo' });
    expect(back.body.service).toMatchObject({ type: 'seo', dripfeed: 'none' });
  });

  it('support searches orders by serviceType and sees the type\'s fields', async () => {
    const { serviceId } = await makeService(api.prisma, { type: 'seo', rate: '1', min: 10, max: 1000 });
    const u = await user();
    const placed = await post('/orders', { service: serviceId, link: newLink(), quantity: 100, keywords: 'k1\nk2' }, u.key);
    const support = await makeUser(api.prisma, { role: 'support' });
    const res = await request(api.app).get('/support/orders?serviceType=seo').set(bearer(support.key));
    expect(res.status).toBe(200);
    expect(res.body.orders.find((o: { id: number }) => o.id === placed.body.order.id)).toMatchObject({ serviceType: 'seo', typeFields: { keywords: 'k1\nk2' } });
    expect(res.body.orders.every((o: { serviceType: string }) => o.serviceType === 'seo')).toBe(true);
  });

  it('support searches scheduled orders (scheduled=true|false), drip-feeds (dripFeed=true|engine|provider|false), feeds with runs begun (hasRuns), and finds a feed by any run\'s upstream id', async () => {
    const plainService = await makeService(api.prisma, { rate: '1', min: 50, max: 1000 });
    const engineFeed = await makeService(api.prisma, { dripfeed: 'engine', rate: '1', min: 50, max: 1000 });
    const providerFeed = await makeService(api.prisma, { dripfeed: 'provider', rate: '1', min: 50, max: 1000 });
    const u = await user();
    const at = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 16).replace('T', ' ');
    const placedId = async (body: Record<string, unknown>) => {
      const res = await post('/orders', { link: newLink(), quantity: 100, ...body }, u.key);
      expect(res.status).toBe(201);
      return res.body.order.id as number;
    };
    const plain = await placedId({ service: plainService.serviceId });
    const scheduled = await placedId({ service: plainService.serviceId, execute_at: at });
    const fed = await placedId({ service: engineFeed.serviceId, runs: 3, interval: 60 });
    const fedIdle = await placedId({ service: engineFeed.serviceId, runs: 2, interval: 60 });
    const passed = await placedId({ service: providerFeed.serviceId, runs: 2, interval: 60 });
    await api.prisma.orderRun.create({ data: { orderId: fed, runIndex: 1, quantity: 100, providerOrderId: 'feed-run-1-upstream', status: 'completed', remains: 0 } });
    await api.prisma.orderRun.create({ data: { orderId: fed, runIndex: 2, quantity: 100, providerOrderId: 'feed-run-2-upstream', status: 'in_progress' } });
    const support = await makeUser(api.prisma, { role: 'support' });
    const mine = [plain, scheduled, fed, fedIdle, passed];
    const search = async (query: string) => {
      const res = await request(api.app).get(`/support/orders?userId=${u.userId}&${query}`).set(bearer(support.key));
      expect(res.status).toBe(200);
      return (res.body.orders as Array<{ id: number }>).map((o) => o.id).filter((id) => mine.includes(id)).sort((a, b) => a - b);
    };
    const sorted = (...ids: number[]) => ids.sort((a, b) => a - b);
    expect(await search('scheduled=true')).toEqual([scheduled]);
    expect(await search('scheduled=false')).toEqual(sorted(plain, fed, fedIdle, passed));
    expect(await search('dripFeed=true')).toEqual(sorted(fed, fedIdle, passed));
    expect(await search('dripFeed=engine')).toEqual(sorted(fed, fedIdle));
    expect(await search('dripFeed=provider')).toEqual([passed]);
    expect(await search('dripFeed=false')).toEqual(sorted(plain, scheduled));
    expect(await search('hasRuns=true')).toEqual([fed]);
    expect(await search('hasRuns=false&dripFeed=engine')).toEqual([fedIdle]);
    // An earlier run's upstream id (the row points at the run in flight) finds the feed.
    expect(await search('providerOrderId=feed-run-1-upstream')).toEqual([fed]);
    const bad = await request(api.app).get('/support/orders?scheduled=maybe&dripFeed=x').set(bearer(support.key));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/scheduled must be true or false|dripFeed must be true, false, engine or provider/);
  });

  it('R-SUBSTITUTE: support\'s move of a Custom Comments order is refused with the rule and the reason (its lines cannot be sent on in part)', async () => {
    const from = await makeService(api.prisma, { type: 'custom_comments', rate: '10', min: 1, max: 100 });
    const to = await makeService(api.prisma, { type: 'custom_comments', rate: '10', min: 1, max: 100 });
    const u = await user();
    const placed = await post('/orders', { service: from.serviceId, link: newLink(), comments: 'a\nb' }, u.key);
    expect(placed.status).toBe(201);
    const support = await makeUser(api.prisma, { role: 'support' });
    const res = await post(`/support/orders/${placed.body.order.id}/move`, { serviceId: to.serviceId, reason: 'provider down' }, support.key);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'move_refused', rule: 'R-SUBSTITUTE', message: expect.stringMatching(/Custom Comments order has no quantity to send on in part/) });
  });
});
