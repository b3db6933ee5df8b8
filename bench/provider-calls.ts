/**
 * npm run bench:provider-calls — provider calls per 1,000 active orders per polling round.
 *
 * Starts an ephemeral embedded PostgreSQL (never DATABASE_URL: this seeds rows), migrates it, starts
 * the provider simulator over HTTP, seeds 1,000 active orders of one provider (placed at the
 * simulator), and runs polling rounds through the provider sync's activity directly (no Temporal:
 * the orders stay Pending upstream, so no order workflow needs a signal). Counts the simulator's
 * `status` calls exactly (GET /_sim/calls).
 *
 * Env: BENCH_ORDERS (default 1000), BENCH_ROUNDS (default 3).
 */
import { Client } from '@temporalio/client';
import pino from 'pino';
import { createPrisma } from '../db/client';
import { ensurePrismaClient } from '../db/generate';
import { migrate } from '../db/migrate';
import { startPostgres } from '../db/postgres';
import { createProviderDirectory } from '../activities/provider-directory';
import { createProviderSyncActivities } from '../activities/provider-sync-activities';
import { createVirtualClock, startProviderSimulator } from '../provider-simulator';
import { orderWorkflowId } from '../workflows/order-contract';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  ensurePrismaClient();
  const pg = await startPostgres({ ephemeral: true, ignoreDatabaseUrl: true });
  const clock = createVirtualClock();
  const sim = await startProviderSimulator({ clock: clock.now });
  const prisma = createPrisma(pg.url, { applicationName: 'bench:provider-calls' });
  try {
    await migrate(pg.url);
    const user = await prisma.user.create({ data: { name: 'bench' } });
    const provider = await prisma.provider.create({ data: { name: 'simulator', apiUrl: sim.apiUrl, apiKey: sim.apiKey } });
    const service = await prisma.service.create({
      data: { name: 'Instagram followers', category: 'Instagram', providerId: provider.id, providerServiceId: '1', rate: '0.90000', min: 50, max: 10000 },
    });
    const rows = Array.from({ length: ORDERS }, (_, i) => {
      const id = i + 1;
      const link = `https://instagram.com/bench-${id}`;
      return {
        id,
        workflowId: orderWorkflowId(id),
        userId: user.id,
        serviceId: service.id,
        providerId: provider.id,
        link,
        linkKey: `instagram.com/bench-${id}`,
        quantity: 1000,
        rate: '0.90000',
        charge: '0.90000',
        refillKind: 'none',
        cancelable: true,
        status: 'pending',
        providerOrderId: String(sim.state.seedOrder(sim.apiKey, 1, link, 1000)),
        dispatchState: 'answered',
      };
    });
    await prisma.order.createMany({ data: rows });

    const { pollProviderRound } = createProviderSyncActivities({
      prisma,
      providers: createProviderDirectory(prisma),
      // Lazy: it connects only if a signal is sent, and nothing changes upstream in this bench.
      temporal: new Client(),
      logger: pino({ level: 'warn' }),
    });

    console.log(`${ORDERS} active orders, one provider (simulator at ${sim.apiUrl}), maxOrders 1000 per round`);
    let perRound = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      sim.state.clearCalls();
      const result = await pollProviderRound({ providerId: provider.id, maxOrders: 1000 });
      const calls = sim.state.callCountsByAction().status ?? 0;
      perRound = calls;
      console.log(
        `round ${r}: checked ${result.checked}, status calls ${calls} (activity counted ${result.providerCalls}), ` +
          `changed ${result.changed}, signaled ${result.signaled}, errors ${result.errors}, duration ${result.durationMs} ms`,
      );
    }
    const per1000 = ORDERS > 0 ? (perRound * 1000) / Math.min(ORDERS, 1000) : 0;
    console.log(`provider calls per 1000 active orders per round: ${per1000}`);
    console.log('(one status call per order, as many panels make, would be 1000)');
  } finally {
    await prisma.$disconnect();
    await sim.close();
    await pg.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
