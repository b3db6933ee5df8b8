// Who did what: every staff action is one audit_records row, with the acting key.
// A retried request (same requestId, e.g. the ledger idempotency key) writes one record: the
// column is unique, so the second insert is refused and the first record stands.
import type { AuditRecord, Prisma, PrismaClient } from '../generated/prisma/client';
import { PG_UNIQUE_VIOLATION, isConstraintViolation } from '../db/errors';
import type { AuthContext } from './auth';

export interface AuditEntry {
  action: string;
  targetUserId?: number;
  orderId?: number;
  reason?: string;
  before?: unknown;
  after?: unknown;
  requestId?: string;
}

/** The unique index that makes a request id write one record. */
export const AUDIT_REQUEST_UNIQUE = 'audit_records_request_id_key';

type Db = PrismaClient | Prisma.TransactionClient;

function auditData(who: AuthContext, entry: AuditEntry): Prisma.AuditRecordUncheckedCreateInput {
  return {
    actorUserId: who.userId,
    apiKeyId: who.apiKeyId,
    action: entry.action,
    targetUserId: entry.targetUserId ?? null,
    orderId: entry.orderId ?? null,
    reason: entry.reason ?? null,
    before: entry.before === undefined ? undefined : (entry.before as Prisma.InputJsonValue),
    after: entry.after === undefined ? undefined : (entry.after as Prisma.InputJsonValue),
    requestId: entry.requestId ?? null,
  };
}

/** Writes the record unless its requestId already wrote one (then nothing happens). */
export async function audit(prisma: PrismaClient, who: AuthContext, entry: AuditEntry): Promise<void> {
  try {
    await prisma.auditRecord.create({ data: auditData(who, entry) });
  } catch (error) {
    if (!isConstraintViolation(error, PG_UNIQUE_VIOLATION, AUDIT_REQUEST_UNIQUE)) throw error;
  }
}

/**
 * Writes the record inside the caller's transaction, so the change and its record commit together.
 * A concurrent twin with the same requestId makes this insert fail (and the transaction with it):
 * the caller then replays the winner's record (findAudit).
 */
export async function auditInTransaction(tx: Prisma.TransactionClient, who: AuthContext, entry: AuditEntry): Promise<AuditRecord> {
  return tx.auditRecord.create({ data: auditData(who, entry) });
}

/**
 * Writes the record, or finds the one its requestId already wrote (a retry, or a concurrent twin
 * that got there first): `replayed` says which.
 */
export async function auditOnce(prisma: PrismaClient, who: AuthContext, entry: AuditEntry & { requestId: string }): Promise<{ record: AuditRecord; replayed: boolean }> {
  try {
    return { record: await prisma.auditRecord.create({ data: auditData(who, entry) }), replayed: false };
  } catch (error) {
    if (!isAuditReplay(error)) throw error;
    const winner = await findAudit(prisma, entry.requestId);
    if (!winner) throw error;
    return { record: winner, replayed: true };
  }
}

/** The record a request id wrote, if any. */
export async function findAudit(db: Db, requestId: string): Promise<AuditRecord | null> {
  return db.auditRecord.findUnique({ where: { requestId } });
}

export function isAuditReplay(error: unknown): boolean {
  return isConstraintViolation(error, PG_UNIQUE_VIOLATION, AUDIT_REQUEST_UNIQUE);
}

/** An audit record as GET /admin/audit answers it. */
export function auditView(r: AuditRecord) {
  return {
    id: r.id,
    actorUserId: r.actorUserId,
    apiKeyId: r.apiKeyId,
    action: r.action,
    orderId: r.orderId,
    targetUserId: r.targetUserId,
    reason: r.reason,
    before: r.before ?? null,
    after: r.after ?? null,
    requestId: r.requestId,
    createdAt: r.createdAt.toISOString(),
  };
}
