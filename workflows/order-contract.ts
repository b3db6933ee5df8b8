/**
 * The order workflow's contract: its id, input, messages (signals, updates, queries) and state.
 * The API, the provider sync and the tests talk to an order only through these names and types.
 * Workflow code imports this file, so it holds types and plain constants only (no I/O).
 */
import type { OrderStatus } from '../domain/order-status';
import type { DripFeedProgress } from '../domain/drip-feed';
import type { SubscriptionProgress, SubscriptionUpstream } from '../domain/subscription';
import type { ServiceType } from '../domain/service-types';

export const ORDER_TASK_QUEUE = 'orders';

/** Workflow ids are business keys: the order's integer id, the one resellers store. */
export const orderWorkflowId = (orderId: number) => `order-${orderId}`;
export const providerSyncWorkflowId = (providerId: number) => `provider-sync-${providerId}`;

export type Guarantee = { kind: 'none' } | { kind: 'days'; days: number } | { kind: 'lifetime' };

/** Everything the order needs, fixed at placement (R-PRICE-SNAPSHOT). Money as 5-decimal strings. */
export interface OrderInput {
  orderId: number;
  userId: number;
  serviceId: number;
  providerId: number;
  providerServiceId: string;
  link: string;
  linkKey: string;
  quantity: number;
  rate: string;
  charge: string;
  guarantee: Guarantee;
  cancelable: boolean;
  /** Epoch ms, from the API at placement. */
  placedAt: number;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  // Order types (each absent in histories from before types, which are Default orders).
  /** The service's type at placement (R-PRICE-SNAPSHOT). Absent: 'default'. */
  serviceType?: ServiceType;
  /**
   * The type's own API v2 `add` fields, as the provider gets them unchanged (`comments`,
   * `usernames`, `hashtags`, `hashtag`, `username`, `media`, `answer_number`, `keywords`, ...).
   * `quantity` above is what was charged for (Custom Comments: the number of non-empty lines).
   */
  providerFields?: Record<string, string>;
  /**
   * Drip-feed: `quantity` is the total (quantityPerRun × runs), charged once. mode 'engine': the
   * workflow sends one provider order per run, intervalMinutes after the previous run was sent;
   * 'provider': `runs`/`interval` go to the provider and one upstream order is followed.
   */
  dripFeed?: { runs: number; intervalMinutes: number; quantityPerRun: number; mode: 'engine' | 'provider' };
  /**
   * Subscription to future posts: charged at max × posts (R-CHARGE-MAX), so `quantity` is
   * max × posts. `link` holds the username; `expiry` is the API v2 d/m/Y text, if given.
   */
  subscription?: { username: string; min: number; max: number; posts: number; oldPosts: number; delayMinutes: number; expiry?: string };
  /** Scheduled order: epoch ms before which nothing is sent to the provider (charged at placement). */
  executeAt?: number;
}

/** The answer of the placement update: given once the debit succeeded or was refused. */
export type PlacementResult =
  | { accepted: true; order: OrderState }
  | {
      accepted: false;
      code: 'insufficient_funds' | 'link_busy' | 'user_blocked';
      message: string;
      /** R-ONE-ACTIVE-PER-LINK: the order holding the link. */
      holderOrderId?: number;
    };

/** What the provider sync tells an order when its upstream state changed. */
export interface ProviderUpdate {
  status: 'pending' | 'in_progress' | 'completed' | 'partial' | 'canceled';
  /**
   * The upstream order the answer is about. An order moved to another provider (R-SUBSTITUTE)
   * ignores a late answer about its old upstream order. Absent in updates from older senders.
   */
  providerId?: number;
  providerOrderId?: string;
  startCount: number | null;
  remains: number | null;
  /** The provider's answer as received, for the order's "last provider answer". */
  raw?: unknown;
  /** Epoch ms when the sync read it. */
  observedAt: number;
  /** A subscription's answer (issue 12): `status` above is its order-status reading. */
  subscription?: SubscriptionUpstream;
}

/**
 * How a cancel treats the order and its charge.
 * - terms: the user's rules (domain decideCancel: R-CANCEL-REQUEST, R-CANCEL-STALLED); the refund
 *   follows the final status. What a user's cancel and a block's cancels use.
 * - full_refund (support, admin): canceled now, whatever the service's cancel flag, whole charge
 *   back (R-CANCEL-FULL); the provider is asked to drop the order afterwards.
 * - no_refund (support, admin): canceled now without a refund, for an order that breaks the rules
 *   (R-CANCEL-NO-REFUND); the reason is required and kept.
 */
export type CancelMode = 'terms' | 'full_refund' | 'no_refund';

export interface CancelRequest {
  /** Who asks: the owning user, or support/admin. */
  requestedBy: { kind: 'user' | 'support' | 'admin'; userId: number; apiKeyId?: number };
  reason?: string;
  /** Client-chosen id so a retried request is one cancel. */
  requestId?: string;
  /** Default 'terms'. */
  mode?: CancelMode;
}

export type CancelResult =
  | { accepted: true; rule: string; message: string }
  | { accepted: false; rule: string; reason: string };

/** A support or admin caller, as the workflow records it. */
export interface StaffRef {
  kind: 'support' | 'admin';
  userId: number;
  apiKeyId?: number;
}

/**
 * Update `resolveDispatch`: support's answer for an order whose dispatch is uncertain: the provider
 * has it as <id> (attach), it does not (redispatch), or give up (cancel, full refund).
 */
export type DispatchResolution = (
  | { action: 'attach'; providerOrderId: string }
  | { action: 'redispatch' }
  | { action: 'cancel' }
) & {
  by: { userId: number; apiKeyId?: number; kind?: StaffRef['kind'] };
  reason?: string;
  /** Client-chosen id: a retried request is one resolution (update id `resolve-<requestId>`). */
  requestId?: string;
};

export type ResolveDispatchResult =
  | { accepted: true; action: DispatchResolution['action']; message: string; providerOrderId?: string }
  | { accepted: false; rule: string; reason: string };

// ---------------------------------------------------------------- moves (R-SUBSTITUTE)

/** The service an order moves to, as the API found it in the catalogue (checked similar there). */
export interface MoveTarget {
  serviceId: number;
  providerId: number;
  providerServiceId: string;
  /** The target's quantity bounds: the remaining quantity must fit them. */
  min: number;
  max: number;
}

/** Update `move` (support, admin): send the rest of an unfinished order to another service/provider. */
export interface MoveRequest {
  target: MoveTarget;
  requestedBy: StaffRef;
  /** Why (kept in the order's history and the audit trail). Required. */
  reason: string;
  /** Client-chosen id: the same request again is the same move (update id `move-<requestId>`). */
  requestId: string;
}

/**
 * stopping: the old upstream order was asked to cancel; the move waits for its final status (what
 *           it delivered decides the quantity the new provider gets);
 * moved:    the order is at the new service, dispatched as usual with the remaining quantity;
 * failed:   it stayed where it was (the old provider finished it, would not cancel, or never confirmed).
 */
export type MovePhase = 'stopping' | 'moved' | 'failed';

export interface MoveRecord {
  requestId: string;
  requestedBy: StaffRef;
  reason: string;
  from: { serviceId: number; providerId: number; providerOrderId: string | null };
  to: { serviceId: number; providerId: number };
  /** The quantity sent to the new provider (the part still undelivered), once known. */
  quantity: number | null;
  phase: MovePhase;
  /** What happened, in words (why it failed, or what was sent). */
  outcome: string | null;
  /** Epoch ms, workflow time. */
  requestedAt: number;
  updatedAt: number;
}

export type MoveResult =
  | { accepted: true; rule: 'R-SUBSTITUTE'; message: string; move: MoveRecord }
  | { accepted: false; rule: string; reason: string; move?: MoveRecord };

export interface RefundRecord {
  amount: string;
  rule: string;
  idempotencyKey: string;
  at: number;
}

/**
 * The last cancel request an order received and what became of it. A refused `requestCancel`
 * signal cannot answer its sender, so its refusal is recorded here (and the `cancel` update's
 * answers too, for support's view). Added by the order workflow (issue "The order engine").
 */
export interface CancelRecord {
  requestId: string | null;
  requestedBy: CancelRequest['requestedBy'];
  accepted: boolean;
  rule: string;
  /** What was done (accepted) or why not (refused). */
  message: string;
  /** Epoch ms (workflow time). */
  at: number;
}

// ---------------------------------------------------------------- refills (issue "Refill guarantees")

/** Who asks for a refill: the owning user, or support/admin (who may also retry a failed one). */
export interface RefillRequester {
  kind: 'user' | 'support' | 'admin';
  userId: number;
  apiKeyId?: number;
}

/** Update `refill`: a request to restore drops (R-REFILL-*). */
export interface RefillRequest {
  requestedBy: RefillRequester;
  /** Client-chosen id: the same request again is the same refill (update id `refill-<requestId>`). */
  requestId: string;
}

/**
 * pending / in_progress / completed / rejected as the provider's refill_status says them; failed when
 * the provider did not take the request at all (refused `refill`, no answer, or never finished).
 */
export type RefillStatus = 'pending' | 'in_progress' | 'completed' | 'rejected' | 'failed';

/** The counts R-REFILL-NEED compared, when the provider has a count source. */
export interface RefillCounts {
  startCount: number;
  quantity: number;
  currentCount: number;
}

/** One refill of an order (the refills row is its mirror; refillId is that row's id). */
export interface RefillRecord {
  refillId: number;
  requestId: string;
  requestedBy: RefillRequester;
  status: RefillStatus;
  providerRefillId: string | null;
  /** Why it failed or was rejected, in the provider's words where it gave some. */
  reason: string | null;
  /** Sends to the provider: 1, plus one per support retry (R-REFILL-SUPPORT). */
  attempts: number;
  counts: RefillCounts | null;
  /** Epoch ms, workflow time. */
  requestedAt: number;
  updatedAt: number;
  completedAt: number | null;
  /**
   * A drip-feed run by the engine: one provider refill per run order that delivered (its parts; the
   * record has no provider refill id of its own). Its status combines theirs (domain/drip-feed-refill.ts).
   */
  parts?: RefillPart[];
}

/** The provider refill of one run order of a drip-feed (a refills row with parent_refill_id). */
export interface RefillPart {
  /** Its own refills row. */
  refillId: number;
  runIndex: number;
  providerOrderId: string;
  providerRefillId: string | null;
  status: RefillStatus;
  reason: string | null;
  /** When the workflow learnt it completed (workflow time); null until then. */
  completedAt: number | null;
}

export type RefillResult =
  | { accepted: true; refill: RefillRecord }
  | {
      accepted: false;
      rule: string;
      reason: string;
      /** R-REFILL-NEED: the counts that showed no drop. */
      counts?: RefillCounts;
      /** The refill, when one was made and the provider did not take it (failed, support may retry). */
      refill?: RefillRecord;
    };

/** Update `retryRefill` (support, admin): send a failed or rejected refill again (R-REFILL-SUPPORT). */
export interface RetryRefillRequest {
  refillId: number;
  requestedBy: RefillRequester;
  reason?: string;
  /** Client-chosen id: a retried retry is one retry. */
  requestId?: string;
}

/** Signal `refillUpdate` from the provider sync: a refill's status at the provider changed. */
export interface RefillUpdate {
  refillId: number;
  providerRefillId: string;
  status: 'pending' | 'in_progress' | 'completed' | 'rejected';
  raw?: unknown;
  /** Epoch ms when the sync read it. */
  observedAt: number;
}

/** The order's refills, once its guarantee is followed (absent before). */
export interface OrderRefills {
  /** R-REFILL-VOID: why the guarantee is void, once a request found it so (then it stays void). */
  voidReason: string | null;
  /** R-REFILL-COOLDOWN: when the last refill completed (workflow time). */
  lastCompletedAt: number | null;
  /** Refills made so far (all runs). */
  total: number;
  /** The most recent refills, oldest first (the refills table has them all). */
  recent: RefillRecord[];
}

/** The order's full state, as the `state` query returns it and the database row mirrors it. */
export interface OrderState {
  orderId: number;
  userId: number;
  serviceId: number;
  providerId: number;
  link: string;
  quantity: number;
  rate: string;
  charge: string;
  guarantee: Guarantee;
  cancelable: boolean;
  status: OrderStatus;
  flags: { overdue: boolean; stalled: boolean; cancelRequested: boolean; refillFailed: boolean };
  providerOrderId: string | null;
  startCount: number | null;
  remains: number | null;
  refunded: string;
  refunds: RefundRecord[];
  rejectReason: string | null;
  lastProviderAnswer: unknown;
  /** The last cancel request and its outcome (not mirrored to the row). Optional: added later. */
  lastCancel?: CancelRecord | null;
  /** Refills (issue "Refill guarantees"): present once a guaranteed order completed. */
  refills?: OrderRefills;
  /** Support's moves to other services (R-SUBSTITUTE), oldest first; absent until the first. */
  moves?: MoveRecord[];
  /**
   * The quantity the current upstream order is for: the order's quantity, or after a move the part
   * that was still undelivered. Absent until a move.
   */
  upstreamQuantity?: number;
  /** Scheduled order (issue 12): nothing goes to the provider before this instant (epoch ms). */
  executeAt?: number;
  /**
   * Drip-feed run by the engine (issue 12): every run begun, its provider order and counters. The
   * order's own status, remains and refunds come from its runs; providerOrderId is the run in flight.
   */
  dripFeed?: DripFeedProgress;
  /** Subscription to future posts (issue 12): the provider's status, posts served, what each got. */
  subscription?: SubscriptionProgress;
  timestamps: {
    placedAt: number;
    paidAt: number | null;
    dispatchedAt: number | null;
    startedAt: number | null;
    finishedAt: number | null;
  };
}

/** Message names, shared by the workflow's handlers and its callers. */
export const ORDER_MESSAGES = {
  /** Update (no args) → PlacementResult: waits for the debit. Used with update-with-start. */
  placement: 'placement',
  /** Update (CancelRequest) → CancelResult, refused at once by its validator when not allowed. */
  cancel: 'cancel',
  /** Signal (CancelRequest): the same request for callers that cannot wait. */
  cancelSignal: 'requestCancel',
  /** Signal (ProviderUpdate) from the provider sync. */
  providerUpdate: 'providerUpdate',
  /** Update (DispatchResolution) → ResolveDispatchResult: support settles an uncertain dispatch. */
  resolveDispatch: 'resolveDispatch',
  /** Update (MoveRequest) → MoveResult: support moves the order to another service (R-SUBSTITUTE). */
  move: 'move',
  /** Update (RefillRequest) → RefillResult, refused at once by its validator when not allowed. */
  refill: 'refill',
  /** Update (RetryRefillRequest) → RefillResult: support sends a failed refill again. */
  retryRefill: 'retryRefill',
  /** Signal (RefillUpdate) from the provider sync. */
  refillUpdate: 'refillUpdate',
  /** Query → OrderState. */
  state: 'state',
} as const;
