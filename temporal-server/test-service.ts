/**
 * temporal.api.testservice.v1.TestService: the time-skipping controls the SDK's
 * TestWorkflowEnvironment calls (lock/unlock around result(), env.sleep(), currentTimeMs()).
 */
import type { VirtualClock } from './clock';
import { failedPrecondition } from './errors';
import type { Handlers } from './grpc-server';
import { durationToMs, msToTimestamp, timestampToMs } from './proto';

export function testServiceHandlers(clock: VirtualClock): Handlers {
  const sleepUntil = (time: number) =>
    new Promise<object>((resolve) => {
      clock.at(time, () => resolve({}));
    });

  return {
    LockTimeSkipping: async () => {
      clock.lockByClient();
      return {};
    },
    UnlockTimeSkipping: async () => {
      try {
        clock.unlockByClient();
      } catch (error) {
        throw failedPrecondition((error as Error).message);
      }
      return {};
    },
    Sleep: async (request) => sleepUntil(clock.now() + durationToMs(request.duration)),
    SleepUntil: async (request) => sleepUntil(timestampToMs(request.timestamp)),
    UnlockTimeSkippingWithSleep: async (request) => {
      const wakeAt = clock.now() + durationToMs(request.duration);
      clock.unlockByClient();
      try {
        return await sleepUntil(wakeAt);
      } finally {
        clock.lockByClient();
      }
    },
    GetCurrentTime: async () => ({ time: msToTimestamp(clock.now()) }),
  };
}
