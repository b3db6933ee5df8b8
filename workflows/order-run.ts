/**
 * One run of an order workflow: what its parts (cancel, dispatch, move, provider updates, refills,
 * finish) share while it runs, and the small steps they all use: waiting for a change, the
 * start-window timer, the mirror, ending the order, attaching an upstream order, what a new run
 * carries (continue-as-new).
 *
 * Message handlers only record what they were told in the run and bump its `version`; the main loop
 * (order-workflow.ts) does the side effects, one at a time.
 */
import { ApplicationFailure, CancellationScope, condition, log, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { isFinal } from '../domain/order-status';
import { startWindowState } from '../domain/start-window';
import { mirroring } from './order-activity-options';
import type {
  CancelRequest,
  CancelResult,
  DispatchResolution,
  MoveRecord,
  MoveRequest,
  MoveResult,
  OrderInput,
  OrderState,
  PlacementResult,
  RefillRequest,
  RefillResult,
  ResolveDispatchResult,
  RetryRefillRequest,
} from './order-contract';
import { SUPPORT_REFUSED_FAILURE } from './order-messages';
import { deliveredBeforeMove, upstreamQuantity } from './move-state';
import { initialOrderState, mirrorPatch, mirrorSnapshot } from './order-state';
import { changedSearchAttributes, orderSearchAttributes } from './order-search-attributes';
import type { MirrorSnapshot } from './order-state';
import { partSnapshot, refillMirrorPatch, refillSnapshot } from './refill-state';

/** Move and dispatch-resolution answers kept by request id. */
const KEPT_SUPPORT_ANSWERS = 20;

// ---------------------------------------------------------------- carried state

export interface CancelEntry {
  request: CancelRequest;
  rule: string;
  result: CancelResult | null;
}

/** Everything a run hands to the next one (continue-as-new). */
export interface OrderWorkflowCarried {
  state: OrderState;
  placement: PlacementResult;
  mirrored: MirrorSnapshot;
  cancelAnswers: Array<{ requestId: string; result: CancelResult }>;
  dispatch: DispatchProgress;
  /** Move and resolveDispatch answers by key (`move:<requestId>`, `resolve:<requestId>`). Optional: added later. */
  supportAnswers?: Array<{ key: string; result: MoveResult | ResolveDispatchResult }>;
  /** Present once the order follows its guarantee (the run starts in the refill phase). */
  refills?: RefillsCarried;
}

interface RefillsCarried {
  /** Answers by request key (`refill:<requestId>`, `retry:<requestId>`). */
  answers: Array<{ key: string; result: RefillResult }>;
  /** What each refill row holds, as last written (refillSnapshot). */
  mirrored: Array<[number, string]>;
  /** Runs so far, this one excluded. */
  runs: number;
}

export type RefillEntry =
  | { kind: 'request'; key: string; request: RefillRequest; result: RefillResult | null }
  | { kind: 'retry'; key: string; request: RetryRefillRequest; result: RefillResult | null };

interface DispatchProgress {
  /** Re-dispatches made after a reconcile found nothing upstream. */
  redispatches: number;
  /** The uncertainty needs support's resolveDispatch (lookup unsupported, ambiguous, or retries used up). */
  awaitingSupport: boolean;
  /** orders_by_link already asked in this uncertainty episode. */
  looked: boolean;
}

/** Why the order ended canceled: decides the refund's rule (none for R-CANCEL-NO-REFUND). */
export type CancelCause = 'R-CANCEL-FULL' | 'R-AUTO-CANCEL' | 'R-CANCEL-NO-REFUND';

export interface MoveEntry {
  request: MoveRequest;
  result: MoveResult | null;
}

export interface ResolutionEntry {
  request: DispatchResolution;
  result: ResolveDispatchResult | null;
}

/** A move waiting for its old upstream order to stop (never carried: no new run while one waits). */
export interface MoveStop {
  record: MoveRecord;
  target: MoveRequest['target'];
  /** Units still owed, once the old upstream order's final answer came. */
  remaining: number | null;
  /** Workflow time after which the move gives up. */
  deadline: number;
}

/** The start window's one timer (R-START-WINDOW, R-CANCEL-STALLED). */
interface StartWindowTimer {
  at: number;
  fired: boolean;
  scope: CancellationScope;
}

// ---------------------------------------------------------------- the run

/** What this run's handlers and steps share. */
export interface OrderRun {
  readonly input: OrderInput;
  readonly carried: OrderWorkflowCarried | undefined;
  readonly orderId: number;
  readonly state: OrderState;
  placement: PlacementResult | null;
  mirrored: MirrorSnapshot;
  /** The search attributes as last written (set at start by the client, inherited across runs). */
  indexed: ReturnType<typeof orderSearchAttributes>;
  readonly cancelAnswers: Map<string, CancelResult>;
  readonly dispatch: DispatchProgress;
  readonly cancels: CancelEntry[];
  resolution: ResolutionEntry | null;
  readonly moves: MoveEntry[];
  moveStop: MoveStop | null;
  readonly supportAnswers: Map<string, MoveResult | ResolveDispatchResult>;
  /** R-CANCEL-NO-REFUND: support's stated reason, once such a cancel ended the order. */
  noRefundReason: string | null;
  /** Support's cancel that ended the order: answered by finish(), once its refund (if any) is posted. */
  closingCancel: { entry: CancelEntry; result: CancelResult } | null;
  cancelCause: CancelCause | null;
  dispatchScope: CancellationScope | null;
  /** A local cancel of an order the provider has: ask it to drop the order once the refund is done. */
  askProviderToDrop: boolean;
  /** Bumped by every handler that changed something the main loop must look at. */
  version: number;
  readonly refillAnswers: Map<string, RefillResult>;
  readonly mirroredRefills: Map<number, string>;
  readonly refillQueue: RefillEntry[];
  readonly runsBefore: number;
  readonly runStartedAt: number;
  refillsThisRun: number;
  deadline: StartWindowTimer | null;
  /** An engine drip-feed run begun on code with every drip-feed patch (order-drip-feed.ts decideDripPatchesAtStart). */
  dripPatchedAtStart: boolean;
}

export function createOrderRun(input: OrderInput, carried: OrderWorkflowCarried | undefined): OrderRun {
  const state: OrderState = carried?.state ?? initialOrderState(input);
  return {
    input,
    carried,
    orderId: input.orderId,
    state,
    placement: carried?.placement ?? null,
    mirrored: carried?.mirrored ?? mirrorSnapshot(state),
    indexed: orderSearchAttributes(state),
    cancelAnswers: new Map<string, CancelResult>((carried?.cancelAnswers ?? []).map((a) => [a.requestId, a.result])),
    dispatch: carried?.dispatch ?? { redispatches: 0, awaitingSupport: false, looked: false },
    cancels: [],
    resolution: null,
    moves: [],
    moveStop: null,
    supportAnswers: new Map<string, MoveResult | ResolveDispatchResult>((carried?.supportAnswers ?? []).map((a) => [a.key, a.result])),
    noRefundReason: null,
    closingCancel: null,
    cancelCause: null,
    dispatchScope: null,
    askProviderToDrop: false,
    version: 0,
    refillAnswers: new Map<string, RefillResult>((carried?.refills?.answers ?? []).map((a) => [a.key, a.result])),
    mirroredRefills: new Map<number, string>(carried?.refills?.mirrored ?? []),
    refillQueue: [],
    runsBefore: carried?.refills?.runs ?? 0,
    runStartedAt: Date.now(),
    refillsThisRun: 0,
    deadline: null,
    dripPatchedAtStart: false,
  };
}

/** What the next run needs (continue-as-new). */
export function carry(run: OrderRun, following: boolean): OrderWorkflowCarried {
  return {
    state: run.state,
    placement: run.placement!,
    mirrored: run.mirrored,
    cancelAnswers: [...run.cancelAnswers].map(([requestId, result]) => ({ requestId, result })),
    dispatch: run.dispatch,
    supportAnswers: [...run.supportAnswers].map(([key, result]) => ({ key, result })),
    ...(following
      ? {
          refills: {
            answers: [...run.refillAnswers].map(([key, result]) => ({ key, result })),
            mirrored: [...run.mirroredRefills],
            runs: run.runsBefore + 1,
          },
        }
      : {}),
  };
}

// ---------------------------------------------------------------- what is in flight

export const pendingCancel = (run: OrderRun) => run.cancels.some((c) => c.result === null);
/** Something support or a user asked that must stop a dispatch in flight. */
export const interruptPending = (run: OrderRun) => pendingCancel(run) || run.moves.some((m) => m.result === null);

// ---------------------------------------------------------------- support's answers (move, resolveDispatch)

/**
 * Keeps an answer by its request key so a retried request gets the same one; only the newest `kept`
 * stay (Maps iterate in insertion order: the oldest go first). Carried across continue-as-new.
 */
export function rememberAnswer<K, V>(answers: Map<K, V>, key: K, answer: V, kept: number): void {
  answers.set(key, answer);
  while (answers.size > kept) answers.delete(answers.keys().next().value!);
}

export function keepSupportAnswer(run: OrderRun, key: string, result: MoveResult | ResolveDispatchResult): void {
  rememberAnswer(run.supportAnswers, key, result, KEPT_SUPPORT_ANSWERS);
}

export function refuseSupport(result: { accepted: false; rule: string; reason: string }): never {
  throw ApplicationFailure.create({ type: SUPPORT_REFUSED_FAILURE, message: `${result.rule}: ${result.reason}`, details: [result], nonRetryable: true });
}

// ---------------------------------------------------------------- start window timer

/** One timer at a time, kept across waits (re-armed only when the instant changes). */
function armDeadline(run: OrderRun, at: number | null): void {
  const { deadline } = run;
  if (deadline && !deadline.fired && deadline.at === at) return;
  if (deadline && !deadline.fired) deadline.scope.cancel();
  run.deadline = null;
  if (at === null) return;
  const armed = { at, fired: false, scope: new CancellationScope() };
  armed.scope
    .run(() => sleep(Math.max(1, at - Date.now())))
    .then(
      () => void (armed.fired = true),
      () => undefined, // canceled: the order started or finished
    );
  run.deadline = armed;
}

/** R-START-WINDOW (24 h: overdue) and R-CANCEL-STALLED (10 days: stalled), while not started. */
export function refreshStartWindow(run: OrderRun): void {
  const { orderId, state } = run;
  if (state.status === 'new' || isFinal(state.status)) return armDeadline(run, null);
  // A scheduled order's window opens at its executeAt (nothing may start before it).
  const opensAt = state.executeAt !== undefined ? Math.max(state.executeAt, state.timestamps.placedAt) : state.timestamps.placedAt;
  const window = startWindowState({ placedAt: opensAt, startedAt: state.timestamps.startedAt, now: Date.now() });
  if (window.overdue !== state.flags.overdue || window.stalled !== state.flags.stalled) {
    log.info('start window', { orderId, overdue: window.overdue, stalled: window.stalled });
    state.flags.overdue = window.overdue;
    state.flags.stalled = window.stalled;
  }
  armDeadline(run, window.nextCheckAt);
}

/** Waits for a message or the start-window timer; with a timeout, false when it passed quietly. */
export async function waitForChange(run: OrderRun, timeoutMs?: number): Promise<boolean> {
  const seen = run.version;
  const woke = () => run.version !== seen || (run.deadline?.fired ?? false);
  if (timeoutMs === undefined) {
    await condition(woke);
    return true;
  }
  return condition(woke, timeoutMs);
}

// ---------------------------------------------------------------- the mirror

/** Search attributes follow every change, so visibility queries find the order as it moves. */
function reindex(run: OrderRun): void {
  const attributes = orderSearchAttributes(run.state);
  const changed = changedSearchAttributes(run.indexed, attributes);
  if (changed.length > 0) upsertSearchAttributes(changed);
  run.indexed = attributes;
}

export async function mirror(run: OrderRun): Promise<void> {
  const { orderId, state } = run;
  reindex(run);
  await mirrorRefills(run);
  const now = mirrorSnapshot(state);
  const patch = mirrorPatch(run.mirrored, now, state);
  if (!patch) return;
  try {
    await mirroring.mirrorOrder(orderId, patch);
  } catch (error) {
    // Only a non-retryable failure gets here (the database refused the values): the row is a read
    // model, so the order goes on (and its money with it) and the failure is logged for a fix.
    log.error('mirror failed: the orders row is behind the workflow', { orderId, patch, error: describeFailure(error) });
  }
  run.mirrored = now;
}

/** Each refill whose row lacks what the workflow knows (status, provider id, reason, completion). */
async function mirrorRefills(run: OrderRun): Promise<void> {
  const { orderId, state, mirroredRefills } = run;
  for (const refill of state.refills?.recent ?? []) {
    const now = refillSnapshot(refill);
    if (mirroredRefills.get(refill.refillId) === now) continue;
    try {
      await mirroring.mirrorRefill(refill.refillId, refillMirrorPatch(refill));
      // A drip-feed refill's parts (one provider refill per run order) have rows of their own.
      for (const part of refill.parts ?? []) {
        if (mirroredRefills.get(part.refillId) === partSnapshot(part)) continue;
        await mirroring.mirrorRefill(part.refillId, { status: part.status, reason: part.reason, completedAt: part.completedAt });
        mirroredRefills.set(part.refillId, partSnapshot(part));
      }
    } catch (error) {
      log.error('refill mirror failed: the refills row is behind the workflow', { orderId, refillId: refill.refillId, error: describeFailure(error) });
    }
    mirroredRefills.set(refill.refillId, now);
  }
  const kept = new Set((state.refills?.recent ?? []).flatMap((r) => [r.refillId, ...(r.parts ?? []).map((p) => p.refillId)]));
  for (const id of [...mirroredRefills.keys()]) if (!kept.has(id)) mirroredRefills.delete(id);
}

// ---------------------------------------------------------------- the order's end, its upstream order

export function endCanceled(run: OrderRun, cause: CancelCause, reason: string): void {
  const { orderId, state } = run;
  if (isFinal(state.status)) return;
  state.status = 'canceled';
  state.rejectReason = reason;
  state.timestamps.finishedAt = Date.now();
  run.cancelCause = cause;
  log.info('order canceled', { orderId, cause, reason });
}

/**
 * The current upstream order will not deliver (refused, given up, canceled before it was sent).
 * Canceled with a full refund, unless a move came after part was delivered: then Partial, with
 * the part this upstream order was for as its remains (R-PARTIAL).
 */
export function endUpstreamCanceled(run: OrderRun, cause: CancelCause, reason: string): void {
  const { orderId, state } = run;
  if (isFinal(state.status)) return;
  if (!deliveredBeforeMove(state)) return endCanceled(run, cause, reason);
  state.status = 'partial';
  state.remains = upstreamQuantity(state);
  state.rejectReason = reason;
  state.timestamps.finishedAt = Date.now();
  log.info('order ended partial: delivered in part before a move', { orderId, remains: state.remains, reason });
}

export function attachUpstream(run: OrderRun, providerOrderId: string, how: string): void {
  const { orderId, state, dispatch } = run;
  state.providerOrderId = providerOrderId;
  state.timestamps.dispatchedAt ??= Date.now();
  if (state.status === 'dispatch_uncertain') state.status = 'pending';
  state.lastProviderAnswer = { action: how, providerOrderId, at: Date.now() };
  dispatch.awaitingSupport = false;
  dispatch.looked = false;
  log.info('provider order attached', { orderId, providerOrderId, how });
}

export function becomeUncertain(run: OrderRun, reason: string): void {
  const { orderId, state } = run;
  if (state.status === 'pending') state.status = 'dispatch_uncertain';
  run.dispatch.looked = false;
  log.warn('dispatch uncertain', { orderId, reason });
}

export function describeFailure(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  // ActivityFailure wraps the activity's own failure: report the innermost message.
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return e?.message ?? String(error);
}
