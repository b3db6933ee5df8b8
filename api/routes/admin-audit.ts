// GET /admin/audit (role admin): the audit trail (api/audit.ts), newest first, filtered by who
// (actorUserId, apiKeyId), what (action, one or several), which order or account (orderId,
// targetUserId) and when (from inclusive, to exclusive); keyset paging on id like GET /orders.
import { Router } from 'express';
import type { Prisma } from '../../generated/prisma/client';
import type { ApiDeps } from '../app';
import { auditView } from '../audit';
import { auditQuery, parseOr400 } from '../schemas';

export function adminAuditRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parseOr400(auditQuery, req.query, 'query');
    const limit = q.limit ?? 50;
    const where: Prisma.AuditRecordWhereInput = {};
    if (q.actorUserId !== undefined) where.actorUserId = q.actorUserId;
    if (q.apiKeyId !== undefined) where.apiKeyId = q.apiKeyId;
    if (q.action !== undefined) where.action = { in: q.action };
    if (q.orderId !== undefined) where.orderId = q.orderId;
    if (q.targetUserId !== undefined) where.targetUserId = q.targetUserId;
    if (q.from !== undefined || q.to !== undefined) {
      where.createdAt = { ...(q.from !== undefined ? { gte: q.from } : {}), ...(q.to !== undefined ? { lt: q.to } : {}) };
    }
    if (q.cursor !== undefined) where.id = { lt: q.cursor };
    const rows = await prisma.auditRecord.findMany({ where, orderBy: { id: 'desc' }, take: limit + 1 });
    const page = rows.slice(0, limit);
    res.json({ records: page.map(auditView), nextCursor: rows.length > limit ? page[page.length - 1].id : null });
  });

  return router;
}
