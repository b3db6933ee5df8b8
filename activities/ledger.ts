// The ledger: every change of a user's balance is one append-only ledger entry, written in the same
// database transaction as the balance change, exactly once per idempotency key.
//
// Model (TigerBeetle style: double-entry thinking, idempotency keys, append-only):
// - The caller chooses each entry's idempotency key (e.g. `<workflowId>:debit`, `topup:<reference>`).
//   The same key again returns the existing entry as success (`replayed: true`); the same key with
//   different content (user, amount, kind, order) throws LedgerConflictError.
// - R-BALANCE: the database refuses a negative balance (CHECK users_balance_non_negative). A debit
//   is a single `UPDATE users SET balance = balance + $amount ... RETURNING balance`; under
//   concurrency the CHECK decides, never a read-modify-write in application code.
// - R-PARTIAL / R-CANCEL-FULL: refunds raise orders.refunded in the same transaction; the database
//   refuses refunds above the charge (CHECK orders_refunded_within_charge).
// - Entries are never updated or deleted (a trigger refuses it); mistakes get correcting entries.
// - Money is decimal strings in and out (5 decimals), never JS numbers.
//
// Every method is safe to call from a Temporal activity that may be retried.
import Decimal from 'decimal.js';
import type { PrismaClient } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import { PG_CHECK_VIOLATION, PG_UNIQUE_VIOLATION, isConstraintViolation } from '../db/errors';
import { Dec, MONEY_SCALE, formatMoney, money, roundRefund } from '../domain/money';
import type { MoneyInput } from '../domain/money';

export type { MoneyInput } from '../domain/money';

export type LedgerKind =
  | 'topup'
  | 'order_debit'
  | 'refund'
  | 'withdrawal'
  | 'withdrawal_fee'
  | 'chargeback'
  | 'correction';

/** A ledger entry as the engine sees it: JSON-safe (activity results cross Temporal as JSON). */
export interface LedgerEntryView {
  /** BigInt id as a decimal string. */
  id: string;
  userId: number;
  /** Signed: + credit, - debit. 5 decimals. */
  amount: string;
  kind: LedgerKind;
  orderId: number | null;
  idempotencyKey: string;
  reference: string | null;
  reason: string | null;
  /** The user's balance right after this entry. */
  balanceAfter: string;
  /** ISO-8601 UTC. */
  createdAt: string;
}

export interface Posted {
  ok: true;
  entry: LedgerEntryView;
  /** true when the key was already posted and the existing entry is returned. */
  replayed: boolean;
}

export interface InsufficientFunds {
  ok: false;
  reason: 'insufficient_funds';
}

export interface WithdrawalPosted {
  ok: true;
  /** What the user receives. */
  payout: string;
  /** R-WITHDRAW commission kept by the panel ("0.00000" when the panel was at fault). */
  fee: string;
  /** The 'withdrawal' entry, then the 'withdrawal_fee' entry when there is a fee. */
  entries: LedgerEntryView[];
  replayed: boolean;
}

/** Same idempotency key, different content: a bug in the caller, never retried into success. */
export class LedgerConflictError extends Error {
  constructor(
    readonly idempotencyKey: string,
    readonly existing: LedgerEntryView[],
    readonly attempted: Array<{ userId?: number; amount: string; kind: LedgerKind; orderId: number | null; idempotencyKey: string }>,
  ) {
    super(
      `ledger idempotency key ${JSON.stringify(idempotencyKey)} was already used for different content: ` +
        `existing ${JSON.stringify(existing.map(summary))}, attempted ${JSON.stringify(attempted)}`,
    );
    this.name = 'LedgerConflictError';
  }
}

/** R-PARTIAL: a refund would take an order's refunds above its charge (or above what was paid). */
export class RefundExceedsChargeError extends Error {
  constructor(
    readonly orderId: number,
    readonly amount: string,
    detail: string,
  ) {
    super(`refund of ${amount} for order ${orderId} refused: ${detail}`);
    this.name = 'RefundExceedsChargeError';
  }
}

/** Unknown user or order, or an order that is not the user's: a caller bug. */
export class LedgerReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerReferenceError';
  }
}

/** The idempotency key that makes a top-up count once per payment reference (R-BALANCE). */
export function topUpKey(reference: string): string {
  return `topup:${reference}`;
}

export interface CreditInput {
  userId: number;
  amount: MoneyInput;
  /** Positive entries only; refunds go through refundOrder. */
  kind: 'topup' | 'correction';
  /** For a top-up it must be topUpKey(reference). */
  idempotencyKey: string;
  /** Payment reference; required for a top-up. */
  reference?: string;
  reason?: string;
}

export interface DebitForOrderInput {
  orderId: number;
  userId: number;
  /** The (positive) amount to take from the balance, normally the order's charge. */
  amount: MoneyInput;
  idempotencyKey: string;
}

export interface RefundOrderInput {
  orderId: number;
  /** Positive amount to return to the order's user. */
  amount: MoneyInput;
  idempotencyKey: string;
  reason?: string;
}

export interface WithdrawInput {
  userId: number;
  /** Positive amount taken from the balance. */
  amount: MoneyInput;
  /** R-WITHDRAW: true when the panel could not fulfil its obligations (full payout). */
  panelAtFault: boolean;
  idempotencyKey: string;
  reason: string;
  reference?: string;
}

export interface SignedEntryInput {
  userId: number;
  /** Signed amount: + credit, - debit. A chargeback must be negative. */
  amount: MoneyInput;
  idempotencyKey: string;
  reason: string;
  reference?: string;
}

export interface Ledger {
  credit(input: CreditInput): Promise<Posted>;
  debitForOrder(input: DebitForOrderInput): Promise<Posted | InsufficientFunds>;
  refundOrder(input: RefundOrderInput): Promise<Posted>;
  withdraw(input: WithdrawInput): Promise<WithdrawalPosted | InsufficientFunds>;
  chargeback(input: SignedEntryInput): Promise<Posted | InsufficientFunds>;
  correction(input: SignedEntryInput): Promise<Posted | InsufficientFunds>;
  /** Current balance, 5 decimals. */
  balanceOf(userId: number): Promise<string>;
  /** Entries of one user, oldest first. */
  entriesOf(userId: number): Promise<LedgerEntryView[]>;
  /** Entries by idempotency key (undefined when none). */
  entryByKey(idempotencyKey: string): Promise<LedgerEntryView | undefined>;
  /** true when sum(ledger_entries.amount) = sum(users.balance), globally and for every user. */
  checkInvariant(): Promise<boolean>;
}

/** What one posting must look like; `userId` undefined means "whoever owns the order". */
interface Posting {
  userId: number | undefined;
  amount: Decimal;
  kind: LedgerKind;
  orderId: number | null;
  idempotencyKey: string;
  reference: string | null;
  reason: string | null;
}

interface RawEntry {
  id: string;
  userId: number;
  amount: string;
  kind: LedgerKind;
  orderId: number | null;
  idempotencyKey: string;
  reference: string | null;
  reason: string | null;
  balanceAfter: string;
  createdAt: Date;
}

type Db = PrismaClient | Prisma.TransactionClient;

const ENTRY_COLUMNS = Prisma.raw(`
  id::text AS "id", user_id AS "userId", amount::text AS "amount", kind AS "kind",
  order_id AS "orderId", idempotency_key AS "idempotencyKey", reference AS "reference",
  reason AS "reason", balance_after::text AS "balanceAfter", created_at AS "createdAt"`);

const BALANCE_CHECK = 'users_balance_non_negative';
const REFUND_CHECK = 'orders_refunded_within_charge';
const KEY_UNIQUE = 'ledger_entries_idempotency_key_key';

export function createLedger(prisma: PrismaClient): Ledger {
  /**
   * Run `body` in one transaction unless the keys were already posted. A concurrent twin with the
   * same key makes the unique index fail one of them; that one then replays the winner's entries.
   */
  async function postOnce(
    expected: Posting[],
    body: (tx: Prisma.TransactionClient) => Promise<LedgerEntryView[]>,
  ): Promise<{ entries: LedgerEntryView[]; replayed: boolean }> {
    const keys = expected.map((p) => p.idempotencyKey);
    try {
      return await prisma.$transaction(async (tx) => {
        const existing = await findByKeys(tx, keys);
        if (existing.length > 0) return { entries: matchOrThrow(expected, existing), replayed: true };
        return { entries: await body(tx), replayed: false };
      });
    } catch (error) {
      if (isConstraintViolation(error, PG_UNIQUE_VIOLATION, KEY_UNIQUE)) {
        const existing = await findByKeys(prisma, keys);
        if (existing.length > 0) return { entries: matchOrThrow(expected, existing), replayed: true };
      }
      throw error;
    }
  }

  async function postSimple(posting: Posting & { userId: number }): Promise<Posted | InsufficientFunds> {
    try {
      const { entries, replayed } = await postOnce([posting], async (tx) => [await insertEntry(tx, posting)]);
      return { ok: true, entry: entries[0], replayed };
    } catch (error) {
      if (isConstraintViolation(error, PG_CHECK_VIOLATION, BALANCE_CHECK)) {
        return { ok: false, reason: 'insufficient_funds' };
      }
      throw error;
    }
  }

  return {
    async credit(input) {
      const amount = positive(input.amount, 'credit amount');
      if (input.kind !== 'topup' && input.kind !== 'correction') {
        throw new LedgerReferenceError(`credit kind must be 'topup' or 'correction', got ${String(input.kind)}`);
      }
      requireKey(input.idempotencyKey);
      if (input.kind === 'topup') {
        // R-BALANCE: a top-up is credited once per payment reference: the key is derived from it.
        if (!input.reference) throw new LedgerReferenceError('a top-up needs its payment reference');
        if (input.idempotencyKey !== topUpKey(input.reference)) {
          throw new LedgerReferenceError(
            `a top-up's idempotency key must be ${JSON.stringify(topUpKey(input.reference))}, got ${JSON.stringify(input.idempotencyKey)}`,
          );
        }
      }
      const result = await postSimple({
        userId: input.userId,
        amount,
        kind: input.kind,
        orderId: null,
        idempotencyKey: input.idempotencyKey,
        reference: input.reference ?? null,
        reason: input.reason ?? null,
      });
      if (!result.ok) throw new Error('unreachable: a credit cannot lack funds');
      return result;
    },

    async debitForOrder(input) {
      const amount = positive(input.amount, 'debit amount');
      requireKey(input.idempotencyKey);
      const posting: Posting & { userId: number } = {
        userId: input.userId,
        amount: amount.neg(),
        kind: 'order_debit',
        orderId: input.orderId,
        idempotencyKey: input.idempotencyKey,
        reference: null,
        reason: null,
      };
      // One statement, so one transaction that holds the user's row lock only inside PostgreSQL:
      // every order of a busy account debits that one row, and an interactive transaction would keep
      // it locked across the client's round trips (issue 15). The order must exist and be the user's;
      // the unique key makes a repeat fail whole (no second debit), and it is then answered below.
      const debited = amount.neg().toFixed(MONEY_SCALE);
      try {
        const rows = await prisma.$queryRaw<RawEntry[]>`
          WITH balance AS (
            UPDATE users SET balance = balance + ${debited}::numeric
             WHERE id = ${input.userId}
               AND EXISTS (SELECT 1 FROM orders WHERE id = ${input.orderId} AND user_id = ${input.userId})
            RETURNING balance)
          INSERT INTO ledger_entries (user_id, amount, kind, order_id, idempotency_key, reference, reason, balance_after)
          SELECT ${input.userId}, ${debited}::numeric, 'order_debit', ${input.orderId}::int, ${input.idempotencyKey}, NULL, NULL, balance FROM balance
          RETURNING ${ENTRY_COLUMNS}`;
        if (rows.length === 0) {
          // Nothing moved: the order or the user is not what the posting says.
          const owner = await prisma.$queryRaw<Array<{ userId: number }>>`SELECT user_id AS "userId" FROM orders WHERE id = ${input.orderId}`;
          if (owner.length === 0) throw new LedgerReferenceError(`order ${input.orderId} does not exist`);
          if (owner[0].userId !== input.userId) {
            throw new LedgerReferenceError(`order ${input.orderId} belongs to user ${owner[0].userId}, not ${input.userId}`);
          }
          throw new LedgerReferenceError(`user ${input.userId} does not exist`);
        }
        return { ok: true, entry: toView(rows[0]), replayed: false };
      } catch (error) {
        const duplicate = isConstraintViolation(error, PG_UNIQUE_VIOLATION, KEY_UNIQUE);
        const short = isConstraintViolation(error, PG_CHECK_VIOLATION, BALANCE_CHECK);
        if (!duplicate && !short) throw error;
        // Either check may fire first when the key was posted already: a repeat answers the same.
        const replay = await replayOf(prisma, posting);
        if (replay) return replay;
        if (short) return { ok: false, reason: 'insufficient_funds' };
        throw error;
      }
    },

    async refundOrder(input) {
      const amount = positive(input.amount, 'refund amount');
      requireKey(input.idempotencyKey);
      const posting: Posting = {
        userId: undefined,
        amount,
        kind: 'refund',
        orderId: input.orderId,
        idempotencyKey: input.idempotencyKey,
        reference: null,
        reason: input.reason ?? null,
      };
      // One statement, as the debit: the order's and the user's row locks are held only inside
      // PostgreSQL, not across a transaction's seven round trips. The order's row is locked first,
      // so concurrent refunds of one order serialise there and each sees the total of the ones
      // before it (the WHERE is checked again on the row they left). Never refund money that was
      // not taken: the total stays within what this order was debited. A repeat of the key fails
      // whole on the unique index (nothing moves) and is answered below.
      const refund = amount.toFixed(MONEY_SCALE);
      try {
        const rows = await prisma.$queryRaw<RawEntry[]>`
          WITH refunded AS (
            UPDATE orders SET refunded = refunded + ${refund}::numeric, updated_at = CURRENT_TIMESTAMP
             WHERE id = ${input.orderId}
               AND refunded + ${refund}::numeric <= (
                 SELECT COALESCE(-SUM(amount), 0) FROM ledger_entries WHERE order_id = ${input.orderId} AND kind = 'order_debit')
            RETURNING user_id),
          balance AS (
            UPDATE users SET balance = balance + ${refund}::numeric
             WHERE id = (SELECT user_id FROM refunded)
            RETURNING id, balance)
          INSERT INTO ledger_entries (user_id, amount, kind, order_id, idempotency_key, reference, reason, balance_after)
          SELECT id, ${refund}::numeric, 'refund', ${input.orderId}::int, ${input.idempotencyKey}, NULL, ${posting.reason}, balance FROM balance
          RETURNING ${ENTRY_COLUMNS}`;
        if (rows.length > 0) return { ok: true, entry: toView(rows[0]), replayed: false };
        // Nothing moved: a repeat whose total would now exceed the debit, a missing order, or too much.
        const replay = await replayOf(prisma, posting);
        if (replay) return replay;
        throw await refundRefusal(prisma, input.orderId, amount);
      } catch (error) {
        const duplicate = isConstraintViolation(error, PG_UNIQUE_VIOLATION, KEY_UNIQUE);
        const overCharge = isConstraintViolation(error, PG_CHECK_VIOLATION, REFUND_CHECK);
        if (!duplicate && !overCharge) throw error;
        // Either check may fire first when the key was posted already: a repeat answers the same.
        const replay = await replayOf(prisma, posting);
        if (replay) return replay;
        if (overCharge) throw new RefundExceedsChargeError(input.orderId, formatMoney(amount), 'refunds would exceed the order charge');
        throw error;
      }
    },

    async withdraw(input) {
      const amount = positive(input.amount, 'withdrawal amount');
      requireKey(input.idempotencyKey);
      requireReason(input.reason);
      // R-WITHDRAW: full payout when the panel was at fault, else a 50% commission. The payout is
      // half the amount rounded down to 5 decimals (like a refund); the fee is the rest, so the
      // two add up to the amount exactly (an odd last digit goes to the fee).
      const payout = input.panelAtFault ? amount : roundRefund(amount.div(2));
      const fee = amount.minus(payout);
      if (payout.lte(0)) throw new RangeError(`withdrawal amount ${formatMoney(amount)} is too small to pay out`);
      const base = { userId: input.userId, orderId: null, reference: input.reference ?? null, reason: input.reason };
      const postings: Array<Posting & { userId: number }> = [
        { ...base, amount: payout.neg(), kind: 'withdrawal', idempotencyKey: input.idempotencyKey },
      ];
      if (fee.gt(0)) {
        postings.push({ ...base, amount: fee.neg(), kind: 'withdrawal_fee', idempotencyKey: `${input.idempotencyKey}:fee` });
      }
      try {
        const { entries, replayed } = await postOnce(postings, async (tx) => {
          const written: LedgerEntryView[] = [];
          for (const posting of postings) written.push(await insertEntry(tx, posting));
          return written;
        });
        return { ok: true, payout: formatMoney(payout), fee: formatMoney(fee), entries, replayed };
      } catch (error) {
        if (isConstraintViolation(error, PG_CHECK_VIOLATION, BALANCE_CHECK)) {
          return { ok: false, reason: 'insufficient_funds' };
        }
        throw error;
      }
    },

    async chargeback(input) {
      const amount = money(input.amount, 'chargeback amount');
      if (!amount.isNegative() || amount.isZero()) {
        throw new RangeError(`a chargeback is a debit: amount must be negative, got ${String(input.amount)}`);
      }
      requireKey(input.idempotencyKey);
      requireReason(input.reason);
      return postSimple({
        userId: input.userId,
        amount,
        kind: 'chargeback',
        orderId: null,
        idempotencyKey: input.idempotencyKey,
        reference: input.reference ?? null,
        reason: input.reason,
      });
    },

    async correction(input) {
      const amount = money(input.amount, 'correction amount');
      if (amount.isZero()) throw new RangeError('a correction of zero changes nothing');
      requireKey(input.idempotencyKey);
      requireReason(input.reason);
      return postSimple({
        userId: input.userId,
        amount,
        kind: 'correction',
        orderId: null,
        idempotencyKey: input.idempotencyKey,
        reference: input.reference ?? null,
        reason: input.reason,
      });
    },

    async balanceOf(userId) {
      const rows = await prisma.$queryRaw<Array<{ balance: string }>>`
        SELECT balance::text AS "balance" FROM users WHERE id = ${userId}`;
      if (rows.length === 0) throw new LedgerReferenceError(`user ${userId} does not exist`);
      return formatMoney(rows[0].balance);
    },

    async entriesOf(userId) {
      const rows = await prisma.$queryRaw<RawEntry[]>`
        SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE user_id = ${userId} ORDER BY id`;
      return rows.map(toView);
    },

    async entryByKey(idempotencyKey) {
      const [entry] = await findByKeys(prisma, [idempotencyKey]);
      return entry;
    },

    async checkInvariant() {
      // One statement, so one snapshot, even while other transactions post.
      const [row] = await prisma.$queryRaw<Array<{ globalOk: boolean; usersOff: number }>>`
        SELECT
          (SELECT COALESCE(SUM(amount), 0) FROM ledger_entries) = (SELECT COALESCE(SUM(balance), 0) FROM users) AS "globalOk",
          (SELECT COUNT(*)::int FROM users u
             WHERE u.balance <> COALESCE((SELECT SUM(e.amount) FROM ledger_entries e WHERE e.user_id = u.id), 0)) AS "usersOff"`;
      return row.globalOk === true && row.usersOff === 0;
    },
  };
}

/** UPDATE the balance (the CHECK decides) and append the entry, in the caller's transaction. */
async function insertEntry(tx: Prisma.TransactionClient, posting: Posting & { userId: number }): Promise<LedgerEntryView> {
  const amount = posting.amount.toFixed(MONEY_SCALE);
  const balance = await tx.$queryRaw<Array<{ balance: string }>>`
    UPDATE users SET balance = balance + ${amount}::numeric WHERE id = ${posting.userId}
    RETURNING balance::text AS "balance"`;
  if (balance.length === 0) throw new LedgerReferenceError(`user ${posting.userId} does not exist`);
  const [entry] = await tx.$queryRaw<RawEntry[]>`
    INSERT INTO ledger_entries (user_id, amount, kind, order_id, idempotency_key, reference, reason, balance_after)
    VALUES (${posting.userId}, ${amount}::numeric, ${posting.kind}, ${posting.orderId}::int, ${posting.idempotencyKey},
            ${posting.reference}, ${posting.reason}, ${balance[0].balance}::numeric)
    RETURNING ${ENTRY_COLUMNS}`;
  return toView(entry);
}

/** Why a refund moved nothing: the order does not exist, or its refunds would exceed its debit. */
async function refundRefusal(db: Db, orderId: number, amount: Decimal): Promise<Error> {
  const [order] = await db.$queryRaw<Array<{ refunded: string; paid: string }>>`
    SELECT refunded::text AS "refunded",
           (SELECT COALESCE(-SUM(amount), 0) FROM ledger_entries WHERE order_id = ${orderId} AND kind = 'order_debit')::text AS "paid"
      FROM orders WHERE id = ${orderId}`;
  if (!order) return new LedgerReferenceError(`order ${orderId} does not exist`);
  return new RefundExceedsChargeError(
    orderId,
    formatMoney(amount),
    `refunds would total ${formatMoney(new Dec(order.refunded).plus(amount))} but the order was debited ${formatMoney(order.paid)}`,
  );
}

/** The entry already posted under this posting's key, as a replayed answer; null when none is. */
async function replayOf(db: Db, posting: Posting): Promise<Posted | null> {
  const existing = await findByKeys(db, [posting.idempotencyKey]);
  return existing.length > 0 ? { ok: true, entry: matchOrThrow([posting], existing)[0], replayed: true } : null;
}

async function findByKeys(db: Db, keys: string[]): Promise<LedgerEntryView[]> {
  const rows = await db.$queryRaw<RawEntry[]>`
    SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key IN (${Prisma.join(keys)}) ORDER BY id`;
  return rows.map(toView);
}

/** The existing entries must be exactly the expected ones (same user, amount, kind, order). */
function matchOrThrow(expected: Posting[], existing: LedgerEntryView[]): LedgerEntryView[] {
  const byKey = new Map(existing.map((e) => [e.idempotencyKey, e]));
  const matched: LedgerEntryView[] = [];
  let conflict = existing.length !== expected.length;
  for (const want of expected) {
    const have = byKey.get(want.idempotencyKey);
    if (
      !have ||
      (want.userId !== undefined && have.userId !== want.userId) ||
      have.kind !== want.kind ||
      have.orderId !== want.orderId ||
      !new Dec(have.amount).eq(want.amount)
    ) {
      conflict = true;
      continue;
    }
    matched.push(have);
  }
  if (conflict) {
    throw new LedgerConflictError(
      expected[0].idempotencyKey,
      existing,
      expected.map((p) => ({
        userId: p.userId,
        amount: formatMoney(p.amount),
        kind: p.kind,
        orderId: p.orderId,
        idempotencyKey: p.idempotencyKey,
      })),
    );
  }
  return matched;
}

function toView(row: RawEntry): LedgerEntryView {
  return {
    id: row.id,
    userId: row.userId,
    amount: formatMoney(row.amount),
    kind: row.kind,
    orderId: row.orderId,
    idempotencyKey: row.idempotencyKey,
    reference: row.reference,
    reason: row.reason,
    balanceAfter: formatMoney(row.balanceAfter),
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

function summary(e: LedgerEntryView) {
  return { userId: e.userId, amount: e.amount, kind: e.kind, orderId: e.orderId, idempotencyKey: e.idempotencyKey };
}

function positive(value: MoneyInput, what: string): Decimal {
  const amount = money(value, what);
  if (amount.lte(0)) throw new RangeError(`${what} must be positive, got ${String(value)}`);
  return amount;
}

function requireKey(key: string): void {
  if (typeof key !== 'string' || key.trim() === '') throw new LedgerReferenceError('an idempotency key is required');
}

function requireReason(reason: string): void {
  if (typeof reason !== 'string' || reason.trim() === '') throw new LedgerReferenceError('a reason is required');
}
