// The migration SQL is written by hand (Prisma's schema engine cannot run offline). This test keeps
// it honest: the migrated database must have exactly the tables, columns, types, nullability,
// indexes and foreign keys that prisma/schema.prisma declares, under Prisma's default names, so a
// later `prisma migrate dev` finds no drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { ACTIVE_STATUSES, ORDER_STATUSES } from '../../domain/order-status';

interface Field {
  name: string;
  column: string;
  type: string;
  optional: boolean;
  attrs: string;
}
interface Model {
  name: string;
  table: string;
  fields: Field[];
  blockAttrs: string[];
}

const SCALARS = new Set(['Int', 'BigInt', 'String', 'Boolean', 'DateTime', 'Decimal', 'Json']);

/** A small reader for our schema.prisma (one field per line, no enums, no composite types). */
function readSchema(): Model[] {
  const text = readFileSync(join(__dirname, '..', '..', 'prisma', 'schema.prisma'), 'utf8');
  const models: Model[] = [];
  for (const match of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const [, name, body] = match;
    const fields: Field[] = [];
    const blockAttrs: string[] = [];
    let table = name;
    for (const raw of body.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '').trim();
      if (!line) continue;
      if (line.startsWith('@@')) {
        const map = /^@@map\("([^"]+)"\)/.exec(line);
        if (map) table = map[1];
        else blockAttrs.push(line);
        continue;
      }
      const f = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!f || !SCALARS.has(f[2])) continue; // relation fields
      const column = /@map\("([^"]+)"\)/.exec(f[5])?.[1] ?? f[1];
      fields.push({ name: f[1], column, type: f[2], optional: f[4] === '?', attrs: f[5] });
    }
    models.push({ name, table, fields, blockAttrs });
  }
  return models;
}

function expectedType(field: Field): string {
  if (field.type === 'Decimal') {
    const m = /@db\.Decimal\((\d+),\s*(\d+)\)/.exec(field.attrs);
    return m ? `numeric(${m[1]},${m[2]})` : 'numeric(65,30)';
  }
  return (
    {
      Int: 'integer',
      BigInt: 'bigint',
      String: 'text',
      Boolean: 'boolean',
      DateTime: 'timestamp(3) without time zone',
      Json: 'jsonb',
    } as Record<string, string>
  )[field.type];
}

let db: TestDatabase;
let pg: Client;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 1 });
  pg = new Client({ connectionString: db.url });
  await pg.connect();
});

afterAll(async () => {
  await pg?.end();
  await db?.drop();
});

const models = readSchema();

it('reads every model of schema.prisma', () => {
  expect(models.map((m) => m.name)).toEqual([
    'User', 'ApiKey', 'Provider', 'Service', 'Order', 'LedgerEntry', 'Refill', 'IdempotencyRecord', 'AuditRecord',
    'ConsoleSession', 'OrderRun', 'MovedUpstreamOrder',
  ]);
});

it('the migration creates exactly the tables of the schema', async () => {
  const { rows } = await pg.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name`,
  );
  expect(rows.map((r) => r.table_name)).toEqual(models.map((m) => m.table).sort());
});

describe.each(models.map((m) => [m.name, m] as const))('%s', (_name, model) => {
  it('has exactly the columns, types and nullability of the schema', async () => {
    const { rows } = await pg.query<{ column_name: string; type: string; not_null: boolean; has_default: boolean }>(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              a.atthasdef AS has_default
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [model.table],
    );
    const actual = rows.map((r) => [r.column_name, r.type, r.not_null, r.has_default]);
    const expected = model.fields.map((f) => [
      f.column,
      expectedType(f),
      !f.optional,
      /@default\(/.test(f.attrs), // autoincrement() is a sequence default too
    ]);
    expect(actual).toEqual(expected);
  });

  it("has the schema's primary key, unique constraints and indexes under Prisma's names", async () => {
    const column = (name: string) => model.fields.find((f) => f.name === name)!.column;
    const expected = new Set<string>([`${model.table}_pkey`]);
    for (const f of model.fields) if (/@unique\b/.test(f.attrs)) expected.add(`${model.table}_${f.column}_key`);
    for (const attr of model.blockAttrs) {
      const m = /^@@(index|unique)\(\[([^\]]*)\](.*)\)$/.exec(attr);
      if (!m) continue;
      const explicit = /map:\s*"([^"]+)"/.exec(m[3])?.[1];
      const cols = m[2].split(',').map((c) => column(c.trim().replace(/\(.*\)$/, '')));
      expected.add(explicit ?? `${model.table}_${cols.join('_')}_${m[1] === 'index' ? 'idx' : 'key'}`);
    }
    const { rows } = await pg.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1`, [model.table]);
    expect(rows.map((r) => r.indexname).sort()).toEqual([...expected].sort());
  });
});

it("has the schema's foreign keys under Prisma's names, ON UPDATE CASCADE and the schema's ON DELETE (RESTRICT unless it says otherwise)", async () => {
  const { rows } = await pg.query<{ conname: string; def: string }>(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY conname`,
  );
  const onDelete = new Map<string, string>();
  const text = readFileSync(join(__dirname, '..', '..', 'prisma', 'schema.prisma'), 'utf8');
  for (const model of models) {
    const body = new RegExp(`^model ${model.name} \\{([\\s\\S]*?)^\\}`, 'm').exec(text)![1];
    for (const [, args] of body.matchAll(/@relation\((fields: [^)]*)\)/g)) {
      const field = /fields: \[(\w+)\]/.exec(args!)![1];
      const col = model.fields.find((f) => f.name === field)!.column;
      onDelete.set(`${model.table}_${col}_fkey`, (/onDelete: (\w+)/.exec(args!)?.[1] ?? 'Restrict').toUpperCase());
    }
  }
  expect(rows.map((r) => r.conname)).toEqual([...onDelete.keys()].sort());
  for (const row of rows) expect(row.def).toMatch(new RegExp(`ON UPDATE CASCADE ON DELETE ${onDelete.get(row.conname)}$`));
});

it("R-ONE-ACTIVE-PER-LINK: the partial index predicate is exactly the schema's, over the domain's active statuses", async () => {
  const text = readFileSync(join(__dirname, '..', '..', 'prisma', 'schema.prisma'), 'utf8');
  const declared = /map: "orders_active_link_key", where: raw\("(.*)"\)\)/.exec(text)?.[1];
  const { rows } = await pg.query<{ pred: string }>(
    `SELECT pg_get_expr(i.indpred, i.indrelid) AS pred FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = 'orders_active_link_key'`,
  );
  // Prisma's differ compares the stored predicate with the schema's; equal text means no drift.
  expect(rows[0].pred).toBe(declared);
  const statuses = [...rows[0].pred.matchAll(/'(\w+)'::text/g)].map((m) => m[1]);
  expect(statuses).toEqual([...ACTIVE_STATUSES]);
});

it("the orders.status CHECK admits exactly the domain's statuses", async () => {
  const { rows } = await pg.query<{ def: string }>(
    `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'orders_status_valid'`,
  );
  const statuses = [...rows[0].def.matchAll(/'(\w+)'::text/g)].map((m) => m[1]);
  expect(statuses.sort()).toEqual([...ORDER_STATUSES].sort());
});
