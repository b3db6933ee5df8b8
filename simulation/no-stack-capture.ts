/**
 * The workflow sandbox without the SDK's per-promise stack capture, in this thread.
 *
 * The SDK installs a V8 promise hook in the thread that runs workflows: for every promise workflow
 * code creates it builds an `Error`, formats and source-maps its stack, and keeps it, so that the
 * `__stack_trace` query can show where a blocked workflow waits. Nothing in the simulation asks
 * that query, and the capture was a quarter of its workflow thread (profiled: the hook's `init`
 * 44 s of 162 s in a 3,000-order world). With this installed before the SDK sets its hooks up, the
 * SDK never creates that hook and runs as it does where promise hooks are missing (Bun, old Node):
 * stack traces disabled, workflows unchanged (the hook only records).
 *
 * It goes through the SDK's own switch (`globalHandlers.setPromiseHook` in
 * `@temporalio/worker/lib/workflow/vm-shared`), not `v8.promiseHooks.createHook`: Node's
 * AsyncLocalStorage, which the SDK's cancellation scopes use, creates its promise hooks with that
 * same function (replacing it made local activities fail with "Workflow cancelled").
 *
 * Only the simulation's worker and replay processes install it (lean-sandbox-preload.ts,
 * replay-process.ts); the engine's worker keeps the SDK's stack traces.
 */
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';

const INSTALLED = Symbol.for('smm.workflowStackCaptureDropped');

/** The SDK's handlers as this file touches them (`setPromiseHook` is private in its types). */
type Handlers = { installed: boolean; setPromiseHook: () => void } & Record<symbol, boolean>;

/** From now on the SDK sets no promise hook in this thread. Installing twice changes nothing. */
export function dropPromiseStackCapture(): void {
  const handlers = globalHandlers as unknown as Handlers;
  if (handlers[INSTALLED]) return;
  if (handlers.installed) throw new Error('the SDK has already set its promise hook in this thread: drop the stack capture before any worker starts');
  handlers[INSTALLED] = true;
  handlers.setPromiseHook = () => undefined;
}
