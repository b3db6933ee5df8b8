/**
 * Refills (R-REFILL-*, see workflows/README.md, "Refills"): the `refill` and `retryRefill` updates
 * (validators: decideRefillRequest, decideRetry), the sync's `refillUpdate` signals, and the refill
 * phase a completed order with a guarantee stays in (followGuarantee): one refill at a time through
 * the sendRefill activity, continue-as-new every REFILLS_PER_RUN refills or RUN_MAX_AGE_MS.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, log, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SendRefillResult, SentRefillPart } from '../activities/refill-activities';
import { combineRefillParts, refillRunOrders } from '../domain/drip-feed-refill';
import { refillWindowClosesAt } from '../domain/refill-policy';
import { DAY_MS } from '../domain/time';
import { mirroring, refilling } from './order-activity-options';
import type { RefillPart, RefillRecord, RefillRequest, RefillResult, RetryRefillRequest } from './order-contract';
import { REFILL_REFUSED_FAILURE, refillRequestUpdate, refillUpdateSignal, retryRefillUpdate } from './order-messages';
import { carry, describeFailure, mirror, rememberAnswer, waitForChange } from './order-run';
import type { OrderRun, RefillEntry } from './order-run';
import type { orderWorkflow } from './order-workflow';
import {
  applyRefillUpdate,
  decideRefillRequest,
  decideRetry,
  emptyRefills,
  expireStuckRefill,
  findRefill,
  findRefillByRequest,
  guaranteeOpen,
  partSnapshot,
  putRefill,
  refillInFlight,
  refillSnapshot,
  refreshAnswer,
  stuckAt,
  validRequestId,
} from './refill-state';
import type { RefillDecision } from './refill-state';

/** Refill answers kept by request id (refused ones included; accepted ones are the refills themselves). */
const KEPT_REFILL_ANSWERS = 20;
/** While following a guarantee: a new run after this many refills... */
export const REFILLS_PER_RUN = 10;
/** ...or once the run is this old (a lifetime order's runs stay small whatever its age)... */
export const RUN_MAX_AGE_MS = 30 * DAY_MS;
/** ...or once its history holds this many events (or Temporal suggests it). */
export const MAX_RUN_HISTORY_EVENTS = 2_000;

// ---------------------------------------------------------------- refill handlers

const refillKey = (request: RefillRequest) => `refill:${request.requestId}`;
const retryKey = (run: OrderRun, request: RetryRefillRequest) => `retry:${request.requestId ?? `${request.refillId}-${run.state.refills?.recent.find((r) => r.refillId === request.refillId)?.attempts ?? 0}`}`;
const queuedRefill = (run: OrderRun) => run.refillQueue.some((e) => e.result === null);

function refusal(decision: RefillDecision & { accepted: false }): RefillResult {
  return { accepted: false, rule: decision.rule, reason: decision.reason };
}

function refuseInValidator(decision: RefillDecision): void {
  if (decision.accepted) return;
  throw ApplicationFailure.create({
    type: REFILL_REFUSED_FAILURE,
    message: `${decision.rule}: ${decision.reason}`,
    details: [refusal(decision)],
    nonRetryable: true,
  });
}

/** The answer or queued entry of a request seen before (the same request id), if any. */
function knownRefill(run: OrderRun, key: string, requestId: string | undefined): RefillResult | RefillEntry | undefined {
  const { state } = run;
  const answer = run.refillAnswers.get(key);
  if (answer) return refreshAnswer(state, answer);
  const queued = run.refillQueue.find((e) => e.key === key);
  if (queued) return queued.result ? refreshAnswer(state, queued.result) : queued;
  if (requestId !== undefined && key.startsWith('refill:')) {
    const made = findRefillByRequest(state, requestId);
    if (made) return made.status === 'failed' ? { accepted: false, rule: 'R-REFILL-SUPPORT', reason: made.reason ?? 'the provider did not take the refill', refill: { ...made } } : { accepted: true, refill: { ...made } };
  }
  return undefined;
}

function enqueueRefill(run: OrderRun, entry: RefillEntry): RefillEntry {
  run.refillQueue.push(entry);
  run.version++;
  log.info(entry.kind === 'request' ? 'refill request accepted for checks' : 'refill retry accepted', { orderId: run.orderId, requestedBy: entry.request.requestedBy });
  return entry;
}

async function awaitRefill(entry: RefillEntry): Promise<RefillResult> {
  await condition(() => entry.result !== null);
  return entry.result!;
}

/** The `refill` and `retryRefill` updates (answered once processRefill is done) and the sync's `refillUpdate` signal. */
export function registerRefillHandlers(run: OrderRun): void {
  const { orderId, state } = run;
  setHandler(
    refillRequestUpdate,
    async (request) => {
      const known = knownRefill(run, refillKey(request), request.requestId);
      if (known && !('kind' in known)) return known;
      if (known) return awaitRefill(known);
      const decision = decideRefillRequest(state, request, Date.now(), queuedRefill(run));
      if (!decision.accepted) return refusal(decision);
      return awaitRefill(enqueueRefill(run, { kind: 'request', key: refillKey(request), request, result: null }));
    },
    {
      // Refused at once with the rule and the reason; a refused update leaves no trace in history.
      validator: (request) => {
        if (request && validRequestId(request.requestId) && knownRefill(run, refillKey(request), request.requestId)) return;
        refuseInValidator(decideRefillRequest(state, request, Date.now(), queuedRefill(run)));
      },
    },
  );

  setHandler(
    retryRefillUpdate,
    async (request) => {
      const known = request.requestId !== undefined ? knownRefill(run, retryKey(run, request), undefined) : undefined;
      if (known && !('kind' in known)) return known;
      if (known) return awaitRefill(known);
      const decision = decideRetry(state, request, queuedRefill(run));
      if (!decision.accepted) return refusal(decision);
      return awaitRefill(enqueueRefill(run, { kind: 'retry', key: retryKey(run, request), request, result: null }));
    },
    {
      validator: (request) => {
        if (request && request.requestId !== undefined && knownRefill(run, retryKey(run, request), undefined)) return;
        refuseInValidator(decideRetry(state, request, queuedRefill(run)));
      },
    },
  );

  setHandler(refillUpdateSignal, (update) => {
    if (applyRefillUpdate(state, update, Date.now())) {
      log.info('refill update', { orderId, refillId: update.refillId, status: update.status });
      run.version++;
    } else {
      log.info('refill update ignored (not a refill in flight, or not forward)', { orderId, refillId: update.refillId, status: update.status });
    }
  });
}

// ---------------------------------------------------------------- refills

function answerRefill(run: OrderRun, entry: RefillEntry, result: RefillResult): void {
  entry.result = result;
  rememberAnswer(run.refillAnswers, entry.key, result, KEPT_REFILL_ANSWERS);
}

/** A request the validator accepted: the activity's checks, the row, the provider's `refill`. */
async function processRefill(run: OrderRun, entry: RefillEntry): Promise<void> {
  const { orderId, state } = run;
  state.refills ??= emptyRefills();
  const retried = entry.kind === 'retry' ? findRefill(state, entry.request.refillId) : null;
  if (entry.kind === 'retry') {
    // The order may have moved on while the update waited in the queue.
    const d = decideRetry(state, entry.request, false);
    if (!d.accepted) return answerRefill(run, entry, refusal(d));
  }
  const requestId = entry.kind === 'request' ? entry.request.requestId : retried!.requestId;
  let sent: SendRefillResult;
  try {
    sent = await refilling.sendRefill({
      orderId,
      requestId,
      requestedBy: entry.kind === 'request' ? entry.request.requestedBy : retried!.requestedBy,
      attempt: retried ? retried.attempts + 1 : 1,
      ...(retried ? { refillId: retried.refillId } : {}),
      check: entry.kind === 'request' ? { startCount: state.startCount, quantity: state.quantity } : null,
      ...(entry.kind === 'retry' && entry.request.reason ? { reason: entry.request.reason } : {}),
      // A drip-feed run by the engine: one provider refill per run order that delivered.
      ...(state.dripFeed ? { runOrders: refillRunOrders(state.dripFeed) } : {}),
    });
  } catch (error) {
    log.warn('refill could not be sent', { orderId, error: describeFailure(error) });
    return answerRefill(run, entry, { accepted: false, rule: 'R-REFILL-SUPPORT', reason: `the refill could not be requested now (${describeFailure(error)}); try again later` });
  }
  const now = Date.now();
  if (sent.kind === 'refused') {
    if (sent.rule === 'R-REFILL-VOID' && sent.voidReason) state.refills.voidReason = sent.voidReason;
    log.info('refill refused', { orderId, rule: sent.rule, reason: sent.reason });
    return answerRefill(run, entry, { accepted: false, rule: sent.rule, reason: sent.reason, ...(sent.counts ? { counts: sent.counts } : {}) });
  }
  const parts = sent.parts ? refillParts(sent.parts, retried) : undefined;
  const combined = parts ? combineRefillParts(parts) : null;
  const record: RefillRecord = {
    refillId: sent.refillId,
    requestId,
    requestedBy: retried ? retried.requestedBy : (entry.request as RefillRequest).requestedBy,
    status: combined ? combined.status : sent.kind === 'sent' ? 'pending' : 'failed',
    providerRefillId: sent.kind === 'sent' ? sent.providerRefillId : null,
    reason: combined ? combined.reason : sent.kind === 'sent' ? null : sent.reason,
    attempts: sent.attempt,
    counts: sent.counts ?? retried?.counts ?? null,
    requestedAt: retried?.requestedAt ?? now,
    updatedAt: now,
    completedAt: null,
    ...(parts ? { parts } : {}),
  };
  if (!retried) {
    state.refills.total++;
    run.refillsThisRun++;
  }
  putRefill(state, record);
  run.mirroredRefills.set(record.refillId, refillSnapshot(record)); // the activity wrote the row
  for (const part of parts ?? []) run.mirroredRefills.set(part.refillId, partSnapshot(part)); // and its parts' rows
  if (sent.kind === 'sent') {
    log.info('refill sent', { orderId, refillId: record.refillId, providerRefillId: record.providerRefillId, attempt: record.attempts });
    return answerRefill(run, entry, { accepted: true, refill: { ...record } });
  }
  // Not taken by the provider: reported (flags.refillFailed), support can retry it (R-REFILL-SUPPORT).
  // With no count to go by, the provider's refusal is its R-REFILL-NEED answer, passed on.
  const rule = entry.kind === 'retry' || sent.uncertain || record.counts ? 'R-REFILL-SUPPORT' : 'R-REFILL-NEED';
  log.warn('refill not taken by the provider', { orderId, refillId: record.refillId, reason: sent.reason, uncertain: sent.uncertain });
  answerRefill(run, entry, { accepted: false, rule, reason: sent.reason, refill: { ...record } });
}

/**
 * A drip-feed refill's parts from the activity's answer: a part sent now is pending; one kept from an
 * earlier attempt (completed, or still with the provider) keeps what the workflow knows of it.
 */
function refillParts(sentParts: SentRefillPart[], retried: RefillRecord | null): RefillPart[] {
  return sentParts.map((p) => {
    const before = retried?.parts?.find((q) => q.refillId === p.refillId);
    const status = p.outcome === 'sent' ? 'pending' : p.outcome === 'failed' ? 'failed' : (before?.status ?? p.rowStatus);
    return {
      refillId: p.refillId,
      runIndex: p.runIndex,
      providerOrderId: p.providerOrderId,
      providerRefillId: p.providerRefillId,
      status,
      reason: p.outcome === 'failed' ? p.reason : p.outcome === 'kept' ? (before?.reason ?? null) : null,
      completedAt: status === 'completed' ? (before?.completedAt ?? Date.now()) : null,
    };
  });
}

/** What the sync last heard about refills in flight, for a run that may have missed its signals. */
async function catchUpRefills(run: OrderRun): Promise<void> {
  const { orderId, state } = run;
  if (!refillInFlight(state)) return;
  for (const update of await mirroring.refillUpstreamStates(orderId)) {
    if (applyRefillUpdate(state, update, Date.now())) log.info('refill caught up with the sync', { orderId, refillId: update.refillId, status: update.status });
  }
}

function shouldStartNewRun(run: OrderRun): boolean {
  const info = workflowInfo();
  return (
    run.refillsThisRun >= REFILLS_PER_RUN ||
    info.continueAsNewSuggested ||
    info.historyLength >= MAX_RUN_HISTORY_EVENTS ||
    Date.now() - run.runStartedAt >= RUN_MAX_AGE_MS
  );
}

/**
 * The refill phase: a completed order with a guarantee waits for refill requests until its window
 * closes (R-REFILL-WINDOW, from the order date; never for a lifetime guarantee) and no refill is in
 * flight, or until its guarantee is found void. Side effects one at a time, as in the main loop.
 */
export async function followGuarantee(run: OrderRun): Promise<void> {
  const { orderId, state } = run;
  state.refills ??= emptyRefills();
  if (run.carried?.refills) await catchUpRefills(run);
  log.info('following the refill guarantee', { orderId, guarantee: state.guarantee, run: run.runsBefore + 1 });
  for (;;) {
    if (expireStuckRefill(state, Date.now())) log.warn('refill failed: no progress at the provider', { orderId });
    await mirror(run);
    const entry = run.refillQueue.find((e) => e.result === null);
    if (entry) {
      await processRefill(run, entry);
      continue;
    }
    const now = Date.now();
    if (!guaranteeOpen(state, now) && allHandlersFinished()) {
      log.info('refill guarantee over', { orderId, voidReason: state.refills.voidReason, refills: state.refills.total });
      return;
    }
    if (shouldStartNewRun(run)) {
      await condition(allHandlersFinished);
      if (!queuedRefill(run)) {
        log.info('refill guarantee continues in a new run', { orderId, refillsThisRun: run.refillsThisRun, historyLength: workflowInfo().historyLength });
        return continueAsNew<typeof orderWorkflow>(run.input, carry(run, true));
      }
      continue;
    }
    const closesAt = refillWindowClosesAt(state.timestamps.placedAt, state.guarantee);
    const wakes = [run.runStartedAt + RUN_MAX_AGE_MS];
    if (closesAt !== null && now <= closesAt) wakes.push(closesAt + 1);
    const stuck = stuckAt(state);
    if (stuck !== null) wakes.push(stuck);
    await waitForChange(run, Math.max(1, Math.min(...wakes) - now));
  }
}
