// The order's activities heartbeat while they run (activities/heartbeat-while-running.ts), so that a
// worker that dies mid-activity is noticed at the 10 s heartbeat timeout their options set.
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatWhileRunning } from '../../activities/heartbeat-while-running';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function heartbeatsOf(info: Partial<{ heartbeatTimeoutMs: number; isLocal: boolean }>, workMs: number): Promise<{ count: number; result: string }> {
  const env = new MockActivityEnvironment(info);
  let count = 0;
  env.on('heartbeat', () => count++);
  const activity = heartbeatWhileRunning(async (name: string) => {
    await sleep(workMs);
    return `done ${name}`;
  }, 50);
  const result = (await env.run(activity, 'order-1')) as string;
  // Nothing after the end: the interval is cleared.
  await sleep(150);
  return { count, result };
}

describe('heartbeatWhileRunning', () => {
  it('an activity with a heartbeat timeout that runs past the interval heartbeats every interval, and stops when it ends', async () => {
    const { count, result } = await heartbeatsOf({ heartbeatTimeoutMs: 10_000 }, 280);
    expect(result).toBe('done order-1');
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(6);
  });

  it('the usual short call sends no heartbeat at all', async () => {
    expect(await heartbeatsOf({ heartbeatTimeoutMs: 10_000 }, 5)).toEqual({ count: 0, result: 'done order-1' });
  });

  it('a local activity, or one scheduled without a heartbeat timeout (an older history), sends none', async () => {
    expect((await heartbeatsOf({ heartbeatTimeoutMs: 10_000, isLocal: true }, 200)).count).toBe(0);
    expect((await heartbeatsOf({ heartbeatTimeoutMs: 0 }, 200)).count).toBe(0);
  });

  it('outside an activity (a script, a test calling it directly) it is the plain function', async () => {
    await expect(heartbeatWhileRunning(async (x: number) => x * 2)(21)).resolves.toBe(42);
  });
});
