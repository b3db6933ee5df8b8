/**
 * The engine's long-running parts, each with its stop(): used by `npm start` (all of them in one
 * process, scripts/runtime/engine.ts) and by the separate processes of docker compose
 * (scripts/api.ts, scripts/worker.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { installTemporalRuntime as installRuntime } from '../../observability/temporal-runtime';
import { createPrisma } from '../../db/client';
import { createEngineDeps } from '../../deps/engine-deps';
import type { EngineDeps } from '../../deps/engine-deps';
import { createEngineWorker } from '../../worker';
import { grpcCompressionFor } from './grpc-compression';
import { ensureOrderRecovery, recoveryIntervalFromEnv } from '../../recovery/ensure-recovery';
import type { Parts, Stoppable } from './parts';

/**
 * What a separate process (npm run api / npm run worker) needs: the database at DATABASE_URL (no
 * embedded one: several processes cannot share it; `npm start` runs everything in one) and Temporal
 * at TEMPORAL_ADDRESS (default localhost:7233).
 */
export async function connectBackends(
  env: NodeJS.ProcessEnv,
  parts: Parts,
  log: (line: string) => void,
  options: { sdkMetrics: boolean },
): Promise<{ deps: EngineDeps; temporal: TemporalConnections; namespace: string }> {
  if (!env.DATABASE_URL) {
    throw new Error('DATABASE_URL is required (a migrated database: npm run db:migrate); `npm start` runs everything with an embedded one');
  }
  installTemporalRuntime(env, options);
  const prisma = createPrisma(env.DATABASE_URL);
  parts.add('database client', { stop: () => prisma.$disconnect() });
  const address = env.TEMPORAL_ADDRESS || 'localhost:7233';
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const temporal = parts.add('Temporal connections', await connectTemporal(address, namespace, env));
  log(`Temporal: ${address}, namespace ${namespace}`);
  return { deps: createEngineDeps(prisma, temporal.client), temporal, namespace };
}

let runtimeInstalled = false;
/**
 * The Temporal SDK's runtime: its logs as JSON lines at TEMPORAL_LOG_LEVEL (default WARN), so
 * progress lines stay readable, and its metrics for /metrics (observability/temporal-runtime.ts).
 * Only a process that runs a worker exports SDK metrics (sdkMetrics): a separate API process has
 * none worth scraping, and it must not take the worker's port on a shared host.
 * No shutdown signals: the entry point stops the worker itself, in order with everything else.
 */
export function installTemporalRuntime(env: NodeJS.ProcessEnv = process.env, options = { sdkMetrics: true }): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const metricsUrl = installRuntime({
    level: (env.TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'WARN',
    metricsPort: options.sdkMetrics ? env.TEMPORAL_METRICS_PORT : 'off',
    metricsHost: env.TEMPORAL_METRICS_HOST,
  });
  // The API in this process appends the SDK's metrics to its own /metrics.
  if (metricsUrl && !env.SDK_METRICS_URL) process.env.SDK_METRICS_URL = metricsUrl;
}

export interface TemporalConnections extends Stoppable {
  client: Client;
  /** For workers. */
  nativeConnection: NativeConnection;
}

export async function connectTemporal(address: string, namespace: string, env: NodeJS.ProcessEnv = process.env): Promise<TemporalConnections> {
  const nativeConnection = await NativeConnection.connect({ address, grpcCompression: grpcCompressionFor(address, env) });
  try {
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    return {
      client,
      nativeConnection,
      stop: async () => {
        await connection.close();
        await nativeConnection.close();
      },
    };
  } catch (error) {
    await nativeConnection.close();
    throw error;
  }
}

/**
 * The worker, running until stop(). If it fails on its own (say Temporal went away for good),
 * onFailure hears of it at once: the process should end rather than serve without a worker.
 * Once it runs, the order recovery is ensured (recovery/README.md): orders whose workflow is gone
 * are found now and every ORDER_RECOVERY_INTERVAL_MINUTES (default 10; `off`: not ensured here).
 */
export async function startWorker(input: {
  deps: EngineDeps;
  connection: NativeConnection;
  namespace: string;
  onFailure: (error: unknown) => void;
}): Promise<Stoppable> {
  const recoveryIntervalMs = recoveryIntervalFromEnv(process.env);
  const worker = await createEngineWorker({ connection: input.connection, namespace: input.namespace, deps: input.deps });
  let stopping = false;
  let failed: unknown;
  const running = worker.run().catch((error: unknown) => {
    failed = error;
    if (!stopping) input.onFailure(error);
  });
  if (recoveryIntervalMs !== null) await ensureOrderRecovery(input.deps.temporal, { intervalMs: recoveryIntervalMs });
  return {
    stop: async () => {
      stopping = true;
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      if (failed) throw failed;
    },
  };
}

export async function startApi(input: {
  deps: EngineDeps;
  port: number;
  host: string;
}): Promise<Stoppable & { url: string; port: number }> {
  const app = createApp(input.deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(input.port, input.host, (error?: Error) => (error ? reject(error) : resolve(s)));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = input.host === '0.0.0.0' || input.host === '::' ? 'localhost' : input.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would hold close() open; in-flight requests have had their chance.
        server.closeIdleConnections();
      }),
  };
}
