/**
 * npm run bench — every benchmark of the engine, one after the other, each in its own process
 * (each starts its own PostgreSQL, Temporal and simulator). Figures only: nothing here is a test.
 * Run one alone with `npm run bench -- <name>` (e.g. `npm run bench -- provider-calls`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** name → script, in the order they run. */
const BENCHMARKS: Record<string, string> = {
  temporal: 'temporal.ts',
  'order-history': 'order-history.ts',
  refills: 'refills.ts',
  'provider-calls': 'provider-calls.ts',
  'provider-transport': 'provider-transport.ts',
  'api-throughput': 'api-throughput.ts',
  'order-types': 'order-types.ts',
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(BENCHMARKS);
let failed = 0;
for (const name of names) {
  const script = BENCHMARKS[name];
  if (!script) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} (bench/${script})`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, script)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed += 1;
    console.error(`=== ${name} failed (exit ${run.status})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
