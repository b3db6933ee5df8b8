// The demo data of `npm start` against a real PostgreSQL: seeding twice creates nothing twice.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { createLedger } from '../../activities/ledger';
import { DEMO_CATALOGUE } from '../../provider-simulator';
import { hashApiKey } from '../../api/auth';
import { DEMO_KEY_LABEL, seedDemo } from '../../scripts/runtime/demo';

let db: TestDatabase;
let dir: string;
const simulator = { apiUrl: 'http://127.0.0.1:4010/api/v2', countUrl: 'http://127.0.0.1:4010/count', apiKey: 'sim-key' };

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'demo-seed-'));
});

afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function counts() {
  const p = db.prisma;
  return {
    users: await p.user.count(),
    providers: await p.provider.count(),
    services: await p.service.count(),
    activeKeys: await p.apiKey.count({ where: { revokedAt: null } }),
    ledgerEntries: await p.ledgerEntry.count(),
  };
}

it('creates the demo user, key, balance, provider and catalogue once; a re-run creates nothing and keeps the key', async () => {
  const keyFile = join(dir, 'demo-api-key');
  const first = await seedDemo(db.prisma, { simulator, keyFile });
  expect(first.keySource).toBe('new');
  expect(first.created).toEqual({ user: true, provider: true, services: DEMO_CATALOGUE.length, apiKey: true, topUp: true });
  expect(first.balance).toBe('1000.00000');
  expect(first.services.map((s) => s.providerServiceId)).toEqual(DEMO_CATALOGUE.map((s) => String(s.service)));
  // Our price is the simulator's times the markup, to 5 decimals.
  expect(first.services[0]!.rate).toBe('1.80000');
  expect((await readFile(keyFile, 'utf8')).trim()).toBe(first.apiKey);
  expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  // Stored hashed only.
  const key = await db.prisma.apiKey.findFirstOrThrow({ where: { userId: first.userId } });
  expect(key.keyHash).toBe(hashApiKey(first.apiKey));
  expect(key.label).toBe(DEMO_KEY_LABEL);
  const afterFirst = await counts();

  // The simulator listens elsewhere this time: only the provider's URL moves.
  const moved = { ...simulator, apiUrl: 'http://127.0.0.1:4999/api/v2', countUrl: 'http://127.0.0.1:4999/count' };
  const second = await seedDemo(db.prisma, { simulator: moved, keyFile, balance: '5' });
  expect(second.keySource).toBe('file');
  expect(second.apiKey).toBe(first.apiKey);
  expect(second.created).toEqual({ user: false, provider: false, services: 0, apiKey: false, topUp: false });
  expect(second.services).toEqual(first.services);
  expect(second.balance).toBe('1000.00000');
  expect(await counts()).toEqual(afterFirst);
  const provider = await db.prisma.provider.findUniqueOrThrow({ where: { id: first.providerId } });
  expect(provider.apiUrl).toBe(moved.apiUrl);
  await expect(createLedger(db.prisma).checkInvariant()).resolves.toBe(true);
});

it('two starts seeding at once create one of everything', async () => {
  const fresh = await createTestDatabase();
  try {
    const seeds = await Promise.all(
      [1, 2, 3].map(() => seedDemo(fresh.prisma, { simulator, keyFile: join(dir, 'shared-key'), apiKey: 'demo_given_key' })),
    );
    expect(new Set(seeds.map((s) => s.userId)).size).toBe(1);
    expect(await fresh.prisma.service.count()).toBe(DEMO_CATALOGUE.length);
    expect(await fresh.prisma.provider.count()).toBe(1);
    expect(await fresh.prisma.ledgerEntry.count()).toBe(1);
  } finally {
    await fresh.drop();
  }
});

it('DEMO_API_KEY: the given key is registered, and a lost key file gets a new key while the old ones are revoked', async () => {
  const fresh = await createTestDatabase();
  try {
    const given = await seedDemo(fresh.prisma, { simulator, keyFile: join(dir, 'unused'), apiKey: 'demo_given_key' });
    expect(given.keySource).toBe('env');
    expect(given.apiKey).toBe('demo_given_key');
    const regenerated = await seedDemo(fresh.prisma, { simulator, keyFile: join(dir, 'lost-key-file') });
    expect(regenerated.keySource).toBe('new');
    const keys = await fresh.prisma.apiKey.findMany({ orderBy: { id: 'asc' } });
    expect(keys.map((k) => ({ keyHash: k.keyHash, revoked: k.revokedAt !== null }))).toEqual([
      { keyHash: hashApiKey('demo_given_key'), revoked: true },
      { keyHash: hashApiKey(regenerated.apiKey), revoked: false },
    ]);
  } finally {
    await fresh.drop();
  }
});
