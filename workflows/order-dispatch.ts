/**
 * Dispatch: sending the order to its provider (dispatchStep, Temporal retrying "try later" for up to
 * 24 h), reconciling an uncertain add (reconcileStep: orders_by_link, at most MAX_AUTO_REDISPATCHES
 * re-dispatches) and support's `resolveDispatch` update (attach | redispatch | cancel).
 */
import { CancellationScope, condition, isCancellation, log, setHandler } from '@temporalio/workflow';
import type { DispatchResult } from '../activities/order-activities';
import { dispatching, reconciling } from './order-activity-options';
import type { DispatchResolution, ResolveDispatchResult } from './order-contract';
import { providerDripAdd } from './order-drip-feed';
import { resolveDispatchUpdate } from './order-messages';
import {
  attachUpstream,
  becomeUncertain,
  describeFailure,
  endUpstreamCanceled,
  interruptPending,
  keepSupportAnswer,
  refuseSupport,
  waitForChange,
} from './order-run';
import type { OrderRun, ResolutionEntry } from './order-run';

/** Wait after an uncertain `add` before asking orders_by_link, so a late-processed add shows up. */
export const RECONCILE_DELAY_MS = 2 * 60_000;
/** Automatic re-dispatches after "the provider does not have it"; then support decides. */
export const MAX_AUTO_REDISPATCHES = 3;

// ---------------------------------------------------------------- support's resolveDispatch

const resolveKey = (r: DispatchResolution) => (r?.requestId ? `resolve:${r.requestId}` : null);
const knownResolution = (run: OrderRun, r: DispatchResolution) => {
  const key = resolveKey(r);
  if (!key) return undefined;
  return (run.supportAnswers.get(key) as ResolveDispatchResult | undefined) ?? (run.resolution?.request.requestId === r.requestId ? run.resolution : undefined);
};
function decideResolution(run: OrderRun, r: DispatchResolution | undefined): { accepted: false; rule: string; reason: string } | null {
  const { state, resolution } = run;
  const refuse = (reason: string) => ({ accepted: false as const, rule: 'dispatch_uncertain', reason });
  if (!r || !['attach', 'redispatch', 'cancel'].includes(r.action)) return refuse('action must be attach, redispatch or cancel');
  if (r.action === 'attach' && (typeof r.providerOrderId !== 'string' || r.providerOrderId.trim() === '')) return refuse('attach needs the provider\'s order id');
  if (state.status !== 'dispatch_uncertain') return refuse(`the order's dispatch is not uncertain (status ${state.status})`);
  if (resolution && resolution.result === null) return refuse('a resolution of this dispatch is already being carried out');
  return null;
}

/** The `resolveDispatch` update: recorded here, carried out by reconcileStep (applyResolution). */
export function registerResolveDispatchHandler(run: OrderRun): void {
  setHandler(
    resolveDispatchUpdate,
    async (r) => {
      const known = knownResolution(run, r);
      if (known && !('request' in known)) return known;
      let entry = known as ResolutionEntry | undefined;
      if (!entry) {
        const refused = decideResolution(run, r);
        if (refused) return refused;
        entry = { request: r, result: null };
        run.resolution = entry;
        run.version++;
        log.info('resolveDispatch accepted', { orderId: run.orderId, action: r.action, by: r.by, reason: r.reason });
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      validator: (r) => {
        if (r && knownResolution(run, r)) return;
        const refused = decideResolution(run, r);
        if (refused) refuseSupport(refused);
      },
    },
  );
}

// ---------------------------------------------------------------- main-loop steps

function applyDispatch(run: OrderRun, result: DispatchResult): void {
  const { orderId, state } = run;
  switch (result.kind) {
    case 'placed':
      state.providerOrderId = result.providerOrderId;
      state.timestamps.dispatchedAt ??= Date.now();
      if (state.status === 'dispatch_uncertain') state.status = 'pending';
      if (result.answer) {
        state.lastProviderAnswer = result.answer;
        run.mirrored.lastProviderAnswer = JSON.stringify(result.answer);
      }
      run.mirrored.providerOrderId = result.providerOrderId; // the activity wrote it
      log.info('dispatched', { orderId, providerOrderId: result.providerOrderId });
      return;
    case 'refused':
      state.lastProviderAnswer = result.answer;
      run.mirrored.lastProviderAnswer = JSON.stringify(result.answer);
      // R-AUTO-CANCEL: the provider will not take this order (bad link, private account...).
      endUpstreamCanceled(run, 'R-AUTO-CANCEL', `the provider refused the order: ${result.reason}`);
      return;
    case 'uncertain':
      if (result.answer) {
        state.lastProviderAnswer = result.answer;
        run.mirrored.lastProviderAnswer = JSON.stringify(result.answer);
      }
      becomeUncertain(run, result.reason);
      return;
    case 'abandoned':
      // Only a cancel closes the fence; the queued cancel finishes the job.
      if (!interruptPending(run)) endUpstreamCanceled(run, 'R-CANCEL-FULL', `the order was closed before dispatch (${result.status})`);
      return;
  }
}

export async function dispatchStep(run: OrderRun): Promise<void> {
  const { orderId } = run;
  const scope = new CancellationScope();
  run.dispatchScope = scope;
  let result: DispatchResult | null = null;
  let failure: string | null = null;
  try {
    const add = providerDripAdd(run.input); // absent for a Default order: the same command as before
    result = await scope.run(() => (add ? dispatching.dispatchOrder(orderId, add) : dispatching.dispatchOrder(orderId)));
  } catch (error) {
    if (!isCancellation(error)) failure = describeFailure(error);
    else if (!interruptPending(run)) throw error; // the workflow itself is being canceled
  } finally {
    run.dispatchScope = null;
  }
  if (result === null && failure === null) return; // interrupted by a cancel or a move: they take over
  if (result === null) {
    // The retries ran out (24 h of "try later") or a non-retryable failure: close the fence.
    const fence = await reconciling.abandonDispatch(orderId);
    if (fence.kind === 'placed') result = { kind: 'placed', providerOrderId: fence.providerOrderId, answer: null, replayed: true };
    else if (fence.kind === 'uncertain') result = { kind: 'uncertain', reason: failure!, answer: null };
    else return endUpstreamCanceled(run, 'R-CANCEL-FULL', `the provider did not take the order: ${failure}`);
  }
  applyDispatch(run, result);
}

export async function reconcileStep(run: OrderRun): Promise<void> {
  const { orderId, state, dispatch } = run;
  if (run.resolution) return applyResolution(run);
  if (!dispatch.awaitingSupport && !dispatch.looked) {
    // Give a late-processed add time to appear; anything that happens meanwhile is looked at first.
    if (await waitForChange(run, RECONCILE_DELAY_MS)) return;
    const found = await reconciling.findUpstreamOrder(orderId);
    dispatch.looked = true;
    switch (found.kind) {
      case 'found':
        return attachUpstream(run, found.providerOrderId, 'orders_by_link');
      case 'none':
        if (dispatch.redispatches < MAX_AUTO_REDISPATCHES) {
          dispatch.redispatches++;
          state.status = 'pending'; // the add never landed: dispatch again
          log.info('reconcile: not at the provider, dispatching again', { orderId, redispatches: dispatch.redispatches });
          return;
        }
        break;
      case 'unsupported':
      case 'ambiguous':
        break;
    }
    dispatch.awaitingSupport = true;
    log.warn('dispatch uncertain: waiting for support (resolveDispatch)', { orderId, lookup: found });
    return;
  }
  await waitForChange(run);
}

export function answerResolution(run: OrderRun, entry: ResolutionEntry, result: ResolveDispatchResult): void {
  entry.result = result;
  const key = resolveKey(entry.request);
  if (key) keepSupportAnswer(run, key, result);
  if (run.resolution === entry) run.resolution = null;
}

async function applyResolution(run: OrderRun): Promise<void> {
  const { orderId, state, dispatch } = run;
  const entry = run.resolution!;
  const r = entry.request;
  log.info('resolveDispatch', { orderId, action: r.action, by: r.by.userId, reason: r.reason });
  switch (r.action) {
    case 'attach': {
      const attached = await reconciling.attachProviderOrder(orderId, r.providerOrderId, r.by);
      if (!attached.attached) {
        log.warn('resolveDispatch attach refused', { orderId, reason: attached.reason });
        return answerResolution(run, entry, { accepted: false, rule: 'dispatch_uncertain', reason: attached.reason });
      }
      attachUpstream(run, r.providerOrderId, 'attach');
      return answerResolution(run, entry, { accepted: true, action: 'attach', providerOrderId: r.providerOrderId, message: `attached to the provider's order ${r.providerOrderId}; followed from now on` });
    }
    case 'redispatch':
      await reconciling.resetDispatch(orderId);
      dispatch.awaitingSupport = false;
      state.status = 'pending';
      return answerResolution(run, entry, { accepted: true, action: 'redispatch', message: 'the order is sent to the provider again' });
    case 'cancel':
      endUpstreamCanceled(run, 'R-CANCEL-FULL', `canceled by support while its dispatch was uncertain${r.reason ? `: ${r.reason}` : ''}`);
      return answerResolution(run, entry, { accepted: true, action: 'cancel', message: `order ${state.status}; the undelivered charge is refunded` });
  }
}
