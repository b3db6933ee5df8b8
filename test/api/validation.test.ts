// Bad input → 4xx JSON naming field and rule, writing nothing; never a 500 for anything a client
// sent. Real server faults → 500, logged.
import request from 'supertest';
import pino from 'pino';
import { createApp } from '../../api/app';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';

let api: TestApi;
let user: { userId: number; key: string };
let serviceId: number;
let inactiveServiceId: number;

beforeAll(async () => {
  api = await startTestApi({ bodyLimit: '2kb' });
  user = await makeUser(api.prisma, { balance: '100' });
  ({ serviceId } = await makeService(api.prisma, { min: 50, max: 10000 }));
  ({ serviceId: inactiveServiceId } = await makeService(api.prisma, { active: false }));
});
afterAll(async () => {
  await api.close();
});

const post = (path: string, body: unknown, key = user.key) =>
  request(api.app).post(path).set(bearer(key)).set('Content-Type', 'application/json').send(JSON.stringify(body));

describe('POST /orders validation (nothing reaches Temporal, nothing is written)', () => {
  const valid = () => ({ service: serviceId, link: 'https://instagram.com/someone', quantity: 1000 });
  const cases: Array<[string, () => unknown, number, { field?: string; rule?: string; message?: RegExp }]> = [
    ['missing quantity', () => ({ ...valid(), quantity: undefined }), 400, { field: 'quantity', rule: 'required' }],
    ['quantity as text', () => ({ ...valid(), quantity: 'many' }), 400, { field: 'quantity', rule: 'type' }],
    ['fractional quantity', () => ({ ...valid(), quantity: 10.5 }), 400, { field: 'quantity', rule: 'type' }],
    ['zero quantity', () => ({ ...valid(), quantity: 0 }), 400, { field: 'quantity', rule: 'min' }],
    ['missing service', () => ({ ...valid(), service: undefined }), 400, { field: 'service', rule: 'required' }],
    ['missing link', () => ({ ...valid(), link: undefined }), 400, { field: 'link', rule: 'required' }],
    ['empty link', () => ({ ...valid(), link: '  ' }), 400, { field: 'link', rule: 'min' }],
    ['link that is no URL', () => ({ ...valid(), link: 'ftp://x.com/a' }), 400, { field: 'link', rule: 'format', message: /http or https/ }],
    ['link with spaces', () => ({ ...valid(), link: 'https://x.com/a b' }), 400, { field: 'link', rule: 'format' }],
    ['unknown field', () => ({ ...valid(), colour: 'red' }), 400, { field: 'colour', rule: 'unknown_field' }],
    ['drip-feed (runs) on a service that does not offer it', () => ({ ...valid(), runs: 5, interval: 10 }), 422, { field: 'runs', rule: 'drip_feed' }],
    ['a field of another type (comments on a Default service)', () => ({ ...valid(), comments: 'nice' }), 422, { field: 'comments', rule: 'service_type' }],
    ['a JSON array', () => [valid()], 400, { rule: 'type' }],
    ['unknown service', () => ({ ...valid(), service: 999999 }), 422, { field: 'service', message: /does not exist/ }],
    ['R-MINMAX: quantity below minimum', () => ({ ...valid(), quantity: 49 }), 422, { field: 'quantity', rule: 'R-MINMAX', message: /^quantity below minimum 50$/ }],
    ['R-MINMAX: quantity above maximum', () => ({ ...valid(), quantity: 10001 }), 422, { field: 'quantity', rule: 'R-MINMAX', message: /^quantity above maximum 10000$/ }],
    ['R-MINMAX: inactive service', () => ({ ...valid(), service: inactiveServiceId }), 422, { field: 'service', rule: 'R-MINMAX', message: /inactive/ }],
  ];

  it.each(cases)('%s → %i naming field and rule', async (_name, body, status, expected) => {
    const before = await writeCounts(api.prisma);
    const res = await post('/orders', body());
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ ...(expected.field ? { field: expected.field } : {}), ...(expected.rule ? { rule: expected.rule } : {}) });
    if (expected.message) expect(res.body.error.message).toMatch(expected.message);
    expect(typeof res.body.error.code).toBe('string');
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('accepts service and quantity as digit strings (panels send "1000"): the schema passes them on', async () => {
    // Stops at the R-MINMAX check, which proves the strings were read as numbers.
    const res = await post('/orders', { service: String(serviceId), link: 'instagram.com/x', quantity: '10' });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('quantity below minimum 50');
  });

  it('R-BLOCKED: a blocked user places nothing (403), writing nothing', async () => {
    const blocked = await makeUser(api.prisma, { balance: '100', status: 'blocked' });
    const before = await writeCounts(api.prisma);
    const res = await post('/orders', valid(), blocked.key);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'user_blocked', rule: 'R-BLOCKED' });
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('a malformed Idempotency-Key header is refused naming the header', async () => {
    const res = await request(api.app).post('/orders').set(bearer(user.key)).set('Idempotency-Key', 'has space').send(valid());
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'Idempotency-Key', rule: 'format' });
  });
});

describe('never a 500 for what a client sent', () => {
  it('malformed JSON → 400 malformed_json', async () => {
    const res = await request(api.app).post('/orders').set(bearer(user.key)).set('Content-Type', 'application/json').send('{"service": 1,');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'malformed_json', rule: 'json' });
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form (curl -d)', 'application/x-www-form-urlencoded'],
    ['no Content-Type', ''],
  ])('a JSON body sent as %s → 415 unsupported_media_type, saying it was not read as JSON and what to send', async (_name, type) => {
    const before = await writeCounts(api.prisma);
    const body = JSON.stringify({ service: serviceId, link: 'https://instagram.com/someone', quantity: 1000 });
    const res = await request(api.app).post('/orders').set(bearer(user.key)).set('Content-Type', type).send(Buffer.from(body));
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'unsupported_media_type', field: 'Content-Type', accepted: ['application/json'] });
    expect(res.body.error.message).toMatch(/not read as JSON .*Content-Type: application\/json/);
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('JSON with a charset parameter is read; a POST without a body is not refused for its Content-Type', async () => {
    const res = await request(api.app).post('/orders').set(bearer(user.key)).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ service: serviceId, quantity: 1000 }));
    expect(res.body.error).toMatchObject({ field: 'link', rule: 'required' });
    const empty = await request(api.app).post('/orders').set(bearer(user.key)).set('Content-Type', 'text/plain');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).not.toBe('unsupported_media_type');
  });

  it('body too large → 413 body_too_large', async () => {
    const res = await post('/orders', { service: serviceId, link: `https://x.com/${'a'.repeat(5000)}`, quantity: 100 });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
  });

  it('unknown route → 404 JSON (any method)', async () => {
    for (const method of ['get', 'post', 'delete', 'put'] as const) {
      const res = await request(api.app)[method]('/nope/nothing').set(bearer(user.key));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('route_not_found');
    }
  });

  it('a form body is not read as missing fields: 415 unsupported_media_type', async () => {
    const res = await request(api.app).post('/orders').set(bearer(user.key)).type('form').send({ service: '1', quantity: '5' });
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'unsupported_media_type', accepted: ['application/json'] });
  });

  it('order ids that are not ids → 404, not 400 or 500', async () => {
    for (const id of ['abc', '-1', '0', '1.5', '99999999999999999999', '%00']) {
      const res = await request(api.app).get(`/orders/${id}`).set(bearer(user.key));
      expect({ id, status: res.status }).toEqual({ id, status: 404 });
    }
  });

  it('fuzz: garbage bodies on every write route get a 4xx, never a 5xx', async () => {
    const garbage: unknown[] = [
      null, [], 'text', 12, true, {}, { quantity: 1e309 }, { service: -1, link: 5, quantity: [] },
      { service: { $gt: 1 } }, { amount: 10 }, { amount: '1e5' }, { amount: '-5' }, { amount: '0.000001' },
      { name: '' }, { name: 'x'.repeat(500) }, { role: 'root' }, { min: 10, max: 5 }, { rate: 'NaN' },
      { refill: { kind: 'days' } }, { refill: 'forever' }, { panelAtFault: 'yes', amount: '1', reason: 'r' },
      { __proto__: { polluted: true } }, { constructor: { prototype: { x: 1 } } },
      { service: Number.MAX_SAFE_INTEGER + 2, link: 'https://x.com/a', quantity: 100 },
    ];
    const routes = [
      '/orders', '/orders/1/cancel', '/admin/users', `/admin/users/${user.userId}/api-keys`, `/admin/users/${user.userId}/top-ups`,
      `/admin/users/${user.userId}/withdrawals`, `/admin/users/${user.userId}/chargebacks`, '/admin/providers', '/admin/services',
    ];
    const before = await writeCounts(api.prisma);
    for (const path of routes) {
      for (const body of garbage) {
        // An empty body is a valid key request (role user by default).
        if (path.endsWith('/api-keys') && JSON.stringify(body) === '{}') continue;
        const res = await post(path, body, path.startsWith('/admin') ? api.adminKey : user.key);
        expect({ path, body, status: res.status < 500 && res.status >= 400 }).toEqual({ path, body, status: true });
        expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
      }
    }
    for (const path of ['/admin/providers/1', '/admin/services/1']) {
      for (const body of garbage) {
        const res = await request(api.app).patch(path).set(bearer(api.adminKey)).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    }
    expect(await writeCounts(api.prisma)).toEqual(before);
    expect(api.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('query strings are validated too: unknown status, bad dates, limit out of range → 400 naming query.<field>', async () => {
    const cases: Array<[string, string, string]> = [
      ['status=shipped', 'query.status.0', 'enum'],
      ['status=pending,,nope', 'query.status.1', 'enum'],
      ['createdBefore=yesterday', 'query.createdBefore', 'format'],
      ['limit=0', 'query.limit', 'min'],
      ['limit=5000', 'query.limit', 'max'],
      ['cursor=x', 'query.cursor', 'type'],
      ['sort=id', 'query.sort', 'unknown_field'],
      ['link=not%20a%20link', 'query.link', 'format'],
    ];
    for (const [qs, field, rule] of cases) {
      const res = await request(api.app).get(`/orders?${qs}`).set(bearer(user.key));
      expect({ qs, status: res.status, field: res.body.error?.field, rule: res.body.error?.rule }).toEqual({ qs, status: 400, field, rule });
    }
  });
});

describe('server faults', () => {
  it('a real fault answers 500 without internals and is logged (pino) with the order id', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const orders = { ...api.orders, getOrder: async () => Promise.reject(new Error('database on fire')) };
    const app = createApp({ prisma: api.prisma, temporal: {} as never, ledger: api.ledger, orders, logger });
    const res = await request(app).get('/orders/7').set(bearer(user.key));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal server error' } });
    expect(JSON.stringify(res.body)).not.toContain('fire');
    const fault = logs.find((l) => l.msg === 'request failed with a server error');
    expect(fault).toMatchObject({ level: 50, method: 'GET', path: '/orders/7', userId: user.userId });
    expect((fault!.err as { message: string }).message).toBe('database on fire');
    const line = logs.find((l) => l.msg === 'request');
    expect(line).toMatchObject({ status: 500, path: '/orders/7' });
  });
});
