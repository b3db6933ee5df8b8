/**
 * The placement's fast checks and its order id in one SQL statement (issue 15: each statement costs
 * the API a Prisma call and PostgreSQL a round trip; three became one):
 *   - R-ONE-ACTIVE-PER-LINK: the active order holding the link, if any;
 *   - R-BALANCE: whether the balance covers the charge;
 *   - R-PRICE-SNAPSHOT's id: the next value of the orders' id sequence, taken only when both checks
 *     pass (CASE evaluates nextval lazily), so a refused request uses up no order id.
 * Only fast paths: nothing is written, and the workflow's first activity (the partial unique index)
 * and its debit (CHECK balance >= 0) decide under concurrency.
 */
import { Prisma } from '../generated/prisma/client';
import type { PrismaClient } from '../generated/prisma/client';
import { ACTIVE_STATUSES } from '../domain/order-status';

export type PlacementChecks =
  | { ok: true; orderId: number }
  | { ok: false; refusal: 'link_busy'; holderOrderId: number }
  | { ok: false; refusal: 'insufficient_funds' };

export async function runPlacementChecks(
  prisma: PrismaClient,
  input: { userId: number; linkKey: string; charge: string },
): Promise<PlacementChecks> {
  const [row] = await prisma.$queryRaw<Array<{ holder_id: number | null; covered: boolean | null; order_id: bigint | null }>>`
    WITH holder AS (
      SELECT id FROM orders
      WHERE link_key = ${input.linkKey} AND status IN (${Prisma.join([...ACTIVE_STATUSES])})
      ORDER BY id LIMIT 1
    ), account AS (
      SELECT balance >= ${input.charge}::numeric AS covered FROM users WHERE id = ${input.userId}
    )
    SELECT (SELECT id FROM holder) AS holder_id,
           (SELECT covered FROM account) AS covered,
           CASE WHEN NOT EXISTS (SELECT 1 FROM holder) AND (SELECT covered FROM account)
                THEN nextval(pg_get_serial_sequence('orders', 'id')) END AS order_id`;
  if (row.covered === null) throw new Error(`user ${input.userId} does not exist`);
  if (row.holder_id !== null) return { ok: false, refusal: 'link_busy', holderOrderId: row.holder_id };
  if (row.order_id === null) return { ok: false, refusal: 'insufficient_funds' };
  return { ok: true, orderId: Number(row.order_id) };
}
