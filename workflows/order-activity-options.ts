/**
 * How the order workflow calls its activities: one proxy per kind of call, each with the timeouts
 * and retry policy that kind needs (see workflows/README.md, "Failures").
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { OrderActivities } from '../activities/order-activities';
import type { DripFeedActivities } from '../activities/drip-feed-activities';
import type { RefillActivities } from '../activities/refill-activities';

/** Placement: database only, on the placement's critical path: a local activity, retried until it answers. */
export const placing = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Mirror writes: local, so each costs one marker event and no extra workflow task. */
export const mirroring = proxyLocalActivities<OrderActivities & RefillActivities & DripFeedActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The DISPATCH RETRY POLICY: "provider says try later" waits 30 s, 1 min, 2 min ... 30 min, for 24 h at most. */
export const DISPATCH_RETRY = {
  initialInterval: '30s',
  backoffCoefficient: 2,
  maximumInterval: '30m',
  scheduleToClose: '24h',
} as const;
/**
 * Every activity below heartbeats while it runs (activities/heartbeat-while-running.ts): a worker that
 * dies mid-activity is noticed after this, not after the start-to-close timeout, and the next attempt
 * goes to another worker.
 */
export const HEARTBEAT_TIMEOUT = '10s';

export const dispatching = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  scheduleToCloseTimeout: DISPATCH_RETRY.scheduleToClose,
  retry: {
    initialInterval: DISPATCH_RETRY.initialInterval,
    backoffCoefficient: DISPATCH_RETRY.backoffCoefficient,
    maximumInterval: DISPATCH_RETRY.maximumInterval,
    nonRetryableErrorTypes: ['OrderMissing', 'UnknownProviderError'],
  },
});

/** Reconciliation and fences: idempotent, retried until they answer. */
export const reconciling = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: ['OrderMissing'] },
});

/** A user waits for the answer to a cancel: bounded. */
export const canceling = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['OrderMissing'] },
});

/** Money: the ledger's idempotency key makes every retry the same one entry. */
export const paying = proxyActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** A refill request: the user waits for the answer (the provider's `refill` included), so bounded. */
export const refilling = proxyActivities<RefillActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['OrderMissing'] },
});

