/**
 * Shared setup of the provider-sync tests: rows seeded straight into PostgreSQL (user, provider,
 * service, orders with a provider order id that exists in the simulator), the simulator over HTTP on
 * a virtual clock, and stand-in order workflows that record the providerUpdate signals they get.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PrismaClient } from '../../generated/prisma/client';
import { createVirtualClock, startProviderSimulator } from '../../provider-simulator';
import type { ProviderSimulator, Scenario, VirtualClock } from '../../provider-simulator';
import { ORDER_TASK_QUEUE, orderWorkflowId } from '../../workflows/order-contract';
import type { ProviderUpdate } from '../../workflows/order-contract';
import type { orderStandIn } from './provider-sync-test-workflows';
import { Worker } from '@temporalio/worker';
import { createProviderDirectory } from '../../activities/provider-directory';
import { createProviderSyncActivities } from '../../activities/provider-sync-activities';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { bundleWorkflows, startTestTemporal, type TestTemporal } from '../support/temporal';

export interface Sim {
  sim: ProviderSimulator;
  clock: VirtualClock;
  /** Exact `status` calls since the last reset of the counts. */
  statusCalls(): number;
  resetCalls(): void;
  close(): Promise<void>;
}

export async function startSim(): Promise<Sim> {
  const clock = createVirtualClock();
  const sim = await startProviderSimulator({ clock: clock.now, oneActivePerLink: false });
  return {
    sim,
    clock,
    statusCalls: () => sim.state.callCountsByAction().status ?? 0,
    resetCalls: () => sim.state.clearCalls(),
    close: () => sim.close(),
  };
}

export interface Catalogue {
  userId: number;
  providerId: number;
  serviceId: number;
}

let nextOrderId = 1;
let seq = 0;

/** A user, a provider pointed at the simulator, and one service (the simulator's service 1). */
export async function seedCatalogue(prisma: PrismaClient, sim: ProviderSimulator, apiUrl = sim.apiUrl): Promise<Catalogue> {
  const tag = `${Date.now().toString(36)}-${++seq}`;
  const user = await prisma.user.create({ data: { name: `sync-user-${tag}` } });
  const provider = await prisma.provider.create({ data: { name: `sim-${tag}`, apiUrl, apiKey: sim.apiKey } });
  const service = await prisma.service.create({
    data: {
      name: 'Instagram followers',
      category: 'Instagram',
      providerId: provider.id,
      providerServiceId: '1',
      rate: '0.90000',
      min: 50,
      max: 10000,
      refillKind: 'days',
      refillDays: 30,
      cancelable: true,
    },
  });
  return { userId: user.id, providerId: provider.id, serviceId: service.id };
}

export interface SeededOrder {
  id: number;
  providerOrderId: string;
  link: string;
}

export interface SeedOrdersOptions {
  count: number;
  /** Default 'pending'. */
  status?: 'pending' | 'in_progress' | 'new' | 'completed';
  quantity?: number;
  /** Link prefix (scenarios match on it). */
  linkPrefix?: string;
  /** A provider order id the simulator does not know (answers "Incorrect order ID"). */
  unknownAtProvider?: boolean;
  /** Order ids are explicit, so workflow ids are `order-<id>` as the contract says. */
}

/** Orders placed at the simulator (state.seedOrder) and inserted as rows with their provider order id. */
export async function seedOrders(prisma: PrismaClient, sim: ProviderSimulator, cat: Catalogue, opts: SeedOrdersOptions): Promise<SeededOrder[]> {
  const quantity = opts.quantity ?? 1000;
  const orders: SeededOrder[] = [];
  for (let i = 0; i < opts.count; i++) {
    const id = nextOrderId++;
    const link = `https://instagram.com/${opts.linkPrefix ?? 'sync'}-${id}`;
    const providerOrderId = opts.unknownAtProvider ? String(900_000_000 + id) : String(sim.state.seedOrder(sim.apiKey, 1, link, quantity));
    orders.push({ id, providerOrderId, link });
  }
  await prisma.order.createMany({
    data: orders.map((o) => ({
      id: o.id,
      workflowId: orderWorkflowId(o.id),
      userId: cat.userId,
      serviceId: cat.serviceId,
      providerId: cat.providerId,
      link: o.link,
      linkKey: o.link.replace(/^https:\/\//, ''),
      quantity,
      rate: '0.90000',
      charge: ((quantity * 0.9) / 1000).toFixed(5),
      refillKind: 'days',
      refillDays: 30,
      cancelable: true,
      status: opts.status ?? 'pending',
      providerOrderId: o.providerOrderId,
      dispatchState: 'answered',
    })),
  });
  return orders;
}

export interface SyncRow {
  id: number;
  lastCheckedAt: Date | null;
  upstreamStatus: string | null;
  upstreamStartCount: number | null;
  upstreamRemains: number | null;
}

export async function syncRows(prisma: PrismaClient, ids: readonly number[]): Promise<Map<number, SyncRow>> {
  const rows = await prisma.order.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, lastCheckedAt: true, upstreamStatus: true, upstreamStartCount: true, upstreamRemains: true },
  });
  return new Map(rows.map((r) => [r.id, r]));
}

export function addScenario(sim: ProviderSimulator, linkContains: string, scenario: Scenario): void {
  sim.state.addScenario(linkContains, scenario);
}

export type StandIn = WorkflowHandle<typeof orderStandIn>;

/** Starts a stand-in order workflow `order-<id>` for each order. */
export async function startStandIns(client: Client, orders: readonly SeededOrder[]): Promise<Map<number, StandIn>> {
  const out = new Map<number, StandIn>();
  for (const o of orders) {
    const handle = await client.workflow.start<typeof orderStandIn>('orderStandIn', {
      taskQueue: ORDER_TASK_QUEUE,
      workflowId: orderWorkflowId(o.id),
      args: [o.id],
    });
    out.set(o.id, handle);
  }
  return out;
}

export async function updatesOf(handle: StandIn): Promise<ProviderUpdate[]> {
  return handle.query<ProviderUpdate[]>('receivedProviderUpdates');
}

/** Waits (real time) until `check` holds. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A capturing logger (Temporal's Logger shape) for asserting the per-round log line. */
export function capturingLogger() {
  const lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push({ level, message, meta });
  };
  return {
    lines,
    logger: { log: (level: string, message: string, meta?: Record<string, unknown>) => lines.push({ level, message, meta }), trace: at('TRACE'), debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') },
  };
}

/**
 * What the provider-sync activity tests share: a test database, the simulator, Temporal with a
 * worker running the stand-in order workflows, and the activities under test. Call in beforeAll;
 * stop() in afterAll.
 */
export interface SyncHarness {
  db: TestDatabase;
  sim: Sim;
  temporal: TestTemporal;
  activities: ReturnType<typeof createProviderSyncActivities>;
  stop(): Promise<void>;
}

export async function startSyncHarness(): Promise<SyncHarness> {
  const [db, sim, temporal] = await Promise.all([createTestDatabase(), startSim(), startTestTemporal()]);
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    taskQueue: ORDER_TASK_QUEUE,
    workflowBundle: await bundleWorkflows(require.resolve('./provider-sync-test-workflows')),
  });
  const workerRun = worker.run();
  const activities = createProviderSyncActivities({
    prisma: db.prisma,
    providers: createProviderDirectory(db.prisma, { timeoutMs: 5_000 }),
    temporal: temporal.env.client,
  });
  return {
    db,
    sim,
    temporal,
    activities,
    stop: async () => {
      worker.shutdown();
      await workerRun;
      await temporal.teardown();
      await sim.close();
      await db.drop();
    },
  };
}
