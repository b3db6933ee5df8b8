// Order rows against a real PostgreSQL: the partial unique index keeps one active order per link.
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { createOrderRecords } from '../../activities/order-records';
import type { OrderRecords } from '../../activities/order-records';
import { createLedger, topUpKey } from '../../activities/ledger';
import type { Ledger } from '../../activities/ledger';
import { makeCatalogue, makeUser, orderInput } from './fixtures';
import { countQueries, queriesBetween, querySnapshot } from '../../bench/profile/count-queries';

let db: TestDatabase;
let records: OrderRecords;
let ledger: Ledger;
let base: { userId: number; providerId: number; serviceId: number };

beforeAll(async () => {
  db = await createTestDatabase();
  records = createOrderRecords(db.prisma);
  ledger = createLedger(db.prisma);
  const catalogue = await makeCatalogue(db.prisma);
  base = { userId: await makeUser(db.prisma), ...catalogue };
});

afterAll(async () => {
  await db?.drop();
});

afterEach(async () => {
  await expect(ledger.checkInvariant()).resolves.toBe(true);
});

describe('createOrder', () => {
  it("R-PRICE-SNAPSHOT: inserts a 'new' row with the price and terms given at placement", async () => {
    const input = orderInput(base, { rate: '0.27819', charge: '278.19000', quantity: 1000000, refillKind: 'lifetime', refillDays: null });
    const result = await records.createOrder(input);
    expect(result.ok).toBe(true);
    if (!result.ok) throw new Error('unreachable');
    expect(result.order).toMatchObject({
      workflowId: input.workflowId,
      status: 'new',
      rate: '0.27819',
      charge: '278.19000',
      refunded: '0.00000',
      refillKind: 'lifetime',
      refillDays: null,
      cancelable: true,
      overdue: false,
      stalled: false,
      cancelRequested: false,
    });
    expect(Number.isInteger(result.order.id)).toBe(true);
    // A later price change of the service does not touch the order.
    await db.prisma.service.update({ where: { id: base.serviceId }, data: { rate: '9.99999', cancelable: false } });
    expect(await records.getOrder(result.order.id)).toMatchObject({ rate: '0.27819', charge: '278.19000', cancelable: true });
    await db.prisma.service.update({ where: { id: base.serviceId }, data: { rate: '1.20000', cancelable: true } });
  });

  it('R-ONE-ACTIVE-PER-LINK: a second order for an active link is refused, naming the holder', async () => {
    const first = await records.createOrder(orderInput(base, { linkKey: 'instagram.com/busy' }));
    if (!first.ok) throw new Error('first order refused');
    const second = await records.createOrder(orderInput(base, { linkKey: 'instagram.com/busy', serviceId: base.serviceId }));
    expect(second).toEqual({ ok: false, reason: 'link_busy', holderOrderId: first.order.id });
  });

  it('R-ONE-ACTIVE-PER-LINK: two concurrent createOrder for one link: one wins, the other names the holder', async () => {
    for (let round = 0; round < 10; round++) {
      const linkKey = `instagram.com/race-${round}`;
      const [a, b] = await Promise.all([
        records.createOrder(orderInput(base, { linkKey })),
        records.createOrder(orderInput(base, { linkKey })),
      ]);
      const winners = [a, b].filter((r) => r.ok);
      const losers = [a, b].filter((r) => !r.ok);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      const winner = winners[0];
      if (!winner.ok) throw new Error('unreachable');
      expect(losers[0]).toEqual({ ok: false, reason: 'link_busy', holderOrderId: winner.order.id });
    }
  });

  it('R-ONE-ACTIVE-PER-LINK: many placements at once for one link: exactly one active order', async () => {
    const linkKey = 'instagram.com/stampede';
    const results = await Promise.all(Array.from({ length: 25 }, () => records.createOrder(orderInput(base, { linkKey }))));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const holder = winners[0].ok ? winners[0].order.id : -1;
    expect(results.every((r) => r.ok || r.holderOrderId === holder)).toBe(true);
    expect(await db.prisma.order.count({ where: { linkKey } })).toBe(1);
  });

  it('R-ONE-ACTIVE-PER-LINK: a finished order frees the link (completed, partial, canceled, rejected)', async () => {
    for (const final of ['completed', 'partial', 'canceled'] as const) {
      const linkKey = `instagram.com/frees-${final}`;
      const first = await records.createOrder(orderInput(base, { linkKey }));
      if (!first.ok) throw new Error('first order refused');
      await records.updateOrderMirror(first.order.id, { status: 'pending' });
      await records.updateOrderMirror(first.order.id, { status: 'in_progress', startCount: 10, startedAt: new Date() });
      expect((await records.createOrder(orderInput(base, { linkKey }))).ok).toBe(false);
      await records.updateOrderMirror(first.order.id, { status: final, remains: 0 });
      const next = await records.createOrder(orderInput(base, { linkKey }));
      expect(next.ok).toBe(true);
      expect(await records.findActiveOrderForLink(linkKey)).toMatchObject({ id: next.ok ? next.order.id : -1 });
    }
    const linkKey = 'instagram.com/frees-rejected';
    const rejected = await records.createOrder(orderInput(base, { linkKey }));
    if (!rejected.ok) throw new Error('refused');
    await records.updateOrderMirror(rejected.order.id, { status: 'rejected', rejectReason: 'insufficient_funds' });
    expect((await records.createOrder(orderInput(base, { linkKey }))).ok).toBe(true);
  });

  it('R-ONE-ACTIVE-PER-LINK: the database refuses a second active order even when written directly', async () => {
    const linkKey = 'instagram.com/direct';
    const first = await records.createOrder(orderInput(base, { linkKey }));
    const second = await records.createOrder(orderInput(base, { linkKey: 'instagram.com/direct-2' }));
    if (!first.ok || !second.ok) throw new Error('refused');
    await expect(
      db.prisma.$executeRaw`UPDATE orders SET link_key = ${linkKey} WHERE id = ${second.order.id}`,
    ).rejects.toThrow(/orders_active_link_key/);
  });

  it('a retried createOrder (same workflowId) returns the existing row instead of link_busy', async () => {
    const input = orderInput(base);
    const first = await records.createOrder(input);
    const retry = await records.createOrder(input);
    expect(first).toMatchObject({ ok: true, replayed: false });
    expect(retry).toMatchObject({ ok: true, replayed: true });
    if (!first.ok || !retry.ok) throw new Error('unreachable');
    expect(retry.order.id).toBe(first.order.id);
    await expect(records.createOrder({ ...input, quantity: input.quantity + 1 })).rejects.toThrow(/different content/);
  });

  it('createOrder with an id reserved from the sequence (placement) inserts that id; a retry replays it', async () => {
    const [{ id }] = await db.prisma.$queryRaw<Array<{ id: bigint }>>`SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id`;
    const input = orderInput(base, { id: Number(id), workflowId: `order-${id}` });
    const first = await records.createOrder(input);
    const retry = await records.createOrder(input);
    expect(first).toMatchObject({ ok: true, replayed: false, order: { id: Number(id), workflowId: `order-${id}` } });
    expect(retry).toMatchObject({ ok: true, replayed: true, order: { id: Number(id) } });
    // The same id under another workflow id is a caller bug, not a replay.
    await expect(records.createOrder(orderInput(base, { id: Number(id) }))).rejects.toThrow(/orders_pkey|Unique/i);
  });

  it('R-MINMAX inputs: the database refuses a non-positive quantity or a negative charge', async () => {
    await expect(records.createOrder(orderInput(base, { quantity: 0 }))).rejects.toThrow(/quantity/);
    await expect(
      db.prisma.$executeRaw`UPDATE orders SET charge = -1 WHERE id = (SELECT min(id) FROM orders)`,
    ).rejects.toThrow(/orders_charge_non_negative/);
    await expect(
      db.prisma.$executeRaw`UPDATE orders SET quantity = 0 WHERE id = (SELECT min(id) FROM orders)`,
    ).rejects.toThrow(/orders_quantity_positive/);
    await expect(
      db.prisma.$executeRaw`UPDATE orders SET status = 'done' WHERE id = (SELECT min(id) FROM orders)`,
    ).rejects.toThrow(/orders_status_valid/);
  });
});

describe('markPaid', () => {
  it("moves a 'new' order to pending once; a repeat, or an order already past 'new', is left as it is", async () => {
    const created = await records.createOrder(orderInput(base, { linkKey: 'instagram.com/paid' }));
    if (!created.ok) throw new Error('unreachable');
    await records.markPaid(created.order.id);
    expect((await records.getOrder(created.order.id))?.status).toBe('pending');
    await records.updateOrderMirror(created.order.id, { status: 'in_progress' });
    await records.markPaid(created.order.id);
    expect((await records.getOrder(created.order.id))?.status).toBe('in_progress');

    const refused = await records.createOrder(orderInput(base, { linkKey: 'instagram.com/refused' }));
    if (!refused.ok) throw new Error('unreachable');
    await records.updateOrderMirror(refused.order.id, { status: 'rejected', rejectReason: 'not enough funds' });
    await records.markPaid(refused.order.id);
    expect((await records.getOrder(refused.order.id))?.status).toBe('rejected');
  });
});

describe('updateOrderMirror', () => {
  it("mirrors the workflow's state; refunded is not the mirror's to write", async () => {
    const created = await records.createOrder(orderInput(base));
    if (!created.ok) throw new Error('refused');
    const id = created.order.id;
    const pending = await records.updateOrderMirror(id, { status: 'pending', providerOrderId: 'P-77', lastProviderAnswer: { order: 77 } });
    expect(pending).toMatchObject({ applied: true, order: { status: 'pending', providerOrderId: 'P-77', lastProviderAnswer: { order: 77 } } });
    const flagged = await records.updateOrderMirror(id, { overdue: true, stalled: true, cancelRequested: true });
    expect(flagged.order).toMatchObject({ status: 'pending', overdue: true, stalled: true, cancelRequested: true });
    await expect(records.updateOrderMirror(id, { refunded: '1.00000' } as never)).rejects.toThrow(/refunded moves only with ledger refunds/);
    await expect(records.updateOrderMirror(id, { charge: '0.00000' } as never)).rejects.toThrow(/not mirrored/);
    const done = await records.updateOrderMirror(id, { status: 'canceled', remains: 1000 });
    expect(done.order.status).toBe('canceled');
    expect(done.order.finishedAt).not.toBeNull();
    expect(done.order.refunded).toBe('0.00000');
  });

  it('a late, stale status from a retried activity never moves a finished order back', async () => {
    const created = await records.createOrder(orderInput(base));
    if (!created.ok) throw new Error('refused');
    const id = created.order.id;
    await records.updateOrderMirror(id, { status: 'pending' });
    await records.updateOrderMirror(id, { status: 'in_progress' });
    await records.updateOrderMirror(id, { status: 'completed', remains: 0 });
    const stale = await records.updateOrderMirror(id, { status: 'in_progress', remains: 500 });
    expect(stale).toMatchObject({ applied: false, reason: 'stale_status', order: { status: 'completed', remains: 0 } });
  });

  it('a mirror is one UPDATE statement; it says whether it moved the status, stamps finishedAt once, and a given finishedAt wins', async () => {
    countQueries();
    const created = await records.createOrder(orderInput(base));
    if (!created.ok) throw new Error('refused');
    const id = created.order.id;
    const before = querySnapshot();
    const pending = await records.updateOrderMirror(id, { status: 'pending', providerOrderId: 'P-1' });
    // No transaction of its own (BEGIN, SELECT FOR UPDATE, UPDATE, COMMIT): the row is locked for one statement.
    expect(queriesBetween(before, querySnapshot())).toEqual([['UPDATE orders', 1]]);
    expect(pending).toMatchObject({ applied: true, statusChanged: true });
    expect(await records.updateOrderMirror(id, { remains: 10 })).toMatchObject({ applied: true, statusChanged: false, order: { status: 'pending', remains: 10 } });
    expect(await records.updateOrderMirror(id, { status: 'pending', startCount: 5 })).toMatchObject({ applied: true, statusChanged: false, order: { startCount: 5 } });

    const done = await records.updateOrderMirror(id, { status: 'canceled' });
    expect(done).toMatchObject({ applied: true, statusChanged: true });
    const stamped = done.order.finishedAt;
    expect(stamped).not.toBeNull();
    // A retried final mirror without finishedAt keeps the first stamp; one that names it writes it.
    expect((await records.updateOrderMirror(id, { status: 'canceled' })).order.finishedAt).toBe(stamped);
    const given = '2026-01-02T03:04:05.000Z';
    expect((await records.updateOrderMirror(id, { status: 'canceled', finishedAt: given })).order.finishedAt).toBe(given);
    await expect(records.updateOrderMirror(2_000_000_000, { status: 'pending' })).rejects.toThrow(/does not exist/);
    await expect(records.updateOrderMirror(2_000_000_000, { remains: 1 })).rejects.toThrow(/does not exist/);
  });

  it("an engine drip-feed's next run sent with an unknown outcome: the row goes from in_progress to dispatch_uncertain, where support's list finds it", async () => {
    const created = await records.createOrder(orderInput(base));
    if (!created.ok) throw new Error('refused');
    const id = created.order.id;
    await records.updateOrderMirror(id, { status: 'pending' });
    await records.updateOrderMirror(id, { status: 'in_progress' });
    const uncertain = await records.updateOrderMirror(id, { status: 'dispatch_uncertain' });
    expect(uncertain).toMatchObject({ applied: true, order: { status: 'dispatch_uncertain' } });
    expect((await records.updateOrderMirror(id, { status: 'in_progress' })).order.status).toBe('in_progress');
  });

  it('R-CANCEL-FULL: refunds show in the row only through the ledger', async () => {
    const userId = await makeUser(db.prisma);
    await ledger.credit({ userId, amount: '10.00000', kind: 'topup', idempotencyKey: topUpKey('ORD-REF'), reference: 'ORD-REF' });
    const created = await records.createOrder(orderInput({ ...base, userId }, { charge: '4.00000' }));
    if (!created.ok) throw new Error('refused');
    const id = created.order.id;
    await ledger.debitForOrder({ orderId: id, userId, amount: '4.00000', idempotencyKey: `${created.order.workflowId}:debit` });
    await records.updateOrderMirror(id, { status: 'pending' });
    await records.updateOrderMirror(id, { status: 'canceled' });
    await ledger.refundOrder({ orderId: id, amount: '4.00000', idempotencyKey: `${created.order.workflowId}:refund` });
    expect(await records.getOrder(id)).toMatchObject({ status: 'canceled', refunded: '4.00000', charge: '4.00000' });
    expect(await ledger.balanceOf(userId)).toBe('10.00000');
  });
});

describe('listOrders', () => {
  it('pages with a keyset cursor, newest first, filtered by user/status/link/provider/date', async () => {
    const userId = await makeUser(db.prisma);
    const mine = { ...base, userId };
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await records.createOrder(orderInput(mine, { link: `https://t.me/c${i}`, linkKey: `t.me/c${i}` }));
      if (!r.ok) throw new Error('refused');
      ids.push(r.order.id);
    }
    await records.updateOrderMirror(ids[1], { status: 'pending' });
    await records.updateOrderMirror(ids[3], { status: 'pending' });

    const seen: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const page = await records.listOrders({ userId, limit: 3, cursor });
      seen.push(...page.orders.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    expect((await records.listOrders({ userId, status: 'pending', limit: 10 })).orders.map((o) => o.id)).toEqual([ids[3], ids[1]]);
    expect((await records.listOrders({ userId, status: ['pending', 'new'], limit: 10 })).orders).toHaveLength(7);
    expect((await records.listOrders({ link: 'https://t.me/c4', limit: 10 })).orders.map((o) => o.id)).toEqual([ids[4]]);
    expect((await records.listOrders({ link: 't.me/c5', limit: 10 })).orders.map((o) => o.id)).toEqual([ids[5]]);
    expect((await records.listOrders({ userId, providerId: base.providerId, limit: 2 })).orders).toHaveLength(2);
    expect((await records.listOrders({ userId, providerId: base.providerId + 999, limit: 2 })).orders).toHaveLength(0);
    expect((await records.listOrders({ userId, createdBefore: new Date(Date.now() + 60_000), limit: 100 })).orders).toHaveLength(7);
    expect((await records.listOrders({ userId, createdBefore: '2000-01-01T00:00:00Z', limit: 100 })).orders).toHaveLength(0);
    expect((await records.listOrders({ userId, createdAfter: '2000-01-01T00:00:00Z', limit: 100 })).orders).toHaveLength(7);
    expect((await records.listOrders({ userId, createdAfter: new Date(Date.now() + 60_000), limit: 100 })).orders).toHaveLength(0);
    expect(
      (await records.listOrders({ userId, createdAfter: '2000-01-01T00:00:00Z', createdBefore: '2000-01-02T00:00:00Z', limit: 100 })).orders,
    ).toHaveLength(0);
    await expect(records.listOrders({ limit: 0 })).rejects.toThrow(RangeError);
  });
});

describe('listOrders: the support search filters', () => {
  it('ids, providerOrderId, flags (overdue, stalled, cancel_requested, dispatch_uncertain, refill_failed), the link as given or normalised', async () => {
    const userId = await makeUser(db.prisma);
    const mine = { ...base, userId };
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const link = `https://www.instagram.com/flags${i}-${userId}/`;
      const r = await records.createOrder(orderInput(mine, { link, linkKey: `https://instagram.com/flags${i}-${userId}` }));
      if (!r.ok) throw new Error('refused');
      ids.push(r.order.id);
    }
    await records.updateOrderMirror(ids[0], { status: 'pending', overdue: true, providerOrderId: `up-${userId}-0` });
    await records.updateOrderMirror(ids[1], { status: 'pending', overdue: true, stalled: true, providerOrderId: `up-${userId}-1` });
    await records.updateOrderMirror(ids[2], { status: 'pending', cancelRequested: true });
    for (const id of [ids[3], ids[4]]) await records.updateOrderMirror(id, { status: 'pending' });
    await records.updateOrderMirror(ids[3], { status: 'dispatch_uncertain' });
    await records.updateOrderMirror(ids[4], { status: 'completed' });
    await db.prisma.refill.create({ data: { orderId: ids[4], requestedBy: { kind: 'user', userId }, requestId: 'r1', status: 'failed', reason: 'provider refused' } });
    await db.prisma.refill.create({ data: { orderId: ids[5], requestedBy: { kind: 'user', userId }, requestId: 'r1', status: 'pending' } });

    const found = async (input: Omit<Parameters<OrderRecords['listOrders']>[0], 'limit'>) =>
      (await records.listOrders({ userId, limit: 100, ...input })).orders.map((o) => o.id);
    expect(await found({ ids: [ids[2], ids[0], 999_999] })).toEqual([ids[2], ids[0]]);
    expect(await found({ providerOrderId: `up-${userId}-1` })).toEqual([ids[1]]);
    expect(await found({ flags: ['overdue'] })).toEqual([ids[1], ids[0]]);
    expect(await found({ flags: ['overdue', 'stalled'] })).toEqual([ids[1]]);
    expect(await found({ flags: ['cancel_requested'] })).toEqual([ids[2]]);
    expect(await found({ flags: ['dispatch_uncertain'] })).toEqual([ids[3]]);
    expect(await found({ flags: ['dispatch_uncertain'], status: 'pending' })).toEqual([]);
    expect(await found({ flags: ['refill_failed'] })).toEqual([ids[4]]);
    // As stored, as normalised, or in another spelling of the same link.
    expect(await found({ link: `https://www.instagram.com/flags3-${userId}/` })).toEqual([ids[3]]);
    expect(await found({ link: `https://instagram.com/flags3-${userId}` })).toEqual([ids[3]]);
    expect(await found({ link: `http://INSTAGRAM.com/flags3-${userId}?utm_source=x` })).toEqual([ids[3]]);
    expect(await found({ link: 'not a link at all' })).toEqual([]);
    // ids and the cursor together: keyset paging still works.
    const page1 = await records.listOrders({ userId, ids, limit: 4 });
    expect(page1.orders.map((o) => o.id)).toEqual([...ids].reverse().slice(0, 4));
    const page2 = await records.listOrders({ userId, ids, limit: 4, cursor: page1.nextCursor });
    expect(page2.orders.map((o) => o.id)).toEqual([ids[1], ids[0]]);
    expect(page2.nextCursor).toBeNull();
  });
});
