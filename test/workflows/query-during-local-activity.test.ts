/**
 * A state query that rides on the workflow task of a provider's update, while that task's local
 * activity (the row's mirror) is still running, moves where the workflow code goes on: the SDK
 * answers the query, completes the task with the local activity's marker as soon as it resolves and
 * asks for a new task (force_new_wft), and hands the result to the code only in that new task. On
 * replay the result comes before that task boundary. A drip-feed's run that ended was settled right
 * after the mirror, and its `patched()` was asked one task earlier on replay than it was first asked:
 * before the SDK had read the marker, so replay took the old path and failed (nondeterminism: "patch
 * marker encountered ... but there is no corresponding change command"). The simulation's default
 * world (seed 42, order 2302) stopped on it when a restarted worker replayed the order: the workflow
 * task failed for good and held the clock. Every query the API asks after an order action
 * (api/order-actions.ts stateAfter), and every GET of an order, can ride on such a task.
 *
 * Here the task is made to carry the query for sure: the worker is stopped while the update and the
 * query arrive, and the orders row is locked (as a slow database would hold it) until the query has
 * been answered. The history must show the SDK's forced new task, and must replay on today's code.
 */
import { Worker } from '@temporalio/worker';
import { Client } from 'pg';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { OrderState } from '../../workflows/order-contract';
import { orderWorkflowId } from '../../workflows/order-contract';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';
import { placeTypedOrder } from '../support/place-typed-order';

let engine: TestEngine;
useTestEngine((started) => (engine = started));

/** An engine drip-feed of 2 runs of 100 followers, placed as the API would. */
async function placeDripFeed(): Promise<number> {
  const userId = await engine.newUser('10.00000');
  const extra = { dripFeed: { runs: 2, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' as const } };
  return (await placeTypedOrder(engine, { userId, link: engine.uniqueLink('query-during-la'), quantity: 200, extra })).orderId;
}

type JsonEvent = { eventId: string; eventType: string; [attributes: string]: unknown };

const TASK_EVENTS = ['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED'];

/** The local activity a marker records (its type), else null. */
function markerActivity(event: JsonEvent): string | null {
  const data = (event.markerRecordedEventAttributes as { details?: { data?: { payloads?: Array<{ data: string }> } } } | undefined)?.details?.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data, 'base64').toString()) as { activity_type: string }).activity_type : null;
}

/** The id of the event's workflow-task completion, for the events a completion writes (its commands). */
function writtenBy(event: JsonEvent): string | undefined {
  const attributes = Object.entries(event).find(([key]) => key.endsWith('EventAttributes'))?.[1] as { workflowTaskCompletedEventId?: string } | undefined;
  return attributes?.workflowTaskCompletedEventId;
}

/** The id of the last workflow-task completion before index `i`. */
function completionBefore(events: JsonEvent[], i: number): string {
  return events.slice(0, i).reverse().find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED')!.eventId;
}

/**
 * Index of a mirrorOrder marker that opens a forced workflow task: the task's three events come
 * straight after what the previous completion wrote, no signal, timer or activity in between.
 */
function mirrorAfterForcedTask(events: JsonEvent[]): number {
  return events.findIndex((e, i) => {
    if (i < 4 || markerActivity(e) !== 'mirrorOrder') return false;
    if (!TASK_EVENTS.every((type, k) => events[i - 3 + k]!.eventType === type)) return false;
    return writtenBy(events[i - 4]!) === completionBefore(events, i - 3);
  });
}

/**
 * The same history as if the mirror had resolved while the query was being answered: its marker in
 * the task that ran the update, its result handed over in the forced task (the simulation's order
 * 2302 had exactly this). Event ids and the ids events refer to are renumbered to match.
 */
function mirrorResolvedDuringTheQuery(events: JsonEvent[], at: number): JsonEvent[] {
  const marker = events[at]!;
  const moved = [...events.slice(0, at - 3), marker, ...events.slice(at - 3, at), ...events.slice(at + 1)];
  const newId = new Map(moved.map((e, i) => [e.eventId, String(i + 1)]));
  const renumber = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => renumber(v, ''));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renumber(v, k)]));
    return key.endsWith('EventId') && typeof value === 'string' && newId.has(value) ? newId.get(value) : value;
  };
  const updateTaskCompleted = newId.get(completionBefore(events, at - 3))!;
  return moved.map((event) => {
    const copy = renumber(event, '') as JsonEvent;
    copy.eventId = newId.get(event.eventId)!;
    if (event === marker) (copy.markerRecordedEventAttributes as { workflowTaskCompletedEventId: string }).workflowTaskCompletedEventId = updateTaskCompleted;
    return copy;
  });
}

it("a state query riding on the task of a provider update while its local activity runs, the activity resolving while the query is answered: the drip-feed's history replays on today's code (its patches asked in the run's first task)", async () => {
  const orderId = await placeDripFeed();
  const sent = await engine.waitForState(orderId, (s: OrderState) => s.dripFeed?.list[0]?.providerOrderId != null && s.status === 'pending');
  const run1 = sent.dripFeed!.list[0]!;

  // The mirror of the update's new status waits on this lock, as on a slow database.
  const lock = new Client({ connectionString: engine.db.url });
  await lock.connect();
  let query: Promise<OrderState> | undefined;
  try {
    await lock.query('BEGIN');
    await lock.query('SELECT id FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
    await engine.restartWorker(async () => {
      // No worker polls: the update's workflow task waits, and the query waits to ride on it.
      await engine.providerUpdate(orderId, { status: 'completed', providerOrderId: run1.providerOrderId!, startCount: 10, remains: 0 });
      query = engine.state(orderId);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    // The new worker runs the update, starts the mirror (held by the lock) and answers the query.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  } finally {
    await lock.query('COMMIT');
    await lock.end();
  }
  // Answered in the update's task: the run is completed by the update, not yet settled.
  expect((await query!).dripFeed!.list[0]).toMatchObject({ status: 'completed', settled: false });
  await engine.waitForState(orderId, (s) => s.dripFeed!.list[0]!.settled === true);

  // With the mirror still running when the query was answered, the SDK completed the update's task
  // and forced a new one, where the mirror's marker and result are.
  const events = (JSON.parse(historyToJSON(await engine.history(orderId))) as { events: JsonEvent[] }).events;
  const at = mirrorAfterForcedTask(events);
  expect(at).toBeGreaterThan(0);
  const replay = (history: JsonEvent[]) =>
    Worker.runReplayHistory({ workflowBundle: engine.bundle, replayName: 'query-during-local-activity' }, historyFromJSON({ events: history }), orderWorkflowId(orderId));
  await expect(replay(events)).resolves.toBeUndefined();
  // Had the mirror resolved while the query was answered, the marker would sit in the update's task
  // and the result come in the forced one: the history the first failure left.
  await expect(replay(mirrorResolvedDuringTheQuery(events, at))).resolves.toBeUndefined();
});
