// /admin/users: accounts, API keys and money moved by staff (role admin).
// Money moves only through the ledger (activities/ledger.ts), each operation once per key:
// - top-ups once per payment reference (R-BALANCE): the same reference again answers 200 with the
//   same entry; the same reference with another amount or user is 409;
// - withdrawals (R-WITHDRAW), chargebacks (R-CHARGEBACK) and corrections once per Idempotency-Key
//   when the caller sends one (without it, each call is a new operation).
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request } from 'express';
import { LedgerConflictError, topUpKey } from '../../activities/ledger';
import { PG_UNIQUE_VIOLATION, isConstraintViolation } from '../../db/errors';
import { isZeroMoney, subMoney } from '../../domain/money';
import type { ApiDeps } from '../app';
import { audit } from '../audit';
import { caller, generateApiKey } from '../auth';
import { ApiError, notFound } from '../errors';
import {
  chargebackBody,
  correctionBody,
  createApiKeyBody,
  createUserBody,
  idempotencyKeyOf,
  parseOr400,
  topUpBody,
  userIdParam,
  withdrawalBody,
} from '../schemas';
import { userView } from '../views';

const conflict = (what: string) =>
  new ApiError(409, 'idempotency_conflict', `${what} was already used for a different operation`, { rule: 'idempotency' });

const negateMoney = (amount: string) => subMoney('0', amount);

export function adminUsersRouter(deps: ApiDeps): Router {
  const { prisma, ledger } = deps;
  const router = Router();

  async function targetUser(req: Request) {
    const parsed = userIdParam.safeParse(req.params.id);
    if (!parsed.success) throw notFound('user');
    const user = await prisma.user.findUnique({ where: { id: parsed.data } });
    if (!user) throw notFound('user');
    return user;
  }

  /** Ledger key for an operation: the client's Idempotency-Key, scoped to operation and user. */
  function operationKey(req: Request, kind: string, userId: number): string {
    const key = idempotencyKeyOf(req);
    return `${kind}:${userId}:${key ?? randomUUID()}`;
  }

  router.post('/', async (req, res) => {
    const body = parseOr400(createUserBody, req.body ?? {});
    try {
      const user = await prisma.user.create({ data: { name: body.name, email: body.email ?? null } });
      await audit(prisma, caller(req), { action: 'user.create', targetUserId: user.id, after: { name: user.name, email: user.email } });
      res.status(201).location(`/admin/users/${user.id}`).json({ user: userView(user) });
    } catch (error) {
      if (isConstraintViolation(error, PG_UNIQUE_VIOLATION, 'users_email_key')) {
        throw new ApiError(409, 'email_taken', 'a user with this email already exists', { field: 'email', rule: 'unique' });
      }
      throw error;
    }
  });

  router.get('/:id', async (req, res) => {
    res.json({ user: userView(await targetUser(req)) });
  });

  router.post('/:id/api-keys', async (req, res) => {
    const user = await targetUser(req);
    const body = parseOr400(createApiKeyBody, req.body ?? {});
    const { key, keyHash, keyPrefix } = generateApiKey();
    const row = await prisma.apiKey.create({ data: { userId: user.id, keyHash, keyPrefix, role: body.role, label: body.label } });
    await audit(prisma, caller(req), { action: 'api_key.create', targetUserId: user.id, after: { apiKeyId: row.id, role: row.role, keyPrefix } });
    // The clear key is in this answer only; the database keeps its sha256.
    res.status(201).json({
      apiKey: { id: row.id, userId: user.id, key, keyPrefix, role: row.role, label: row.label, createdAt: row.createdAt.toISOString() },
    });
  });

  router.post('/:id/top-ups', async (req, res) => {
    const user = await targetUser(req);
    const body = parseOr400(topUpBody, req.body ?? {});
    const idempotencyKey = topUpKey(body.paymentReference);
    let posted;
    try {
      posted = await ledger.credit({ userId: user.id, amount: body.amount, kind: 'topup', idempotencyKey, reference: body.paymentReference });
    } catch (error) {
      if (error instanceof LedgerConflictError) throw conflict(`payment reference ${JSON.stringify(body.paymentReference)}`);
      throw error;
    }
    await audit(prisma, caller(req), { action: 'ledger.topup', targetUserId: user.id, requestId: idempotencyKey, after: posted.entry });
    res.status(posted.replayed ? 200 : 201).json({ entry: posted.entry, replayed: posted.replayed, balance: await ledger.balanceOf(user.id) });
  });

  router.post('/:id/withdrawals', async (req, res) => {
    const user = await targetUser(req);
    const body = parseOr400(withdrawalBody, req.body ?? {});
    const idempotencyKey = operationKey(req, 'withdrawal', user.id);
    let result;
    try {
      result = await ledger.withdraw({ userId: user.id, amount: body.amount, panelAtFault: body.panelAtFault, reason: body.reason, idempotencyKey });
    } catch (error) {
      if (error instanceof LedgerConflictError) throw conflict('this Idempotency-Key');
      if (error instanceof RangeError) throw new ApiError(422, 'amount_too_small', error.message, { field: 'amount', rule: 'R-WITHDRAW' });
      throw error;
    }
    if (!result.ok) throw new ApiError(402, 'insufficient_funds', 'not enough funds', { field: 'amount', rule: 'R-BALANCE' });
    await audit(prisma, caller(req), { action: 'ledger.withdrawal', targetUserId: user.id, reason: body.reason, requestId: idempotencyKey, after: result.entries });
    res.status(result.replayed ? 200 : 201).json({
      payout: result.payout,
      fee: result.fee,
      rule: 'R-WITHDRAW',
      entries: result.entries,
      replayed: result.replayed,
      balance: await ledger.balanceOf(user.id),
    });
  });

  // A manual balance correction (+ credit, - debit) with a reason: one ledger entry of kind
  // 'correction', once per Idempotency-Key. Admin only: a positive correction credits money, and
  // support credits none (issue 6: "support cannot ... credit top-ups").
  router.post('/:id/corrections', async (req, res) => {
    const user = await targetUser(req);
    const body = parseOr400(correctionBody, req.body ?? {});
    const idempotencyKey = operationKey(req, 'correction', user.id);
    let result;
    try {
      result = await ledger.correction({ userId: user.id, amount: body.amount, reason: body.reason, idempotencyKey });
    } catch (error) {
      if (error instanceof LedgerConflictError) throw conflict('this Idempotency-Key');
      throw error;
    }
    if (!result.ok) {
      throw new ApiError(402, 'insufficient_funds', 'the balance does not cover this correction', { field: 'amount', rule: 'R-BALANCE' });
    }
    const { entry } = result;
    await audit(prisma, caller(req), {
      action: 'ledger.correction',
      targetUserId: user.id,
      reason: body.reason,
      before: { balance: subMoney(entry.balanceAfter, entry.amount) },
      after: { entry, balance: entry.balanceAfter },
      requestId: idempotencyKey,
    });
    res.status(result.replayed ? 200 : 201).json({ entry, replayed: result.replayed, balance: await ledger.balanceOf(user.id) });
  });

  router.post('/:id/chargebacks', async (req, res) => {
    const user = await targetUser(req);
    const body = parseOr400(chargebackBody, req.body ?? {});
    const idempotencyKey = operationKey(req, 'chargeback', user.id);
    // Without an amount the chargeback takes what the balance holds now (a retry: what it took then).
    const earlier = body.amount === undefined ? await ledger.entryByKey(idempotencyKey) : undefined;
    const amount = body.amount ?? (earlier ? negateMoney(earlier.amount) : await ledger.balanceOf(user.id));
    if (isZeroMoney(amount)) {
      throw new ApiError(422, 'nothing_to_charge_back', 'the balance is zero: give the amount to charge back', { field: 'amount', rule: 'R-CHARGEBACK' });
    }
    let result;
    try {
      result = await ledger.chargeback({ userId: user.id, amount: negateMoney(amount), reason: body.reason, idempotencyKey });
    } catch (error) {
      if (error instanceof LedgerConflictError) throw conflict('this Idempotency-Key');
      throw error;
    }
    if (!result.ok) {
      throw new ApiError(402, 'insufficient_funds', 'the balance does not cover this chargeback; cancel the open orders first', {
        field: 'amount',
        rule: 'R-CHARGEBACK',
      });
    }
    await audit(prisma, caller(req), { action: 'ledger.chargeback', targetUserId: user.id, reason: body.reason, requestId: idempotencyKey, after: result.entry });
    res.status(result.replayed ? 200 : 201).json({ entry: result.entry, rule: 'R-CHARGEBACK', replayed: result.replayed, balance: await ledger.balanceOf(user.id) });
  });

  return router;
}
