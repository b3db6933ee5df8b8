// The provider sync's wakes, coalesced per provider (deps/coalesced-wake.ts): what is sent when.
import { coalesceWakes } from '../../deps/coalesced-wake';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(fail: (providerId: number) => boolean = () => false) {
  const sent: Array<{ providerId: number; at: number }> = [];
  const send = async (providerId: number) => {
    if (fail(providerId)) throw new Error(`wake ${providerId} refused`);
    sent.push({ providerId, at: Date.now() });
  };
  return { sent, send };
}

describe('coalesced provider-sync wakes', () => {
  it('the first wake goes out at once; a burst within the window becomes one trailing wake at its end', async () => {
    const { sent, send } = recorder();
    const wake = coalesceWakes(send, 200);
    const start = Date.now();
    await wake(1);
    expect(sent.map((s) => s.providerId)).toEqual([1]);
    for (let i = 0; i < 5; i++) await wake(1);
    expect(sent).toHaveLength(1);
    await sleep(300);
    expect(sent.map((s) => s.providerId)).toEqual([1, 1]);
    // The trailing wake waited for the window's end, not for the last call.
    expect(sent[1]!.at - start).toBeGreaterThanOrEqual(195);
    await sleep(250);
    expect(sent).toHaveLength(2);
  });

  it('each provider has its own window', async () => {
    const { sent, send } = recorder();
    const wake = coalesceWakes(send, 200);
    await wake(1);
    await wake(2);
    await wake(2);
    expect(sent.map((s) => s.providerId)).toEqual([1, 2]);
    await sleep(300);
    expect(sent.map((s) => s.providerId)).toEqual([1, 2, 2]);
  });

  it('a wake after the window has passed goes out at once again', async () => {
    const { sent, send } = recorder();
    const wake = coalesceWakes(send, 50);
    await wake(1);
    await sleep(80);
    await wake(1);
    expect(sent).toHaveLength(2);
  });

  it('a leading wake that fails rejects, and the caller\'s retry sends at once', async () => {
    let refuse = true;
    const { sent, send } = recorder(() => refuse);
    const wake = coalesceWakes(send, 10_000);
    await expect(wake(1)).rejects.toThrow('wake 1 refused');
    refuse = false;
    await wake(1);
    expect(sent.map((s) => s.providerId)).toEqual([1]);
  });

  it('a trailing wake that fails is reported, not thrown', async () => {
    let calls = 0;
    const errors: number[] = [];
    const wake = coalesceWakes(async () => {
      if (++calls > 1) throw new Error('down');
    }, 50, (providerId) => errors.push(providerId));
    await wake(7);
    await wake(7);
    await sleep(120);
    expect(calls).toBe(2);
    expect(errors).toEqual([7]);
  });

  it('a window of 0 sends every wake', async () => {
    const { sent, send } = recorder();
    const wake = coalesceWakes(send, 0);
    for (let i = 0; i < 3; i++) await wake(1);
    expect(sent).toHaveLength(3);
  });
});
