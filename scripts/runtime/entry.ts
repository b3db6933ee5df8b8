/**
 * The frame of every long-running entry point (npm start's engine process, npm run api, npm run
 * worker): prefixed progress lines, the Prisma client generated if missing, the stop signals
 * (scripts/runtime/signals.ts), and exit 1 with the error when starting fails.
 */
import { existsSync } from 'node:fs';
import { GENERATED_CLIENT, ensurePrismaClient } from '../../db/generate';
import { intFromEnv } from './env';
import { stopOnSignal } from './signals';

/**
 * `start` brings the parts up and returns how to stop them. It must load anything that imports the
 * generated Prisma client with a dynamic import(), since the client may not exist before this runs.
 */
export interface EntryContext {
  log: (line: string) => void;
  /** A part failed while running: stop everything, exit 1. */
  fail: (error: unknown) => void;
}

export function runEntryPoint(name: string, start: (context: EntryContext) => Promise<() => Promise<void>>): void {
  const log = (line: string) => console.log(`[${name}] ${line}`);
  const signals = stopOnSignal(log, intFromEnv(process.env, 'SHUTDOWN_TIMEOUT_MS', 30_000));
  (async () => {
    if (!existsSync(GENERATED_CLIENT)) log('Prisma client: generating (first run)');
    ensurePrismaClient();
    signals.ready(await start({ log, fail: (error) => signals.fail(error) }));
  })().catch((error: unknown) => {
    console.error(`[${name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}
