// A test's API: its own database, createApp over it, keys for each role, captured pino lines.
//   const api = await startTestApi();            // Temporal stubbed (routes that do not need it)
//   const api = await startTestApi({ temporal }); // a fake or a real Temporal client
//   await request(api.app).get('/balance').set(api.auth(key))
import type { Client } from '@temporalio/client';
import type express from 'express';
import pino from 'pino';
import { createLedger } from '../../../activities/ledger';
import type { Ledger } from '../../../activities/ledger';
import { createOrderRecords } from '../../../activities/order-records';
import type { OrderRecords } from '../../../activities/order-records';
import { createApp } from '../../../api/app';
import type { Role } from '../../../api/auth';
import { generateApiKey } from '../../../api/auth';
import type { PrismaClient } from '../../../generated/prisma/client';
import { createTestDatabase } from '../../support/database';
import type { TestDatabase } from '../../support/database';

export interface TestApi {
  db: TestDatabase;
  prisma: PrismaClient;
  ledger: Ledger;
  orders: OrderRecords;
  app: express.Application;
  /** Parsed pino lines the app wrote. */
  logs: Array<Record<string, unknown>>;
  adminKey: string;
  close(): Promise<void>;
}

/** A Temporal client that fails loudly if a route reaches it (for tests that must not). */
export const noTemporal = new Proxy({} as Client, {
  get(_target, prop) {
    if (prop === 'then') return undefined;
    throw new Error(`Temporal used in a test without Temporal (client.${String(prop)})`);
  },
});

export async function startTestApi(
  options: { temporal?: Client | ((deps: { prisma: PrismaClient; ledger: Ledger; orders: OrderRecords }) => Client); poolSize?: number; bodyLimit?: string } = {},
): Promise<TestApi> {
  const db = await createTestDatabase({ poolSize: options.poolSize });
  const prisma = db.prisma;
  const ledger = createLedger(prisma);
  const orders = createOrderRecords(prisma);
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const temporal = typeof options.temporal === 'function' ? options.temporal({ prisma, ledger, orders }) : (options.temporal ?? noTemporal);
  const app = createApp({ prisma, temporal, ledger, orders, logger, bodyLimit: options.bodyLimit });
  const admin = await makeUser(prisma, { role: 'admin', name: 'admin' });
  return { db, prisma, ledger, orders, app, logs, adminKey: admin.key, close: () => db.drop() };
}

let seq = 0;

/** A user with one API key of the given role (and an optional opening balance, as a real top-up). */
export async function makeUser(
  prisma: PrismaClient,
  options: { role?: Role; name?: string; balance?: string; status?: 'active' | 'blocked' } = {},
): Promise<{ userId: number; key: string; apiKeyId: number }> {
  const user = await prisma.user.create({ data: { name: `${options.name ?? 'user'}-${++seq}`, status: options.status ?? 'active' } });
  const { key, keyHash, keyPrefix } = generateApiKey();
  const row = await prisma.apiKey.create({ data: { userId: user.id, keyHash, keyPrefix, role: options.role ?? 'user' } });
  if (options.balance) {
    await createLedger(prisma).credit({
      userId: user.id,
      amount: options.balance,
      kind: 'topup',
      idempotencyKey: `topup:opening-${user.id}`,
      reference: `opening-${user.id}`,
    });
  }
  return { userId: user.id, key, apiKeyId: row.id };
}

/** A provider and a service (rate 1.20000 per 1000, min 50, max 10000, cancelable, 30-day refill). */
export async function makeService(
  prisma: PrismaClient,
  overrides: Partial<{ rate: string; min: number; max: number; cancelable: boolean; active: boolean; type: string; dripfeed: string }> = {},
): Promise<{ providerId: number; serviceId: number }> {
  const provider = await prisma.provider.create({ data: { name: `provider-${++seq}`, apiUrl: 'http://127.0.0.1:1/api/v2', apiKey: 'secret' } });
  const service = await prisma.service.create({
    data: {
      name: 'Instagram followers',
      category: 'Instagram',
      providerId: provider.id,
      providerServiceId: '101',
      rate: overrides.rate ?? '1.20000',
      min: overrides.min ?? 50,
      max: overrides.max ?? 10000,
      refillKind: 'days',
      refillDays: 30,
      cancelable: overrides.cancelable ?? true,
      active: overrides.active ?? true,
      type: overrides.type ?? 'default',
      dripfeed: overrides.dripfeed ?? 'none',
    },
  });
  return { providerId: provider.id, serviceId: service.id };
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** Row counts of everything a refused request must not write. */
export async function writeCounts(prisma: PrismaClient) {
  const [orders, ledgerEntries, idempotencyRecords, users, apiKeys, providers, services] = await Promise.all([
    prisma.order.count(),
    prisma.ledgerEntry.count(),
    prisma.idempotencyRecord.count(),
    prisma.user.count(),
    prisma.apiKey.count(),
    prisma.provider.count(),
    prisma.service.count(),
  ]);
  return { orders, ledgerEntries, idempotencyRecords, users, apiKeys, providers, services };
}
