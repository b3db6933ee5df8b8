/**
 * npm run history -- <order id> [--json <dir>] [--address host:port] [--namespace ns] [--all-events]
 *
 * Prints an order's whole story across all its workflow runs; with --json also writes each run's raw
 * history in the format `temporal workflow show --output json` writes (one file per run).
 */
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { orderWorkflowId } from '../workflows/order-contract';
import { exportRuns, fetchAllRuns } from '../observability/history-fetch';
import { resolveTemporalAddress } from '../observability/temporal-address';
import { renderTimeline } from '../observability/timeline';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      address: { type: 'string' },
      namespace: { type: 'string', default: process.env.TEMPORAL_NAMESPACE ?? 'default' },
      'all-events': { type: 'boolean', default: false },
    },
  });
  const orderId = Number(positionals[0]);
  if (!Number.isInteger(orderId) || orderId <= 0) {
    console.error('usage: npm run history -- <order id> [--json <dir>] [--address host:port]');
    process.exit(2);
  }
  const address = resolveTemporalAddress(values.address);
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: values.namespace });
    const workflowId = orderWorkflowId(orderId);
    const runs = await fetchAllRuns(client, workflowId);
    console.log(`order ${orderId} — workflow ${workflowId} on ${address}, ${runs.length} run(s)`);
    for (const line of renderTimeline(runs, { showWorkflowTasks: values['all-events'] })) console.log(line);
    if (values.json) {
      for (const path of await exportRuns(runs, workflowId, values.json)) console.log(`wrote ${path}`);
    }
  } finally {
    await connection.close();
  }
}

main().catch((error: Error) => {
  console.error(error instanceof WorkflowNotFoundError ? `no such order workflow: ${error.message}` : error.message);
  process.exit(1);
});
