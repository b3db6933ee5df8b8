/** A setting the simulation passes to its child processes (worker, replay): missing is a bug, said by name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
