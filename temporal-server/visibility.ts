/**
 * Visibility: ListWorkflowExecutions and CountWorkflowExecutions over the runs in memory, with the
 * subset of Temporal's SQL-like list filter the engine uses:
 *   WorkflowId, WorkflowType, ExecutionStatus, StartTime, CloseTime, TaskQueue and any custom
 *   search attribute; `=`, `!=`, `<`, `<=`, `>`, `>=`, `IN (...)`, `BETWEEN a AND b`,
 *   `IS NULL`, `IS NOT NULL`, `AND`, `OR`, parentheses; ORDER BY is accepted and ignored
 *   (results come newest first, as Temporal returns them by default).
 */
import { invalidArgument } from './errors';
import { WorkflowExecutionStatus, msToTimestamp, temporal, timestampToMs } from './proto';
import type { WorkflowRun } from './workflow-run';

type Value = string | number | boolean | null;
type Predicate = (run: WorkflowRun) => boolean;

const STATUS_NAMES: Record<string, number> = {
  Running: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
  Completed: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
  Failed: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
  Canceled: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
  Terminated: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
  ContinuedAsNew: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
  TimedOut: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
};

// ------------------------------------------------------------------ tokens

type Token = { kind: 'word' | 'string' | 'number' | 'op' | 'punct'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(['"])((?:\\.|(?!\1).)*)\1|(-?\d+(?:\.\d+)?)(?![\w])|(<=|>=|!=|<>|=|<|>)|([(),])|([A-Za-z_][\w.]*))/y;
  let index = 0;
  while (index < query.length) {
    if (/^\s*$/.test(query.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(query);
    if (!match) throw invalidArgument(`invalid query: unexpected text at ${index}: ${query.slice(index, index + 20)}`);
    index = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: 'string', text: match[2].replace(/\\(.)/g, '$1') });
    else if (match[3] !== undefined) tokens.push({ kind: 'number', text: match[3] });
    else if (match[4]) tokens.push({ kind: 'op', text: match[4] === '<>' ? '!=' : match[4] });
    else if (match[5]) tokens.push({ kind: 'punct', text: match[5] });
    else tokens.push({ kind: 'word', text: match[6] });
  }
  return tokens;
}

// ------------------------------------------------------------------ parser

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Predicate {
    if (this.tokens.length === 0) return () => true;
    const predicate = this.peekKeyword('ORDER') ? () => true : this.or();
    if (this.peekKeyword('ORDER')) this.position = this.tokens.length;
    if (this.position < this.tokens.length) throw invalidArgument(`invalid query: unexpected '${this.tokens[this.position].text}'`);
    return predicate;
  }

  private peekKeyword(word: string): boolean {
    const token = this.tokens[this.position];
    return token?.kind === 'word' && token.text.toUpperCase() === word;
  }

  private expectKeyword(word: string): void {
    if (!this.peekKeyword(word)) throw invalidArgument(`invalid query: expected ${word}`);
    this.position += 1;
  }

  private expectPunct(text: string): void {
    const token = this.tokens[this.position];
    if (token?.kind !== 'punct' || token.text !== text) throw invalidArgument(`invalid query: expected '${text}'`);
    this.position += 1;
  }

  private or(): Predicate {
    let left = this.and();
    while (this.peekKeyword('OR')) {
      this.position += 1;
      const right = this.and();
      const previous = left;
      left = (run) => previous(run) || right(run);
    }
    return left;
  }

  private and(): Predicate {
    let left = this.primary();
    while (this.peekKeyword('AND')) {
      this.position += 1;
      const right = this.primary();
      const previous = left;
      left = (run) => previous(run) && right(run);
    }
    return left;
  }

  private primary(): Predicate {
    const token = this.tokens[this.position];
    if (token?.kind === 'punct' && token.text === '(') {
      this.position += 1;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    if (token?.kind !== 'word') throw invalidArgument('invalid query: expected a search attribute name');
    this.position += 1;
    return this.comparison(token.text);
  }

  private value(): Value {
    const token = this.tokens[this.position++];
    if (!token) throw invalidArgument('invalid query: expected a value');
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'word' && /^(true|false)$/i.test(token.text)) return token.text.toLowerCase() === 'true';
    throw invalidArgument(`invalid query: '${token.text}' is not a value`);
  }

  private comparison(field: string): Predicate {
    const read = (run: WorkflowRun) => fieldValue(run, field);
    if (this.peekKeyword('IS')) {
      this.position += 1;
      const negate = this.peekKeyword('NOT');
      if (negate) this.position += 1;
      this.expectKeyword('NULL');
      return (run) => (read(run) === null) !== negate;
    }
    const negateIn = this.peekKeyword('NOT');
    if (negateIn) this.position += 1;
    if (this.peekKeyword('IN')) {
      this.position += 1;
      this.expectPunct('(');
      const values: Value[] = [this.value()];
      while (this.tokens[this.position]?.text === ',') {
        this.position += 1;
        values.push(this.value());
      }
      this.expectPunct(')');
      return (run) => values.some((value) => matches(read(run), '=', value, field)) !== negateIn;
    }
    if (this.peekKeyword('BETWEEN')) {
      this.position += 1;
      const low = this.value();
      this.expectKeyword('AND');
      const high = this.value();
      return (run) => matches(read(run), '>=', low, field) && matches(read(run), '<=', high, field);
    }
    if (negateIn) throw invalidArgument('invalid query: NOT must precede IN');
    const op = this.tokens[this.position++];
    if (op?.kind !== 'op') throw invalidArgument(`invalid query: expected an operator after ${field}`);
    const value = this.value();
    return (run) => matches(read(run), op.text, value, field);
  }
}

// ------------------------------------------------------------------ evaluation

/** The value a run has for a field: a system attribute or a decoded custom search attribute. */
function fieldValue(run: WorkflowRun, field: string): Value | Value[] {
  switch (field) {
    case 'WorkflowId':
      return run.workflowId;
    case 'RunId':
      return run.runId;
    case 'WorkflowType':
      return run.workflowType;
    case 'TaskQueue':
      return run.taskQueue;
    case 'ExecutionStatus':
      return Object.keys(STATUS_NAMES).find((name) => STATUS_NAMES[name] === run.status) ?? null;
    case 'StartTime':
    case 'ExecutionTime':
      return run.startTime;
    case 'CloseTime':
      return run.closeTime;
    default: {
      const payload = run.searchAttributes[field];
      if (!payload?.data) return null;
      try {
        return JSON.parse(Buffer.from(payload.data).toString('utf8')) as Value | Value[];
      } catch {
        return null;
      }
    }
  }
}

function comparable(actual: Value, expected: Value, field: string): [number | string | boolean, number | string | boolean] | null {
  if (actual === null || expected === null) return null;
  const isTime = field === 'StartTime' || field === 'CloseTime' || field === 'ExecutionTime';
  if (isTime || (typeof actual === 'string' && typeof expected === 'string' && isIsoDate(actual) && isIsoDate(expected))) {
    const a = typeof actual === 'number' ? actual : Date.parse(String(actual));
    const e = typeof expected === 'number' ? expected : Date.parse(String(expected));
    return [a, e];
  }
  if (typeof actual === 'number' && typeof expected === 'string' && expected.trim() !== '' && !Number.isNaN(Number(expected))) {
    return [actual, Number(expected)];
  }
  if (typeof actual === 'string' && typeof expected === 'number') return [actual, String(expected)];
  return [actual, expected];
}

function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text);
}

function matches(actual: Value | Value[], op: string, expected: Value, field: string): boolean {
  // Keyword lists match when any element matches, as in Temporal.
  if (Array.isArray(actual)) return actual.some((element) => matches(element, op, expected, field));
  const pair = comparable(actual, expected, field);
  if (!pair) return op === '!=' ? actual !== expected : false;
  const [a, e] = pair;
  switch (op) {
    case '=':
      return a === e;
    case '!=':
      return a !== e;
    case '<':
      return a < e;
    case '<=':
      return a <= e;
    case '>':
      return a > e;
    case '>=':
      return a >= e;
    default:
      throw invalidArgument(`invalid query: unknown operator ${op}`);
  }
}

export function compileQuery(query: string): Predicate {
  return new Parser(tokenize(query)).parse();
}

type FilteredListRequest =
  | temporal.api.workflowservice.v1.IListOpenWorkflowExecutionsRequest
  | temporal.api.workflowservice.v1.IListClosedWorkflowExecutionsRequest;

/**
 * The older list calls, ListOpenWorkflowExecutions and ListClosedWorkflowExecutions: a time range
 * (start time for open runs, close time for closed ones, as Temporal's visibility store applies it)
 * and at most one of a workflow id, a workflow type or (closed only) a status. Open runs come newest
 * started first, closed runs newest closed first.
 */
export function listByFilters(runs: Iterable<WorkflowRun>, request: FilteredListRequest, which: 'open' | 'closed'): WorkflowRun[] {
  const earliest = timestampToMs(request.startTimeFilter?.earliestTime) || -Infinity;
  const latest = timestampToMs(request.startTimeFilter?.latestTime) || Infinity;
  if (earliest > latest) throw invalidArgument('EarliestTime in StartTimeFilter should not be larger than LatestTime.');
  const workflowId = request.executionFilter?.workflowId;
  const workflowType = request.typeFilter?.name;
  const status = which === 'closed' ? (request as temporal.api.workflowservice.v1.IListClosedWorkflowExecutionsRequest).statusFilter?.status : undefined;
  const time = (run: WorkflowRun) => (which === 'open' ? run.startTime : run.closeTime ?? 0);
  return [...runs]
    .filter((run) => run.namespace === (request.namespace ?? ''))
    .filter((run) => (which === 'open' ? run.isRunning : !run.isRunning))
    .filter((run) => time(run) >= earliest && time(run) <= latest)
    .filter((run) => !workflowId || run.workflowId === workflowId)
    .filter((run) => !workflowType || run.workflowType === workflowType)
    .filter((run) => !status || run.status === status)
    .sort((a, b) => time(b) - time(a));
}

/** WorkflowExecutionInfo, as List and Describe return it. */
export function executionInfo(run: WorkflowRun): object {
  return {
    execution: { workflowId: run.workflowId, runId: run.runId },
    type: { name: run.workflowType },
    startTime: msToTimestamp(run.startTime),
    executionTime: msToTimestamp(run.startTime),
    closeTime: run.closeTime !== null ? msToTimestamp(run.closeTime) : undefined,
    status: run.status,
    historyLength: run.history.length,
    historySizeBytes: run.historySizeBytes(),
    memo: { fields: run.memo },
    searchAttributes: { indexedFields: run.searchAttributes },
    taskQueue: run.taskQueue,
    parentExecution: run.parent ? { workflowId: run.parent.workflowId, runId: run.parent.runId } : undefined,
    parentNamespaceId: run.parent?.namespace,
    firstRunId: run.firstRunId,
  };
}
