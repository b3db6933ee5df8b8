/**
 * npm run bench:provider-transport — the provider client's transport, side by side in one run:
 * undici's request (the default) against Node's fetch (what the client used before), the same
 * `balance` call to the provider simulator over HTTP, in alternating rounds. Prints, per transport,
 * CPU of this process per call (client and the simulator's server together; the server's share is
 * the same for both) and wall time per call, calls made one after another.
 *
 * Env: BENCH_CALLS (per round, default 2000), BENCH_ROUNDS (default 3).
 */
import { createProviderClient } from '../activities/provider';
import type { ProviderClient } from '../activities/provider';
import { startProviderSimulator } from '../provider-simulator';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function round(client: ProviderClient): Promise<{ cpuUsPerCall: number; wallMsPerCall: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const answer = await client.balance();
    if (!('balance' in answer)) throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);
  }
  const used = process.cpuUsage(cpu);
  return { cpuUsPerCall: (used.user + used.system) / CALLS, wallMsPerCall: (performance.now() - started) / CALLS };
}

async function main(): Promise<void> {
  const sim = await startProviderSimulator();
  try {
    const transports: Array<[string, ProviderClient]> = [
      ['undici request (default)', createProviderClient({ apiUrl: sim.apiUrl, apiKey: sim.apiKey, timeoutMs: 5_000 })],
      ['Node fetch', createProviderClient({ apiUrl: sim.apiUrl, apiKey: sim.apiKey, timeoutMs: 5_000, fetch })],
    ];
    // Warm-up: connections, JIT.
    for (const [, client] of transports) for (let i = 0; i < 200; i++) await client.balance();
    const results = new Map<string, Array<{ cpuUsPerCall: number; wallMsPerCall: number }>>();
    for (let r = 1; r <= ROUNDS; r++) {
      for (const [name, client] of r % 2 === 1 ? transports : [...transports].reverse()) {
        const result = await round(client);
        results.set(name, [...(results.get(name) ?? []), result]);
        console.log(`round ${r} ${name.padEnd(26)} CPU ${result.cpuUsPerCall.toFixed(0)} µs/call, wall ${result.wallMsPerCall.toFixed(3)} ms/call`);
      }
    }
    console.log(`\n${CALLS} calls a round, ${ROUNDS} rounds; median of the rounds:`);
    for (const [name, rounds] of results) {
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      console.log(`  ${name.padEnd(26)} CPU ${median(rounds.map((x) => x.cpuUsPerCall)).toFixed(0)} µs/call, wall ${median(rounds.map((x) => x.wallMsPerCall)).toFixed(3)} ms/call`);
    }
  } finally {
    await sim.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
