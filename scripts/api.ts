/**
 * npm run api — the REST API alone (docker compose's `api` service; `npm start` runs everything at once).
 * Env: DATABASE_URL (required, migrated), TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE
 * (default "default"), PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 in the Docker image),
 * LOG_LEVEL. Registers the order search attributes at start, as the worker does (a fresh server
 * refuses every order start until they exist). SIGINT/SIGTERM: stop accepting requests, close
 * connections, exit 0.
 */
import { runEntryPoint } from './runtime/entry';
import { intFromEnv } from './runtime/env';
import { Parts } from './runtime/parts';

runEntryPoint('api', async ({ log }) => {
  const { connectBackends, startApi } = await import('./runtime/components');
  const { registerOrderSearchAttributes } = await import('../worker/search-attributes');
  const parts = new Parts(log);
  await parts.starting(async () => {
    const { deps, namespace } = await connectBackends(process.env, parts, log, { sdkMetrics: false });
    // The API starts orders, and a server refuses every start naming an undefined search attribute:
    // on a fresh server the API must not wait for a worker to register them (the worker does too).
    await registerOrderSearchAttributes(deps.temporal, namespace, log);
    const port = intFromEnv(process.env, 'PORT', 3000);
    const api = parts.add('API', await startApi({ deps, port, host: process.env.HOST || '127.0.0.1' }));
    log(`API listening on ${api.url}`);
  });
  return () => parts.stopAll();
});
