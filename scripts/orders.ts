/**
 * npm run orders -- --query '<visibility query>' [--address host:port] [--namespace ns] [--limit n]
 *
 * Lists order workflows by their search attributes, on any Temporal server that has visibility:
 *   npm run orders -- --query 'OrderStatus="dispatch_uncertain" AND ProviderId=3'
 *   npm run orders -- --query "OrderFlags='overdue'"
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalAddress } from '../observability/temporal-address';
import { describeOrderExecution } from '../observability/order-listing';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      query: { type: 'string', default: "WorkflowType = 'orderWorkflow'" },
      address: { type: 'string' },
      namespace: { type: 'string', default: process.env.TEMPORAL_NAMESPACE ?? 'default' },
      limit: { type: 'string', default: '100' },
    },
  });
  const limit = Number(values.limit);
  const address = resolveTemporalAddress(values.address);
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: values.namespace });
    // Only order workflows: the query is scoped to their type unless it names one itself.
    const query = /WorkflowType/.test(values.query!) ? values.query! : `WorkflowType = 'orderWorkflow' AND (${values.query})`;
    let count = 0;
    for await (const execution of client.workflow.list({ query })) {
      console.log(describeOrderExecution(execution));
      if (++count >= limit) break;
    }
    console.log(`${count} order(s) for: ${query}`);
  } finally {
    await connection.close();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
