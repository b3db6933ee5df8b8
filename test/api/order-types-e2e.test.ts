// Link-based order types end to end (issue 12): placed through the API, the real order workflow and
// worker on the in-memory Temporal server, dispatched to the provider simulator over HTTP with the
// type's fields, followed by the real provider sync to the end, refunded with exact money.
import type { Server } from 'node:http';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';
import { postForm } from '../api-v2/support';

let engine: TestEngine;
let server: Server;
useTestEngine((started) => (engine = started), { providerSync: true });

beforeAll(async () => {
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }) }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

async function userWithKey(balance: string) {
  const userId = await engine.newUser(balance);
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role: 'user' } });
  return { userId, key };
}

/** Our service over the simulator's service of that type (provider-simulator/catalogue.ts 8-20). */
async function typedService(type: string, simServiceId: number, rate: string, min: number, max: number) {
  const s = await engine.prisma.service.create({
    data: { name: type, category: 'Instagram', type, rate, min, max, providerId: engine.seed.providerId, providerServiceId: String(simServiceId), cancelable: true },
  });
  return s.id;
}

async function place(key: string, body: Record<string, unknown>) {
  const res = await request(server).post('/orders').set({ Authorization: `Bearer ${key}` }).send(body);
  expect(res.status).toBe(201);
  return res.body.order as { id: number; charge: string; quantity: number };
}

/** Waits for the dispatch and returns the simulator's order: what the provider received. */
async function upstreamOf(orderId: number) {
  const state = await engine.waitForState(orderId, (s) => s.providerOrderId !== null);
  return engine.simulator.state.getOrder(Number(state.providerOrderId))!;
}

/** The simulator delivers within 10 minutes (a provider-run drip-feed: its last run starts later). */
async function finish(orderId: number, simMs = 10 * 60_000) {
  engine.simClock!.advance(simMs);
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(orderId).result();
  await engine.history(orderId);
  return final;
}

it('R-PRICE-SNAPSHOT: a Package is charged its price per order, sent as link only, and completes with nothing refunded', async () => {
  const service = await typedService('package', 8, '2.00000', 1, 1);
  const { userId, key } = await userWithKey('5');
  const link = engine.uniqueLink('pkg');
  const order = await place(key, { service, link });
  expect(order).toMatchObject({ quantity: 1, charge: '2.00000' });
  expect((await upstreamOf(order.id)).fields).toEqual({ link });
  expect(await finish(order.id)).toMatchObject({ status: 'completed', refunded: '0.00000' });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('3.00000');
});

it('R-PARTIAL: Custom Comments reach the provider unchanged; a Partial refunds exactly the comments not delivered', async () => {
  const service = await typedService('custom_comments', 9, '30.00000', 1, 100);
  const { userId, key } = await userWithKey('1');
  const link = engine.uniqueLink('comments');
  engine.simulator.state.addScenario(link, { end: 'partial', partialRemains: 1 });
  const comments = 'Love it!\n\n  so good  \r\nwow 😍\nnice';
  const order = await place(key, { service, link, comments });
  expect(order).toMatchObject({ quantity: 4, charge: '0.12000' });
  const upstream = await upstreamOf(order.id);
  expect(upstream.fields).toEqual({ link, comments });
  expect(upstream.quantity).toBe(4);
  const final = await finish(order.id);
  // 1 of 4 comments undelivered: 0.12000 × 1 / 4.
  expect(final).toMatchObject({ status: 'partial', remains: 1, refunds: [{ amount: '0.03000', rule: 'R-PARTIAL' }] });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.91000');
});

it.each([
  ['mentions_with_hashtags', 12, { quantity: '150', usernames: 'alice\nbob', hashtags: '#sun\n#sea' }],
  ['mentions_custom_list', 13, { usernames: 'alice\nbob\ncarol' }],
  ['mentions_hashtag', 14, { quantity: '150', hashtag: '#fashion' }],
  ['mentions_user_followers', 15, { quantity: '150', username: 'natgeo' }],
  ['mentions_media_likers', 16, { quantity: '150', media: 'https://www.instagram.com/p/media1' }],
  ['comment_likes', 17, { quantity: '150', username: 'alice' }],
  ['comment_replies', 18, { username: 'alice', comments: 'first\nsecond' }],
] as const)('R-CHARGE, R-COUNTERS: %s is dispatched with its fields exactly as sent and followed to Completed', async (type, simId, fields) => {
  const service = await typedService(type, simId, '10.00000', 1, 1000);
  const { userId, key } = await userWithKey('10');
  const link = engine.uniqueLink(type);
  const order = await place(key, { service, link, ...fields });
  expect((await upstreamOf(order.id)).fields).toEqual({ link, ...fields });
  expect(await finish(order.id)).toMatchObject({ status: 'completed', refunded: '0.00000' });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe(String((10 - Number(order.charge)).toFixed(5)));
});

it('R-PARTIAL: a Poll placed through API v2 add carries answer_number to the provider; a Partial refunds the votes not delivered', async () => {
  const service = await typedService('poll', 19, '2.00000', 50, 10000);
  const { userId, key } = await userWithKey('1');
  const link = engine.uniqueLink('poll');
  engine.simulator.state.addScenario(link, { end: 'partial', partialRemains: 30 });
  const res = await postForm(server, { key, action: 'add', service, link, quantity: '200', answer_number: '2' });
  const orderId = (JSON.parse(res.text) as { order: number }).order;
  expect((await upstreamOf(orderId)).fields).toEqual({ link, quantity: '200', answer_number: '2' });
  const final = await finish(orderId);
  // charge 2 × 200 / 1000 = 0.40000; 30 of 200 undelivered: 0.06000.
  expect(final).toMatchObject({ status: 'partial', charge: '0.40000', refunds: [{ amount: '0.06000', rule: 'R-PARTIAL' }] });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.66000');
});

it('R-CANCEL-FULL: an SEO order canceled before it started at the provider refunds its whole charge', async () => {
  const service = await typedService('seo', 20, '1.00000', 100, 100000);
  const { userId, key } = await userWithKey('1');
  const link = engine.uniqueLink('seo');
  const order = await place(key, { service, link, quantity: 500, keywords: 'buy shoes\ncheap shoes' });
  expect((await upstreamOf(order.id)).fields).toEqual({ link, quantity: '500', keywords: 'buy shoes\ncheap shoes' });
  const cancel = await request(server).post(`/orders/${order.id}/cancel`).set({ Authorization: `Bearer ${key}` }).send({});
  expect(cancel.status).toBe(202);
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(order.id).result();
  await engine.history(order.id);
  expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.50000', rule: 'R-CANCEL-FULL' }] });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('1.00000');
});

it('R-CHARGE: a drip-feed passed to the provider (dripfeed "provider") forwards runs and interval with the per-run quantity; one upstream order of quantity × runs is followed to Completed', async () => {
  const s = await engine.prisma.service.create({
    data: { name: 'feed', category: 'Instagram', rate: '0.90000', min: 50, max: 10000, dripfeed: 'provider', providerId: engine.seed.providerId, providerServiceId: '1', cancelable: true },
  });
  const { userId, key } = await userWithKey('1');
  const link = engine.uniqueLink('feed-provider');
  const order = await place(key, { service: s.id, link, quantity: 100, runs: 5, interval: 30 });
  expect(order).toMatchObject({ quantity: 500, charge: '0.45000' });
  const upstream = await upstreamOf(order.id);
  expect(upstream.fields).toEqual({ link, quantity: '100', runs: '5', interval: '30' });
  expect(upstream).toMatchObject({ quantity: 500, charge: '0.45000' });
  // The provider runs the feed: run 5 starts 4 × 30 minutes after the first.
  expect(await finish(order.id, 4 * 30 * 60_000 + 10 * 60_000)).toMatchObject({ status: 'completed', refunded: '0.00000' });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.55000');
});

it('R-CHARGE-MAX: a subscription is dispatched in the provider\'s subscription form (username, min, max, posts, delay; no link or quantity)', async () => {
  const service = await typedService('subscriptions', 21, '0.40000', 50, 5000);
  const { userId, key } = await userWithKey('5');
  const username = `sub_${engine.uniqueLink('x').replace(/\W/g, '').slice(-12)}`;
  const fields = { username, min: '100', max: '300', posts: '10', old_posts: '1', delay: '30', expiry: '31/12/2099' };
  const order = await place(key, { service, ...fields });
  // R-CHARGE-MAX: 0.4 × 300 × 10 / 1000.
  expect(order).toMatchObject({ quantity: 3000, charge: '1.20000' });
  const upstream = await upstreamOf(order.id);
  expect(upstream.fields).toEqual(fields);
  expect(upstream.link).toBe(username);
  // Ended here by a cancel before it started upstream: the whole charge back (R-CANCEL-FULL).
  const cancel = await request(server).post(`/orders/${order.id}/cancel`).set({ Authorization: `Bearer ${key}` }).send({});
  expect(cancel.status).toBe(202);
  await engine.temporal.env.sleep('2 minutes');
  expect(await engine.handle(order.id).result()).toMatchObject({ status: 'canceled', refunds: [{ amount: '1.20000', rule: 'R-CANCEL-FULL' }] });
  await engine.history(order.id);
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('5.00000');
});
