// API keys on every call, stored hashed; roles user | support | admin.
import request from 'supertest';
import { hashApiKey } from '../../api/auth';
import { bearer, makeUser, startTestApi } from './support/api';
import type { TestApi } from './support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('authentication', () => {
  it('refuses a call without a key: 401 JSON naming what is missing', async () => {
    const res = await request(api.app).get('/balance');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.stringContaining('API key is required') } });
  });

  it('refuses an unknown key, a malformed Authorization header and two different keys', async () => {
    const { key } = await makeUser(api.prisma);
    expect((await request(api.app).get('/balance').set(bearer('smm_nope'))).status).toBe(401);
    expect((await request(api.app).get('/balance').set('Authorization', `Basic ${key}`)).status).toBe(401);
    const both = await request(api.app).get('/balance').set(bearer(key)).set('X-Api-Key', 'smm_other');
    expect(both.status).toBe(401);
    expect(both.body.error.message).toMatch(/different keys/);
  });

  it('accepts the key as Bearer token or as X-Api-Key (or both when equal)', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '5' });
    for (const headers of [bearer(key), { 'X-Api-Key': key }, { ...bearer(key), 'X-Api-Key': key }]) {
      const res = await request(api.app).get('/balance').set(headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId, balance: '5.00000' });
    }
  });

  it('stores keys only as sha256: the clear key is nowhere in the database', async () => {
    const res = await request(api.app).post('/admin/users').set(bearer(api.adminKey)).send({ name: 'reseller' });
    const created = await request(api.app).post(`/admin/users/${res.body.user.id}/api-keys`).set(bearer(api.adminKey)).send({});
    expect(created.status).toBe(201);
    const key: string = created.body.apiKey.key;
    const rows = await api.prisma.apiKey.findMany({ where: { userId: res.body.user.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0].keyHash).toBe(hashApiKey(key));
    expect(rows[0].keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows[0].keyPrefix).toBe(key.slice(0, 8));
  });

  it('refuses a revoked key', async () => {
    const { key, apiKeyId } = await makeUser(api.prisma);
    expect((await request(api.app).get('/balance').set(bearer(key))).status).toBe(200);
    await api.prisma.apiKey.update({ where: { id: apiKeyId }, data: { revokedAt: new Date() } });
    expect((await request(api.app).get('/balance').set(bearer(key))).status).toBe(401);
  });

  it('authenticates before reading the body: a stranger gets 401 even with malformed JSON', async () => {
    const res = await request(api.app).post('/orders').set('Content-Type', 'application/json').send('{nope');
    expect(res.status).toBe(401);
  });
});

describe('roles', () => {
  it('admin endpoints need role admin: user and support keys get 403', async () => {
    const user = await makeUser(api.prisma, { role: 'user' });
    const support = await makeUser(api.prisma, { role: 'support' });
    for (const key of [user.key, support.key]) {
      for (const [method, path] of [
        ['post', '/admin/users'],
        ['get', `/admin/users/${user.userId}`],
        ['post', `/admin/users/${user.userId}/top-ups`],
        ['get', '/admin/services'],
        ['post', '/admin/providers'],
      ] as const) {
        const res = await request(api.app)[method](path).set(bearer(key)).send({ name: 'x' });
        expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 403, code: 'forbidden' });
      }
    }
    expect(await api.prisma.user.count({ where: { name: 'x' } })).toBe(0);
  });

  it('an admin key reaches admin endpoints', async () => {
    const res = await request(api.app).get('/admin/services').set(bearer(api.adminKey));
    expect(res.status).toBe(200);
  });

  it('a user cannot list another user\'s orders by userId (403); their own is fine', async () => {
    const a = await makeUser(api.prisma);
    const b = await makeUser(api.prisma);
    expect((await request(api.app).get(`/orders?userId=${b.userId}`).set(bearer(a.key))).status).toBe(403);
    expect((await request(api.app).get(`/orders?userId=${a.userId}`).set(bearer(a.key))).status).toBe(200);
  });
});
