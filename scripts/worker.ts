/**
 * npm run worker — the Temporal worker alone (docker compose's `worker` service; `npm start` runs
 * everything at once): order workflows, provider syncs and their activities on task queue "orders".
 * Env: DATABASE_URL (required, migrated), TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE
 * (default "default"), TEMPORAL_LOG_LEVEL (default WARN). SIGINT/SIGTERM: the worker shuts down
 * (running activities finish or are cancelled), connections close, exit 0. If the worker fails on its
 * own, the process exits 1 (docker compose restarts it).
 */
import { runEntryPoint } from './runtime/entry';
import { Parts } from './runtime/parts';

runEntryPoint('worker', async ({ log, fail }) => {
  const { connectBackends, startWorker } = await import('./runtime/components');
  const parts = new Parts(log);
  await parts.starting(async () => {
    const { deps, temporal, namespace } = await connectBackends(process.env, parts, log, { sdkMetrics: true });
    parts.add('worker', await startWorker({ deps, connection: temporal.nativeConnection, namespace, onFailure: fail }));
    log(`worker running on namespace ${namespace}`);
  });
  return () => parts.stopAll();
});
