// The concurrency proof, end to end through HTTP: 200 parallel POST /orders against a balance that
// covers exactly 100 of them. The database's CHECK (balance >= 0) decides each debit, whatever the
// fast check in the API saw.
import type { Server } from 'node:http';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
let server: Server;

beforeAll(async () => {
  engine = await startTestEngine();
  // 200 placements at once on a 2-core machine whose other jest worker may be driving Chromium: a
  // placement may take longer than the API's 30 s before answering 503 placement_pending (that answer
  // has its own test, placement-timeout.test.ts). This file proves the money, so it waits for the
  // answers.
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }), placementTimeoutMs: 120_000 }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

it('R-BALANCE: 200 parallel orders against a balance for exactly 100 → 100 × 201, 100 × 402 "not enough funds", balance 0.00000, ledger invariant holds', async () => {
  // Likes: 0.12 per 1000, so 100 units cost 0.01200 and 1.20000 pays for exactly 100 orders.
  const userId = await engine.newUser('1.20000');
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role: 'user' } });
  const links = Array.from({ length: 200 }, (_, i) => engine.uniqueLink(`race-${i}`));

  const started = Date.now();
  const results = await Promise.all(
    links.map((link) =>
      request(server).post('/orders').set('Authorization', `Bearer ${key}`).send({ service: engine.seed.serviceIds.likes, link, quantity: 100 }),
    ),
  );
  const elapsed = Date.now() - started;

  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  expect(Object.fromEntries(byStatus)).toEqual({ 201: 100, 402: 100 });
  for (const r of results.filter((x) => x.status === 402)) {
    expect(r.body.error).toEqual({ code: 'insufficient_funds', message: 'not enough funds', rule: 'R-BALANCE' });
  }
  const placed = results.filter((r) => r.status === 201).map((r) => r.body.order);
  expect(new Set(placed.map((o) => o.id)).size).toBe(100);
  expect(placed.every((o) => o.charge === '0.01200' && o.userId === userId)).toBe(true);

  expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.00000');
  expect((await request(server).get('/balance').set('Authorization', `Bearer ${key}`)).body.balance).toBe('0.00000');
  const debits = (await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit');
  expect(debits).toHaveLength(100);
  expect(new Set(debits.map((e) => e.orderId))).toEqual(new Set(placed.map((o) => o.id)));
  expect(await engine.deps.ledger.checkInvariant()).toBe(true);
  // Every refused placement left no paid order behind.
  expect(await engine.prisma.order.count({ where: { userId, status: { notIn: ['rejected'] } } })).toBe(100);
  const refusedByWorkflow = await engine.prisma.order.count({ where: { userId, status: 'rejected' } });
  console.log(`[concurrency] 200 parallel POST /orders in ${elapsed} ms; ${refusedByWorkflow} of the 402s by the debit, ${100 - refusedByWorkflow} by the fast check`);
});
