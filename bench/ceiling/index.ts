/**
 * The ceiling beside the engine (issue 15): the least a workflow-per-order design costs on the same
 * Temporal server, database and machine. Each "order" is an update-with-start of `ceilingWorkflow`
 * on its own task queue, whose `debit` update runs one local activity — the debit transaction
 * (bench/ceiling/activities.ts) — and answers. Clients call the Temporal client directly (no HTTP),
 * in loops like the API bench's, one account for all (the hot-account case, as the demo user's).
 *
 * Its worker runs where npm start's worker runs (passed in by the caller); the ceiling's user is its
 * own (topped up through the ledger), so the engine's balance check is untouched.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import { createLedger, topUpKey } from '../../activities/ledger';
import { decimal, formatMoney } from '../../domain/money';
import type { PrismaClient } from '../../generated/prisma/client';
import { createCeilingActivities } from './activities';
import { debitUpdate } from './workflow';
import type { ceilingWorkflow } from './workflow';

const TASK_QUEUE = 'bench-ceiling';

export interface CeilingLevel {
  clients: number;
  done: number;
  seconds: number;
  latencies: number[];
  errors: number;
}

export interface Ceiling {
  /** `total` debits by `clients` loops. */
  run(clients: number, total: number): Promise<CeilingLevel>;
  /** The account's balance fell by exactly (debits × amount). */
  check(): Promise<string>;
  stop(): Promise<void>;
}

export async function startCeiling(input: {
  prisma: PrismaClient;
  client: Client;
  connection: NativeConnection;
  namespace: string;
  amount: string;
  debits: number;
}): Promise<Ceiling> {
  const topUp = decimal(input.amount).times(input.debits + 100);
  const user = await input.prisma.user.create({ data: { name: 'bench ceiling' } });
  const reference = `bench-ceiling-${user.id}`;
  await createLedger(input.prisma).credit({
    userId: user.id,
    amount: formatMoney(topUp),
    kind: 'topup',
    reference,
    idempotencyKey: topUpKey(reference),
  });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflow'), logger: new DefaultLogger('WARN') });
  const worker = await Worker.create({
    connection: input.connection,
    namespace: input.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle,
    activities: createCeilingActivities(input.prisma),
  });
  const running = worker.run();
  let seq = 0;
  let debited = 0;

  const debitOnce = async (): Promise<void> => {
    const key = `ceiling-${user.id}-${++seq}`;
    const start = new WithStartWorkflowOperation<typeof ceilingWorkflow>('ceilingWorkflow', {
      workflowId: key,
      taskQueue: TASK_QUEUE,
      args: [{ userId: user.id, amount: input.amount, key: `${key}:debit` }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    await input.client.workflow.executeUpdateWithStart(debitUpdate, { startWorkflowOperation: start });
    debited += 1;
  };

  return {
    async run(clients, total) {
      const level: CeilingLevel = { clients, done: 0, seconds: 0, latencies: [], errors: 0 };
      let sent = 0;
      const begin = performance.now();
      const loop = async () => {
        while (sent < total) {
          sent += 1;
          const t = performance.now();
          try {
            await debitOnce();
            level.done += 1;
            level.latencies.push(performance.now() - t);
          } catch {
            level.errors += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: clients }, loop));
      level.seconds = (performance.now() - begin) / 1000;
      return level;
    },
    async check() {
      const row = await input.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      const expected = formatMoney(topUp.minus(decimal(input.amount).times(debited)));
      const balance = formatMoney(decimal(row.balance.toString()));
      return `ceiling account after ${debited} debits: ${balance}, expected ${expected} — ${balance === expected ? 'one debit each' : 'MISMATCH'}`;
    },
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
