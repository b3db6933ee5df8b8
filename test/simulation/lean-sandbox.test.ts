// The simulation's worker process runs the workflow sandbox without the SDK's two debugging aids
// (simulation/lean-sandbox-preload.ts): preloaded with `--require`, so the SDK's workflow thread
// gets it too. Checked in a real worker thread of a real process started as world.ts starts it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WORKER_PRELOAD } from '../../simulation/world';

const run = promisify(execFile);
const probe = join(__dirname, 'fixtures', 'sandbox-probe.ts');

async function probeThread(preload: string[]): Promise<{ promiseHookInstalled: boolean; vmTimeoutsDropped: boolean; asyncLocalStorageAfterAwait: string | null }> {
  const { stdout } = await run(process.execPath, [...preload, probe], { cwd: join(__dirname, '..', '..') });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

it("in the worker process's threads the SDK sets no promise hook and vm calls lose the unbounded timeout, while AsyncLocalStorage still follows an await", async () => {
  expect(await probeThread(WORKER_PRELOAD)).toEqual({ promiseHookInstalled: false, vmTimeoutsDropped: true, asyncLocalStorageAfterAwait: 'scope' });
}, 60_000);

it('without the preload the same thread has the SDK stack-capture hook and the vm timeouts (the probe tells the two apart)', async () => {
  expect(await probeThread(['--require', 'tsx/cjs'])).toEqual({ promiseHookInstalled: true, vmTimeoutsDropped: false, asyncLocalStorageAfterAwait: 'scope' });
}, 60_000);
