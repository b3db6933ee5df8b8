// The placement's fast checks and its order id in one statement (api/placement-checks.ts), on a real PostgreSQL.
import { runPlacementChecks } from '../../api/placement-checks';
import { createLedger, topUpKey } from '../../activities/ledger';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { makeCatalogue, makeOrder, makeUser } from './fixtures';

let db: TestDatabase;
let catalogue: { providerId: number; serviceId: number };

beforeAll(async () => {
  db = await createTestDatabase();
  catalogue = await makeCatalogue(db.prisma);
});

afterAll(async () => {
  await db?.drop();
});

async function userWith(balance: string): Promise<number> {
  const userId = await makeUser(db.prisma);
  if (balance === '0') return userId;
  await createLedger(db.prisma).credit({ userId, amount: balance, kind: 'topup', idempotencyKey: topUpKey(`pay-${userId}`), reference: `pay-${userId}` });
  return userId;
}

async function lastOrderId(): Promise<number> {
  const [row] = await db.prisma.$queryRaw<Array<{ id: bigint }>>`SELECT last_value AS id FROM orders_id_seq`;
  return Number(row.id);
}

describe('runPlacementChecks', () => {
  it('R-BALANCE / R-PRICE-SNAPSHOT: a covered charge on a free link gets the next order id', async () => {
    const userId = await userWith('1.00000');
    const checks = await runPlacementChecks(db.prisma, { userId, linkKey: 'instagram.com/free-1', charge: '1.00000' });
    expect(checks).toEqual({ ok: true, orderId: await lastOrderId() });
    const again = await runPlacementChecks(db.prisma, { userId, linkKey: 'instagram.com/free-1', charge: '1.00000' });
    expect(again).toEqual({ ok: true, orderId: (checks as { orderId: number }).orderId + 1 });
  });

  it('R-BALANCE: a charge above the balance is refused and uses up no order id', async () => {
    const userId = await userWith('0.99999');
    const before = await lastOrderId();
    expect(await runPlacementChecks(db.prisma, { userId, linkKey: 'instagram.com/free-2', charge: '1.00000' })).toEqual({ ok: false, refusal: 'insufficient_funds' });
    expect(await lastOrderId()).toBe(before);
  });

  it('R-ONE-ACTIVE-PER-LINK: an active order on the link is named (checked before the balance) and no order id is used', async () => {
    const userId = await userWith('0');
    const holder = await makeOrder(db.prisma, { ...catalogue, userId }, { linkKey: 'instagram.com/busy' });
    const before = await lastOrderId();
    expect(await runPlacementChecks(db.prisma, { userId, linkKey: 'instagram.com/busy', charge: '5.00000' })).toEqual({ ok: false, refusal: 'link_busy', holderOrderId: holder });
    expect(await lastOrderId()).toBe(before);
  });

  it('R-ONE-ACTIVE-PER-LINK: a final order on the link does not hold it', async () => {
    const userId = await userWith('2.00000');
    const done = await makeOrder(db.prisma, { ...catalogue, userId }, { linkKey: 'instagram.com/done' });
    await db.prisma.order.update({ where: { id: done }, data: { status: 'completed' } });
    const checks = await runPlacementChecks(db.prisma, { userId, linkKey: 'instagram.com/done', charge: '2.00000' });
    expect(checks.ok).toBe(true);
  });

  it('an unknown user is an error, not a refusal', async () => {
    await expect(runPlacementChecks(db.prisma, { userId: 99999999, linkKey: 'instagram.com/x', charge: '1' })).rejects.toThrow('user 99999999 does not exist');
  });
});
