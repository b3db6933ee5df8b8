/**
 * The ceiling's one local activity: the engine's debit shape and nothing else, in one transaction —
 * the balance UPDATE (its CHECK balance >= 0 decides) and the ledger INSERT with the idempotency key
 * (a retry finds its entry and answers the same). Through Prisma and the pg pool, as the engine does.
 */
import type { PrismaClient } from '../../generated/prisma/client';

export interface CeilingDebit {
  balanceAfter: string;
}

export function createCeilingActivities(prisma: PrismaClient) {
  return {
    async ceilingDebit(input: { userId: number; amount: string; key: string }): Promise<CeilingDebit> {
      return prisma.$transaction(async (tx) => {
        const done = await tx.$queryRaw<Array<{ balanceAfter: string }>>`
          SELECT balance_after::text AS "balanceAfter" FROM ledger_entries WHERE idempotency_key = ${input.key}`;
        if (done.length > 0) return done[0]!;
        const [user] = await tx.$queryRaw<Array<{ balance: string }>>`
          UPDATE users SET balance = balance - ${input.amount}::numeric WHERE id = ${input.userId} RETURNING balance::text AS "balance"`;
        await tx.$executeRaw`
          INSERT INTO ledger_entries (user_id, amount, kind, idempotency_key, reason, balance_after)
          VALUES (${input.userId}, -${input.amount}::numeric, 'correction', ${input.key}, 'bench ceiling', ${user!.balance}::numeric)`;
        return { balanceAfter: user!.balance };
      });
    },
  };
}

export type CeilingActivities = ReturnType<typeof createCeilingActivities>;
