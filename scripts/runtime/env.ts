// Reading configuration from environment variables, with the variable's name in every error.

/** A non-negative integer (ports, milliseconds); `fallback` when unset or empty. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** Like intFromEnv, but undefined when unset (the component's own default applies). */
export function optionalIntFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  return env[name] === undefined || env[name] === '' ? undefined : intFromEnv(env, name, 0);
}
