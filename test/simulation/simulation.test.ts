// A small seeded world through the whole engine (simulation/run.ts): real worker in its own process
// (killed once and restarted), in-memory Temporal with time skipping, PostgreSQL, the REST API over
// HTTP, the provider simulator behind the fault proxy; the books must balance at the end.
import { runSimulation } from '../../simulation/run';
import { generateScenario } from '../../simulation/scenario';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('seed 5, 60 orders over 3 days under faults: every book check passes and every history replays', async () => {
  const report = await runSimulation({ seed: 5, orders: 60, days: 3, kills: 1, databaseUrl: db.url });
  const failing = report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.failures.slice(0, 3).map((f) => f.message).join('; ')}`);
  expect({ failing, anomalies: report.anomalies }).toEqual({ failing: [], anomalies: [] });
  expect(report.passed).toBe(true);
  expect(report.checks.map((c) => c.name)).toEqual(['balances', 'debits', 'refunds', 'orphan-money', 'active-per-link', 'workflows', 'upstream', 'scheduled', 'fields', 'replay']);
  // The world really ran: orders were placed and settled, the worker was killed and came back.
  expect(report.figures.orders.placed).toBeGreaterThan(40);
  expect((report.figures.orders.byStatus.completed ?? 0) + (report.figures.orders.byStatus.partial ?? 0)).toBeGreaterThan(20);
  expect(report.figures.faults.kills).toBe(1);
  expect(report.figures.faults.workerStarts).toBe(2);
  expect(report.figures.temporal.replayedHistories).toBeGreaterThanOrEqual(report.figures.orders.placed);
  // Runs that closed during the drive were replayed then, by the replay process, and the process
  // took the rest (open runs included) while the facts were collected: none is left to the end.
  expect(report.figures.temporal.replayedDuringDrive).toBeGreaterThan(0);
  expect(report.figures.temporal.replayedByProcess).toBe(report.figures.temporal.replayedHistories);
  // The facts of orders whose workflows closed during the drive came from the histories the replay
  // process fetched (not fetched twice), and the books above agreed with them.
  expect(report.figures.temporal.factsFromReplayProcess).toBeGreaterThan(0);
  // Every reseller cancel went out, those in their placement's group too (5 of this world's 9, sent
  // after the placement's answer at the same instant), unless the placement itself was refused (a
  // cancel left out for an order that has an id is an anomaly, asserted empty above).
  const cancels = generateScenario({ seed: 5, orders: 60, days: 3, kills: 1 }).events.filter((e) => e.kind === 'cancel').length;
  const answered = Object.entries(report.figures.answers).filter(([key]) => /^cancel \S+$/.test(key)).reduce((n, [, count]) => n + count, 0);
  expect(answered + (report.figures.eventsWithoutOrder.cancel ?? []).length).toBe(cancels);
  expect(answered).toBeGreaterThan(0);
}, 20 * 60_000);
