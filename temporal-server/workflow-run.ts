/**
 * One run of a workflow execution: its history and the mutable state a Temporal history service
 * keeps beside it (the workflow task in flight, pending activities, timers, children, updates).
 */
import type { ActivityState } from './activities';
import { EventType, WorkflowExecutionStatus, temporal } from './proto';
import type { HistoryEvent as WireHistoryEvent, Payloads, Timestamp } from './proto';

type Attributes = Record<string, unknown>;

/** A history event as this server stores it: ids are plain numbers. */
export type HistoryEvent = Omit<WireHistoryEvent, 'eventId' | 'taskId'> & { eventId: number; taskId: number };
type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;

export interface WorkflowTaskState {
  scheduledEventId: number;
  startedEventId: number | null;
  attempt: number;
  /** Sticky queue name the task was put on, or null for the workflow's normal queue. */
  stickyQueue: string | null;
  scheduledAt: number;
  startedAt: number | null;
  /** Legacy queries delivered in this task's `queries` map, by query id. */
  queryIds: string[];
  /**
   * Scheduled only to carry updates: if the worker rejects them all and sends no command, the
   * task's events are dropped from history, as Temporal drops a speculative workflow task.
   */
  speculative: boolean;
  /** Update ids whose requests were sent to the worker with this task. */
  updateIds: string[];
  cancelTimeout?: () => void;
}

export interface PendingQuery {
  id: string;
  query: temporal.api.query.v1.IWorkflowQuery;
  /** What carries the query to a worker right now, if anything. */
  carrier: 'workflow-task' | 'query-task' | null;
  resolve(result: { answer?: Payloads; error?: string; timedOut?: boolean }): void;
}

export type UpdateStage = 'admitted' | 'sent' | 'accepted' | 'completed';

export interface UpdateState {
  id: string;
  request: temporal.api.update.v1.IRequest;
  stage: UpdateStage;
  outcome?: temporal.api.update.v1.IOutcome;
  acceptedEventId?: number;
  waiters: Array<() => void>;
}

export interface ChildState {
  initiatedEventId: number;
  startedEventId: number | null;
  workflowId: string;
  runId: string | null;
  workflowType: string;
  namespace: string;
  parentClosePolicy: number;
}

export interface ParentRef {
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
}

export class WorkflowRun {
  readonly history: HistoryEvent[] = [];
  status: number = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  closeTime: number | null = null;
  /** The run that continued this one (continue-as-new), once closed that way. */
  nextRunId: string | null = null;
  workflowTask: WorkflowTaskState | null = null;
  /** Started event id of the last completed workflow task (the worker's replay point). */
  previousStartedEventId = 0;
  lastCompletedTaskEventId = 0;
  stickyQueue: string | null = null;
  stickyScheduleToStartMs = 10_000;
  /** Events that arrived while a workflow task was in flight: written once it completes. */
  buffered: Array<() => void> = [];
  readonly activities = new Map<number, ActivityState>();
  /**
   * Timers not yet fired, and fired ones whose TimerFired still waits in `buffered` (firedWrite): a
   * CancelTimer in the completion of the task in flight takes such a fire back.
   */
  readonly timers = new Map<string, { startedEventId: number; cancel: () => void; firedWrite?: () => void }>();
  readonly children = new Map<number, ChildState>();
  readonly queries: PendingQuery[] = [];
  readonly updates = new Map<string, UpdateState>();
  readonly signalRequestIds = new Set<string>();
  cancelRequested = false;
  searchAttributes: Record<string, temporal.api.common.v1.IPayload> = {};
  memo: Record<string, temporal.api.common.v1.IPayload> = {};
  cancelRunTimeout: (() => void) | null = null;
  readonly eventWaiters: Array<() => void> = [];
  private nextTaskId = 1;

  constructor(
    readonly namespace: string,
    readonly workflowId: string,
    readonly runId: string,
    readonly firstRunId: string,
    readonly workflowType: string,
    readonly taskQueue: string,
    readonly startRequest: StartRequest,
    readonly startTime: number,
    readonly parent: ParentRef | null,
    readonly workflowTaskTimeoutMs: number,
    readonly runTimeoutMs: number,
  ) {
    this.searchAttributes = { ...(startRequest.searchAttributes?.indexedFields ?? {}) };
    this.memo = { ...(startRequest.memo?.fields ?? {}) };
  }

  get isRunning(): boolean {
    return this.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }

  get nextEventId(): number {
    return this.history.length + 1;
  }

  get workflowTaskInFlight(): boolean {
    return this.workflowTask?.startedEventId != null;
  }

  addEvent(eventType: number, attributeField: string, attributes: Attributes, time: Timestamp): HistoryEvent {
    const event: HistoryEvent = {
      eventId: this.nextEventId,
      eventTime: time,
      eventType,
      taskId: this.nextTaskId++,
      [attributeField]: attributes,
    } as unknown as HistoryEvent;
    this.history.push(event);
    for (const wake of this.eventWaiters.splice(0)) wake();
    return event;
  }

  waitForNewEvent(): Promise<void> {
    return new Promise((resolve) => this.eventWaiters.push(resolve));
  }

  closeEvent(): HistoryEvent | undefined {
    return this.isRunning ? undefined : this.history[this.history.length - 1];
  }

  historySizeBytes(): number {
    // An estimate is enough: the SDK only compares it against the continue-as-new suggestion.
    return this.history.length * 200;
  }

  lastEventOfType(type: number): HistoryEvent | undefined {
    for (let i = this.history.length - 1; i >= 0; i -= 1) {
      if (this.history[i].eventType === type) return this.history[i];
    }
    return undefined;
  }

  startedEvent(): HistoryEvent {
    const first = this.history[0];
    if (first?.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) throw new Error('run without a start');
    return first;
  }
}
