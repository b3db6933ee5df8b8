/**
 * The real engine, assembled for one simulation run: PostgreSQL (a given database, or an embedded
 * one of its own), the in-memory Temporal server with time skipping, the provider simulator (its
 * clock is Temporal's, so upstream time skips with the engine's), the fault proxy in front of it,
 * the REST API over HTTP, and the worker in a child process that can be SIGKILLed and restarted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import pino from 'pino';
import { Client as PgClient } from 'pg';
import { createApp } from '../api/app';
import { createPrisma } from '../db/client';
import { migrate } from '../db/migrate';
import { startPostgres, withDatabase } from '../db/postgres';
import type { RunningPostgres } from '../db/postgres';
import { createEngineDeps } from '../deps/engine-deps';
import type { EngineDeps } from '../deps/engine-deps';
import type { PrismaClient } from '../generated/prisma/client';
import { startProviderSimulator } from '../provider-simulator';
import type { ProviderSimulator } from '../provider-simulator';
import type { SimService } from '../provider-simulator/catalogue';
import { startInMemoryTemporalServer } from '../temporal-server';
import type { InMemoryTemporalServer } from '../temporal-server';
import { startEarlyReplay } from './early-replay';
import type { EarlyReplay } from './early-replay';
import { startFaultProxy } from './fault-proxy';
import type { FaultProxy } from './fault-proxy';
import type { Scenario } from './scenario';
import { WORKER_APPLICATION_NAME } from './worker-process';

/**
 * Provider HTTP timeout of the engine in the simulation (real ms): `slow_add` answers after it. The
 * activity holds the skipped clock while it waits, in real time, so it is short (the simulator on
 * loopback answers in milliseconds); a call that still outlasts it is a lost answer the engine
 * must handle like any other, and the report counts them (`given up by the engine's timeout`).
 * Measured in the 3,000-order world (seed 42, 74 slow_add orders): at 400 ms 70 to 76 `add`s and
 * no other call were given up (skipping 118 s at 800 ms → 100 s); at 250 ms 92 `add`s and a
 * `cancel` were, and the proxy's slowest answer in time took 220 ms.
 */
export const PROVIDER_TIMEOUT_MS = 400;

/**
 * Timers due within 1 s of each other fire at one instant of the skipped clock (temporal-server
 * clock.ts), late by at most that, never early: orders placed in one batch arm their timers
 * milliseconds apart, and each instant the clock stops at costs a round of workflow tasks in real
 * time. Counted in a 3,000-order world: 2,688 distinct instants, 1,865 with 1 s of slack.
 */
export const TIMER_SLACK_MS = 1_000;

/**
 * Workflows' own timers (start windows, refill windows, runs' age, schedules, drip-feed intervals,
 * the syncs' rounds) and their activities' retry backoffs (a provider down for hours: dispatches
 * every 30 min, lookups every 10 min, each order on its own beat) may fire later than due by a tenth
 * of their length, at most 6 h (temporal-server clock.ts): never early, as Temporal promises, and
 * late as a loaded server's timers may be; a backoff of seconds keeps the 1 s slack. Each instant
 * the skipped clock stops at is a round of workflow tasks in real time: with this, a day-long timer
 * fires at the next instant the clock stops at anyway (the driver's next event, hours at most)
 * instead of at one of its own. The driver's own waits (env.sleep) keep the 1 s slack, so no jump
 * passes an event: every event happens at its time.
 * Default world: skipping 385-400 → 287-304 s, acting 457-481 → 509-560 s (timers' work now beside
 * the events'), wall 15 min 15-43 s → 14 min 14 s to 15 min 7 s (four runs, with the end's changes).
 */
export const WORKFLOW_TIMER_SLACK = { fraction: 0.1, maxMs: 6 * 3_600_000 };

/**
 * The provider sync's pacing in the simulation: months of orders with the engine's 15 s..5 min rounds
 * would be ~100,000 rounds per provider (and a round after every dispatch's wake). Each round is an
 * instant the skipped clock stops at, with its workflow tasks, its activity and the signals it sends,
 * so the simulation polls every 6 h, all providers at the same instants (alignMs: 00, 06, 12 and 18 h
 * UTC): one step every 6 h for the three syncs instead of one per provider every 2 to 6 h. An order
 * is seen by a round at most 6 h after it reached its provider, well within the 24 h start window.
 * What the sync does per round is unchanged.
 */
export const SYNC_POLICY = { minIntervalMs: 6 * 3_600_000, maxIntervalMs: 6 * 3_600_000, wakeMinGapMs: 6 * 3_600_000, idleEndMs: 12 * 3_600_000, alignMs: 6 * 3_600_000 };

export interface World {
  env: TestWorkflowEnvironment;
  temporal: InMemoryTemporalServer;
  prisma: PrismaClient;
  databaseUrl: string;
  deps: EngineDeps;
  simulator: ProviderSimulator;
  proxy: FaultProxy;
  apiUrl: string;
  bundle: WorkflowBundle;
  /** The replay of closed runs during the drive (early-replay.ts). */
  earlyReplay: EarlyReplay;
  /** Temporal's clock (the simulator's too). */
  now(): number;
  /** Resolves when the first worker process polls (it starts while the caller sets up the cast); rejects if it exits first. */
  workerReady: Promise<void>;
  /** SIGKILL the worker process and start a new one; resolves when the new one polls. */
  killWorker(): Promise<void>;
  workerStarts: number;
  /** pg_terminate_backend on every connection of the worker; returns how many. */
  terminateWorkerConnections(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartWorldOptions {
  scenario: Scenario;
  /** A migrated, empty database (tests); default: an embedded PostgreSQL of the run's own. */
  databaseUrl?: string;
  log?: (line: string) => void;
}

export async function startWorld(options: StartWorldOptions): Promise<World> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    installQuietRuntime();
    // The workflow code is bundled (webpack, this thread) while PostgreSQL starts (its own processes).
    const bundling = bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
    bundling.catch(() => undefined); // awaited below; a failure before that must not go unhandled
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      const pg: RunningPostgres = await startPostgres({ ephemeral: true, ignoreDatabaseUrl: true });
      stops.push(() => pg.stop());
      databaseUrl = await createDatabase(pg.url, 'simulation');
      await migrate(databaseUrl);
    }
    const temporal = await startInMemoryTemporalServer({ logger: { warn: () => undefined }, timerSlackMs: TIMER_SLACK_MS, workflowTimerSlack: WORKFLOW_TIMER_SLACK });
    stops.push(() => temporal.shutdown());
    const env = await connectTimeSkipping(temporal.address);
    stops.push(() => env.teardown());
    const now = () => temporal.engine.clock.now();

    const simulator = await startProviderSimulator({
      clock: now,
      apiKey: options.scenario.providers.map((p) => simKey(p.key)),
      catalogue: simCatalogue(options.scenario),
      balance: '1000000000',
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined } as never,
    });
    stops.push(() => simulator.close());
    const proxy = await startFaultProxy({ target: simulator.url, now });
    stops.push(() => proxy.close());

    const prisma = createPrisma(databaseUrl, { applicationName: 'sim-api' });
    stops.push(() => prisma.$disconnect());
    const deps = createEngineDeps(prisma, env.client, { providerTimeoutMs: PROVIDER_TIMEOUT_MS });
    // The API stamps placements with Temporal's (skipped) clock, as a real API's wall clock agrees
    // with a real server's: else an order placed on day 16 would count as placed on day 0.
    const server: Server = createApp({ ...deps, now, logger: pino({ level: process.env.SIM_API_LOG ?? 'silent' }) }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    stops.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const bundle = await bundling;
    const dir = await mkdtemp(join(tmpdir(), 'simulation-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const bundlePath = join(dir, 'workflows.js');
    await writeFile(bundlePath, bundle.code);
    // Closed runs are replayed while the drive goes on, on the CPU the drive leaves idle.
    const earlyReplay = startEarlyReplay({ temporalAddress: temporal.address, bundlePath, log: options.log });
    stops.push(async () => earlyReplay.kill());

    const workerEnv = {
      ...process.env,
      SIM_DATABASE_URL: databaseUrl,
      SIM_TEMPORAL_ADDRESS: temporal.address,
      SIM_BUNDLE_PATH: bundlePath,
      SIM_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
      SIM_SYNC_POLICY: JSON.stringify(SYNC_POLICY),
    };
    // The first worker starts while the caller sets up the cast through the API (nothing there
    // needs a worker); workerReady says when it polls.
    const first = spawnWorkerProcess(workerEnv, options.log);
    let worker: ChildProcess = first.child;
    stops.push(async () => {
      worker.kill('SIGKILL');
    });
    const world: World = {
      env,
      temporal,
      prisma,
      databaseUrl,
      deps,
      simulator,
      proxy,
      apiUrl,
      bundle,
      earlyReplay,
      now,
      workerStarts: 0,
      workerReady: first.ready.then(() => {
        world.workerStarts++;
      }),
      async killWorker() {
        worker.kill('SIGKILL');
        const next = spawnWorkerProcess(workerEnv, options.log);
        worker = next.child;
        await next.ready;
        world.workerStarts++;
      },
      async terminateWorkerConnections() {
        const rows = await prisma.$queryRaw<Array<{ ok: boolean }>>`
          SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE application_name = ${WORKER_APPLICATION_NAME} AND pid <> pg_backend_pid()`;
        return rows.filter((r) => r.ok).length;
      },
      stop,
    };
    world.workerReady.catch(() => undefined); // the caller's await surfaces it; not unhandled meanwhile
    return world;
  } catch (error) {
    await stop();
    throw error;
  }
}

export function simKey(provider: string): string {
  return `sim-key-${provider}`;
}

/** The simulator's catalogue: one entry per simulator service id (the same at every provider). */
function simCatalogue(scenario: Scenario): SimService[] {
  const byId = new Map<number, SimService>();
  for (const s of scenario.services) {
    byId.set(s.providerServiceId, {
      service: s.providerServiceId,
      name: s.name,
      type: s.type,
      category: s.category,
      rate: s.rate,
      min: s.min,
      max: s.max,
      refill: s.refill.kind !== 'none',
      cancel: s.cancelable,
      // A drip-feed the engine runs is plain orders upstream; one passed on needs the provider's offer.
      dripfeed: s.dripfeed === 'provider',
    });
  }
  return [...byId.values()];
}

/**
 * Node options of the worker process: TypeScript, and the workflow sandbox without the SDK's
 * debugging aids (lean-sandbox-preload.ts). `--require`, not `--import`: worker threads inherit
 * it, so the SDK's workflow thread runs the preload too.
 */
export const WORKER_PRELOAD = ['--require', 'tsx/cjs', '--require', join(__dirname, 'lean-sandbox-preload.ts')];

/** Starts the worker process; `ready` resolves once it polls, and rejects if it exits before. */
function spawnWorkerProcess(env: NodeJS.ProcessEnv, log?: (line: string) => void): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [...WORKER_PRELOAD, join(__dirname, 'worker-process.ts')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => log?.(`[worker ${child.pid}] ${chunk.toString().trimEnd()}`));
  // A worker gone by itself (not a kill of the simulation's) would leave every workflow waiting.
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') log?.(`[worker ${child.pid}] exited (code ${code}, signal ${signal})`);
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

let runtimeInstalled = false;
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already (a test process): keep it.
  }
}

/** The SDK's time-skipping environment against our own server (as test/support/temporal.ts does). */
async function connectTimeSkipping(address: string): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as { create(options: object): Promise<TestWorkflowEnvironment> }).create.bind(TestWorkflowEnvironment);
  return create({ server: { type: 'existing' }, address, namespace: 'default', supportsTimeSkipping: true });
}
