/**
 * Client-side calls to an order's workflow, for the API, scripts and tests (never imported by
 * workflow code). They do what design decision 1 says placement is:
 *   1. reserve the order id: SELECT nextval(pg_get_serial_sequence('orders','id')) (no row yet);
 *   2. update-with-start on `order-<id>`: USE_EXISTING + REJECT_DUPLICATE, update `placement`
 *      (update id 'placement'), input OrderInput. The answer comes once the debit succeeded or was
 *      refused; a crash anywhere leaves either nothing, or a workflow that finishes the job.
 */
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient, Service } from '../generated/prisma/client';
import { DRIP_FEED_MODES, readOrder } from '../domain/order-types';
import type { DripFeedMode, OrderRefusal, ServiceTerms } from '../domain/order-types';
import { isServiceType } from '../domain/service-types';
import { validateLink } from '../domain/link';
import { formatMoney } from '../domain/money';
import type { Guarantee } from '../workflows/order-contract';
import { ORDER_TASK_QUEUE, orderWorkflowId } from '../workflows/order-contract';
import type {
  CancelRequest,
  CancelResult,
  DispatchResolution,
  MoveRequest,
  MoveResult,
  OrderInput,
  OrderState,
  PlacementResult,
  RefillRequest,
  RefillResult,
  ResolveDispatchResult,
  RetryRefillRequest,
} from '../workflows/order-contract';
import {
  CANCEL_REFUSED_FAILURE,
  PLACEMENT_UPDATE_ID,
  REFILL_REFUSED_FAILURE,
  SUPPORT_REFUSED_FAILURE,
  cancelUpdate,
  moveUpdate,
  placementUpdate,
  refillRequestUpdate,
  resolveDispatchUpdate,
  retryRefillUpdate,
  stateQuery,
} from '../workflows/order-messages';
import type { orderWorkflow } from '../workflows/order-workflow';
import { orderSearchAttributes } from '../workflows/order-search-attributes';
import { initialOrderState } from '../workflows/order-state';

export const ORDER_WORKFLOW_TYPE = 'orderWorkflow';

/** Step 1: an order id from the orders sequence, before any row exists. */
export async function reserveOrderId(prisma: PrismaClient): Promise<number> {
  const [row] = await prisma.$queryRaw<Array<{ id: bigint }>>`SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id`;
  return Number(row.id);
}

/** Step 2: start `order-<id>` (or join it) and wait for the placement's answer. */
export async function startOrder(client: Client, input: OrderInput): Promise<PlacementResult> {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: ORDER_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    // The order is findable from its first moment; the workflow keeps these current.
    typedSearchAttributes: orderSearchAttributes(initialOrderState(input)),
  });
  return client.workflow.executeUpdateWithStart(placementUpdate, { updateId: PLACEMENT_UPDATE_ID, startWorkflowOperation });
}

export interface OrderRequest {
  userId: number;
  serviceId: number;
  /** Absent for subscriptions (they name a `username` in `fields`). */
  link?: string;
  /** Absent for types whose quantity is derived (Package, Custom Comments...). */
  quantity?: number;
  /**
   * The type's other fields by their API v2 names (comments, usernames, runs, interval, username,
   * min, max, posts, execute_at, ...), as the client sent them; read by domain readOrder.
   */
  fields?: Record<string, unknown>;
  /** Epoch ms; default Date.now(). */
  placedAt?: number;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

/** A request the engine refuses before any workflow exists (400-type errors of the API). */
export class OrderRequestError extends Error {
  constructor(
    readonly rule: string,
    message: string,
    /** The field-level refusal, when the type's fields were refused. */
    readonly refusal?: OrderRefusal,
  ) {
    super(message);
    this.name = 'OrderRequestError';
  }
}

export function guaranteeOf(refillKind: string, refillDays: number | null): Guarantee {
  if (refillKind === 'days' && refillDays !== null) return { kind: 'days', days: refillDays };
  if (refillKind === 'lifetime') return { kind: 'lifetime' };
  return { kind: 'none' };
}

/** A service row's terms, as domain readOrder needs them; null when its type is unknown. */
export function serviceTermsOf(service: { type: string; rate: { toFixed(n: number): string }; min: number; max: number; dripfeed: string }): ServiceTerms | null {
  if (!isServiceType(service.type)) return null;
  const dripfeed = (DRIP_FEED_MODES as readonly string[]).includes(service.dripfeed) ? (service.dripfeed as DripFeedMode) : 'none';
  return { type: service.type, rate: formatMoney(service.rate.toFixed(5)), min: service.min, max: service.max, dripfeed };
}

/** R-ONE-ACTIVE-PER-LINK for a subscription: one active subscription per username. */
export const subscriptionLinkKey = (username: string) => `subscription:${username.replace(/^@/, '').toLowerCase()}`;

/** The request's fields by their API v2 names, as readOrder reads them. */
export function requestFields(request: Pick<OrderRequest, 'link' | 'quantity' | 'fields'>): Record<string, unknown> {
  return {
    ...(request.fields ?? {}),
    ...(request.link !== undefined ? { link: request.link } : {}),
    ...(request.quantity !== undefined ? { quantity: request.quantity } : {}),
  };
}

/**
 * The OrderInput of a request: the type's fields, R-MINMAX, link check, and the R-PRICE-SNAPSHOT of
 * the service now (charge per type: domain readOrder).
 */
export async function buildOrderInput(
  prisma: PrismaClient,
  orderId: number,
  request: OrderRequest,
  /** The service row as the caller just read it (saves reading it again), else read here. */
  read?: Service | null,
): Promise<OrderInput> {
  const service = read !== undefined && read?.id === request.serviceId ? read : await prisma.service.findUnique({ where: { id: request.serviceId } });
  if (!service) throw new OrderRequestError('R-MINMAX', `service ${request.serviceId} does not exist`);
  if (!service.active) throw new OrderRequestError('R-MINMAX', 'service is inactive');
  const terms = serviceTermsOf(service);
  if (!terms) throw new OrderRequestError('service_type', `service ${service.id} has an unknown type ${service.type}`);
  const placedAt = request.placedAt ?? Date.now();
  const result = readOrder(terms, requestFields(request), placedAt);
  if (!result.ok) throw new OrderRequestError(result.rule, result.message, result);
  const typed = result.order;
  let link: string;
  let linkKey: string;
  if (typed.link !== null) {
    const check = validateLink(typed.link);
    if (!check.ok) throw new OrderRequestError('R-ONE-ACTIVE-PER-LINK', check.message);
    link = typed.link;
    linkKey = check.normalized;
  } else {
    // Subscriptions: the username stands where the link is (order-contract OrderInput.subscription).
    link = typed.subscription!.username;
    linkKey = subscriptionLinkKey(link);
  }
  return {
    orderId,
    userId: request.userId,
    serviceId: service.id,
    providerId: service.providerId,
    providerServiceId: service.providerServiceId,
    link,
    linkKey,
    quantity: typed.quantity,
    rate: terms.rate,
    charge: typed.charge,
    guarantee: guaranteeOf(service.refillKind, service.refillDays),
    cancelable: service.cancelable,
    placedAt,
    idempotencyKey: request.idempotencyKey ?? null,
    requestHash: request.requestHash ?? null,
    // Order types: absent for a plain Default order, so its input is what it always was.
    ...(terms.type !== 'default' ? { serviceType: terms.type } : {}),
    ...(Object.keys(typed.providerFields).length > 0 ? { providerFields: typed.providerFields } : {}),
    ...(typed.dripFeed ? { dripFeed: typed.dripFeed } : {}),
    ...(typed.subscription ? { subscription: typed.subscription } : {}),
    ...(typed.executeAt !== undefined ? { executeAt: typed.executeAt } : {}),
  };
}

export interface PlacedOrder {
  orderId: number;
  workflowId: string;
  input: OrderInput;
  result: PlacementResult;
}

/** Placement without HTTP: validate and snapshot, reserve the id, update-with-start. */
export async function placeOrder(deps: { prisma: PrismaClient; client: Client }, request: OrderRequest): Promise<PlacedOrder> {
  const orderId = await reserveOrderId(deps.prisma);
  const input = await buildOrderInput(deps.prisma, orderId, request);
  const result = await startOrder(deps.client, input);
  return { orderId, workflowId: orderWorkflowId(orderId), input, result };
}

export function orderHandle(client: Client, orderId: number): WorkflowHandle<typeof orderWorkflow> {
  return client.workflow.getHandle<typeof orderWorkflow>(orderWorkflowId(orderId));
}

export async function orderState(client: Client, orderId: number): Promise<OrderState> {
  return orderHandle(client, orderId).query(stateQuery);
}

/**
 * An order update whose validator may refuse at once: the refusal (an ApplicationFailure of
 * `refusedType` with the result as details[0]) comes back as the { accepted: false } result
 * instead of an exception; any other error is thrown. A closed workflow throws
 * WorkflowNotFoundError: the callers answer from the row.
 */
async function executeRefusable<Ret, Args extends [unknown, ...unknown[]]>(
  client: Client,
  orderId: number,
  update: UpdateDefinition<Ret, Args>,
  options: { args: Args; updateId?: string },
  refused: { type: string; rule: string },
): Promise<Ret> {
  try {
    return await orderHandle(client, orderId).executeUpdate(update, options);
  } catch (error) {
    if (!(error instanceof WorkflowUpdateFailedError)) throw error;
    const cause = error.cause;
    if (!(cause instanceof ApplicationFailure) || cause.type !== refused.type) throw error;
    return (cause.details?.[0] as Ret | undefined) ?? ({ accepted: false, rule: refused.rule, reason: cause.message } as Ret);
  }
}

/** The update id of a request that names one: a retried request is the same update. */
const updateIdOf = (prefix: string, requestId: string | undefined) => (requestId ? { updateId: `${prefix}-${requestId}` } : {});

/**
 * The `cancel` update as a CancelResult: a validator's refusal (rule + reason, at once) comes back
 * as { accepted: false } instead of an exception. The requestId doubles as the update id, so a
 * retried request is one cancel.
 */
export async function cancelOrder(client: Client, orderId: number, request: CancelRequest): Promise<CancelResult> {
  return executeRefusable(client, orderId, cancelUpdate, { args: [request], ...updateIdOf('cancel', request.requestId) }, {
    type: CANCEL_REFUSED_FAILURE,
    rule: 'R-CANCEL-REQUEST',
  });
}

/**
 * The `refill` update as a RefillResult: a validator's refusal (rule + reason, at once) comes back as
 * { accepted: false } instead of an exception. The requestId doubles as the update id
 * (`refill-<requestId>`), so a retried request is one refill. A closed workflow throws
 * WorkflowNotFoundError: the caller answers from the row (api/refills.ts).
 */
export async function requestRefill(client: Client, orderId: number, request: RefillRequest): Promise<RefillResult> {
  return executeRefusable(client, orderId, refillRequestUpdate, { args: [request], updateId: `refill-${request.requestId}` }, {
    type: REFILL_REFUSED_FAILURE,
    rule: 'R-REFILL-STATUS',
  });
}

/** Support's `retryRefill` update (R-REFILL-SUPPORT), refusals as { accepted: false }. */
export async function retryRefill(client: Client, orderId: number, request: RetryRefillRequest): Promise<RefillResult> {
  return executeRefusable(client, orderId, retryRefillUpdate, { args: [request], ...updateIdOf('retry-refill', request.requestId) }, {
    type: REFILL_REFUSED_FAILURE,
    rule: 'R-REFILL-STATUS',
  });
}

/**
 * Support's `move` update (R-SUBSTITUTE), refusals as { accepted: false }. The answer comes once the
 * move started: switched at once (nothing at the old provider) or the old upstream order asked to
 * cancel; the rest follows in the order's state (`moves`). Update id `move-<requestId>`.
 */
export async function moveOrder(client: Client, orderId: number, request: MoveRequest): Promise<MoveResult> {
  return executeRefusable(client, orderId, moveUpdate, { args: [request], updateId: `move-${request.requestId}` }, {
    type: SUPPORT_REFUSED_FAILURE,
    rule: 'R-SUBSTITUTE',
  });
}

/** Support's `resolveDispatch` update for a `dispatch_uncertain` order, refusals as { accepted: false }. */
export async function resolveDispatch(client: Client, orderId: number, resolution: DispatchResolution): Promise<ResolveDispatchResult> {
  return executeRefusable(client, orderId, resolveDispatchUpdate, { args: [resolution], ...updateIdOf('resolve', resolution.requestId) }, {
    type: SUPPORT_REFUSED_FAILURE,
    rule: 'dispatch_uncertain',
  });
}
