/**
 * What Temporal holds about the run's workflows: every run of every order (and of the provider
 * syncs), the order's final state (its result, or the `state` query while it is still open in its
 * refill window), events and Temporal Actions per order, and every history replayed on today's code.
 */
import type { Client } from '@temporalio/client';
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
import { orderFactsOfRuns, runFactsOf } from './run-facts';
import type { OrderRunsFacts, RunFacts } from './run-facts';

export interface OrderWorkflowFacts {
  orderId: number;
  /**
   * The workflow's runs, first to current; a run's history is here when this process fetched it
   * (null: the replay process took its facts from it, and replayed it). Null: no workflow with this id.
   */
  runs: Array<{ runId: string; history: temporal.api.history.v1.IHistory | null }> | null;
  /** The workflow's own view: its result, or the state query of an open run. */
  state: OrderState | null;
  open: boolean;
  events: number;
  actions: number;
  /** Activity attempts that failed or timed out (retries). */
  activityFailures: number;
}

/** Real ms one state query may take at the end (a worker answers in milliseconds). */
const STATE_QUERY_DEADLINE_MS = 20_000;

/**
 * Every order's facts. `known`: run facts the replay process took from the histories it fetched
 * during the drive; an order whose runs are all among them, its workflow closed, is not fetched
 * again. The others (open ones, those closed in the drive's last seconds) are fetched here.
 */
export async function collectOrderFacts(
  client: Client,
  orderIds: number[],
  known: Iterable<RunFacts> = [],
  { concurrency = 8, stateQueryDeadlineMs = STATE_QUERY_DEADLINE_MS }: { concurrency?: number; stateQueryDeadlineMs?: number } = {},
): Promise<{ facts: Map<number, OrderWorkflowFacts>; fetched: number }> {
  const knownByWorkflow = new Map<string, RunFacts[]>();
  for (const run of known) {
    const runs = knownByWorkflow.get(run.workflowId);
    if (runs) runs.push(run);
    else knownByWorkflow.set(run.workflowId, [run]);
  }
  const facts = new Map<number, OrderWorkflowFacts>();
  const toFetch: number[] = [];
  for (const orderId of orderIds) {
    const ofRuns = orderFactsOfRuns(knownByWorkflow.get(orderWorkflowId(orderId)) ?? []);
    if (ofRuns && !ofRuns.open) facts.set(orderId, orderFacts(orderId, ofRuns, null, ofRuns.result));
    else toFetch.push(orderId);
  }
  await runAll(
    toFetch.map((orderId) => async () => void facts.set(orderId, await fetchFactsOf(client, orderId, stateQueryDeadlineMs))),
    concurrency,
  );
  return { facts: new Map([...facts].sort((a, b) => a[0] - b[0])), fetched: toFetch.length };
}

function orderFacts(orderId: number, ofRuns: OrderRunsFacts, histories: Map<string, temporal.api.history.v1.IHistory> | null, state: OrderState | null): OrderWorkflowFacts {
  const runs = ofRuns.runIds.map((runId) => ({ runId, history: histories?.get(runId) ?? null }));
  return { orderId, runs, state, open: ofRuns.open, events: ofRuns.events, actions: ofRuns.actions, activityFailures: ofRuns.activityFailures };
}

async function fetchFactsOf(client: Client, orderId: number, stateQueryDeadlineMs: number): Promise<OrderWorkflowFacts> {
  const workflowId = orderWorkflowId(orderId);
  const runs: RunHistory[] = await fetchAllRuns(client, workflowId).catch(() => []);
  const ofRuns = orderFactsOfRuns(runs.map((run) => runFactsOf(workflowId, run.runId, run.history)));
  // No workflow with this id (or none that could be fetched).
  if (!ofRuns) return { orderId, runs: null, state: null, open: false, events: 0, actions: 0, activityFailures: 0 };
  const state = ofRuns.open ? await queryState(client, workflowId, stateQueryDeadlineMs) : ofRuns.result;
  return orderFacts(orderId, ofRuns, new Map(runs.map((run) => [run.runId, run.history])), state);
}

/**
 * The state query of an open run, asked up to three times: a query task the worker never answers
 * fails after the server's query-task timeout (temporal-server/queries.ts) and is asked again, where
 * once the books waited on it for good. A query riding on a workflow task that fails every attempt
 * (a history that no longer replays) would wait with it for good: each ask has a deadline, and the
 * run without a state is named by the books' checks.
 */
async function queryState(client: Client, workflowId: string, deadlineMs: number): Promise<OrderState | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.withDeadline(Date.now() + deadlineMs, () => client.workflow.getHandle(workflowId).query(stateQuery));
    } catch {
      if (attempt === 3) return null;
    }
  }
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

/** A run to check, with its history when this process has it (null: fetched when it must replay). */
type RunToCheck = { workflowId: string; runId: string; history: temporal.api.history.v1.IHistory | null };
type RunToReplay = RunToCheck & { history: temporal.api.history.v1.IHistory };

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
  const items: RunToCheck[] = [];
  for (const f of facts) for (const run of f.runs ?? []) items.push({ workflowId: orderWorkflowId(f.orderId), history: run.history, runId: run.runId });
  for (const providerId of providerIds) {
    const workflowId = providerSyncWorkflowId(providerId);
    const runs = await fetchAllRuns(client, workflowId).catch(() => []);
    for (const run of runs) items.push({ workflowId, history: run.history, runId: run.runId });
  }
  const outcome: ReplayOutcome = { replayed: 0, replayedBefore: 0, failures: [] };
  // A run the replay process replayed (early-replay.ts) counts with its result.
  const left = items.filter(({ runId, workflowId }) => {
    const before = replayedBefore.get(runId);
    if (!before) return true;
    outcome.replayed++;
    outcome.replayedBefore++;
    if (before.error !== null) outcome.failures.push({ workflowId, runId, error: before.error });
    return false;
  });
  const rest = await withHistories(client, left, outcome);
  if (rest.length > 0) await replayInLanes(bundle, rest, lanes, outcome);
  return outcome;
}

/**
 * The runs with their histories: a run whose facts came from the replay process but which it did
 * not replay (it stopped first) is fetched now; one that cannot be fetched fails the check, named.
 */
async function withHistories(client: Client, runs: RunToCheck[], outcome: ReplayOutcome): Promise<RunToReplay[]> {
  const ready: RunToReplay[] = [];
  await runAll(
    runs.map((run) => async () => {
      try {
        ready.push({ ...run, history: run.history ?? (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()) });
      } catch (error) {
        outcome.replayed++;
        outcome.failures.push({ workflowId: run.workflowId, runId: run.runId, error: `history not fetched for the replay: ${String(error)}` });
      }
    }),
    8,
  );
  return ready;
}

/**
 * The runs replayed in `lanes` replay workers side by side. Every lane waits until all are built
 * before it replays: the SDK shuts its Runtime down when its last worker ends, and a lane still
 * being built (its workflow thread loading the bundle) then holds a dead Runtime ("failed to
 * downcast ... Runtime", seen once in CI with one run per lane).
 */
async function replayInLanes(bundle: WorkflowBundle, runs: RunToReplay[], lanes: number, outcome: ReplayOutcome): Promise<void> {
  const count = Math.max(1, Math.min(lanes, runs.length));
  const built = Array.from({ length: count }, () => {
    let resolve = () => undefined as void;
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve };
  });
  const allBuilt = Promise.all(built.map((b) => b.promise));
  async function* afterAllBuilt(mine: RunToReplay[], index: number) {
    built[index].resolve(); // the SDK asks for the first history once its worker is built
    await allBuilt;
    for (const { workflowId, history } of mine) yield { workflowId, history };
  }
  const lane = async (mine: RunToReplay[], index: number) => {
    try {
      let i = 0;
      for await (const result of Worker.runReplayHistories(threadedReplayOptions(bundle, `simulation-${index}`), afterAllBuilt(mine, index))) {
        outcome.replayed++;
        if (result.error) outcome.failures.push({ workflowId: result.workflowId, runId: mine[i]?.runId ?? '?', error: String(result.error.message ?? result.error) });
        i++;
      }
    } finally {
      built[index].resolve(); // a lane that failed to build holds no other back
    }
  };
  await Promise.all(Array.from({ length: count }, (_, index) => lane(runs.filter((_, k) => k % count === index), index)));
}
