// POST /orders: from a validated request to "debited" (201) or "refused" (402/409/403).
//
//   1. Idempotency-Key given and already stored for this user: same request → replay the first
//      answer (or, if none was stored yet, run the placement again for the stored order id);
//      different request → 409. Nothing below runs.
//   2. Fast checks that write nothing: service exists and is active, the type's fields (domain
//      order-types readOrder: fields by type, R-MINMAX on what the type counts, the charge), R-BLOCKED,
//      then R-ONE-ACTIVE-PER-LINK and R-BALANCE (balance >= charge) in one statement that also
//      reserves the order id (placement-checks.ts). The authoritative checks run in the workflow: the
//      link in its first activity (partial unique index), the funds in the debit (CHECK balance >= 0).
//   3. With the reserved id (the sequence behind orders.id), snapshot price and flags into the
//      OrderInput (R-PRICE-SNAPSHOT, R-CHARGE), store the idempotency record BEFORE the workflow
//      starts, then update-with-start: start `order-<id>` (USE_EXISTING, REJECT_DUPLICATE) and wait
//      for the `placement` update, which answers once the debit succeeded or was refused.
//   4. Store the definitive answer on the idempotency record, answer the client.
import { placements } from '../observability/metrics';
import { createHash } from 'node:crypto';
import { ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { OrderRecord } from '../activities/order-records';
import { PG_UNIQUE_VIOLATION, isConstraintViolation } from '../db/errors';
import type { Prisma } from '../generated/prisma/client';
import { normalizeLink } from '../domain/link';
import { readOrder } from '../domain/order-types';
import type { OrderRefusal } from '../domain/order-types';
import {
  OrderRequestError,
  buildOrderInput,
  requestFields,
  serviceTermsOf,
  startOrder,
  subscriptionLinkKey,
} from '../worker/order-client';
import type { OrderInput, PlacementResult } from '../workflows/order-contract';
import { orderWorkflowId } from '../workflows/order-contract';
import { PLACEMENT_UPDATE_ID, REJECT_MESSAGES } from '../workflows/order-messages';
import type { ApiDeps } from './app';
import { runPlacementChecks } from './placement-checks';
import type { AuthContext } from './auth';
import { ApiError } from './errors';
import type { PlaceOrderBody } from './schemas';
import { typeFieldsOf } from './schemas';
import { orderFromRecord, orderFromState, typeFieldsOfInput } from './views';

/** idempotency_records.response_status while no answer is stored yet (the placement is running). */
const NO_ANSWER_YET = 0;
const IDEMPOTENCY_UNIQUE = 'idempotency_records_user_id_key_key';

export const DEFAULT_PLACEMENT_TIMEOUT_MS = 30_000;

export interface Answer {
  status: number;
  body: unknown;
  /** true when the answer is a replay of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
  orderId?: number;
}

/** What a client sees for each refusal of the placement update (and of the fast checks). */
export function refusal(code: 'insufficient_funds' | 'link_busy' | 'user_blocked', holderOrderId?: number): ApiError {
  switch (code) {
    case 'insufficient_funds':
      return new ApiError(402, 'insufficient_funds', 'not enough funds', { rule: 'R-BALANCE' });
    case 'link_busy':
      return new ApiError(409, 'link_busy', `active order for this link: ${holderOrderId}`, {
        rule: 'R-ONE-ACTIVE-PER-LINK',
        field: 'link',
        holderOrderId,
      });
    case 'user_blocked':
      return new ApiError(403, 'user_blocked', 'this account is blocked and can place no orders', { rule: 'R-BLOCKED' });
  }
}

/** Same key + same content replays; the content is the validated body, in a fixed shape. */
export function requestHash(body: PlaceOrderBody): string {
  // A plain order hashes as it always did (stored keys stay valid); type fields are appended sorted.
  const fields = Object.entries(typeFieldsOf(body)).sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = JSON.stringify(['POST /orders', body.service, body.link, body.quantity, ...(fields.length > 0 ? [fields] : [])]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * A refusal of the type's fields (domain readOrder) as the API answers it: R-MINMAX as
 * quantity_out_of_range (with min, max and the counted value), a missing or malformed field 400,
 * anything else about the type 422 invalid_order. Each names its field and rule.
 */
export function orderRefusalError(refusal: OrderRefusal, serviceId: number): ApiError {
  const details = { field: refusal.field, rule: refusal.rule, serviceId };
  if (refusal.rule === 'R-MINMAX') {
    return new ApiError(422, 'quantity_out_of_range', refusal.message, { ...details, min: refusal.min, max: refusal.max, value: refusal.value });
  }
  if (refusal.status === 400) return new ApiError(400, 'invalid_request', refusal.message, details);
  return new ApiError(422, 'invalid_order', refusal.message, details);
}

export function createPlacement(deps: ApiDeps) {
  const { prisma, temporal, orders, logger } = deps;

  /** Update-with-start, mapped to an HTTP answer. */
  async function runPlacement(input: OrderInput, who: AuthContext): Promise<Answer> {
    let result: PlacementResult;
    const deadline = Date.now() + (deps.placementTimeoutMs ?? DEFAULT_PLACEMENT_TIMEOUT_MS);
    try {
      // update-with-start of `placement` on order-<id>, USE_EXISTING + REJECT_DUPLICATE.
      result = await temporal.withDeadline(deadline, () => startOrder(temporal, input));
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // The workflow already ran to its end (only a retry with an Idempotency-Key gets here).
        return answerForClosedOrder(input, who);
      }
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        // No worker answered in time: the order may still be placed (and debited) later.
        logger.warn({ err: error, orderId: input.orderId }, 'placement: no answer before the deadline');
        throw new ApiError(503, 'placement_pending', `order ${input.orderId} is still being placed; retry with the same Idempotency-Key or GET /orders/${input.orderId}`, {
          orderId: input.orderId,
        });
      }
      if (error instanceof ServiceError) {
        logger.error({ err: error, orderId: input.orderId }, 'placement: Temporal unavailable');
        throw new ApiError(503, 'placement_unavailable', `order ${input.orderId} could not be confirmed now; retry with the same Idempotency-Key or GET /orders/${input.orderId}`, {
          orderId: input.orderId,
        });
      }
      throw error;
    }
    return answerFor(result, who, input);
  }

  function answerFor(result: PlacementResult, who: AuthContext, input: OrderInput): Answer {
    const orderId = input.orderId;
    if (result.accepted) return { status: 201, body: { order: orderFromState(result.order, who.role, typeFieldsOfInput(input)) }, orderId };
    const error = refusal(result.code, result.holderOrderId);
    logger.info({ orderId, userId: who.userId, code: result.code, holderOrderId: result.holderOrderId }, 'placement refused');
    return { status: error.status, body: error.toBody(), orderId };
  }

  /**
   * The workflow is closed: ask Temporal for the placement update's outcome (kept with the
   * workflow); failing that, answer from the order row.
   */
  async function answerForClosedOrder(input: OrderInput, who: AuthContext): Promise<Answer> {
    const workflowId = orderWorkflowId(input.orderId);
    try {
      const update = temporal.workflow.getHandle(workflowId).getUpdateHandle<PlacementResult>(PLACEMENT_UPDATE_ID);
      return answerFor(await update.result(), who, input);
    } catch (error) {
      logger.warn({ err: error, orderId: input.orderId }, 'placement: closed workflow has no placement outcome; answering from the order row');
    }
    const row: OrderRecord | null = await orders.getOrder(input.orderId);
    if (row && row.status !== 'rejected') return { status: 201, body: { order: orderFromRecord(row, who.role) }, orderId: row.id };
    if (row) {
      // The reason is the text the workflow wrote (workflows/order-messages.ts REJECT_MESSAGES).
      const error = refusal(row.rejectReason === REJECT_MESSAGES.userBlocked ? 'user_blocked' : 'insufficient_funds');
      return { status: error.status, body: error.toBody(), orderId: row.id };
    }
    // No row: the order never got past its first activity, which refuses only for a busy link.
    const holder = await orders.findActiveOrderForLink(input.linkKey);
    const error = holder ? refusal('link_busy', holder.id) : new ApiError(409, 'placement_failed', `order ${input.orderId} was not placed; send a new request`);
    return { status: error.status, body: error.toBody(), orderId: input.orderId };
  }

  async function storeAnswer(recordId: number, answer: Answer): Promise<void> {
    await prisma.idempotencyRecord.update({
      where: { id: recordId },
      data: { responseStatus: answer.status, responseBody: answer.body as Prisma.InputJsonValue },
    });
  }

  /** A retry with a stored key: replay, or finish what the first request started. */
  async function replay(
    record: { id: number; requestHash: string; orderId: number | null; responseStatus: number; responseBody: unknown },
    hash: string,
    who: AuthContext,
  ): Promise<Answer> {
    if (record.requestHash !== hash) {
      throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used with a different request', {
        field: 'Idempotency-Key',
        rule: 'idempotency',
      });
    }
    if (record.responseStatus !== NO_ANSWER_YET) {
      return { status: record.responseStatus, body: record.responseBody, replayed: true, orderId: record.orderId ?? undefined };
    }
    const { input } = record.responseBody as { input: OrderInput };
    const answer = await runPlacement(input, who);
    await storeAnswer(record.id, answer);
    return { ...answer, replayed: true };
  }

  async function findRecord(userId: number, key: string) {
    return prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId, key } } });
  }

  /** A request with no stored key: fast checks, snapshot, record, update-with-start. */
  async function placeNew(who: AuthContext, body: PlaceOrderBody, idempotencyKey: string | undefined, hash: string): Promise<Answer> {
    const service = await prisma.service.findUnique({ where: { id: body.service } });
    if (!service) throw new ApiError(422, 'unknown_service', `service ${body.service} does not exist`, { field: 'service', rule: 'R-MINMAX' });
    // R-MINMAX: an inactive service takes no order.
    if (!service.active) throw new ApiError(422, 'quantity_out_of_range', 'service is inactive', { field: 'service', rule: 'R-MINMAX' });
    const terms = serviceTermsOf(service);
    if (!terms) {
      throw new ApiError(422, 'unsupported_service_type', `service ${service.id} has an unknown type ${service.type}`, { field: 'service', serviceType: service.type });
    }
    // The type's fields, R-MINMAX on what it counts, its charge (domain readOrder); nothing written yet.
    const request = { link: body.link, quantity: body.quantity, fields: typeFieldsOf(body) };
    const placedAt = (deps.now ?? Date.now)();
    const read = readOrder(terms, requestFields(request), placedAt);
    if (!read.ok) throw orderRefusalError(read, service.id);

    // R-BLOCKED: a blocked account places nothing (the workflow checks again).
    if (who.userStatus !== 'active') throw refusal('user_blocked');

    // R-ONE-ACTIVE-PER-LINK and R-BALANCE, fast paths, and the order's id, in one statement; the
    // workflow's first activity (link) and its debit (CHECK balance >= 0) decide under concurrency.
    const linkKey = read.order.link !== null ? normalizeLink(read.order.link) : subscriptionLinkKey(read.order.subscription!.username);
    const checks = await runPlacementChecks(prisma, { userId: who.userId, linkKey, charge: read.order.charge });
    if (!checks.ok) throw checks.refusal === 'link_busy' ? refusal('link_busy', checks.holderOrderId) : refusal('insufficient_funds');
    const orderId = checks.orderId;

    // R-PRICE-SNAPSHOT: the order's input, from the service as it is now, under that id.
    let input: OrderInput;
    try {
      input = await buildOrderInput(prisma, orderId, {
        userId: who.userId,
        serviceId: service.id,
        ...request,
        placedAt,
        idempotencyKey: idempotencyKey ?? null,
        requestHash: idempotencyKey !== undefined ? hash : null,
      }, service);
    } catch (error) {
      // The service changed between our check and the snapshot (deactivated, range narrowed).
      if (error instanceof OrderRequestError) throw new ApiError(422, 'service_changed', error.message, { field: 'service', rule: error.rule });
      throw error;
    }

    if (idempotencyKey === undefined) return runPlacement(input, who);

    let recordId: number;
    try {
      const record = await prisma.idempotencyRecord.create({
        data: {
          userId: who.userId,
          key: idempotencyKey,
          requestHash: hash,
          orderId,
          responseStatus: NO_ANSWER_YET,
          responseBody: { state: 'placing', input } as unknown as Prisma.InputJsonValue,
        },
      });
      recordId = record.id;
    } catch (error) {
      // A concurrent twin with the same key stored its record first: join it (our id is unused).
      if (!isConstraintViolation(error, PG_UNIQUE_VIOLATION, IDEMPOTENCY_UNIQUE)) throw error;
      const twin = await findRecord(who.userId, idempotencyKey);
      if (!twin) throw error;
      return replay(twin, hash, who);
    }
    const answer = await runPlacement(input, who);
    await storeAnswer(recordId, answer);
    return answer;
  }

  return {
    place: (who: AuthContext, body: PlaceOrderBody, idempotencyKey: string | undefined) =>
      countPlacement(() => place(who, body, idempotencyKey)),
  };

  async function place(who: AuthContext, body: PlaceOrderBody, idempotencyKey: string | undefined): Promise<Answer> {
    const hash = requestHash(body);
    if (idempotencyKey !== undefined) {
      const existing = await findRecord(who.userId, idempotencyKey);
      if (existing) return replay(existing, hash, who);
    }

    try {
      return await placeNew(who, body, idempotencyKey, hash);
    } catch (error) {
      // A refusal by a fast check may be our own twin's doing: a concurrent request with the same
      // key placed the order (link now busy, funds now spent). Its record was stored before its
      // order existed, so if the refusal saw the order, this lookup sees the record.
      if (idempotencyKey !== undefined && error instanceof ApiError && (error.status === 402 || error.status === 409)) {
        const twin = await findRecord(who.userId, idempotencyKey);
        if (twin) return replay(twin, hash, who);
      }
      throw error;
    }
  }
}

/** Counts each placement's outcome (accepted, or the refusal's code) once; replays are not counted. */
async function countPlacement(run: () => Promise<Answer>): Promise<Answer> {
  try {
    const answer = await run();
    if (!answer.replayed) {
      const code = (answer.body as { error?: { code?: string } }).error?.code;
      placements.inc({ outcome: answer.status === 201 ? 'accepted' : (code ?? String(answer.status)) });
    }
    return answer;
  } catch (error) {
    placements.inc({ outcome: error instanceof ApiError ? error.code : 'error' });
    throw error;
  }
}

export type Placement = ReturnType<typeof createPlacement>;
