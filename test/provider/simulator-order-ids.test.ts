/**
 * Upstream order ids never repeat, across simulator restarts too, as a real provider's database
 * sequence does not: an engine that stored an id must never see it given to another order.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProviderSimulator } from '../../provider-simulator';
import { orderIdFile, persistentOrderIds } from '../../provider-simulator/order-ids';
import { simulatorOptionsFromEnv } from '../../scripts/runtime/simulator-env';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-ids-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Places `count` orders over API v2 (form body, as panels send it) and returns their ids. */
async function placeOrders(apiUrl: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const body = new URLSearchParams({ key: 'sim-key', action: 'add', service: '1', link: `https://instagram.com/ids-${Date.now()}-${i}`, quantity: '100' });
    const res = await fetch(apiUrl, { method: 'POST', body });
    const answer = (await res.json()) as { order?: number; error?: string };
    if (answer.order === undefined) throw new Error(`add refused: ${JSON.stringify(answer)}`);
    ids.push(answer.order);
  }
  return ids;
}

it('a simulator restarted on the same data directory never hands out an id it gave before', async () => {
  const first = await startProviderSimulator({ dataDir: dir });
  const before = await placeOrders(first.apiUrl, 3);
  await first.close();

  const second = await startProviderSimulator({ dataDir: dir });
  const after = await placeOrders(second.apiUrl, 3);
  await second.close();

  expect(new Set([...before, ...after]).size).toBe(6);
  expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));
});

it('a crash (no clean stop) skips the rest of the reserved block and never goes back', () => {
  const crashed = persistentOrderIds(dir, { block: 5 });
  const handedOut = [crashed.next(), crashed.next(), crashed.next()];
  expect(handedOut).toEqual([10001, 10002, 10003]);
  // The process dies here: nothing more is written. The next run starts after the whole block.
  const restarted = persistentOrderIds(dir, { block: 5 });
  expect(restarted.next()).toBe(10006);
});

it('ids run on across block boundaries, one file write per block', async () => {
  const ids = persistentOrderIds(dir, { block: 2 });
  expect([ids.next(), ids.next(), ids.next(), ids.next(), ids.next()]).toEqual([10001, 10002, 10003, 10004, 10005]);
  expect(JSON.parse(await readFile(orderIdFile(dir), 'utf8'))).toEqual({ nextFree: 10007 });
});

it('a damaged sequence file stops the simulator from starting rather than reuse ids', async () => {
  await writeFile(orderIdFile(dir), '{"nextFree": "soon"}');
  expect(() => persistentOrderIds(dir)).toThrow(/nextFree.*refusing to reuse upstream order ids/);
});

it('npm start and npm run simulator keep the sequence in SIM_DATA_DIR, else <DATA_DIR>/simulator', () => {
  expect(simulatorOptionsFromEnv({ DATA_DIR: '/srv/engine' }).dataDir).toBe('/srv/engine/simulator');
  expect(simulatorOptionsFromEnv({ DATA_DIR: '/srv/engine', SIM_DATA_DIR: '/var/lib/sim' }).dataDir).toBe('/var/lib/sim');
});
