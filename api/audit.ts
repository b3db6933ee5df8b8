// Who did what: every staff action is one audit_records row, with the acting key.
// A retried request (same requestId, e.g. the ledger idempotency key) writes one record.
import type { Prisma, PrismaClient } from '../generated/prisma/client';
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

export async function audit(prisma: PrismaClient, who: AuthContext, entry: AuditEntry): Promise<void> {
  try {
    await prisma.auditRecord.create({
      data: {
        actorUserId: who.userId,
        apiKeyId: who.apiKeyId,
        action: entry.action,
        targetUserId: entry.targetUserId ?? null,
        orderId: entry.orderId ?? null,
        reason: entry.reason ?? null,
        before: entry.before === undefined ? undefined : (entry.before as Prisma.InputJsonValue),
        after: entry.after === undefined ? undefined : (entry.after as Prisma.InputJsonValue),
        requestId: entry.requestId ?? null,
      },
    });
  } catch (error) {
    if (!isConstraintViolation(error, PG_UNIQUE_VIOLATION, 'audit_records_request_id_key')) throw error;
  }
}
