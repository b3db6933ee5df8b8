// The separate processes of a deployment (docker compose's `api` and `worker`: npm run api, npm run
// worker) as child processes on one host, against this file's database and Temporal server: only the
// worker exports the Temporal SDK's metrics, so the two never fight for TEMPORAL_METRICS_PORT; the
// API alone registers the order search attributes, so it can start orders before any worker ran.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { startTestTemporal } from '../support/temporal';
import type { TestTemporal } from '../support/temporal';
import { itUnlessOfficialServer } from '../support/official-server';
import { ORDER_TASK_QUEUE } from '../../workflows/order-contract';
import { ORDER_SEARCH_ATTRIBUTES, orderSearchAttributes } from '../../workflows/order-search-attributes';
import { initialOrderState } from '../../workflows/order-state';

const REPO_ROOT = resolve(__dirname, '..', '..');

jest.setTimeout(180_000);

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let database: TestDatabase;
let temporal: TestTemporal;
const children: Child[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  temporal = await startTestTemporal();
});

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGTERM');
      await child.exited;
    }
  }
  await temporal?.teardown();
  await database?.drop();
});

function run(script: 'api' | 'worker', env: NodeJS.ProcessEnv): Child {
  // node with tsx as a loader, as docker compose runs them: the tsx CLI would relay SIGTERM to a child
  // and SIGKILL it (exit 143) when the child is slow to acknowledge on a loaded machine.
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const started = { process: child, output: () => text, exited };
  children.push(started);
  return started;
}

async function waitForLine(child: Child, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = child.output().match(pattern);
    if (match) return match;
    if (child.process.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no line matching ${pattern}; output:\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: Child): Promise<number | null> {
  child.process.kill('SIGTERM');
  return child.exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

it('npm run api does not start the SDK metrics exporter; npm run worker does, on TEMPORAL_METRICS_PORT', async () => {
  const metricsPort = await freePort();
  const api = run('api', { TEMPORAL_METRICS_PORT: String(metricsPort) });
  await waitForLine(api, /API listening on (http:\/\/\S+)/);
  expect(await listening('127.0.0.1', metricsPort)).toBe(false);

  // A worker on the same host takes the port the API left alone.
  const worker = run('worker', { TEMPORAL_METRICS_PORT: String(metricsPort) });
  await waitForLine(worker, /worker running on namespace/);
  const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scrape.status).toBe(200);
  expect(worker.output()).not.toMatch(/metrics not exposed/);
  expect(await stop(worker)).toBe(0);
  expect(await stop(api)).toBe(0);
});

itUnlessOfficialServer('listSearchAttributes', 'npm run api alone on a fresh Temporal server registers the order search attributes: an order start is accepted before any worker ran', async () => {
  const fresh = await startTestTemporal();
  try {
    const client = fresh.env.client;
    const custom = async () => Object.keys((await client.connection.operatorService.listSearchAttributes({ namespace: 'default' })).customAttributes ?? {});
    // A new in-memory server knows none (a real server given by TEMPORAL_ADDRESS may have them already).
    if (fresh.kind === 'in-memory') expect(await custom()).toEqual([]);
    const api = run('api', { TEMPORAL_ADDRESS: fresh.address });
    await waitForLine(api, /API listening on (http:\/\/\S+)/);
    expect(await custom()).toEqual(expect.arrayContaining(ORDER_SEARCH_ATTRIBUTES.map((key) => key.name)));
    // What the API's first placement does (update-with-start names these attributes): accepted now.
    const input = { orderId: 987_001, userId: 1, serviceId: 1, providerId: 1, quantity: 100, charge: '1.00000' };
    const handle = await client.workflow.start('orderWorkflow', {
      taskQueue: ORDER_TASK_QUEUE,
      workflowId: `api-alone-${Date.now()}`,
      typedSearchAttributes: orderSearchAttributes(initialOrderState(input as never)),
    });
    await handle.terminate('test over: no worker runs here');
    expect(await stop(api)).toBe(0);
  } finally {
    await fresh.teardown();
  }
});

/**
 * The local addresses a TCP port is listening on, read from /proc/net/tcp (no traffic is sent: this
 * machine's non-loopback addresses are not to be connected to). '0.0.0.0' means every interface.
 */
function listenAddresses(port: number): string[] {
  const rows = readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1);
  const listening = rows.map((row) => row.trim().split(/\s+/)).filter((cols) => cols[3] === '0A');
  return listening
    .map((cols) => cols[1]!.split(':'))
    .filter(([, hexPort]) => parseInt(hexPort!, 16) === port)
    .map(([hexAddress]) => (hexAddress!.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.'));
}

it('TEMPORAL_METRICS_HOST=0.0.0.0: the worker\'s SDK metrics listen on every interface (another container, as docker compose\'s api scrapes it); by default on loopback only', async () => {
  const metricsPort = await freePort();
  const loopbackOnly = run('worker', { TEMPORAL_METRICS_PORT: String(metricsPort) });
  await waitForLine(loopbackOnly, /worker running on namespace/);
  expect(listenAddresses(metricsPort)).toEqual(['127.0.0.1']);
  expect(await stop(loopbackOnly)).toBe(0);

  const everywhere = run('worker', { TEMPORAL_METRICS_PORT: String(metricsPort), TEMPORAL_METRICS_HOST: '0.0.0.0' });
  await waitForLine(everywhere, /worker running on namespace/);
  expect(listenAddresses(metricsPort)).toEqual(['0.0.0.0']);
  const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scrape.status).toBe(200);
  expect(await stop(everywhere)).toBe(0);
});
