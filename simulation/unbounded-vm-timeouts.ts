/**
 * The replay's calls into the workflow sandbox without Node's per-call watchdog thread, when the
 * timeout they pass bounds nothing.
 *
 * The SDK runs every call into the workflow sandbox (about 35 per replayed run: several per
 * activation) with `vm` and a `timeout`, its deadlock detector. Node starts and joins a watchdog
 * thread, with an event loop of its own, for every call that has a timeout
 * (nodejs/node#47739, still open): ~240 µs a call on this machine against nothing without one,
 * about a third of a replay's CPU. A replay worker on the calling thread (debugMode, the SDK's replay
 * default) passes 4294967295 ms, 49 days: a bound no replay reaches, so dropping it changes nothing
 * but the cost. Calls with a real bound (a normal worker's 5 s) keep it and their watchdog.
 *
 * Only the simulation installs this: its replay process (on its calling thread) and its worker
 * process (in every thread, lean-sandbox-preload.ts, with the worker created with that same
 * "no timeout"); the engine's worker keeps the SDK's deadlock detector as it is.
 */
import vm from 'node:vm';

/** At or above this, a vm timeout is the SDK's "no timeout" (debugMode's 4294967295 ms). */
export const UNBOUNDED_TIMEOUT_MS = 2 ** 31;

/** The SDK's own "no timeout" for a worker's sandbox calls (what debugMode sets; 49 days). */
export const SDK_NO_TIMEOUT = '4294967295ms';

const INSTALLED = Symbol.for('smm.unboundedVmTimeoutsDropped');

type RunOptions = vm.RunningScriptOptions | string | undefined;

/** The options without a timeout that bounds nothing (the same object when there is none to drop). */
export function withoutUnboundedTimeout<T extends RunOptions>(options: T): T {
  if (typeof options !== 'object' || options === null) return options;
  const { timeout } = options;
  if (typeof timeout !== 'number' || timeout < UNBOUNDED_TIMEOUT_MS) return options;
  const { timeout: _dropped, ...rest } = options;
  return rest as T;
}

/**
 * From now on, in this thread, `Script#runInContext` and `vm.runInContext` leave out timeouts of
 * UNBOUNDED_TIMEOUT_MS or more. Installing twice changes nothing.
 */
export function dropUnboundedVmTimeouts(): void {
  const marked = vm as unknown as Record<symbol, boolean>;
  if (marked[INSTALLED]) return;
  marked[INSTALLED] = true;
  const scriptRun = vm.Script.prototype.runInContext;
  vm.Script.prototype.runInContext = function runInContext(this: vm.Script, context: vm.Context, options?: vm.RunningScriptOptions) {
    return scriptRun.call(this, context, withoutUnboundedTimeout(options));
  };
  const run = vm.runInContext;
  vm.runInContext = function runInContext(code: string, context: vm.Context, options?: vm.RunningCodeOptions | string) {
    return run.call(vm, code, context, withoutUnboundedTimeout(options));
  };
}
