/**
 * Where the command-line tools find Temporal: --address, else TEMPORAL_ADDRESS, else the address a
 * running `npm start` wrote to .data/running.json (its in-memory or dev server), else localhost:7233.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** npm start writes it into its data directory (DATA_DIR, default .data). */
export function runningFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DATA_DIR || join(__dirname, '..', '.data'), 'running.json');
}

export interface RunningEngine {
  temporalAddress: string;
  namespace?: string;
  apiUrl?: string;
  /** The engine's database (npm run api-key writes staff keys there while the engine runs). */
  databaseUrl?: string;
  pid?: number;
}

export function resolveTemporalAddress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.TEMPORAL_ADDRESS) return env.TEMPORAL_ADDRESS;
  const running = readRunningEngine(runningFile(env));
  if (running) return running.temporalAddress;
  return 'localhost:7233';
}

export function readRunningEngine(file = runningFile()): RunningEngine | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as RunningEngine;
    return typeof parsed.temporalAddress === 'string' ? parsed : null;
  } catch {
    return null;
  }
}
