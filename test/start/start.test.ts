// `npm start` for real: the start script as a child process (embedded PostgreSQL in a temp dir, free
// ports), an order placed with exactly what its printed curl line says, then Ctrl-C and a clean exit.
// A second start on the same data directory keeps the demo key and data.
//
// The child is the start script under node with tsx's loader, as `npm start` runs it, without npm itself: after Ctrl-C npm
// reports the interrupt as its own exit status whatever the script does, and the script's status is
// what this test checks. It runs in its own process group and gets SIGINT as a terminal's Ctrl-C sends it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');
const TSX_CLI = require.resolve('tsx/cli', { paths: [REPO_ROOT] });
const MIGRATIONS = readdirSync(join(REPO_ROOT, 'prisma', 'migrations'), { withFileTypes: true }).filter((d) => d.isDirectory()).length;

jest.setTimeout(300_000);

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startEngine(dataDir: string): Started {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    SIMULATOR_PORT: '0',
    HOST: '127.0.0.1',
    // The demo provider delivers at once, so the order finishes within a polling round or two.
    SIM_START_DELAY_MS: '0',
    SIM_SPEED: '100000',
    LOG_LEVEL: 'warn',
  };
  // Embedded PostgreSQL and the Temporal chain of npm start, whatever the test run itself uses.
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const startScript = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.start;
  // Node itself with tsx as a loader: no relay between a supervisor's SIGTERM and the engine.
  expect(startScript).toBe('node --import tsx scripts/start.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit({ code, signal })),
  );
  return { child, output: () => text, exited };
}

async function waitForLine(started: Started, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  for (;;) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (exited || Date.now() > deadline) {
      throw new Error(`no line matching ${pattern} (${exited ? 'the process exited' : 'timed out'}); output:\n${started.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
async function interrupt(started: Started) {
  process.kill(-started.child.pid!, 'SIGINT');
  return started.exited;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(url: string, apiKey: string): Promise<Json> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${apiKey}` } });
  return { httpStatus: res.status, ...((await res.json()) as object) };
}

/** The printed curl line, read back: method, URL, headers and body. */
function parseCurl(line: string): { url: string; headers: Record<string, string>; body: string } {
  const url = /-X POST (\S+)/.exec(line)?.[1];
  const headers = Object.fromEntries(
    [...line.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!]),
  );
  const body = /-d '([^']*)'/.exec(line)?.[1];
  if (!url || !body) throw new Error(`not a curl line: ${line}`);
  return { url, headers, body };
}

/** `npm run api-key -- <args>` as npm runs it (tsx), against the engine using dataDir. */
function runKeyScript(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [TSX_CLI, 'scripts/create-api-key.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr })));
}

let dataDir: string;
const running: Started[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'engine-start-'));
  // As root, the embedded PostgreSQL runs as the `postgres` user, which must reach <dataDir>/postgres.
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  for (const started of running) {
    if (started.child.exitCode === null && started.child.signalCode === null) {
      process.kill(-started.child.pid!, 'SIGKILL');
      await started.exited;
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

it('npm start: brings everything up, places the printed order, and stops cleanly on Ctrl-C', async () => {
  const first = startEngine(dataDir);
  running.push(first);
  await waitForLine(first, /\[start\] ready in /, 240_000);
  const out = first.output();

  // A progress line per part, in order.
  const parts = ['PostgreSQL: embedded', `migrations: ${MIGRATIONS} applied`, 'Temporal: ', 'provider simulator: ', 'demo data: created', 'worker: running', 'API listening on '];
  const positions = parts.map((text) => out.indexOf(text));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  if (out.includes('in-memory Temporal server')) expect(out).toMatch(/WARNING: Temporal is the in-memory server .* keeps NOTHING across restarts/);

  const apiUrl = (await waitForLine(first, /API listening on (http:\/\/\S+)/, 1_000))[1]!;
  const apiKey = (await waitForLine(first, /API key \([^)]*\): (\S+)/, 1_000))[1]!;
  const curl = parseCurl((await waitForLine(first, /^.*curl .*$/m, 1_000))[0]);
  expect(curl.url).toBe(`${apiUrl}/orders`);
  expect(curl.headers.Authorization).toBe(`Bearer ${apiKey}`);
  expect((await readFile(join(dataDir, 'demo-api-key'), 'utf8')).trim()).toBe(apiKey);

  const balanceBefore = await getJson(`${apiUrl}/balance`, apiKey);
  const placed = await fetch(curl.url, { method: 'POST', headers: curl.headers, body: curl.body });
  const placedBody: Json = await placed.json();
  expect({ status: placed.status, body: placedBody }).toMatchObject({ status: 201 });
  const orderId = placedBody.id ?? placedBody.order?.id;
  expect(orderId).toEqual(expect.any(Number));

  // The worker dispatches it to the simulator and the provider sync follows it to the end.
  let order: Json;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const body = await getJson(`${apiUrl}/orders/${orderId}`, apiKey);
    order = body.order ?? body;
    if (order.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(order.status).toBe('completed');
  const balanceAfter = await getJson(`${apiUrl}/balance`, apiKey);
  expect(Number(balanceBefore.balance) - Number(balanceAfter.balance)).toBeCloseTo(Number(order.charge), 5);

  // Staff keys while the engine runs (it holds the embedded PostgreSQL's data directory): the
  // script finds the running engine's database through <DATA_DIR>/running.json.
  const keyScript = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts['api-key'];
  expect(keyScript).toBe('tsx scripts/create-api-key.ts');
  const admin = await runKeyScript(dataDir, ['--role', 'admin', '--name', 'alice']);
  expect(admin).toMatchObject({ code: 0, stderr: expect.stringContaining("the running engine's database") });
  const adminKey: { userId: number; role: string; key: string } = JSON.parse(admin.stdout);
  expect(adminKey.role).toBe('admin');
  expect((await getJson(`${apiUrl}/admin/users/${adminKey.userId}`, adminKey.key)).httpStatus).toBe(200);
  const support = await runKeyScript(dataDir, ['--role', 'support', '--name', 'bob']);
  const supportKey: { key: string } = JSON.parse(support.stdout);
  expect((await getJson(`${apiUrl}/orders/${orderId}/history`, supportKey.key)).httpStatus).toBe(200);
  expect((await getJson(`${apiUrl}/admin/users/${adminKey.userId}`, supportKey.key)).httpStatus).toBe(403);

  const exit = await interrupt(first);
  expect({ exit, tail: first.output().split('\n').slice(-12).join('\n') }).toMatchObject({ exit: { code: 0, signal: null } });
  expect(first.output()).toMatch(/\[start\] SIGINT: stopping/);
  for (const part of ['API', 'worker', 'Temporal', 'provider simulator', 'PostgreSQL']) {
    expect(first.output()).toContain(`[start] stopped ${part}\n`);
  }
  expect(first.output()).toContain('[start] stopped cleanly');

  // Again on the same data: nothing seeded twice, the same key, the order still there.
  const second = startEngine(dataDir);
  running.push(second);
  await waitForLine(second, /\[start\] ready in /, 240_000);
  expect(second.output()).toContain(`migrations: 0 applied, ${MIGRATIONS} already applied`);
  expect(second.output()).toContain('demo data: already present');
  const apiUrl2 = (await waitForLine(second, /API listening on (http:\/\/\S+)/, 1_000))[1]!;
  expect((await waitForLine(second, /API key \([^)]*\): (\S+)/, 1_000))[1]).toBe(apiKey);
  const again = await getJson(`${apiUrl2}/orders/${orderId}`, apiKey);
  expect(again.httpStatus).toBe(200);
  const balanceAgain = await getJson(`${apiUrl2}/balance`, apiKey);
  expect(balanceAgain.balance).toBe(balanceAfter.balance);

  process.kill(-second.child.pid!, 'SIGTERM');
  expect(await second.exited).toEqual({ code: 0, signal: null });
  expect(second.output()).toContain('[start] stopped cleanly');
});
