// A stand-in for the Temporal client, for API tests that check the API's own logic (mapping,
// idempotency records, ownership) fast and without a worker. It plays the order workflow's part of
// the contract (workflows/order-contract.ts) over the real database: the order row with the
// reserved id (R-ONE-ACTIVE-PER-LINK by the partial unique index), the debit (R-BALANCE by the
// CHECK), the placement answer, cancel validation with domain/cancel-policy, refill validation with
// domain/refill-policy (an accepted refill is a refills row, never sent anywhere), the state query.
// The end-to-end tests (orders-e2e.test.ts) run the same routes against the real workflow.
import { orderRowOf } from '../../../activities/order-activities';
import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { Ledger } from '../../../activities/ledger';
import type { OrderRecord, OrderRecords } from '../../../activities/order-records';
import { decideCancel } from '../../../domain/cancel-policy';
import { decideRefill } from '../../../domain/refill-policy';
import type { PrismaClient } from '../../../generated/prisma/client';
import { guaranteeOf } from '../../../worker/order-client';
import type { CancelRequest, CancelResult, OrderInput, OrderState, PlacementResult, RefillRequest, RefillResult } from '../../../workflows/order-contract';

export interface FakeCall {
  update: string;
  updateId?: string;
  workflowId: string;
  options?: Record<string, unknown>;
  args: unknown[];
}

export interface FakeTemporal {
  client: Client;
  calls: FakeCall[];
  /** Workflow ids that ran, with their input. */
  started: Map<string, OrderInput>;
  /** Close a workflow (as if it finished): later starts get ALREADY_EXISTS, updates NOT_FOUND. */
  close(workflowId: string): void;
  /** Called before the debit, e.g. to drain the balance so the debit is refused. */
  beforeDebit?: (input: OrderInput) => Promise<void>;
  /** Called when update-with-start arrives, before anything else. */
  onUpdateWithStart?: (input: OrderInput) => Promise<void>;
}

const nameOf = (def: string | { name: string }) => (typeof def === 'string' ? def : def.name);

export function stateOf(o: OrderRecord): OrderState {
  return {
    orderId: o.id,
    userId: o.userId,
    serviceId: o.serviceId,
    providerId: o.providerId,
    link: o.link,
    quantity: o.quantity,
    rate: o.rate,
    charge: o.charge,
    guarantee: guaranteeOf(o.refillKind, o.refillDays),
    cancelable: o.cancelable,
    status: o.status,
    flags: { overdue: o.overdue, stalled: o.stalled, cancelRequested: o.cancelRequested, refillFailed: false },
    providerOrderId: o.providerOrderId,
    startCount: o.startCount,
    remains: o.remains,
    refunded: o.refunded,
    refunds: [],
    rejectReason: o.rejectReason,
    lastProviderAnswer: o.lastProviderAnswer,
    timestamps: {
      placedAt: Date.parse(o.createdAt),
      paidAt: null,
      dispatchedAt: null,
      startedAt: o.startedAt ? Date.parse(o.startedAt) : null,
      finishedAt: o.finishedAt ? Date.parse(o.finishedAt) : null,
    },
  };
}

export function fakeTemporal(deps: { ledger: Ledger; orders: OrderRecords; prisma?: PrismaClient }): FakeTemporal {
  const { ledger, orders } = deps;
  const placements = new Map<string, Promise<PlacementResult>>();
  const closed = new Set<string>();
  const calls: FakeCall[] = [];
  const started = new Map<string, OrderInput>();

  const fake: FakeTemporal = { client: undefined as unknown as Client, calls, started, close: (id) => void closed.add(id) };

  async function runPlacement(workflowId: string, input: OrderInput): Promise<PlacementResult> {
    const created = await orders.createOrder(orderRowOf(input, workflowId));
    if (!created.ok) {
      closed.add(workflowId);
      return { accepted: false, code: 'link_busy', message: `active order for this link: ${created.holderOrderId}`, holderOrderId: created.holderOrderId };
    }
    await fake.beforeDebit?.(input);
    const debit = await ledger.debitForOrder({ orderId: input.orderId, userId: input.userId, amount: input.charge, idempotencyKey: `${workflowId}:debit` });
    if (!debit.ok) {
      await orders.updateOrderMirror(input.orderId, { status: 'rejected', rejectReason: 'not enough funds' });
      closed.add(workflowId);
      return { accepted: false, code: 'insufficient_funds', message: 'not enough funds' };
    }
    const { order } = await orders.updateOrderMirror(input.orderId, { status: 'pending' });
    return { accepted: true, order: stateOf(order) };
  }

  async function cancel(workflowId: string, request: CancelRequest): Promise<CancelResult> {
    const order = await orders.getOrderByWorkflowId(workflowId);
    if (!order) throw new WorkflowNotFoundError('workflow not found', workflowId, undefined);
    const decision = decideCancel({
      status: order.status,
      placedAt: Date.parse(order.createdAt),
      startedAt: order.startedAt ? Date.parse(order.startedAt) : null,
      now: Date.now(),
      serviceCancelable: order.cancelable,
      suspended: false,
      cancelRequested: order.cancelRequested,
    });
    if (!decision.allowed) {
      const refused: CancelResult = { accepted: false, rule: decision.rule, reason: decision.reason };
      throw new WorkflowUpdateFailedError(
        'Workflow Update failed',
        ApplicationFailure.create({ type: 'CancelRefused', message: decision.reason, details: [refused], nonRetryable: true }),
      );
    }
    await orders.updateOrderMirror(order.id, { cancelRequested: true });
    void request;
    return { accepted: true, rule: decision.rule, message: 'the provider is asked to cancel; the refund follows its answer' };
  }

  async function refill(workflowId: string, request: RefillRequest): Promise<RefillResult> {
    const order = await orders.getOrderByWorkflowId(workflowId);
    if (!order) throw new WorkflowNotFoundError('workflow not found', workflowId, undefined);
    const placedAt = Date.parse(order.createdAt);
    const decision = decideRefill({
      status: order.status,
      guarantee: guaranteeOf(order.refillKind, order.refillDays),
      placedAt,
      completedAt: order.finishedAt ? Date.parse(order.finishedAt) : order.status === 'completed' ? placedAt : null,
      lastRefillCompletedAt: null,
      refillInFlight: false,
      voided: false,
      now: Date.now(),
    });
    if (!decision.accepted) {
      const refused: RefillResult = { accepted: false, rule: decision.rule, reason: decision.reason };
      throw new WorkflowUpdateFailedError(
        'Workflow Update failed',
        ApplicationFailure.create({ type: 'RefillRefused', message: decision.reason, details: [refused], nonRetryable: true }),
      );
    }
    if (!deps.prisma) throw new Error('fakeTemporal: accepted refills need deps.prisma');
    const row = await deps.prisma.refill.upsert({
      where: { orderId_requestId: { orderId: order.id, requestId: request.requestId } },
      create: { orderId: order.id, requestId: request.requestId, requestedBy: request.requestedBy as object, sendAttempt: 1 },
      update: {},
    });
    const at = row.createdAt.getTime();
    return {
      accepted: true,
      refill: {
        refillId: row.id, requestId: row.requestId, requestedBy: request.requestedBy, status: 'pending', providerRefillId: null,
        reason: null, attempts: 1, counts: null, requestedAt: at, updatedAt: at, completedAt: null,
      },
    };
  }

  const workflow = {
    async executeUpdateWithStart(updateDef: string | { name: string }, options: { updateId?: string; args?: unknown[]; startWorkflowOperation: WithStartWorkflowOperation<never> }) {
      const update = nameOf(updateDef);
      const op = options.startWorkflowOperation;
      const workflowId = op.options.workflowId;
      const input = (op.options.args as unknown[])[0] as OrderInput;
      calls.push({ update, updateId: options.updateId, workflowId, options: { ...op.options, workflowType: op.workflowTypeOrFunc }, args: options.args ?? [] });
      await fake.onUpdateWithStart?.(input);
      if (closed.has(workflowId)) throw new WorkflowExecutionAlreadyStartedError('Workflow execution already started', workflowId, 'orderWorkflow');
      let placement = placements.get(workflowId);
      if (!placement) {
        started.set(workflowId, input);
        placement = runPlacement(workflowId, input);
        placements.set(workflowId, placement);
      }
      return placement;
    },
    getHandle(workflowId: string) {
      return {
        async query(queryDef: string | { name: string }) {
          const name = nameOf(queryDef);
          calls.push({ update: `query:${name}`, workflowId, args: [] });
          const order = await orders.getOrderByWorkflowId(workflowId);
          if (!order) throw new WorkflowNotFoundError('workflow not found', workflowId, undefined);
          return stateOf(order);
        },
        async executeUpdate(updateDef: string | { name: string }, options: { args: [CancelRequest | RefillRequest]; updateId?: string }) {
          const name = nameOf(updateDef);
          calls.push({ update: name, updateId: options.updateId, workflowId, args: options.args });
          if (closed.has(workflowId) || !placements.has(workflowId)) throw new WorkflowNotFoundError('workflow execution already completed', workflowId, undefined);
          if (name === 'refill') return refill(workflowId, options.args[0] as RefillRequest);
          return cancel(workflowId, options.args[0] as CancelRequest);
        },
        getUpdateHandle(updateId: string) {
          return {
            async result() {
              const placement = placements.get(workflowId);
              if (updateId !== 'placement' || !placement) throw new WorkflowNotFoundError('update not found', workflowId, undefined);
              return placement;
            },
          };
        },
      };
    },
  };

  fake.client = { workflow, withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() } as unknown as Client;
  return fake;
}
