/**
 * Every activity the engine's worker registers: the order workflow's (order-activities.ts, refill-activities.ts) and the
 * provider sync's (provider-sync-activities.ts), the order recovery's (../recovery), built from one set of dependencies.
 */
import type { EngineDeps } from '../deps/engine-deps';
import { createDripFeedActivities } from './drip-feed-activities';
import { heartbeatingAll } from './heartbeat-while-running';
import { createOrderActivities } from './order-activities';
import { createProviderSyncActivities } from './provider-sync-activities';
import { createRefillActivities } from './refill-activities';
import { createRecoveryActivities } from '../recovery/recovery-activities';

export function createActivities(deps: EngineDeps) {
  return {
    // The order's activities heartbeat while they run (their options set a 10 s heartbeat timeout);
    // the sync's round heartbeats after each batch itself.
    ...heartbeatingAll(createOrderActivities(deps)),
    ...heartbeatingAll(createDripFeedActivities(deps)),
    ...heartbeatingAll(createRefillActivities(deps)),
    ...createProviderSyncActivities(deps),
    ...createRecoveryActivities(deps),
  };
}

export type EngineActivities = ReturnType<typeof createActivities>;
