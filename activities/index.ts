/**
 * Every activity the engine's worker registers: the order workflow's (order-activities.ts, refill-activities.ts) and the
 * provider sync's (provider-sync-activities.ts), the order recovery's (../recovery), built from one set of dependencies.
 */
import type { EngineDeps } from '../deps/engine-deps';
import { createOrderActivities } from './order-activities';
import { createProviderSyncActivities } from './provider-sync-activities';
import { createRefillActivities } from './refill-activities';
import { createRecoveryActivities } from '../recovery/recovery-activities';

export function createActivities(deps: EngineDeps) {
  return { ...createOrderActivities(deps), ...createRefillActivities(deps), ...createProviderSyncActivities(deps), ...createRecoveryActivities(deps) };
}

export type EngineActivities = ReturnType<typeof createActivities>;
