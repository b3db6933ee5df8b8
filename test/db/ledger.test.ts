// The ledger against a real PostgreSQL: the database, not application code, keeps the money right.
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { LedgerConflictError, RefundExceedsChargeError, createLedger, topUpKey } from '../../activities/ledger';
import type { Ledger } from '../../activities/ledger';
import { makeCatalogue, makeOrder, makeUser } from './fixtures';

let db: TestDatabase;
let ledger: Ledger;
let catalogue: { providerId: number; serviceId: number };

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 10 });
  ledger = createLedger(db.prisma);
  catalogue = await makeCatalogue(db.prisma);
});

afterAll(async () => {
  await db?.drop();
});

// The money invariant after every test: sum(ledger_entries.amount) = sum(users.balance), per user too.
afterEach(async () => {
  await expect(ledger.checkInvariant()).resolves.toBe(true);
});

async function fundedUser(amount: string, reference = `pay-${Math.random().toString(36).slice(2)}`) {
  const userId = await makeUser(db.prisma);
  await ledger.credit({ userId, amount, kind: 'topup', idempotencyKey: topUpKey(reference), reference });
  return userId;
}

describe('top-ups', () => {
  it('R-BALANCE: a top-up is credited once per payment reference', async () => {
    const userId = await makeUser(db.prisma);
    const first = await ledger.credit({ userId, amount: '25.50000', kind: 'topup', idempotencyKey: topUpKey('PAY-1'), reference: 'PAY-1' });
    const again = await ledger.credit({ userId, amount: '25.5', kind: 'topup', idempotencyKey: topUpKey('PAY-1'), reference: 'PAY-1' });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.entry).toEqual(first.entry);
    expect(first.entry).toMatchObject({ amount: '25.50000', kind: 'topup', balanceAfter: '25.50000', reference: 'PAY-1' });
    expect(await ledger.balanceOf(userId)).toBe('25.50000');
    expect(await ledger.entriesOf(userId)).toHaveLength(1);
  });

  it('R-BALANCE: concurrent deliveries of one payment notification credit it once', async () => {
    const userId = await makeUser(db.prisma);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        ledger.credit({ userId, amount: '10.00000', kind: 'topup', idempotencyKey: topUpKey('PAY-RACE'), reference: 'PAY-RACE' }),
      ),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    expect(await ledger.balanceOf(userId)).toBe('10.00000');
  });

  it('R-BALANCE: a top-up key must be derived from its payment reference', async () => {
    const userId = await makeUser(db.prisma);
    await expect(
      ledger.credit({ userId, amount: '1.00000', kind: 'topup', idempotencyKey: 'something-else', reference: 'PAY-2' }),
    ).rejects.toThrow(/topup:PAY-2/);
    await expect(ledger.credit({ userId, amount: '1.00000', kind: 'topup', idempotencyKey: 'topup:' })).rejects.toThrow(/reference/);
  });

  it('money never travels as a JS number, nor with more than 5 decimals', async () => {
    const userId = await makeUser(db.prisma);
    await expect(
      ledger.credit({ userId, amount: 1 as unknown as string, kind: 'topup', idempotencyKey: topUpKey('N'), reference: 'N' }),
    ).rejects.toThrow(TypeError);
    await expect(
      ledger.credit({ userId, amount: '0.000001', kind: 'topup', idempotencyKey: topUpKey('D'), reference: 'D' }),
    ).rejects.toThrow(/decimals/);
    await expect(
      ledger.credit({ userId, amount: '-5.00000', kind: 'topup', idempotencyKey: topUpKey('M'), reference: 'M' }),
    ).rejects.toThrow(/positive/);
    expect(await ledger.entriesOf(userId)).toHaveLength(0);
  });
});

describe('order debits', () => {
  it('R-BALANCE: 200 parallel debits of 1.00000 against 100.00000: exactly 100 succeed, balance ends 0.00000', async () => {
    const userId = await fundedUser('100.00000');
    const orderIds = await Promise.all(Array.from({ length: 200 }, () => makeOrder(db.prisma, { userId, ...catalogue }, { charge: '1.00000' })));

    const started = Date.now();
    const results = await Promise.all(
      orderIds.map((orderId) =>
        ledger.debitForOrder({ orderId, userId, amount: '1.00000', idempotencyKey: `order-${orderId}:debit` }),
      ),
    );
    const elapsed = Date.now() - started;

    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(100);
    expect(refused).toHaveLength(100);
    expect(refused.every((r) => !r.ok && r.reason === 'insufficient_funds')).toBe(true);
    expect(await ledger.balanceOf(userId)).toBe('0.00000');
    // Every balanceAfter is distinct: 99.00000 down to 0.00000, each exactly once.
    const after = ok.map((r) => (r.ok ? r.entry.balanceAfter : '')).sort();
    expect(new Set(after).size).toBe(100);
    expect(after).toContain('0.00000');
    expect(after).toContain('99.00000');
    expect(await ledger.checkInvariant()).toBe(true);
    expect(elapsed).toBeLessThan(60_000);
  });

  it('R-BALANCE: the same idempotency key twice makes one entry', async () => {
    const userId = await fundedUser('10.00000');
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue }, { charge: '3.00000' });
    const first = await ledger.debitForOrder({ orderId, userId, amount: '3.00000', idempotencyKey: `wf-${orderId}:debit` });
    const second = await ledger.debitForOrder({ orderId, userId, amount: '3.00000', idempotencyKey: `wf-${orderId}:debit` });
    expect(first).toMatchObject({ ok: true, replayed: false });
    expect(second).toMatchObject({ ok: true, replayed: true });
    if (!first.ok || !second.ok) throw new Error('unreachable');
    expect(second.entry).toEqual(first.entry);
    expect(first.entry).toMatchObject({ amount: '-3.00000', kind: 'order_debit', orderId, balanceAfter: '7.00000' });
    expect(await ledger.balanceOf(userId)).toBe('7.00000');
  });

  it('R-BALANCE: a replayed debit succeeds even when the balance could no longer pay it', async () => {
    const userId = await fundedUser('3.00000');
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue }, { charge: '3.00000' });
    const key = `wf-${orderId}:debit`;
    await ledger.debitForOrder({ orderId, userId, amount: '3.00000', idempotencyKey: key });
    await expect(ledger.debitForOrder({ orderId, userId, amount: '3.00000', idempotencyKey: key })).resolves.toMatchObject({
      ok: true,
      replayed: true,
    });
  });

  it('R-BALANCE: the same key with a different amount is a loud conflict', async () => {
    const userId = await fundedUser('10.00000');
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue });
    const key = `wf-${orderId}:debit`;
    await ledger.debitForOrder({ orderId, userId, amount: '2.00000', idempotencyKey: key });
    await expect(ledger.debitForOrder({ orderId, userId, amount: '2.50000', idempotencyKey: key })).rejects.toThrow(
      LedgerConflictError,
    );
    // Different kind under the same key: a conflict too.
    await expect(
      ledger.credit({ userId, amount: '2.00000', kind: 'correction', idempotencyKey: key, reason: 'typo' }),
    ).rejects.toThrow(LedgerConflictError);
    expect(await ledger.balanceOf(userId)).toBe('8.00000');
  });

  it('R-BALANCE: a debit the balance cannot pay is refused and writes nothing', async () => {
    const userId = await fundedUser('1.00000');
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue });
    await expect(
      ledger.debitForOrder({ orderId, userId, amount: '1.00001', idempotencyKey: `wf-${orderId}:debit` }),
    ).resolves.toEqual({ ok: false, reason: 'insufficient_funds' });
    expect(await ledger.balanceOf(userId)).toBe('1.00000');
    expect(await ledger.entryByKey(`wf-${orderId}:debit`)).toBeUndefined();
  });

  it("R-BALANCE: the balance cannot pay another user's order (no transfers)", async () => {
    const owner = await fundedUser('5.00000');
    const payer = await fundedUser('5.00000');
    const orderId = await makeOrder(db.prisma, { userId: owner, ...catalogue });
    await expect(
      ledger.debitForOrder({ orderId, userId: payer, amount: '1.00000', idempotencyKey: `wf-${orderId}:debit` }),
    ).rejects.toThrow(/belongs to user/);
  });

  it('R-BALANCE: the database itself refuses a negative balance', async () => {
    const userId = await makeUser(db.prisma);
    await expect(db.prisma.$executeRaw`UPDATE users SET balance = -1 WHERE id = ${userId}`).rejects.toThrow(
      /users_balance_non_negative/,
    );
  });
});

describe('refunds', () => {
  async function paidOrder(charge: string) {
    const userId = await fundedUser('100.00000');
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue }, { charge });
    const debit = await ledger.debitForOrder({ orderId, userId, amount: charge, idempotencyKey: `wf-${orderId}:debit` });
    expect(debit.ok).toBe(true);
    return { userId, orderId };
  }

  it('R-CANCEL-FULL: a canceled order refunds its whole charge, once', async () => {
    const { userId, orderId } = await paidOrder('12.00000');
    const first = await ledger.refundOrder({ orderId, amount: '12.00000', idempotencyKey: `wf-${orderId}:refund` });
    const again = await ledger.refundOrder({ orderId, amount: '12.00000', idempotencyKey: `wf-${orderId}:refund` });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(first.entry).toMatchObject({ amount: '12.00000', kind: 'refund', orderId, userId, balanceAfter: '100.00000' });
    expect(await ledger.balanceOf(userId)).toBe('100.00000');
    const order = await db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order.refunded.toFixed(5)).toBe('12.00000');
  });

  it('R-PARTIAL: a repeated partial refund whose total would still fit the charge moves nothing a second time', async () => {
    const { userId, orderId } = await paidOrder('10.00000');
    const first = await ledger.refundOrder({ orderId, amount: '4.00000', idempotencyKey: `wf-${orderId}:refund` });
    // 4 + 4 ≤ 10: only the key stops the repeat, and it must undo the whole statement.
    const again = await ledger.refundOrder({ orderId, amount: '4.00000', idempotencyKey: `wf-${orderId}:refund` });
    expect(again).toEqual({ ok: true, entry: first.entry, replayed: true });
    expect(await ledger.balanceOf(userId)).toBe('94.00000');
    const order = await db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order.refunded.toFixed(5)).toBe('4.00000');
    await expect(
      ledger.refundOrder({ orderId, amount: '5.00000', idempotencyKey: `wf-${orderId}:refund` }),
    ).rejects.toThrow(LedgerConflictError);
  });

  it('R-PARTIAL: refunds beyond the charge are refused by the database', async () => {
    const { userId, orderId } = await paidOrder('10.00000');
    await ledger.refundOrder({ orderId, amount: '6.00000', idempotencyKey: `wf-${orderId}:refund-1` });
    await expect(
      ledger.refundOrder({ orderId, amount: '4.00001', idempotencyKey: `wf-${orderId}:refund-2` }),
    ).rejects.toThrow(RefundExceedsChargeError);
    await ledger.refundOrder({ orderId, amount: '4.00000', idempotencyKey: `wf-${orderId}:refund-3` });
    await expect(
      ledger.refundOrder({ orderId, amount: '0.00001', idempotencyKey: `wf-${orderId}:refund-4` }),
    ).rejects.toThrow(RefundExceedsChargeError);
    expect(await ledger.balanceOf(userId)).toBe('100.00000');
    // The CHECK constraint, not only the ledger code: a direct write is refused too.
    await expect(
      db.prisma.$executeRaw`UPDATE orders SET refunded = charge + 0.00001 WHERE id = ${orderId}`,
    ).rejects.toThrow(/orders_refunded_within_charge/);
  });

  it('R-PARTIAL: concurrent refunds of one order never add up to more than its charge', async () => {
    const { userId, orderId } = await paidOrder('10.00000');
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        ledger.refundOrder({ orderId, amount: '1.00000', idempotencyKey: `wf-${orderId}:refund-${i}` }),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(fulfilled).toHaveLength(10);
    expect(rejected.every((r) => r.reason instanceof RefundExceedsChargeError)).toBe(true);
    expect(await ledger.balanceOf(userId)).toBe('100.00000');
  });

  it('R-PARTIAL: an order that was never debited gets no refund', async () => {
    const userId = await makeUser(db.prisma);
    const orderId = await makeOrder(db.prisma, { userId, ...catalogue }, { charge: '5.00000' });
    await expect(ledger.refundOrder({ orderId, amount: '5.00000', idempotencyKey: `wf-${orderId}:refund` })).rejects.toThrow(
      /debited 0.00000/,
    );
    expect(await ledger.balanceOf(userId)).toBe('0.00000');
  });

  it('ledger entries are append-only: updates and deletes are refused', async () => {
    const { orderId } = await paidOrder('1.00000');
    await expect(db.prisma.$executeRaw`DELETE FROM ledger_entries WHERE order_id = ${orderId}`).rejects.toThrow(/append-only/);
    await expect(db.prisma.$executeRaw`UPDATE ledger_entries SET amount = 0 WHERE order_id = ${orderId}`).rejects.toThrow(
      /append-only/,
    );
  });
});

describe('withdrawals, chargebacks, corrections', () => {
  it('R-WITHDRAW: a withdrawal carries a 50% commission, as a separate withdrawal_fee entry', async () => {
    const userId = await fundedUser('50.00000');
    const result = await ledger.withdraw({
      userId,
      amount: '20.00000',
      panelAtFault: false,
      idempotencyKey: 'withdraw-1',
      reason: 'user request #1, approved by support',
    });
    expect(result).toMatchObject({ ok: true, payout: '10.00000', fee: '10.00000', replayed: false });
    if (!result.ok) throw new Error('unreachable');
    expect(result.entries.map((e) => [e.kind, e.amount])).toEqual([
      ['withdrawal', '-10.00000'],
      ['withdrawal_fee', '-10.00000'],
    ]);
    expect(await ledger.balanceOf(userId)).toBe('30.00000');
    const again = await ledger.withdraw({ userId, amount: '20.00000', panelAtFault: false, idempotencyKey: 'withdraw-1', reason: 'retry' });
    expect(again).toMatchObject({ ok: true, replayed: true });
    expect(await ledger.balanceOf(userId)).toBe('30.00000');
  });

  it('R-WITHDRAW: paid out in full when the panel could not fulfil its obligations', async () => {
    const userId = await fundedUser('50.00000');
    const result = await ledger.withdraw({
      userId,
      amount: '50.00000',
      panelAtFault: true,
      idempotencyKey: 'withdraw-2',
      reason: 'service discontinued',
    });
    expect(result).toMatchObject({ ok: true, payout: '50.00000', fee: '0.00000' });
    if (!result.ok) throw new Error('unreachable');
    expect(result.entries.map((e) => [e.kind, e.amount])).toEqual([['withdrawal', '-50.00000']]);
    expect(await ledger.balanceOf(userId)).toBe('0.00000');
    // The same key asking for the commissioned variant is a conflict, not a second withdrawal.
    await expect(
      ledger.withdraw({ userId, amount: '50.00000', panelAtFault: false, idempotencyKey: 'withdraw-2', reason: 'x' }),
    ).rejects.toThrow(LedgerConflictError);
  });

  it('R-WITHDRAW: an odd last digit goes to the fee; payout + fee = amount exactly', async () => {
    const userId = await fundedUser('1.00000');
    const result = await ledger.withdraw({ userId, amount: '0.00003', panelAtFault: false, idempotencyKey: 'withdraw-3', reason: 'r' });
    expect(result).toMatchObject({ ok: true, payout: '0.00001', fee: '0.00002' });
    expect(await ledger.balanceOf(userId)).toBe('0.99997');
  });

  it('R-WITHDRAW: both entries or neither: a withdrawal above the balance is refused whole', async () => {
    const userId = await fundedUser('10.00000');
    await expect(
      ledger.withdraw({ userId, amount: '10.00001', panelAtFault: false, idempotencyKey: 'withdraw-4', reason: 'r' }),
    ).resolves.toEqual({ ok: false, reason: 'insufficient_funds' });
    expect(await ledger.entriesOf(userId)).toHaveLength(1); // the top-up only
    expect(await ledger.balanceOf(userId)).toBe('10.00000');
  });

  it('R-CHARGEBACK: a chargeback is a signed debit with its reason; it cannot take the balance below zero', async () => {
    const userId = await fundedUser('30.00000');
    const result = await ledger.chargeback({ userId, amount: '-30.00000', idempotencyKey: 'cb-1', reason: 'dispute PAY-9', reference: 'PAY-9' });
    expect(result).toMatchObject({ ok: true, entry: { kind: 'chargeback', amount: '-30.00000', reason: 'dispute PAY-9' } });
    await expect(ledger.chargeback({ userId, amount: '-1.00000', idempotencyKey: 'cb-2', reason: 'again' })).resolves.toEqual({
      ok: false,
      reason: 'insufficient_funds',
    });
    await expect(ledger.chargeback({ userId, amount: '1.00000', idempotencyKey: 'cb-3', reason: 'wrong sign' })).rejects.toThrow(
      /negative/,
    );
    await expect(ledger.chargeback({ userId, amount: '-1.00000', idempotencyKey: 'cb-4', reason: ' ' })).rejects.toThrow(/reason/);
  });

  it('corrections are signed entries with a reason', async () => {
    const userId = await fundedUser('5.00000');
    await ledger.correction({ userId, amount: '2.50000', idempotencyKey: 'fix-1', reason: 'manual credit, ticket 17' });
    await ledger.correction({ userId, amount: '-1.25000', idempotencyKey: 'fix-2', reason: 'reverse half of ticket 17' });
    expect(await ledger.balanceOf(userId)).toBe('6.25000');
    const entries = await ledger.entriesOf(userId);
    expect(entries.map((e) => [e.kind, e.amount, e.balanceAfter])).toEqual([
      ['topup', '5.00000', '5.00000'],
      ['correction', '2.50000', '7.50000'],
      ['correction', '-1.25000', '6.25000'],
    ]);
  });

  it('checkInvariant notices a balance changed behind the ledger', async () => {
    const userId = await fundedUser('5.00000');
    await db.prisma.$executeRaw`UPDATE users SET balance = balance + 1 WHERE id = ${userId}`;
    expect(await ledger.checkInvariant()).toBe(false);
    await db.prisma.$executeRaw`UPDATE users SET balance = balance - 1 WHERE id = ${userId}`;
    expect(await ledger.checkInvariant()).toBe(true);
  });
});
