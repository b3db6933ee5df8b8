/**
 * Orders whose dispatch is uncertain wait for support when the provider cannot be searched (API v2
 * has no lookup): /metrics counts them and gives the oldest one's age, and the engine logs one warning
 * per order when it becomes uncertain, naming the route support settles it with.
 */
import request from 'supertest';
import pino from 'pino';
import { createOrderActivities } from '../../activities/order-activities';
import { createEngineDeps } from '../../deps/engine-deps';
import { makeOrder } from '../db/fixtures';
import { makeService, makeUser, noTemporal, startTestApi } from '../api/support/api';
import type { TestApi } from '../api/support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await request(api.app).get('/metrics');
  expect(res.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of (res.text as string).split('\n')) {
    const match = /^(engine_dispatch_uncertain_\w+) (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

it('uncertain orders are counted with the oldest one\'s age, and each is logged once when it becomes uncertain', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const acts = createOrderActivities(createEngineDeps(api.prisma, noTemporal, { logger }));
  const { userId } = await makeUser(api.prisma, { balance: '10' });
  const base = { userId, ...(await makeService(api.prisma)) };
  const older = await makeOrder(api.prisma, base);
  const newer = await makeOrder(api.prisma, base);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await api.prisma.order.update({ where: { id: older }, data: { status: 'pending', createdAt: twoHoursAgo } });
  await api.prisma.order.update({ where: { id: newer }, data: { status: 'pending' } });

  expect(await scrape()).toEqual(new Map([['engine_dispatch_uncertain_orders', 0], ['engine_dispatch_uncertain_oldest_age_seconds', 0]]));

  await acts.mirrorOrder(older, { status: 'dispatch_uncertain' });
  await acts.mirrorOrder(older, { status: 'dispatch_uncertain' }); // a retried mirror, or the next mirror of the same state
  await acts.mirrorOrder(newer, { status: 'dispatch_uncertain' });
  const warnings = lines.filter((line) => String(line.msg).startsWith('dispatch uncertain'));
  expect(warnings.map((line) => line.orderId)).toEqual([older, newer]);
  expect(warnings[0]).toMatchObject({ level: 40, providerId: base.providerId, msg: expect.stringContaining('POST /support/orders/:id/resolve-dispatch') });

  const during = await scrape();
  expect(during.get('engine_dispatch_uncertain_orders')).toBe(2);
  expect(during.get('engine_dispatch_uncertain_oldest_age_seconds')).toBeGreaterThanOrEqual(7200);
  expect(during.get('engine_dispatch_uncertain_oldest_age_seconds')).toBeLessThan(7200 + 120);

  // Support attached the older one to the provider's order: it is pending again, off the gauge.
  await acts.mirrorOrder(older, { status: 'pending', providerOrderId: '777' });
  const after = await scrape();
  expect(after.get('engine_dispatch_uncertain_orders')).toBe(1);
  expect(after.get('engine_dispatch_uncertain_oldest_age_seconds')).toBeLessThan(120);
});
