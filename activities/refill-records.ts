// Refill rows: the read model of refills (issue "Refill guarantees"). Each order's workflow is the
// source of truth for its refills; the `refills` table mirrors them for listing (REST, API v2
// refill_status) and for the provider sync, which follows the ones in flight. The refill activity
// creates a row (unique per order and request id) before it sends anything to the provider.
import type { PrismaClient } from '../generated/prisma/client';
import type { Refill as RefillRow } from '../generated/prisma/client';
import type { RefillRequester, RefillStatus } from '../workflows/order-contract';

/** A refill row, JSON-safe (times as ISO-8601 UTC). */
export interface RefillRecordRow {
  id: number;
  orderId: number;
  providerRefillId: string | null;
  status: RefillStatus;
  requestedBy: RefillRequester;
  requestId: string;
  reason: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** A drip-feed's refill: the provider refill of each run order (its parts' rows); absent otherwise. */
  parts?: RefillPartRow[];
}

export interface RefillPartRow {
  id: number;
  runIndex: number;
  providerRefillId: string | null;
  status: RefillStatus;
  reason: string | null;
}

/** What the workflow's mirror writes to a refill row. */
export interface RefillMirrorPatch {
  status?: RefillStatus;
  providerRefillId?: string | null;
  reason?: string | null;
  /** Epoch ms, or null. */
  completedAt?: number | null;
}

/** Statuses in which a refill is still with the provider (the sync follows them). */
export const REFILL_IN_FLIGHT: readonly RefillStatus[] = ['pending', 'in_progress'];

export function refillFromRow(row: RefillRow & { parts?: RefillRow[] }): RefillRecordRow {
  return {
    ...(row.parts && row.parts.length > 0
      ? { parts: row.parts.map((p) => ({ id: p.id, runIndex: p.runIndex ?? 0, providerRefillId: p.providerRefillId, status: p.status as RefillStatus, reason: p.reason })) }
      : {}),
    id: row.id,
    orderId: row.orderId,
    providerRefillId: row.providerRefillId,
    status: row.status as RefillStatus,
    requestedBy: row.requestedBy as unknown as RefillRequester,
    requestId: row.requestId,
    reason: row.reason,
    attempts: row.sendAttempt,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt ? row.completedAt.toISOString() : null,
  };
}

export interface RefillRecords {
  /** An order's refills, oldest first. */
  listForOrder(orderId: number): Promise<RefillRecordRow[]>;
  get(refillId: number): Promise<RefillRecordRow | null>;
  /** R-REFILL-COOLDOWN from the rows: when the order's last refill completed (null: never). */
  lastCompletedAt(orderId: number): Promise<Date | null>;
  /** The mirror: applies the workflow's patch (a status never moves back from a final one). */
  mirror(refillId: number, patch: RefillMirrorPatch): Promise<{ applied: boolean }>;
}

export function createRefillRecords(prisma: PrismaClient): RefillRecords {
  return {
    async listForOrder(orderId) {
      // A drip-feed refill's parts are shown within it, not as refills of their own.
      const rows = await prisma.refill.findMany({ where: { orderId, parentRefillId: null }, orderBy: { id: 'asc' }, include: { parts: { orderBy: { runIndex: 'asc' } } } });
      return rows.map(refillFromRow);
    },
    async get(refillId) {
      if (!Number.isSafeInteger(refillId) || refillId <= 0 || refillId > 2_147_483_647) return null;
      const row = await prisma.refill.findUnique({ where: { id: refillId }, include: { parts: { orderBy: { runIndex: 'asc' } } } });
      // A part (one run order's provider refill) is reached through its refill.
      return row && row.parentRefillId === null ? refillFromRow(row) : null;
    },
    async lastCompletedAt(orderId) {
      const row = await prisma.refill.findFirst({
        where: { orderId, status: 'completed' },
        orderBy: { completedAt: 'desc' },
        select: { completedAt: true },
      });
      return row?.completedAt ?? null;
    },
    async mirror(refillId, patch) {
      const data: Record<string, unknown> = {};
      if (patch.status !== undefined) data.status = patch.status;
      if (patch.providerRefillId !== undefined) data.providerRefillId = patch.providerRefillId;
      if (patch.reason !== undefined) data.reason = patch.reason;
      if (patch.completedAt !== undefined) data.completedAt = patch.completedAt === null ? null : new Date(patch.completedAt);
      if (Object.keys(data).length === 0) return { applied: false };
      // A completed refill stays completed: a late retry of an older patch changes nothing.
      const result = await prisma.refill.updateMany({ where: { id: refillId, NOT: { status: 'completed' } }, data });
      return { applied: result.count > 0 };
    },
  };
}
