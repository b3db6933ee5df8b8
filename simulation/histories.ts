/**
 * What Temporal holds about the run's workflows: every run of every order (and of the provider
 * syncs), the order's final state (its result, or the `state` query while it is still open in its
 * refill window), events and Temporal Actions per order, and every history replayed on today's code.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { ReplayWorkerOptions, WorkflowBundle } from '@temporalio/worker';
import { fetchAllRuns } from '../observability/history-fetch';
import type { RunHistory } from '../observability/timeline';
import type { OrderState } from '../workflows/order-contract';
import { orderWorkflowId, providerSyncWorkflowId } from '../workflows/order-contract';
import { stateQuery } from '../workflows/order-messages';
import type { EarlyReplayResult } from './early-replay';
import { runAll } from './run-all';

const T = temporal.api.enums.v1.EventType;

/**
 * Events Temporal Cloud bills as Actions (its pricing page): starts, signals, updates, queries are
 * not, activities (scheduled; a retry is another), local activities (their marker), timers,
 * search-attribute upserts, continue-as-new, child workflows, external signals.
 */
const ACTION_EVENTS = new Set<number>([
  T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  T.EVENT_TYPE_MARKER_RECORDED,
  T.EVENT_TYPE_TIMER_STARTED,
  T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
]);

export interface OrderWorkflowFacts {
  orderId: number;
  /** null: no workflow with this id. */
  runs: RunHistory[] | null;
  /** The workflow's own view: its result, or the state query of an open run. */
  state: OrderState | null;
  open: boolean;
  events: number;
  actions: number;
  /** Activity attempts that failed or timed out (retries). */
  activityFailures: number;
}

export async function collectOrderFacts(client: Client, orderIds: number[], concurrency = 8): Promise<Map<number, OrderWorkflowFacts>> {
  const facts = new Map<number, OrderWorkflowFacts>();
  await runAll(
    orderIds.map((orderId) => async () => void facts.set(orderId, await factsOf(client, orderId))),
    concurrency,
  );
  return facts;
}

async function factsOf(client: Client, orderId: number): Promise<OrderWorkflowFacts> {
  const workflowId = orderWorkflowId(orderId);
  let runs: RunHistory[];
  try {
    runs = await fetchAllRuns(client, workflowId);
  } catch {
    return { orderId, runs: null, state: null, open: false, events: 0, actions: 0, activityFailures: 0 };
  }
  let events = 0;
  let actions = 0;
  let activityFailures = 0;
  for (const run of runs) {
    for (const e of run.history.events ?? []) {
      events++;
      if (ACTION_EVENTS.has(e.eventType ?? 0)) actions++;
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_FAILED || e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) activityFailures++;
    }
  }
  const last = runs[runs.length - 1]?.history.events?.at(-1);
  const completed = last?.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED;
  const closed = completed || isClosing(last?.eventType);
  let state: OrderState | null = null;
  if (completed) {
    const payload = last!.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    state = payload ? (defaultPayloadConverter.fromPayload(payload as never) as OrderState) : null;
  } else if (!closed) {
    state = await queryState(client, workflowId);
  }
  return { orderId, runs, state, open: !closed, events, actions, activityFailures };
}

/**
 * The state query of an open run, asked up to three times: a query task the worker never answers
 * fails after the server's query-task timeout (temporal-server/queries.ts) and is asked again, where
 * once the books waited on it for good.
 */
async function queryState(client: Client, workflowId: string): Promise<OrderState | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.workflow.getHandle(workflowId).query(stateQuery);
    } catch {
      if (attempt === 3) return null;
    }
  }
}

function isClosing(type: number | null | undefined): boolean {
  return (
    type === T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ||
    type === T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED ||
    type === T.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT ||
    type === T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED ||
    type === T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
  );
}

/**
 * A replay worker whose workflows run in a worker thread of its own, as a normal worker's. debugMode
 * is not in ReplayWorkerOptions' type, but the SDK spreads the options over its replay default
 * (debugMode: true, the calling thread); false gives the threaded VM. Should an SDK ignore it, the
 * replay is the same, only on the calling thread.
 */
function threadedReplayOptions(bundle: WorkflowBundle, replayName: string): ReplayWorkerOptions {
  return { workflowBundle: bundle, replayName, debugMode: false } as ReplayWorkerOptions;
}

export interface ReplayOutcome {
  replayed: number;
  /** Of those, replayed before this call (by the replay process, during the drive or after it). */
  replayedBefore: number;
  failures: Array<{ workflowId: string; runId: string; error: string }>;
}

/**
 * Every run of every order and of each provider's sync, replayed with Worker.runReplayHistories, in
 * `lanes` replay workers at once; a run in `replayedBefore` (by the replay process) counts with
 * that result and is not replayed again. Each runs its workflows in a worker thread of its own (the SDK's
 * replay default is the calling thread, debugMode), so the lanes use both cores while this process's
 * main thread checks the books.
 */
export async function replayAll(
  client: Client,
  bundle: WorkflowBundle,
  facts: Iterable<OrderWorkflowFacts>,
  providerIds: number[],
  lanes = 2,
  replayedBefore: EarlyReplayResult['byRunId'] = new Map(),
): Promise<ReplayOutcome> {
  const items: Array<{ workflowId: string; history: temporal.api.history.v1.IHistory; runId: string }> = [];
  for (const f of facts) for (const run of f.runs ?? []) items.push({ workflowId: orderWorkflowId(f.orderId), history: run.history, runId: run.runId });
  for (const providerId of providerIds) {
    const workflowId = providerSyncWorkflowId(providerId);
    const runs = await fetchAllRuns(client, workflowId).catch(() => []);
    for (const run of runs) items.push({ workflowId, history: run.history, runId: run.runId });
  }
  const outcome: ReplayOutcome = { replayed: 0, replayedBefore: 0, failures: [] };
  // A run the replay process replayed (early-replay.ts) counts with its result.
  const rest = items.filter(({ runId, workflowId }) => {
    const before = replayedBefore.get(runId);
    if (!before) return true;
    outcome.replayed++;
    outcome.replayedBefore++;
    if (before.error !== null) outcome.failures.push({ workflowId, runId, error: before.error });
    return false;
  });
  const lane = async (mine: typeof items, index: number) => {
    const results = Worker.runReplayHistories(
      threadedReplayOptions(bundle, `simulation-${index}`),
      mine.map(({ workflowId, history }) => ({ workflowId, history })),
    );
    let i = 0;
    for await (const result of results) {
      outcome.replayed++;
      if (result.error) outcome.failures.push({ workflowId: result.workflowId, runId: mine[i]?.runId ?? '?', error: String(result.error.message ?? result.error) });
      i++;
    }
  };
  const count = Math.max(1, Math.min(lanes, rest.length));
  if (rest.length > 0) await Promise.all(Array.from({ length: count }, (_, index) => lane(rest.filter((_, k) => k % count === index), index)));
  return outcome;
}
