/**
 * An order's story from its workflow history: every run (continue-as-new included) in time order,
 * each event with its timestamp, the activity / timer / signal / update by name, the attempt, and
 * the business facts its payloads carried (amounts, statuses, provider answers, who asked, failures).
 * Workflow-task bookkeeping is folded away, and so are long stretches where nothing happens.
 *
 * Pure: it turns fetched histories into lines; fetching lives in ./history-fetch.ts.
 */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

export interface RunHistory {
  runId: string;
  history: History;
}

export interface TimelineOptions {
  /** A gap longer than this between two printed events is folded into one line (default 1 hour). */
  foldGapMs?: number;
  /** Print the workflow-task events too (default false). */
  showWorkflowTasks?: boolean;
}

const EventType = temporal.api.enums.v1.EventType;

/** Facts worth a reader's eye, in the order they are printed when a payload carries them. */
const FACT_KEYS = [
  'status',
  'code',
  'accepted',
  'rule',
  'reason',
  'message',
  'charge',
  'amount',
  'refunded',
  'quantity',
  'startCount',
  'remains',
  'providerOrderId',
  'kind',
  'action',
  'mode',
  'target',
  'phase',
  'by',
  'requestedBy',
  'holderOrderId',
  'link',
  // A run the order recovery started from the row (recovery/resume-order.ts): from what, and why.
  'recovered',
  // Order types (issue 12): a drip-feed's runs, a refund's part, a schedule.
  'run',
  'part',
  'dripFeed',
  'executeAt',
  // A subscription: its terms (input), and in each providerUpdate its status and posts served.
  'subscription',
];

export function renderTimeline(runs: RunHistory[], options: TimelineOptions = {}): string[] {
  const foldGapMs = options.foldGapMs ?? 3_600_000;
  const lines: string[] = [];
  let previousTime: number | null = null;
  runs.forEach((run, index) => {
    lines.push(`── run ${index + 1} of ${runs.length}: ${run.runId}`);
    const byId = new Map<number, HistoryEvent>();
    for (const event of run.history.events ?? []) {
      byId.set(Number(event.eventId), event);
      const text = describeEvent(event, byId, options);
      if (text === null) continue;
      const time = eventTimeMs(event);
      if (previousTime !== null && time - previousTime > foldGapMs) {
        lines.push(`   … ${formatDuration(time - previousTime)} with nothing to report …`);
      }
      previousTime = time;
      lines.push(`${formatTime(time)}  ${text}`);
    }
  });
  return lines;
}

function describeEvent(event: HistoryEvent, byId: Map<number, HistoryEvent>, options: TimelineOptions): string | null {
  const type = event.eventType ?? 0;
  const name = eventTypeName(type);
  switch (type) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      const a = event.workflowExecutionStartedEventAttributes!;
      const continued = a.continuedExecutionRunId ? ` (continued from ${a.continuedExecutionRunId})` : '';
      return `${name} ${a.workflowType?.name}${continued}${facts(a.input?.payloads)}`;
    }
    case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
    case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
    case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      return options.showWorkflowTasks ? name : null;
    case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      return `${name}: ${event.workflowTaskFailedEventAttributes?.failure?.message ?? 'no message'}`;
    case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
      return name;
    case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const a = event.activityTaskScheduledEventAttributes!;
      return `${name} ${a.activityType?.name}${facts(a.input?.payloads)}`;
    }
    case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
      return null; // folded into the activity's closing line, which names the attempt
    case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      return activityClose(event, byId, name);
    case EventType.EVENT_TYPE_TIMER_STARTED: {
      const a = event.timerStartedEventAttributes!;
      return `${name} ${formatDuration(durationMs(a.startToFireTimeout))}`;
    }
    case EventType.EVENT_TYPE_TIMER_FIRED:
    case EventType.EVENT_TYPE_TIMER_CANCELED:
      return name;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const a = event.workflowExecutionSignaledEventAttributes!;
      return `${name} ${a.signalName}${facts(a.input?.payloads)}`;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
      const a = event.workflowExecutionUpdateAcceptedEventAttributes!;
      const input = a.acceptedRequest?.input;
      return `${name} ${input?.name}${facts(input?.args?.payloads)}`;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
      const a = event.workflowExecutionUpdateCompletedEventAttributes!;
      const outcome = a.outcome?.failure ? ` failed: ${a.outcome.failure.message}` : facts(a.outcome?.success?.payloads);
      return `${name}${outcome}`;
    }
    case EventType.EVENT_TYPE_MARKER_RECORDED: {
      const a = event.markerRecordedEventAttributes!;
      if (a.markerName === 'core_local_activity') {
        // Core's marker data names the activity (snake_case in its JSON).
        const data = decodeAll(a.details?.data?.payloads)[0] as { activity_type?: string; activityType?: string } | undefined;
        const result = a.failure ? ` failed: ${a.failure.message}` : facts(a.details?.result?.payloads);
        return `LocalActivity ${data?.activity_type ?? data?.activityType ?? '?'}${result}`;
      }
      return `${name} ${a.markerName}`;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return `${name}${facts(event.workflowExecutionCompletedEventAttributes?.result?.payloads)}`;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      return `${name}: ${event.workflowExecutionFailedEventAttributes?.failure?.message}`;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: {
      const a = event.workflowExecutionTerminatedEventAttributes!;
      return `${name}: ${a.reason || 'no reason given'}${a.identity ? ` (by ${a.identity})` : ''}`;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return `${name} → ${event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId}`;
    case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      const shown = Object.entries(fields).map(([key, payload]) => `${key}=${JSON.stringify(decode(payload))}`);
      return `SearchAttributes ${shown.join(' ')}`;
    }
    default:
      return name;
  }
}

function activityClose(event: HistoryEvent, byId: Map<number, HistoryEvent>, name: string): string {
  const a = (event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskTimedOutEventAttributes ??
    event.activityTaskCanceledEventAttributes) as {
    scheduledEventId?: unknown;
    startedEventId?: unknown;
    result?: { payloads?: Payload[] | null } | null;
    failure?: temporal.api.failure.v1.IFailure | null;
  };
  const scheduled = byId.get(Number(a.scheduledEventId));
  const started = byId.get(Number(a.startedEventId));
  const activity = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
  const attempt = started?.activityTaskStartedEventAttributes?.attempt;
  const attemptText = attempt ? ` (attempt ${attempt})` : '';
  const failure = a.failure ? `: ${failureMessage(a.failure)}` : '';
  return `${name} ${activity}${attemptText}${failure}${facts(a.result?.payloads)}`;
}

function failureMessage(failure: temporal.api.failure.v1.IFailure): string {
  const cause = failure.cause ? ` ← ${failureMessage(failure.cause)}` : '';
  return `${failure.message ?? ''}${cause}`;
}

/** `  {status=partial charge=1.00000 …}` from the JSON payloads, or the raw value when it is small. */
function facts(payloads: Payload[] | null | undefined): string {
  const values = decodeAll(payloads);
  const parts: string[] = [];
  for (const value of values) parts.push(...factsOf(value));
  return parts.length ? `  {${parts.join(' ')}}` : '';
}

function factsOf(value: unknown, depth = 0): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object') return [JSON.stringify(value)];
  if (Array.isArray(value)) return value.length <= 3 ? value.flatMap((item) => factsOf(item, depth + 1)) : [`[${value.length} items]`];
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of FACT_KEYS) {
    if (!(key in record)) continue;
    const fact = record[key];
    if (fact === null || fact === undefined) continue;
    parts.push(`${key}=${typeof fact === 'object' ? compact(fact) : String(fact)}`);
  }
  // Results that wrap the interesting part (e.g. {order: {...}}) are opened one level.
  if (parts.length === 0 && depth === 0) {
    for (const nested of Object.values(record)) {
      if (nested && typeof nested === 'object' && !Array.isArray(nested)) parts.push(...factsOf(nested, depth + 1));
    }
  }
  return parts;
}

function compact(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function decodeAll(payloads: Payload[] | null | undefined): unknown[] {
  return (payloads ?? []).map(decode);
}

function decode(payload: Payload): unknown {
  const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString() : '';
  if (!payload.data || payload.data.length === 0) return undefined;
  if (encoding === 'json/plain') {
    try {
      return JSON.parse(Buffer.from(payload.data).toString('utf8'));
    } catch {
      return '<undecodable json>';
    }
  }
  return `<${encoding || 'binary'} ${payload.data.length} bytes>`;
}

export function eventTypeName(type: number): string {
  const raw = EventType[type] ?? `EVENT_TYPE_${type}`;
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_match, _sep, letter: string) => letter.toUpperCase());
}

function eventTimeMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

function durationMs(duration: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!duration) return 0;
  return Number(duration.seconds ?? 0) * 1000 + Math.floor((duration.nanos ?? 0) / 1e6);
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
