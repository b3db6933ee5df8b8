/**
 * Counts the SQL statements the process sends to PostgreSQL, by wrapping node-postgres' Client#query
 * (what @prisma/adapter-pg sends every query through). For the benches' "queries per order"; a
 * statement is named by its first words and table (parameters and literals left out).
 */
import pg from 'pg';

const counts = new Map<string, number>();
let total = 0;
let installed = false;

export function countQueries(): void {
  if (installed) return;
  installed = true;
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0];
    const text = typeof config === 'string' ? config : ((config as { text?: string } | undefined)?.text ?? '');
    const name = statementName(text);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    total += 1;
    return original.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

/** "UPDATE users", "SELECT orders", "BEGIN"...: the verb and the first table it names. */
export function statementName(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = (text.match(/^\w+/)?.[0] ?? '?').toUpperCase();
  const table = text.match(/\b(?:from|into|update)\s+"?(?:public"?\."?)?(\w+)/i)?.[1];
  return table ? `${verb} ${table}` : verb;
}

export interface QuerySnapshot {
  total: number;
  byStatement: Map<string, number>;
}

export function querySnapshot(): QuerySnapshot {
  return { total, byStatement: new Map(counts) };
}

/** What was sent between two snapshots, biggest first. */
export function queriesBetween(before: QuerySnapshot, after: QuerySnapshot): Array<[string, number]> {
  return [...after.byStatement]
    .map(([name, n]) => [name, n - (before.byStatement.get(name) ?? 0)] as [string, number])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}
