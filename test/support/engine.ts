/**
 * The whole engine for a test file: its own database (createTestDatabase), a Temporal server
 * (startTestTemporal: in-memory, time skipping), the provider simulator over real HTTP, a seeded
 * user / providers / services, and a running engine worker (worker/index.ts) on ORDER_TASK_QUEUE.
 *
 *   let engine: TestEngine;
 *   beforeAll(async () => { engine = await startTestEngine(); });
 *   afterAll(async () => { await engine?.shutdown(); });
 *   const placed = await engine.placeOrder({ link: 'https://instagram.com/x', quantity: 1000 });
 *
 * placeOrder does what the API does for placement (reserve the id, update-with-start) without HTTP.
 * By default the provider sync is NOT woken: tests drive an order's progress by sending it the
 * providerUpdate signals the sync would send (that is the contract). `providerSync: true` lets the
 * dispatch activity wake the real sync workflow instead.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import type { temporal as proto } from '@temporalio/proto';
import { topUpKey } from '../../activities/ledger';
import type { PrismaClient } from '../../generated/prisma/client';
import { createVirtualClock, startProviderSimulator } from '../../provider-simulator';
import type { ProviderSimulator, StartProviderSimulatorOptions, VirtualClock } from '../../provider-simulator';
import { createEngineDeps } from '../../deps/engine-deps';
import type { EngineDeps } from '../../deps/engine-deps';
import { createEngineWorker } from '../../worker';
import { orderHandle, placeOrder as placeOrderWith } from '../../worker/order-client';
import type { OrderRequest, PlacedOrder } from '../../worker/order-client';
import type { OrderState, ProviderUpdate } from '../../workflows/order-contract';
import { orderWorkflowId } from '../../workflows/order-contract';
import { providerUpdateSignal, stateQuery } from '../../workflows/order-messages';
import type { orderWorkflow } from '../../workflows/order-workflow';
import { createTestDatabase } from './database';
import type { TestDatabase } from './database';
import { bundleWorkflows, startTestTemporal } from './temporal';
import type { TestTemporal } from './temporal';

export interface TestEngineOptions {
  /** Options for the simulator; default: a virtual clock (exposed as `simClock`), demo catalogue. */
  simulator?: StartProviderSimulatorOptions;
  /** Let dispatch wake the real provider sync workflow (default false: tests signal orders themselves). */
  providerSync?: boolean;
  /** Workflow code to bundle (default workflows/index.ts: every engine workflow). */
  workflowsPath?: string;
  /** Worker cache; 0 replays every workflow task from history (a determinism check). Default: env TEST_MAX_CACHED_WORKFLOWS, else the SDK's. */
  maxCachedWorkflows?: number;
  /** Opening balance of seed.userId (a top-up), default "1000.00000". */
  balance?: string;
  /** Provider HTTP timeout (default 2000 ms, so ambiguous answers are quick in tests). */
  providerTimeoutMs?: number;
}

export interface TestSeed {
  userId: number;
  /** The simulator as a provider that supports orders_by_link. */
  providerId: number;
  /** The same simulator as a provider without link lookup (support must resolve uncertainty). */
  noLookupProviderId: number;
  serviceIds: {
    /** Simulator service 1: Instagram followers, refill 30 days, cancelable; rate 0.90 / 1000, 50..10000. */
    followers: number;
    /** Simulator service 2: Instagram followers, no refill, NOT cancelable; rate 0.45, 50..20000. */
    followersNoCancel: number;
    /** Simulator service 3: Instagram likes, cancelable; rate 0.12, 10..50000. */
    likes: number;
    /** Service 1 again, on the provider without link lookup. */
    followersNoLookup: number;
  };
}

export interface TestEngine {
  temporal: TestTemporal;
  client: Client;
  db: TestDatabase;
  prisma: PrismaClient;
  simulator: ProviderSimulator;
  /** The simulator's clock when the default virtual clock is used (advance it to move upstream time). */
  simClock: VirtualClock | null;
  worker: Worker;
  bundle: WorkflowBundle;
  deps: EngineDeps;
  seed: TestSeed;
  /** Providers the dispatch woke (when providerSync is false). */
  wakes: number[];
  /** Placement as the API does it. Defaults: seed user and followers service, a unique link, quantity 1000, placedAt = Temporal's clock. */
  placeOrder(request?: Partial<OrderRequest>): Promise<PlacedOrder>;
  handle(orderId: number): WorkflowHandle<typeof orderWorkflow>;
  state(orderId: number): Promise<OrderState>;
  /** Polls the state query (real time, no skipping) until `predicate` holds. */
  waitForState(orderId: number, predicate: (s: OrderState) => boolean, timeoutMs?: number): Promise<OrderState>;
  /** Sends the providerUpdate signal the provider sync would send. observedAt defaults to Temporal's clock. */
  providerUpdate(orderId: number, update: Omit<ProviderUpdate, 'observedAt'> & { observedAt?: number }): Promise<void>;
  /** A new active user with this balance (a top-up). */
  newUser(balance?: string): Promise<number>;
  topUp(userId: number, amount: string): Promise<void>;
  /** A link no other test uses. */
  uniqueLink(prefix?: string): string;
  /** The order's history (its latest run, or `runId`); kept for replayAll(). */
  history(orderId: number, runId?: string): Promise<proto.api.history.v1.IHistory>;
  /** Replays every history fetched so far with Worker.runReplayHistory (throws on non-determinism). */
  replayAll(): Promise<number>;
  /** Stops the worker (as a crash or a deploy would, between two calls) and runs `between` before a new one starts. */
  restartWorker(between?: () => Promise<void>): Promise<void>;
  /**
   * Loses the Temporal server, as restarting `npm start` on the in-memory one does: stops the worker,
   * tears the server down (every workflow with it), starts a new one and a new worker against it.
   * The database and the simulator stay; `temporal`, `client` and `deps.temporal` are the new ones.
   */
  restartTemporal(): Promise<void>;
  shutdown(): Promise<void>;
}

let linkSeq = 0;

export async function startTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    let temporal = await startTestTemporal();
    cleanups.push(() => temporal.teardown());
    const simClock = options.simulator?.clock ? null : createVirtualClock();
    const simulator = await startProviderSimulator({ ...(simClock ? { clock: simClock.now } : {}), ...options.simulator });
    cleanups.push(() => simulator.close());

    const prisma = db.prisma;
    let client = temporal.env.client;
    const wakes: number[] = [];
    const deps = createEngineDeps(prisma, client, {
      providerTimeoutMs: options.providerTimeoutMs ?? 2_000,
      // The coalescing window is real time; on a skipped clock a sync can end idle within it.
      wakeCoalesceMs: 0,
      ...(options.providerSync ? {} : { wakeProviderSync: async (providerId: number) => void wakes.push(providerId) }),
    });
    const seed = await seedCatalogue(prisma, simulator, deps, options.balance ?? '1000.00000');

    // TEST_MAX_CACHED_WORKFLOWS=0 runs any engine test with every workflow task replayed from history.
    const fromEnv = process.env.TEST_MAX_CACHED_WORKFLOWS;
    const maxCachedWorkflows = options.maxCachedWorkflows ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : undefined);
    const bundle = await bundleWorkflows(options.workflowsPath ?? require.resolve('../../workflows'));
    const newWorker = () =>
      createEngineWorker({
        connection: temporal.env.nativeConnection,
        deps,
        workflowBundle: bundle,
        ...(maxCachedWorkflows !== undefined ? { maxCachedWorkflows } : {}),
      });
    let worker = await newWorker();
    let running = worker.run();
    const stopWorker = async () => {
      if (worker.getState() === 'RUNNING' || worker.getState() === 'INITIALIZED') worker.shutdown();
      await running;
    };
    cleanups.push(() => stopWorker());

    const histories: Array<{ workflowId: string; history: proto.api.history.v1.IHistory }> = [];
    const now = () => temporal.env.currentTimeMs();

    const engine: TestEngine = {
      temporal,
      client,
      db,
      prisma,
      simulator,
      simClock,
      worker,
      bundle,
      deps,
      seed,
      wakes,
      async placeOrder(request = {}) {
        return placeOrderWith(
          { prisma, client },
          {
            userId: request.userId ?? seed.userId,
            serviceId: request.serviceId ?? seed.serviceIds.followers,
            link: request.link ?? engine.uniqueLink(),
            quantity: request.quantity ?? 1000,
            placedAt: request.placedAt ?? (await now()),
            idempotencyKey: request.idempotencyKey ?? null,
            requestHash: request.requestHash ?? null,
          },
        );
      },
      handle: (orderId) => orderHandle(client, orderId),
      state: (orderId) => orderHandle(client, orderId).query(stateQuery),
      async waitForState(orderId, predicate, timeoutMs = 20_000) {
        const until = Date.now() + timeoutMs;
        let last: OrderState | undefined;
        while (Date.now() < until) {
          last = await engine.state(orderId);
          if (predicate(last)) return last;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`order ${orderId}: state never matched; last ${JSON.stringify(last)}`);
      },
      async providerUpdate(orderId, update) {
        await orderHandle(client, orderId).signal(providerUpdateSignal, { ...update, observedAt: update.observedAt ?? (await now()) });
      },
      newUser: (balance = '0.00000') => makeUser(prisma, deps, balance),
      async topUp(userId, amount) {
        await deps.ledger.credit({ userId, amount, kind: 'topup', idempotencyKey: topUpKey(`test-${userId}-${++linkSeq}`), reference: `test-${userId}-${linkSeq}` });
      },
      uniqueLink: (prefix = 'acct') => `https://instagram.com/${prefix}-${process.pid}-${Date.now().toString(36)}-${++linkSeq}`,
      async history(orderId, runId) {
        const history = await client.workflow.getHandle(orderWorkflowId(orderId), runId).fetchHistory();
        histories.push({ workflowId: orderWorkflowId(orderId), history });
        return history;
      },
      async replayAll() {
        for (const { workflowId, history } of histories) {
          await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history);
        }
        return histories.length;
      },
      async restartWorker(between) {
        await stopWorker();
        await between?.();
        worker = await newWorker();
        running = worker.run();
        engine.worker = worker;
      },
      async restartTemporal() {
        await stopWorker();
        await temporal.teardown();
        temporal = await startTestTemporal();
        client = temporal.env.client;
        deps.temporal = client;
        engine.temporal = temporal;
        engine.client = client;
        worker = await newWorker();
        running = worker.run();
        engine.worker = worker;
      },
      shutdown: cleanup,
    };
    return engine;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

let userSeq = 0;

async function makeUser(prisma: PrismaClient, deps: EngineDeps, balance: string): Promise<number> {
  const user = await prisma.user.create({ data: { name: `engine-user-${process.pid}-${++userSeq}` } });
  if (Number(balance) > 0) {
    const reference = `seed-${user.id}`;
    await deps.ledger.credit({ userId: user.id, amount: balance, kind: 'topup', idempotencyKey: topUpKey(reference), reference });
  }
  return user.id;
}

async function seedCatalogue(prisma: PrismaClient, sim: ProviderSimulator, deps: EngineDeps, balance: string): Promise<TestSeed> {
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const provider = await prisma.provider.create({
    data: { name: `sim-${tag}`, apiUrl: sim.apiUrl, apiKey: sim.apiKey, supportsLinkLookup: true, countSourceUrl: sim.countUrl },
  });
  const noLookup = await prisma.provider.create({
    data: { name: `sim-no-lookup-${tag}`, apiUrl: sim.apiUrl, apiKey: sim.apiKey, supportsLinkLookup: false },
  });
  const service = (providerId: number, providerServiceId: string, data: { name: string; rate: string; min: number; max: number; refillKind: string; refillDays: number | null; cancelable: boolean }) =>
    prisma.service.create({ data: { ...data, category: 'Instagram', providerId, providerServiceId } }).then((s) => s.id);
  const followers = { name: 'Instagram Followers [Refill 30D]', rate: '0.90000', min: 50, max: 10000, refillKind: 'days', refillDays: 30, cancelable: true };
  return {
    userId: await makeUser(prisma, deps, balance),
    providerId: provider.id,
    noLookupProviderId: noLookup.id,
    serviceIds: {
      followers: await service(provider.id, '1', followers),
      followersNoCancel: await service(provider.id, '2', { name: 'Instagram Followers [No refill]', rate: '0.45000', min: 50, max: 20000, refillKind: 'none', refillDays: null, cancelable: false }),
      likes: await service(provider.id, '3', { name: 'Instagram Likes', rate: '0.12000', min: 10, max: 50000, refillKind: 'none', refillDays: null, cancelable: true }),
      followersNoLookup: await service(noLookup.id, '1', followers),
    },
  };
}
