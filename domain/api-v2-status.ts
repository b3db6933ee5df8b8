import type { OrderFlags, OrderStatus } from './order-status';

/** The six order statuses of the SMM API v2 (what panels and resellers poll). */
export type ApiV2Status = 'Pending' | 'In progress' | 'Processing' | 'Completed' | 'Partial' | 'Canceled';

export interface ApiV2StatusRow {
  status: OrderStatus;
  /** The row applies when the order's cancelRequested flag has this value. */
  cancelRequested: boolean;
  api: ApiV2Status;
  why: string;
}

/**
 * Engine status (+ cancelRequested) -> API v2 status. One row per case, each with its
 * reason. Flags other than cancelRequested never change the API status: overdue and
 * stalled are shown in the order's status detail (R-START-WINDOW), refillFailed belongs
 * to the refill's own status. Resellers treat Pending, In progress and Processing alike
 * ("keep polling"); only the final three end their bookkeeping, so a non-final engine
 * status must never map to a final API status.
 */
export const API_V2_STATUS_TABLE: readonly ApiV2StatusRow[] = [
  { status: 'new', cancelRequested: false, api: 'Pending',
    why: 'accepted, payment being taken: to the client it is simply waiting' },
  { status: 'new', cancelRequested: true, api: 'Pending',
    why: 'a cancel cannot be requested before payment; shown as waiting' },
  { status: 'pending', cancelRequested: false, api: 'Pending',
    why: 'paid, dispatched or waiting for the provider to start' },
  { status: 'pending', cancelRequested: true, api: 'Processing',
    why: 'the provider is being asked to cancel: the order is winding down, the final status follows' },
  { status: 'dispatch_uncertain', cancelRequested: false, api: 'Pending',
    why: 'our uncertainty about the provider is internal; the client sees a not-yet-started order' },
  { status: 'dispatch_uncertain', cancelRequested: true, api: 'Processing',
    why: 'a cancel (by support) is being carried out; the final status follows' },
  { status: 'in_progress', cancelRequested: false, api: 'In progress',
    why: 'the provider started delivering' },
  { status: 'in_progress', cancelRequested: true, api: 'Processing',
    why: 'the provider is being asked to cancel: it will end Canceled or Partial (or Completed)' },
  { status: 'completed', cancelRequested: false, api: 'Completed', why: 'final' },
  { status: 'completed', cancelRequested: true, api: 'Completed',
    why: 'final: a late cancel request changes nothing (R-NO-REFUND-DONE)' },
  { status: 'partial', cancelRequested: false, api: 'Partial', why: 'final' },
  { status: 'partial', cancelRequested: true, api: 'Partial', why: 'final: the flag is history' },
  { status: 'canceled', cancelRequested: false, api: 'Canceled', why: 'final' },
  { status: 'canceled', cancelRequested: true, api: 'Canceled', why: 'final: the cancel happened' },
  { status: 'rejected', cancelRequested: false, api: 'Canceled',
    why: 'payment refused: API v2 has no "rejected"; Canceled tells the client it will never run and nothing is owed' },
  { status: 'rejected', cancelRequested: true, api: 'Canceled', why: 'as above' },
];

/** The API v2 status of an engine order (looked up in API_V2_STATUS_TABLE). */
export function toApiV2Status(status: OrderStatus, flags: Pick<OrderFlags, 'cancelRequested'>): ApiV2Status {
  const row = API_V2_STATUS_TABLE.find((r) => r.status === status && r.cancelRequested === Boolean(flags.cancelRequested));
  if (!row) throw new RangeError(`unknown order status: ${String(status)}`);
  return row.api;
}
