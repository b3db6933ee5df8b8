/**
 * The demo data `npm start` (and `npm run demo:seed`) puts in the database: a user with an API key and
 * a balance, the provider simulator registered as a provider, and a catalogue of services mapped to the
 * simulator's services. Idempotent: running it again changes nothing but the provider's URL (the
 * simulator may listen elsewhere this time) and never duplicates a row or a top-up.
 *
 * The demo API key. Keys are stored hashed (sha256), so the clear key must live somewhere else to be
 * printed on every start. Decision: DEMO_API_KEY when set (docker compose sets it); otherwise a random
 * key created on first start and kept in `<data dir>/demo-api-key` (mode 0600, gitignored). If the
 * database no longer knows the key (a new database), the key is registered again; if the file is lost,
 * a new key is made and the demo user's older demo keys are revoked.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PrismaClient } from '../../db/client';
import { LedgerConflictError, createLedger, topUpKey } from '../../activities/ledger';
import { hashApiKey } from '../../api/auth';
import { decimal, formatMoney } from '../../domain/money';
import { DEMO_CATALOGUE } from '../../provider-simulator';
import { simServiceType } from '../../provider-simulator/order-fields';
import type { SimService } from '../../provider-simulator';

export const DEMO_USER_EMAIL = 'demo@example.com';
export const DEMO_PROVIDER_NAME = 'Provider simulator (demo)';
export const DEMO_KEY_LABEL = 'demo';
export const DEMO_TOPUP_REFERENCE = 'demo-initial-balance';
export const DEFAULT_DEMO_BALANCE = '1000';
/** Our price per 1000 = the simulator's price × this. */
export const DEMO_MARKUP = '2';
/** Any advisory lock id of our own: two starts seeding at once wait for each other. */
const SEED_LOCK_ID = 5_368_031;

export interface SeedDemoInput {
  simulator: { apiUrl: string; countUrl: string; apiKey: string };
  /** DEMO_API_KEY, when the key is given rather than kept in a file. */
  apiKey?: string;
  /** Where a generated key is kept (ignored when apiKey is given). */
  keyFile: string;
  /** Credited once, as the top-up with payment reference "demo-initial-balance". Default 1000. */
  balance?: string;
  catalogue?: readonly SimService[];
}

export interface DemoService {
  id: number;
  name: string;
  providerServiceId: string;
  rate: string;
  min: number;
  max: number;
}

export interface DemoSeed {
  userId: number;
  apiKey: string;
  /** Where the key came from: DEMO_API_KEY, the key file, or made now. */
  keySource: 'env' | 'file' | 'new';
  providerId: number;
  services: DemoService[];
  balance: string;
  /** What this run created (all zero/false on a re-run). */
  created: { user: boolean; provider: boolean; services: number; apiKey: boolean; topUp: boolean };
}

export async function seedDemo(prisma: PrismaClient, input: SeedDemoInput): Promise<DemoSeed> {
  const catalogue = input.catalogue ?? DEMO_CATALOGUE;
  const { key, source } = await demoKey(input);
  const keyHash = hashApiKey(key);

  const seeded = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK_ID}::bigint)`;
    const created = { user: false, provider: false, services: 0, apiKey: false };

    let user = await tx.user.findUnique({ where: { email: DEMO_USER_EMAIL } });
    if (!user) {
      user = await tx.user.create({ data: { name: 'Demo reseller', email: DEMO_USER_EMAIL } });
      created.user = true;
    }

    const providerData = {
      apiUrl: input.simulator.apiUrl,
      apiKey: input.simulator.apiKey,
      countSourceUrl: input.simulator.countUrl,
      supportsLinkLookup: true,
      active: true,
    };
    let provider = await tx.provider.findFirst({ where: { name: DEMO_PROVIDER_NAME }, orderBy: { id: 'asc' } });
    if (!provider) {
      provider = await tx.provider.create({ data: { name: DEMO_PROVIDER_NAME, ...providerData } });
      created.provider = true;
    } else if (provider.apiUrl !== providerData.apiUrl || provider.countSourceUrl !== providerData.countSourceUrl || provider.apiKey !== providerData.apiKey) {
      provider = await tx.provider.update({ where: { id: provider.id }, data: providerData });
    }

    const services: DemoService[] = [];
    for (const sim of catalogue) {
      const providerServiceId = String(sim.service);
      let service = await tx.service.findFirst({
        where: { providerId: provider.id, providerServiceId },
        orderBy: { id: 'asc' },
      });
      if (!service) {
        const refill = refillOf(sim);
        service = await tx.service.create({
          data: {
            name: sim.name,
            category: sim.category,
            // The simulator's type name ("Custom Comments") as the catalogue's key; drip-feed run by
            // the engine where the upstream service offers it (a Default service).
            type: simServiceType(sim),
            dripfeed: sim.dripfeed && simServiceType(sim) === 'default' ? 'engine' : 'none',
            providerId: provider.id,
            providerServiceId,
            rate: formatMoney(decimal(sim.rate).times(DEMO_MARKUP)),
            min: sim.min,
            max: sim.max,
            refillKind: refill.kind,
            refillDays: refill.days,
            cancelable: sim.cancel,
          },
        });
        created.services += 1;
      }
      services.push({
        id: service.id,
        name: service.name,
        providerServiceId,
        rate: formatMoney(service.rate.toString()),
        min: service.min,
        max: service.max,
      });
    }

    const existingKey = await tx.apiKey.findUnique({ where: { keyHash } });
    if (existingKey && existingKey.userId !== user.id) {
      throw new Error('the demo API key belongs to another user; set another DEMO_API_KEY');
    }
    if (!existingKey) {
      await tx.apiKey.updateMany({
        where: { userId: user.id, label: DEMO_KEY_LABEL, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      await tx.apiKey.create({
        data: { userId: user.id, keyHash, keyPrefix: key.slice(0, 8), role: 'user', label: DEMO_KEY_LABEL },
      });
      created.apiKey = true;
    } else if (existingKey.revokedAt) {
      await tx.apiKey.update({ where: { id: existingKey.id }, data: { revokedAt: null } });
    }

    return { userId: user.id, providerId: provider.id, services, created };
  });

  const ledger = createLedger(prisma);
  let toppedUp = false;
  try {
    const topUp = await ledger.credit({
      userId: seeded.userId,
      amount: formatMoney(input.balance ?? DEFAULT_DEMO_BALANCE),
      kind: 'topup',
      idempotencyKey: topUpKey(DEMO_TOPUP_REFERENCE),
      reference: DEMO_TOPUP_REFERENCE,
      reason: 'demo balance (npm start)',
    });
    toppedUp = !topUp.replayed;
  } catch (error) {
    // Credited before with another DEMO_BALANCE: once per payment reference (R-BALANCE) still holds.
    if (!(error instanceof LedgerConflictError)) throw error;
  }
  if (source === 'new') await saveKey(input.keyFile, key);

  return {
    userId: seeded.userId,
    apiKey: key,
    keySource: source,
    providerId: seeded.providerId,
    services: seeded.services,
    balance: await ledger.balanceOf(seeded.userId),
    created: { ...seeded.created, topUp: toppedUp },
  };
}

function refillOf(sim: SimService): { kind: 'none' | 'days' | 'lifetime'; days: number | null } {
  if (!sim.refill) return { kind: 'none', days: null };
  if (/lifetime/i.test(sim.name)) return { kind: 'lifetime', days: null };
  const days = /refill\s+(\d+)\s*d/i.exec(sim.name);
  return { kind: 'days', days: days ? Number(days[1]) : 30 };
}

async function demoKey(input: SeedDemoInput): Promise<{ key: string; source: DemoSeed['keySource'] }> {
  if (input.apiKey) return { key: input.apiKey, source: 'env' };
  try {
    const stored = (await readFile(input.keyFile, 'utf8')).trim();
    if (stored) return { key: stored, source: 'file' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { key: `demo_${randomBytes(24).toString('hex')}`, source: 'new' };
}

async function saveKey(file: string, key: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
