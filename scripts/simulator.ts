/**
 * Runs the API v2 provider simulator standalone (demo, manual tests, benchmarks).
 *   PORT=4010 npm run simulator
 * Env: PORT (default 4010; 0 = any free port), HOST (default 127.0.0.1), SIM_API_KEY (default sim-key,
 * comma-separated for several), SIM_START_DELAY_MS, SIM_SPEED (units/second), SIM_CANCEL_DELAY_MS,
 * SIM_BALANCE, LOG_LEVEL.
 */
import pino from 'pino';
import { startProviderSimulator } from '../provider-simulator';
import { intFromEnv } from './runtime/env';
import { simulatorOptionsFromEnv } from './runtime/simulator-env';

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const sim = await startProviderSimulator({
    ...simulatorOptionsFromEnv(process.env),
    port: intFromEnv(process.env, 'PORT', 4010),
    host: process.env.HOST ?? '127.0.0.1',
    logger,
  });
  logger.info({ api: sim.apiUrl, count: sim.countUrl, control: `${sim.url}/_sim` }, 'provider simulator ready');
  const stop = () => {
    logger.info('stopping provider simulator');
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
