/**
 * What one run's history says, in a few numbers (no I/O): its place in the workflow's chain of
 * runs, how it ended, the order state it returned, its events and Temporal Actions. The simulation's
 * facts about an order are its runs' facts put together (orderFactsOfRuns). The replay process
 * takes them from each history it fetches during the drive, so the end does not fetch them again.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { OrderState } from '../workflows/order-contract';

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

const CLOSING_EVENTS = new Set<number>([
  T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

export interface RunFacts {
  workflowId: string;
  runId: string;
  /** The run this one continued (continue-as-new), null for a workflow's first run. */
  previousRunId: string | null;
  /** The run this one continued as, null unless it ended by continue-as-new. */
  nextRunId: string | null;
  /** Ended (completed, failed, terminated, timed out, canceled or continued as new). */
  closed: boolean;
  /** The order state it completed with; null unless it completed with one. */
  result: OrderState | null;
  events: number;
  actions: number;
  /** Activity attempts that failed or timed out (retries). */
  activityFailures: number;
}

export function runFactsOf(workflowId: string, runId: string, history: temporal.api.history.v1.IHistory): RunFacts {
  const events = history.events ?? [];
  let actions = 0;
  let activityFailures = 0;
  for (const e of events) {
    if (ACTION_EVENTS.has(e.eventType ?? 0)) actions++;
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_FAILED || e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) activityFailures++;
  }
  const last = events.at(-1);
  const payload = last?.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ? last.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0] : undefined;
  return {
    workflowId,
    runId,
    previousRunId: events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || null,
    nextRunId: (last?.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW && last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId) || null,
    closed: CLOSING_EVENTS.has(last?.eventType ?? 0),
    result: payload ? (defaultPayloadConverter.fromPayload(payload as never) as OrderState) : null,
    events: events.length,
    actions,
    activityFailures,
  };
}

/** An order's workflow as its runs tell it: the runs in order, whether it is still open, and the totals. */
export interface OrderRunsFacts {
  runIds: string[];
  open: boolean;
  /** The state the workflow completed with (null while open, or when it ended another way). */
  result: OrderState | null;
  events: number;
  actions: number;
  activityFailures: number;
}

/**
 * The facts of a workflow from its runs' facts, in any order: the chain from the first run (none
 * before it) along each continue-as-new to the current one. Null when the chain has a gap (a run
 * not among them), so the caller fetches the workflow itself.
 */
export function orderFactsOfRuns(runs: Iterable<RunFacts>): OrderRunsFacts | null {
  const byId = new Map<string, RunFacts>();
  let first: RunFacts | null = null;
  for (const run of runs) {
    byId.set(run.runId, run);
    if (run.previousRunId === null) first = run;
  }
  const chain: RunFacts[] = [];
  for (let run: RunFacts | null | undefined = first; run; run = run.nextRunId === null ? null : byId.get(run.nextRunId)) {
    chain.push(run);
    if (chain.length > byId.size) return null; // a cycle: never from a real history
    if (run.nextRunId !== null && !byId.has(run.nextRunId)) return null; // the next run is missing
  }
  if (chain.length === 0) return null;
  const current = chain[chain.length - 1];
  return {
    runIds: chain.map((r) => r.runId),
    open: !current.closed,
    result: current.result,
    events: chain.reduce((n, r) => n + r.events, 0),
    actions: chain.reduce((n, r) => n + r.actions, 0),
    activityFailures: chain.reduce((n, r) => n + r.activityFailures, 0),
  };
}
