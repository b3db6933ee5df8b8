// API v2 transport: where it answers, how bodies are read, how the key is found, and that every
// answer is JSON with HTTP 200 ("Incorrect request", "Invalid API key", never empty, never HTML,
// never a 500), including for garbage bodies (a fast-check fuzz). Over a real database; Temporal is
// the API tests' fake (test/api/support/fake-temporal.ts), which these actions never reach.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import request from 'supertest';
import pino from 'pino';
import { createApp } from '../../api/app';
import { bearer, makeUser, startTestApi } from '../api/support/api';
import type { TestApi } from '../api/support/api';
import { fakeTemporal } from '../api/support/fake-temporal';
import { expectV2Answer, expectV2Error, httpBuildQuery, multipartBody, phpClientBody, postForm, postJson } from './support';

let api: TestApi;
let key: string;
let userId: number;

beforeAll(async () => {
  api = await startTestApi({ temporal: (deps) => fakeTemporal(deps).client });
  ({ key, userId } = await makeUser(api.prisma, { balance: '100.84292' }));
});
afterAll(async () => {
  await api.close();
});

const BALANCE = { balance: '100.84292', currency: 'USD' };

describe('where API v2 answers', () => {
  it.each(['/api/v2', '/api/v2/', '/API/V2'])('POST %s answers directly: 200 JSON, no redirect', async (path) => {
    const res = await postForm(api.app, { key, action: 'balance' }, { path });
    expect(res.headers.location).toBeUndefined();
    expect(expectV2Answer(res)).toEqual(BALANCE);
  });

  it('the query string is read too, under the body (a body field wins)', async () => {
    const res = await postForm(api.app, { action: 'balance' }, { path: `/api/v2?key=${encodeURIComponent(key)}&action=services` });
    expect(expectV2Answer(res)).toEqual(BALANCE);
  });

  it.each([
    ['GET /api/v2', () => request(api.app).get(`/api/v2?key=${encodeURIComponent(key)}&action=balance`)],
    ['PUT /api/v2', () => request(api.app).put('/api/v2').type('form').send(phpClientBody({ key, action: 'balance' }))],
    ['POST /api/v2/orders', () => postForm(api.app, { key, action: 'balance' }, { path: '/api/v2/orders' })],
    ['GET /api/v2/anything/else', () => request(api.app).get('/api/v2/anything/else')],
  ])('%s is not the protocol: "Incorrect request", 200 JSON (not the REST API\'s 401 or 404)', async (_name, send) => {
    expectV2Error(await send(), 'Incorrect request');
  });

  it('the REST API is untouched beside it: its auth and errors still answer there', async () => {
    expect((await request(api.app).get('/balance')).status).toBe(401);
    const rest = await request(api.app).get('/balance').set(bearer(key));
    expect(rest.body).toEqual({ userId, balance: '100.84292' });
    expect((await request(api.app).get('/api/v3').set(bearer(key))).status).toBe(404);
  });

  it('one request log line per call, with the user and without the key', async () => {
    const before = api.logs.length;
    await postForm(api.app, { key, action: 'balance' });
    const lines = api.logs.slice(before);
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ method: 'POST', path: '/api/v2', status: 200, userId });
    expect(JSON.stringify(lines)).not.toContain(key);
  });
});

describe('bodies as clients send them', () => {
  it.each([
    ['form, key first (the PHP client)', () => postForm(api.app, phpClientBody({ key, action: 'balance' }))],
    ['form, key last', () => postForm(api.app, phpClientBody({ action: 'balance', key }))],
    ['form with ;charset=UTF-8 (fetch + URLSearchParams)', () => postForm(api.app, { action: 'balance', key }, { contentType: 'application/x-www-form-urlencoded;charset=UTF-8' })],
    ['form with ; charset=ISO-8859-1', () => postForm(api.app, { key, action: 'balance' }, { contentType: 'application/x-www-form-urlencoded; charset=ISO-8859-1' })],
    ['form without a content type', () => request(api.app).post('/api/v2').set('Content-Type', '').send(Buffer.from(`key=${key}&action=balance`))],
    ['form labelled text/plain', () => postForm(api.app, { key, action: 'balance' }, { contentType: 'text/plain' })],
    ['http_build_query', () => postForm(api.app, httpBuildQuery({ key, action: 'balance' }))],
    ['JSON', () => postJson(api.app, { action: 'balance', key })],
    ['JSON with ;charset=utf-8', () => request(api.app).post('/api/v2').set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ key, action: 'balance' }))],
    ['JSON without a content type', () => request(api.app).post('/api/v2').set('Content-Type', '').send(Buffer.from(JSON.stringify({ key, action: 'balance' })))],
    ['JSON labelled text/plain (read as JSON: a JSON object is JSON whatever its label)', () => request(api.app).post('/api/v2').set('Content-Type', 'text/plain').send(JSON.stringify({ key, action: 'balance' }))],
    ['multipart/form-data (PHP curl given an array)', () => {
      const { body, contentType } = multipartBody({ key, action: 'balance' });
      return postForm(api.app, body, { contentType });
    }],
    ['a UTF-8 BOM and surrounding whitespace', () => postForm(api.app, `\uFEFF key=${encodeURIComponent(` ${key} `)}&action=%20balance%0A `)],
    ['the action in capitals', () => postForm(api.app, { key, action: 'BALANCE' })],
  ])('%s', async (_name, send) => {
    expect(expectV2Answer(await send())).toEqual(BALANCE);
  });

  it('a gzip-encoded form (over plain node:http: superagent re-encodes it)', async () => {
    const body = gzipSync(`key=${encodeURIComponent(key)}&action=balance`);
    const server = api.app.listen(0);
    try {
      const { port } = server.address() as AddressInfo;
      const text = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          { port, method: 'POST', path: '/api/v2', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip', 'Content-Length': body.length } },
          (res) => {
            let data = '';
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => resolve(data));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(JSON.parse(text)).toEqual(BALANCE);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the key as `api` (a known client quirk)', async () => {
    expect(expectV2Answer(await postForm(api.app, { api: key, action: 'balance' }))).toEqual(BALANCE);
  });

  it('a field given twice: the last one counts (as PHP reads it)', async () => {
    expect(expectV2Answer(await postForm(api.app, `key=nope&action=balance&key=${encodeURIComponent(key)}`))).toEqual(BALANCE);
  });
});

describe('"Invalid API key"', () => {
  it.each([
    ['no key', () => ({ action: 'balance' })],
    ['an empty key', () => ({ key: '', action: 'balance' })],
    ['an unknown key', () => ({ key: 'smm_unknown', action: 'balance' })],
    ['a 10 kB key', () => ({ key: 'k'.repeat(10_000), action: 'balance' })],
    ['an unknown key with an unknown action (the key is checked first)', () => ({ key: 'smm_unknown', action: 'nope' })],
  ])('%s', async (_name, fields) => {
    expectV2Error(await postForm(api.app, fields()), 'Invalid API key');
  });

  it('a revoked key', async () => {
    const revoked = await makeUser(api.prisma);
    await api.prisma.apiKey.update({ where: { id: revoked.apiKeyId }, data: { revokedAt: new Date() } });
    expectV2Error(await postForm(api.app, { key: revoked.key, action: 'balance' }), 'Invalid API key');
  });

  it('the REST API\'s Authorization header is not the protocol\'s key', async () => {
    expectV2Error(await postForm(api.app, { action: 'balance' }).set(bearer(key)), 'Invalid API key');
  });
});

describe('"Incorrect request"', () => {
  it.each([
    ['no action', () => phpClientBody({ key })],
    ['an empty action', () => phpClientBody({ key, action: '' })],
    ['an unknown action', () => phpClientBody({ key, action: 'orders' })],
    ['action=constructor', () => phpClientBody({ key, action: 'constructor' })],
    ['action=__proto__', () => phpClientBody({ key, action: '__proto__' })],
    ['action=toString', () => phpClientBody({ key, action: 'toString' })],
  ])('%s', async (_name, body) => {
    expectV2Error(await postForm(api.app, body()), 'Incorrect request');
  });

  it.each([
    ['malformed JSON', 'application/json', '{"key": "x", "action": '],
    ['a JSON array', 'application/json', '["balance"]'],
    ['a JSON string', 'application/json', '"balance"'],
    ['JSON null', 'application/json', 'null'],
    ['a malformed multipart body', 'multipart/form-data; boundary=xyz', 'no parts here'],
    ['multipart without a boundary', 'multipart/form-data', 'key=x&action=balance'],
  ])('%s', async (_name, contentType, body) => {
    expectV2Error(await postForm(api.app, body, { contentType }), 'Incorrect request');
  });

  it('an empty body (no key at all) → "Invalid API key", still JSON', async () => {
    expectV2Error(await request(api.app).post('/api/v2'), 'Invalid API key');
  });

  it('a body over 64 kB', async () => {
    const res = await postForm(api.app, phpClientBody({ key, action: 'balance', link: 'x'.repeat(70_000) }));
    expectV2Error(res, 'Incorrect request');
  });

  it('an unknown content encoding', async () => {
    const res = await request(api.app).post('/api/v2').set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'br-x').send(Buffer.from(`key=${key}&action=balance`));
    expectV2Error(res, 'Incorrect request');
  });

  it('a gzip body that is not gzip', async () => {
    const res = await request(api.app).post('/api/v2').set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'gzip').send(Buffer.from(`key=${key}&action=balance`));
    expectV2Error(res, 'Incorrect request');
  });
});

describe('never a 500', () => {
  it('a server fault is logged and answered "Temporary error, try again later" with 200 JSON', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const broken = createApp({
      prisma: api.prisma,
      temporal: fakeTemporal({ ledger: api.ledger, orders: api.orders }).client,
      orders: api.orders,
      ledger: { ...api.ledger, balanceOf: async () => { throw new Error('database went away'); } },
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
    });
    expectV2Error(await postForm(broken, { key, action: 'balance' }), 'Temporary error, try again later');
    expect(logs.find((l) => l.msg === 'api v2 failed with a server error')).toMatchObject({ level: 50, action: 'balance', userId });
  });

  it('fuzz: garbage bodies, content types and fields always get a JSON object or array with 200, and an error alone', async () => {
    const contentTypes = ['application/x-www-form-urlencoded', 'application/json', 'multipart/form-data; boundary=b', 'text/plain', 'application/octet-stream', '', 'application/x-www-form-urlencoded; charset=koi8-r'];
    const actions = ['services', 'add', 'status', 'cancel', 'refill', 'refill_status', 'balance', 'x', ''];
    const fieldNames = ['key', 'api', 'action', 'service', 'link', 'quantity', 'order', 'orders', 'refill', 'refills', 'runs', 'interval', 'comments', '__proto__', 'constructor', 'orders[]', 'orders[0]'];
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('1', '0', '-1', '1e3', '1.5', '99999999999999999999', ',,,', '1,2,abc', 'NaN', '%', '%zz', 'https://instagram.com/x'),
      fc.array(fc.nat(), { maxLength: 3 }).map((ids) => ids.join(',')),
    );
    const fieldsBody = fc
      .tuple(fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 6 }), fc.constantFrom(...actions), fc.boolean())
      .map(([fields, action, withKey]) => {
        const all: Record<string, string> = { ...fields, action };
        if (withKey) all.key = key;
        return all;
      });
    const body = fc.oneof(
      fieldsBody.map((f) => phpClientBody(f)),
      fieldsBody.map((f) => JSON.stringify(f)),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.json({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...contentTypes), async (payload, contentType) => {
        // Never the REST API's own actions with side effects beyond this test's user: add may place
        // orders (fake Temporal), which is fine; the answer is what is checked.
        const res = await request(api.app).post('/api/v2').set('Content-Type', contentType).send(typeof payload === 'string' ? Buffer.from(payload) : payload);
        const answer = expectV2Answer(res);
        expect(answer !== null && typeof answer === 'object').toBe(true);
        if (!Array.isArray(answer) && 'error' in (answer as object)) {
          expect(Object.keys(answer as object)).toEqual(['error']);
          expect(typeof (answer as { error: unknown }).error).toBe('string');
        }
      }),
      { numRuns: 300 },
    );
  });
});
