/**
 * npm run bench -- api-throughput — orders placed per second through the REST API, and p50/p99
 * latency, at 1, 16 and 64 concurrent clients (issue 3, "Figures").
 *
 * The engine is npm start's own composition (scripts/runtime/engine.ts startEngine), started from
 * this process (the worker in its child process, as npm start runs it), on free ports: an embedded PostgreSQL in a temporary data directory (never DATABASE_URL), migrations,
 * the in-memory Temporal server in real time (no time skipping; TEMPORAL_DEV_SERVER=off), the provider
 * simulator as the provider, the demo user, key and catalogue, the real worker (order and provider-sync
 * workflows) and the Express API. The data directory is deleted at the end.
 *
 * Each client is a loop: POST /orders over HTTP (keep-alive, the demo key, service 1, quantity 100, a
 * link no other request uses) and the next one as soon as the answer arrives, until the level's total
 * is reached. An order counts when the API answered 201, i.e. after the workflow's debit. Latency is
 * measured by the client, request sent → answer read. Placed orders go on in the background (dispatch
 * to the simulator, the provider sync polling and signalling them): that load is part of the figure.
 * The clients run in this process too, so they share its two cores with the engine.
 *
 * Env: BENCH_API_ORDERS (orders per level, default "50,300,600" for 1,16,64 clients),
 *      BENCH_API_CLIENTS (default "1,16,64").
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrismaClient } from '../db/generate';
import { decimal, formatMoney } from '../domain/money';
import type { RunningEngine } from '../scripts/runtime/engine';
import { cpuBetween, cpuSnapshot } from './profile/cpu-usage';
import { countQueries, queriesBetween, querySnapshot } from './profile/count-queries';
import type { QuerySnapshot } from './profile/count-queries';
import { startCeiling } from './ceiling';
import type { CeilingLevel } from './ceiling';
import { runPgbench } from './ceiling/pgbench';
import type { PgbenchResult } from './ceiling/pgbench';

const CLIENTS = listFromEnv('BENCH_API_CLIENTS', [1, 16, 64]);
const ORDERS = listFromEnv('BENCH_API_ORDERS', [50, 300, 600]);
const WARMUP = 20;
const QUANTITY = 100;

interface LevelResult {
  clients: number;
  sent: number;
  created: number;
  seconds: number;
  /** Latencies (ms) of the 201 answers. */
  latencies: number[];
  errors: Map<string, number>;
  /** SQL statements this process sent during the level (the API, the worker, the background work). */
  queries: Array<[string, number]>;
  /** CPU ms used during the level: this process, and the processes below it (PostgreSQL, children). */
  cpu: { node: number; children: number };
}

let engine: RunningEngine | undefined;
let dataDir: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    try {
      await engine?.stop();
    } finally {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

async function main(): Promise<void> {
  if (ORDERS.length !== CLIENTS.length) throw new Error('BENCH_API_ORDERS needs one total per entry of BENCH_API_CLIENTS');
  // One JSON line per request at info: the API's log would drown the figures (read when createApp runs).
  process.env.LOG_LEVEL = 'warn';
  countQueries();
  ensurePrismaClient();
  const { startEngine } = await import('../scripts/runtime/engine');

  dataDir = await mkdtemp(join(tmpdir(), 'bench-api-'));
  // As root, the embedded PostgreSQL runs as "postgres", which must reach <data dir>/postgres.
  await chmod(dataDir, 0o755);
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const totalOrders = WARMUP + ORDERS.reduce((a, b) => a + b, 0);
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SIMULATOR_PORT: '0',
    TEMPORAL_PORT: '0',
    TEMPORAL_DEV_SERVER: 'off',
    TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'WARN',
    TEMPORAL_METRICS_PORT: 'off',
    DEMO_API_KEY: apiKey,
    // Service 1 costs 1.80 per 1000 (the simulator's 0.90, doubled): 0.18 per order of 100; plenty.
    DEMO_BALANCE: String(Math.ceil(totalOrders * 0.18) * 10),
  };
  const started = performance.now();
  engine = await startEngine({
    env,
    log: () => undefined,
    onFailure: (error) => console.error(`worker failed: ${String(error)}`),
    // The worker process's errors only (pino level 50+, the SDK's ERROR lines).
    workerOutput: (line) => {
      if (/"level":(50|60)|\bERROR\b/.test(line)) console.error(`[worker] ${line}`);
    },
  });
  const service = engine.demo.services.find((s) => s.providerServiceId === '1') ?? engine.demo.services[0]!;
  console.log(
    `engine up in ${((performance.now() - started) / 1000).toFixed(1)} s (npm start's composition, in this process): ` +
      `API ${engine.apiUrl}, ${engine.temporal.description}, embedded PostgreSQL, provider simulator ${engine.simulatorUrl}`,
  );
  console.log(`POST /orders {service: ${service.id} (${service.name}), quantity: ${QUANTITY}, link: unique per request}; balance ${engine.demo.balance}`);

  const url = `${engine.apiUrl}/orders`;
  let seq = 0;
  const place = async (): Promise<{ ok: boolean; ms: number; error?: string }> => {
    const link = `https://instagram.com/bench.${process.pid}.${++seq}`;
    const begin = performance.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ service: service.id, link, quantity: QUANTITY }),
      });
      const text = await res.text();
      const ms = performance.now() - begin;
      if (res.status === 201) return { ok: true, ms };
      let code = '';
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
      } catch {
        code = text.slice(0, 60);
      }
      return { ok: false, ms, error: `HTTP ${res.status} ${code}`.trim() };
    } catch (error) {
      return { ok: false, ms: performance.now() - begin, error: `network: ${error instanceof Error ? error.message : String(error)}` };
    }
  };

  const ceilingLevels = await measureCeiling(formatMoney(decimal(service.rate).times(QUANTITY).div(1000)));

  // Warm-up (not counted): the first placements pay for connections, JIT and the workflow cache.
  const warm = await runLevel(place, 4, WARMUP);
  if (warm.created === 0) throw new Error(`warm-up placed nothing: ${[...warm.errors].map(([e, n]) => `${e} ×${n}`).join(', ')}`);

  const results: LevelResult[] = [];
  for (let i = 0; i < CLIENTS.length; i++) {
    const result = await runLevel(place, CLIENTS[i]!, ORDERS[i]!);
    results.push(result);
    console.log(`  ${CLIENTS[i]} client(s): ${result.created}/${result.sent} placed in ${result.seconds.toFixed(1)} s`);
  }

  console.log('');
  console.log('clients   orders   seconds   orders/s   p50 ms   p99 ms   max ms   errors');
  for (const r of results) {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const errors = r.sent - r.created;
    console.log(
      [
        String(r.clients).padStart(7),
        String(r.created).padStart(8),
        r.seconds.toFixed(1).padStart(9),
        (r.created / r.seconds).toFixed(1).padStart(10),
        fmt(percentile(sorted, 0.5)).padStart(8),
        fmt(percentile(sorted, 0.99)).padStart(8),
        fmt(sorted[sorted.length - 1]).padStart(8),
        String(errors).padStart(8),
      ].join(' '),
    );
  }
  printCeiling(results, ceilingLevels.levels, ceilingLevels.pgbench);
  console.log(ceilingLevels.check);
  for (const r of results) {
    const total = r.queries.reduce((n, [, q]) => n + q, 0);
    const per = (n: number) => (n / Math.max(1, r.created)).toFixed(1);
    console.log(
      `SQL statements per order at ${r.clients} client(s): ${per(total)} (` +
        r.queries.slice(0, 8).map(([name, n]) => `${name} ${per(n)}`).join(', ') +
        ') — sent by this process during the level (with the worker in its own process: the API process only)',
    );
  }
  const allErrors = new Map<string, number>();
  for (const r of results) for (const [e, n] of r.errors) allErrors.set(e, (allErrors.get(e) ?? 0) + n);
  if (allErrors.size > 0) {
    console.log(`errors: ${[...allErrors].map(([e, n]) => `${e} ×${n}`).join(', ')}`);
  } else {
    console.log('errors: none (every request answered 201)');
  }
  console.log('(an order counts on 201: the workflow debited the balance; latency = client-side, request → answer)');

  // Every 201 is one debit: the balance went down by exactly (201s × charge), warm-up included. A 503
  // placement_pending answer is an order still being placed: it is debited once, later (or never).
  const placed = warm.created + results.reduce((n, r) => n + r.created, 0);
  const pending = [warm, ...results].reduce((n, r) => n + (r.errors.get('HTTP 503 placement_pending') ?? 0), 0);
  const charge = decimal(service.rate).times(QUANTITY).div(1000);
  const res = await fetch(`${engine.apiUrl}/balance`, { headers: { authorization: `Bearer ${apiKey}` } });
  const balance = ((await res.json()) as { balance: string }).balance;
  const debits = decimal(engine.demo.balance).minus(balance).div(charge);
  const fits = debits.isInteger() && debits.gte(placed) && debits.lte(placed + pending);
  console.log(
    `balance after ${placed} orders (warm-up included) at ${formatMoney(charge)} each` +
      (pending > 0 ? ` and ${pending} answered 503 placement_pending` : '') +
      `: ${balance} = ${debits.toString()} debits — ${fits ? `every 201 was one debit${pending > 0 ? ', each pending order at most one' : ''}` : 'MISMATCH'}`,
  );
}

/**
 * The ceiling (bench/ceiling) at the same client counts and totals, then pgbench at 16 clients, on
 * this engine's Temporal server and database, before the engine's own levels.
 */
type CeilingResult = CeilingLevel & { cpu: { node: number; children: number } };

async function measureCeiling(amount: string): Promise<{ levels: CeilingResult[]; pgbench: PgbenchResult; check: string }> {
  const { connectTemporal } = await import('../scripts/runtime/components');
  const { createPrisma } = await import('../db/client');
  const prisma = createPrisma(engine!.databaseUrl, { applicationName: 'bench ceiling' });
  const connections = await connectTemporal(engine!.temporal.address, engine!.temporal.namespace);
  try {
    const ceiling = await startCeiling({
      prisma,
      client: connections.client,
      connection: connections.nativeConnection,
      namespace: engine!.temporal.namespace,
      amount,
      debits: WARMUP + ORDERS.reduce((a, b) => a + b, 0),
    });
    try {
      await ceiling.run(4, WARMUP);
      const levels: CeilingResult[] = [];
      for (let i = 0; i < CLIENTS.length; i++) {
        const before = cpuSnapshot();
        const level = { ...(await ceiling.run(CLIENTS[i]!, ORDERS[i]!)), cpu: { node: 0, children: 0 } };
        level.cpu = cpuBetween(before, cpuSnapshot());
        levels.push(level);
        console.log(`  ceiling, ${CLIENTS[i]} client(s): ${level.done}/${ORDERS[i]} debits in ${level.seconds.toFixed(1)} s`);
      }
      const check = await ceiling.check();
      const pgbench = await runPgbench({ prisma, databaseUrl: engine!.databaseUrl, clients: 16, seconds: 5, amount });
      console.log(`  ${'tps' in pgbench ? pgbench.line : `pgbench skipped: ${pgbench.skipped}`}`);
      return { levels, pgbench, check };
    } finally {
      await ceiling.stop();
    }
  } finally {
    await connections.stop();
    await prisma.$disconnect();
  }
}

function printCeiling(results: LevelResult[], ceiling: CeilingResult[], pgbench: PgbenchResult): void {
  console.log('');
  console.log('ceiling: update-with-start, one local activity (the debit transaction), answer — same server, database, process');
  console.log('clients  ceiling/s   p50 ms   p99 ms   engine/s   engine share of ceiling' + ('tps' in pgbench ? '   of pgbench' : ''));
  for (let i = 0; i < results.length; i++) {
    const c = ceiling[i]!;
    const r = results[i]!;
    const sorted = [...c.latencies].sort((a, b) => a - b);
    const cps = c.done / c.seconds;
    const eps = r.created / r.seconds;
    console.log(
      [
        String(c.clients).padStart(7),
        cps.toFixed(1).padStart(10),
        fmt(percentile(sorted, 0.5)).padStart(8),
        fmt(percentile(sorted, 0.99)).padStart(8),
        eps.toFixed(1).padStart(10),
        `${((100 * eps) / cps).toFixed(0)}%`.padStart(26),
        'tps' in pgbench ? `${((100 * eps) / pgbench.tps).toFixed(1)}%`.padStart(13) : '',
      ].join(' '),
    );
  }
  if (!('tps' in pgbench)) console.log(`pgbench: skipped (${pgbench.skipped})`);
  // CPU per order moves much less than orders/s with other people's load on the machine.
  console.log('CPU ms per order (node = the bench process: clients, API, worker, Temporal; below = PostgreSQL and child processes)');
  console.log('clients   engine node  engine below  engine total   ceiling total   ceiling/engine');
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const c = ceiling[i]!;
    const node = r.cpu.node / Math.max(1, r.created);
    const below = r.cpu.children / Math.max(1, r.created);
    const ceilingTotal = (c.cpu.node + c.cpu.children) / Math.max(1, c.done);
    console.log(
      [
        String(r.clients).padStart(7),
        node.toFixed(1).padStart(13),
        below.toFixed(1).padStart(13),
        (node + below).toFixed(1).padStart(13),
        ceilingTotal.toFixed(1).padStart(15),
        `${((100 * ceilingTotal) / (node + below)).toFixed(0)}%`.padStart(16),
      ].join(' '),
    );
  }
}

/** `total` placements by `clients` loops; each loop sends its next request when its answer arrives. */
async function runLevel(
  place: () => Promise<{ ok: boolean; ms: number; error?: string }>,
  clients: number,
  total: number,
): Promise<LevelResult> {
  const result: LevelResult = { clients, sent: 0, created: 0, seconds: 0, latencies: [], errors: new Map(), queries: [], cpu: { node: 0, children: 0 } };
  const queriesBefore: QuerySnapshot = querySnapshot();
  const cpuBefore = cpuSnapshot();
  const begin = performance.now();
  const client = async () => {
    while (result.sent < total) {
      result.sent += 1;
      const answer = await place();
      if (answer.ok) {
        result.created += 1;
        result.latencies.push(answer.ms);
      } else {
        const key = answer.error ?? 'unknown';
        result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  result.seconds = (performance.now() - begin) / 1000;
  result.queries = queriesBetween(queriesBefore, querySnapshot());
  result.cpu = cpuBetween(cpuBefore, cpuSnapshot());
  return result;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(0);
}

function listFromEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}"`);
  return list;
}

// Ctrl-C: stop what was started (PostgreSQL, Temporal, the worker...) before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the engine`);
    cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(
    () => cleanup().then(() => 0),
    async (error) => {
      console.error(error);
      await cleanup().catch((e) => console.error(e));
      return 1;
    },
  )
  .then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
