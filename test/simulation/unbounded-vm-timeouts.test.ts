// The replay process's calls into the sandbox without a timeout that bounds nothing
// (simulation/unbounded-vm-timeouts.ts): debugMode's 4294967295 ms is dropped, a real bound is kept
// and still stops a script that runs past it.
import vm from 'node:vm';
import { msToNumber } from '@temporalio/common/lib/time';
import { dropUnboundedVmTimeouts, SDK_NO_TIMEOUT, UNBOUNDED_TIMEOUT_MS, withoutUnboundedTimeout } from '../../simulation/unbounded-vm-timeouts';

// node:vm is shared by every test file of this jest worker: put it back as it was.
const pristine = { scriptRun: vm.Script.prototype.runInContext, run: vm.runInContext };
afterAll(() => {
  vm.Script.prototype.runInContext = pristine.scriptRun;
  vm.runInContext = pristine.run;
  delete (vm as unknown as Record<symbol, boolean>)[Symbol.for('smm.unboundedVmTimeoutsDropped')];
});

it("the simulation worker's timeout (the SDK's debugMode value) is one the drop removes", () => {
  expect(msToNumber(SDK_NO_TIMEOUT)).toBe(4294967295);
  expect(withoutUnboundedTimeout({ timeout: msToNumber(SDK_NO_TIMEOUT) })).toEqual({});
});

it('drops a timeout of 2^31 ms or more and keeps every other option; a real bound stays as it is', () => {
  expect(withoutUnboundedTimeout({ timeout: 4294967295, displayErrors: true })).toEqual({ displayErrors: true });
  expect(withoutUnboundedTimeout({ timeout: UNBOUNDED_TIMEOUT_MS })).toEqual({});
  const bounded = { timeout: 5_000, displayErrors: true };
  expect(withoutUnboundedTimeout(bounded)).toBe(bounded);
  expect(withoutUnboundedTimeout(undefined)).toBeUndefined();
  expect(withoutUnboundedTimeout('file.js')).toBe('file.js');
});

it('once installed, the sandbox calls reach Node without the unbounded timeout, and a bounded call still times out', () => {
  const seen: Array<vm.RunningScriptOptions | undefined> = [];
  const original = vm.Script.prototype.runInContext;
  // What Node receives: recorded below the patch (installed after this spy, so it wraps it).
  vm.Script.prototype.runInContext = function (this: vm.Script, context: vm.Context, options?: vm.RunningScriptOptions) {
    seen.push(options);
    return original.call(this, context, options);
  };
  dropUnboundedVmTimeouts();
  dropUnboundedVmTimeouts(); // twice: still one layer

  const context = vm.createContext({});
  expect(new vm.Script('6 * 7').runInContext(context, { timeout: 4294967295, displayErrors: true })).toBe(42);
  expect(vm.runInContext('1 + 1', context, { timeout: 4294967295 })).toBe(2);
  expect(seen[0]).toEqual({ displayErrors: true });
  expect(seen.every((options) => options?.timeout === undefined)).toBe(true);

  // The SDK's 5 s deadlock detector on a normal worker is untouched: a loop past its bound is stopped.
  expect(() => new vm.Script('for (;;) {}').runInContext(context, { timeout: 50 })).toThrow(/timed out/);
  expect(seen.at(-1)).toEqual({ timeout: 50 });
});
