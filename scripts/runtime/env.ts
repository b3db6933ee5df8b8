// Reading configuration from environment variables, with the variable's name in every error.
import { join, resolve } from 'node:path';

/** A non-negative finite number; undefined when unset or empty. */
export function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${value}"`);
  return n;
}

/** A non-negative integer (ports, milliseconds); `fallback` when unset or empty. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = numberFromEnv(env, name);
  if (n === undefined) return fallback;
  if (!Number.isInteger(n)) throw new Error(`${name} must be a non-negative integer, got "${env[name]}"`);
  return n;
}

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** DATA_DIR, default .data in the repository: the embedded PostgreSQL, the dev server's SQLite, the demo key. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv): string {
  return resolve(env.DATA_DIR || join(REPO_ROOT, '.data'));
}
