/**
 * npm run simulate -- [--seed 42] [--orders 10000] [--days 60] [--kills N] [--out reports/simulation]
 * Prints progress on stderr, the books and figures on stdout, writes the report (JSON + HTML), and
 * exits 1 when a check fails (printing the seed and the failing orders with their timelines).
 */
import { parseArgs } from 'node:util';
import { ensurePrismaClient } from '../db/generate';
import type { FailingOrder, SimulationReport } from './report';

function parse(): { seed: number; orders: number; days: number; kills?: number; out: string } {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '42' },
      orders: { type: 'string', default: '10000' },
      days: { type: 'string', default: '60' },
      kills: { type: 'string' },
      out: { type: 'string', default: 'reports/simulation' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('npm run simulate -- [--seed 42] [--orders 10000] [--days 60] [--kills N] [--out reports/simulation]\n');
    process.exit(0);
  }
  const whole = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) {
      process.stderr.write(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    seed: whole('seed', values.seed!, 0),
    orders: whole('orders', values.orders!, 1),
    days: whole('days', values.days!, 1),
    ...(values.kills !== undefined ? { kills: whole('kills', values.kills, 0) } : {}),
    out: values.out!,
  };
}

function print(report: SimulationReport): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`simulation seed ${report.seed}: ${report.orders} orders over ${report.days} days: ${report.passed ? 'PASSED' : 'FAILED'}`);
  out();
  for (const c of report.checks) out(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name.padEnd(16)} ${c.claim} (${c.checked} checked${c.passed ? '' : `, ${c.failures.length} failing`})`);
  for (const a of report.anomalies) out(`  FAIL anomaly: ${a}`);
  const f = report.figures;
  out();
  out(`  orders by status   ${JSON.stringify(f.orders.byStatus)} (${f.orders.openInRefillWindow} workflows open in their refill window)`);
  out(`  orders by type     ${Object.entries(f.orders.byType).map(([kind, statuses]) => `${kind} ${JSON.stringify(statuses)}`).join('\n                     ')}`);
  out(`  refunds            ${f.refunds.count}, total ${f.refunds.total}, by rule ${JSON.stringify(f.refunds.byRule)}`);
  out(`  provider calls     ${f.providerCalls.total} (${f.providerCalls.failedByOutage} in outages), per order ${JSON.stringify(f.providerCalls.perOrder)}, by action ${JSON.stringify(f.providerCalls.byAction)}, given up by the engine's timeout ${JSON.stringify(f.providerCalls.gaveUp)}, answered in ms ${JSON.stringify(f.providerCalls.answerMs)}`);
  out(`  events per order   ${JSON.stringify(f.temporal.eventsPerOrder)}`);
  out(`  Actions per order  ${JSON.stringify(f.temporal.actionsPerOrder)} (Temporal Cloud billing, estimated from the histories)`);
  out(`  replay             ${f.temporal.replayedHistories} runs: ${f.temporal.replayedByProcess} by the replay process at the lowest CPU priority (${f.temporal.replayedDuringDrive} of them during the drive, the rest while the facts were collected), ${f.temporal.replayedHistories - f.temporal.replayedByProcess} at the end; the facts of ${f.temporal.factsFromReplayProcess} orders from the histories it fetched`);
  out(`  faults             ${JSON.stringify(f.faults)}`);
  out(`  API answers        ${JSON.stringify(f.answers)}`);
  out(`  not sent           ${JSON.stringify(Object.fromEntries(Object.entries(f.eventsWithoutOrder).map(([kind, orders]) => [kind, orders.length])))} (calls about orders whose placement was refused)`);
  out(`  wall time          ${f.wallSeconds.total.toFixed(1)} s (setup ${f.wallSeconds.setup.toFixed(1)}, drive ${f.wallSeconds.drive.toFixed(1)} = ${JSON.stringify(f.driveWallSeconds)}, checks ${f.wallSeconds.checks.toFixed(1)}); ${f.simulatedDays.toFixed(1)} simulated days`);
  const printOrder = (o: FailingOrder, note: string, mark: string) => {
    out();
    out(`order ${o.orderId}${note}:`);
    for (const p of o.problems) out(`  ${mark} ${p}`);
    for (const l of o.journal) out(l);
    for (const l of o.timeline) out(`  ${l}`);
  };
  for (const o of report.failingOrders) printOrder(o, '', '✘');
  for (const o of report.unsettledOrders) printOrder(o, ' (still active, not a failure)', '·');
  if (!report.passed) {
    out();
    out(`FAILED with seed ${report.seed}; replay the same scenario: ${report.replay}`);
  }
}

async function main(): Promise<void> {
  const args = parse();
  ensurePrismaClient();
  const { runSimulation, stopRunningWorlds } = await import('./run');
  // Ctrl-C: stop the embedded PostgreSQL, the worker process and the servers, then exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopRunningWorlds().finally(() => process.exit(130)));
  const { writeReport } = await import('./report');
  const tty = process.stderr.isTTY;
  const report = await runSimulation({ ...args, progress: (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`) });
  if (tty) process.stderr.write('\n');
  print(report);
  const files = await writeReport(report, args.out);
  process.stdout.write(`\nreport: ${files.json}, ${files.html}\n`);
  process.exit(report.passed ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`simulation failed to run: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
