/**
 * Which Temporal server `npm start` uses, in this order:
 *   1. TEMPORAL_ADDRESS=host:port  → that server (nothing is started);
 *   2. the official Temporal dev server, started through the SDK (TestWorkflowEnvironment.createLocal):
 *      TEMPORAL_CLI_PATH=/path/to/temporal → that binary (`existing-path`), otherwise the SDK downloads
 *      the Temporal CLI (needs internet). Given TEMPORAL_DEV_SERVER_TIMEOUT_MS (default 30 s) to come up;
 *      its history is kept in <data dir>/temporal.sqlite, so workflows survive a restart;
 *      TEMPORAL_DEV_SERVER=off skips this step;
 *   3. offline: the in-memory server of temporal-server, real time (no time skipping), with a
 *      warning: it keeps nothing across restarts and is for trying the engine out only.
 */
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../../db/postgres';
import { intFromEnv } from './env';
import { startInMemoryTemporalServer } from '../../temporal-server';

export type TemporalKind = 'external' | 'dev-server' | 'in-memory';

export interface RunningTemporal {
  kind: TemporalKind;
  /** host:port for the SDK's connections. */
  address: string;
  namespace: string;
  /** Temporal Web UI, when this process started one (the dev server's). */
  uiUrl?: string;
  /** One line saying what was chosen and why. */
  description: string;
  /** Lines of a plain warning to show at start (the in-memory server's). */
  warnings: string[];
  stop(): Promise<void>;
}

export interface ChooseTemporalOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the dev server keeps its SQLite file. */
  dataDir: string;
  /** Progress lines (e.g. why the dev server was not used). */
  log?: (line: string) => void;
}

export const IN_MEMORY_WARNING = [
  'Temporal is the in-memory server of temporal-server: it keeps NOTHING across restarts',
  '(workflow histories are lost; orders in flight are restarted from their PostgreSQL rows by the order recovery when the worker starts). For trying the engine out only.',
  'For real use: TEMPORAL_ADDRESS=host:port, or TEMPORAL_CLI_PATH=/path/to/temporal (the Temporal CLI), or docker compose.',
];

const DEFAULT_DEV_SERVER_TIMEOUT_MS = 30_000;

export async function chooseTemporal(options: ChooseTemporalOptions): Promise<RunningTemporal> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const namespace = env.TEMPORAL_NAMESPACE || 'default';

  if (env.TEMPORAL_ADDRESS) {
    return {
      kind: 'external',
      address: env.TEMPORAL_ADDRESS,
      namespace,
      description: `Temporal at ${env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS), namespace ${namespace}`,
      warnings: [],
      stop: async () => undefined,
    };
  }

  if ((env.TEMPORAL_DEV_SERVER ?? 'auto') !== 'off') {
    const timeoutMs = intFromEnv(env, 'TEMPORAL_DEV_SERVER_TIMEOUT_MS', DEFAULT_DEV_SERVER_TIMEOUT_MS);
    try {
      return await startDevServer({ cliPath: env.TEMPORAL_CLI_PATH, namespace, dataDir: options.dataDir, timeoutMs });
    } catch (error) {
      const source = env.TEMPORAL_CLI_PATH ? `TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH}` : 'downloaded Temporal CLI';
      log(`Temporal dev server (${source}) not available: ${firstLine(error)}`);
      if (env.TEMPORAL_CLI_PATH) {
        // The user asked for this binary: falling back silently would hide their mistake.
        throw new Error(`TEMPORAL_CLI_PATH is set but the dev server did not start: ${firstLine(error)}`);
      }
    }
  }

  const server = await startInMemoryTemporalServer({
    port: intFromEnv(env, 'TEMPORAL_PORT', 0),
    timeSkipping: false,
    logger: { warn: (message) => log(`[temporal-in-memory] ${message}`) },
  });
  return {
    kind: 'in-memory',
    address: server.address,
    namespace: 'default',
    description: `in-memory Temporal server at ${server.address} (offline fallback, keeps nothing across restarts)`,
    warnings: IN_MEMORY_WARNING,
    stop: () => server.shutdown(),
  };
}

async function startDevServer(input: {
  cliPath?: string;
  namespace: string;
  dataDir: string;
  timeoutMs: number;
}): Promise<RunningTemporal> {
  const uiPort = await freePort();
  const starting = TestWorkflowEnvironment.createLocal({
    server: {
      executable: input.cliPath ? { type: 'existing-path', path: input.cliPath } : { type: 'cached-download' },
      namespace: input.namespace,
      dbFilename: join(input.dataDir, 'temporal.sqlite'),
      ui: true,
      uiPort,
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not come up within ${input.timeoutMs} ms (TEMPORAL_DEV_SERVER_TIMEOUT_MS)`)),
      input.timeoutMs,
    );
  });
  let env: TestWorkflowEnvironment;
  try {
    env = await Promise.race([starting, timedOut]);
  } catch (error) {
    // A download that finishes after we gave up must not leave a server running.
    starting.then((late) => late.teardown()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const source = input.cliPath ? `TEMPORAL_CLI_PATH=${input.cliPath}` : 'Temporal CLI downloaded by the SDK';
  return {
    kind: 'dev-server',
    address: env.address,
    namespace: input.namespace,
    uiUrl: `http://localhost:${uiPort}`,
    description: `Temporal dev server at ${env.address} (${source}), history in ${join(input.dataDir, 'temporal.sqlite')}`,
    warnings: [],
    stop: () => env.teardown(),
  };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0]!;
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}
