// The provider simulator's options from the environment, shared by `npm run simulator` and `npm start`:
//   SIM_API_KEY (default sim-key, comma-separated for several), SIM_START_DELAY_MS, SIM_SPEED (units/second),
//   SIM_CANCEL_DELAY_MS, SIM_BALANCE, SIM_DATA_DIR (where the upstream order id sequence is kept so ids
//   never repeat across restarts; default <DATA_DIR>/simulator). The port and host are the caller's.
import type { StartProviderSimulatorOptions } from '../../provider-simulator';
import { join } from 'node:path';
import { dataDirFromEnv, numberFromEnv } from './env';

export function simulatorOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Omit<StartProviderSimulatorOptions, 'port' | 'host' | 'logger'> & { dataDir: string } {
  const startDelayMs = numberFromEnv(env, 'SIM_START_DELAY_MS');
  const speedPerSec = numberFromEnv(env, 'SIM_SPEED');
  return {
    apiKey: (env.SIM_API_KEY ?? 'sim-key').split(',').map((k) => k.trim()).filter(Boolean),
    defaults: {
      ...(startDelayMs !== undefined ? { startDelayMs } : {}),
      ...(speedPerSec !== undefined ? { speedPerSec } : {}),
    },
    cancelDelayMs: numberFromEnv(env, 'SIM_CANCEL_DELAY_MS'),
    balance: env.SIM_BALANCE,
    dataDir: env.SIM_DATA_DIR || join(dataDirFromEnv(env), 'simulator'),
  };
}
