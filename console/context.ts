// What a console page handler has: the signed-in staff member, a REST client acting as them, and the
// engine's read-only handles for the few figures the REST API has no route for (queue counts, the
// overview, the ledger of one account or order, the move picker).
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client';
import type { RestClient } from './rest-client';
import type { ConsoleSession } from './session-store';

export interface ConsoleDeps {
  prisma: PrismaClient;
  temporal: Client;
}

export interface PageContext extends ConsoleDeps {
  session: ConsoleSession;
  rest: RestClient;
}

/** The query string of a URL from a parsed query: empty fields dropped (a blank form field is no filter). */
export function queryString(query: Record<string, unknown>, overrides: Record<string, string | null> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key in overrides) continue;
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && v.trim() !== '') params.append(key, v.trim());
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== null && value !== '') params.append(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
