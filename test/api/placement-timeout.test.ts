// Placement when no worker answers: POST /orders waits placementTimeoutMs, then 503
// placement_pending naming the order; once a worker is back, the keyed retry finishes that same
// order (one order, one debit).
import type { Server } from 'node:http';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import { createEngineWorker } from '../../worker';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
let server: Server;

beforeAll(async () => {
  engine = await startTestEngine();
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }), placementTimeoutMs: 1_500 }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

it('no worker: 503 placement_pending with the order id, writing no debit; the keyed retry with a worker back → 201, same order', async () => {
  const userId = await engine.newUser('10');
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role: 'user' } });
  const body = { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 1000 };
  const headers = { Authorization: `Bearer ${key}`, 'Idempotency-Key': 'no-worker' };

  engine.worker.shutdown();
  while (engine.worker.getState() !== 'STOPPED') await new Promise((r) => setTimeout(r, 20));

  const started = Date.now();
  const first = await request(server).post('/orders').set(headers).send(body);
  expect(first.status).toBe(503);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(first.body.error).toMatchObject({ code: 'placement_pending', orderId: expect.any(Number) });
  expect((await engine.deps.ledger.entriesOf(userId)).map((e) => e.kind)).toEqual(['topup']);

  const worker = await createEngineWorker({ connection: engine.temporal.env.nativeConnection, deps: engine.deps, workflowBundle: engine.bundle });
  await worker.runUntil(async () => {
    // A client retries with its key while the answer is pending: a worker just started (its first
    // workflow task builds the sandbox) may need longer than this API's 1.5 s on a loaded machine.
    let retry = await request(server).post('/orders').set(headers).send(body);
    for (let attempt = 1; retry.status === 503 && attempt < 20; attempt++) {
      expect(retry.body.error).toMatchObject({ code: 'placement_pending', orderId: first.body.error.orderId });
      retry = await request(server).post('/orders').set(headers).send(body);
    }
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(first.body.error.orderId);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.10000');
  });
});
