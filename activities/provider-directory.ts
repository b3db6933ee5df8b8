/**
 * Where activities find a provider: its row (URL, key, capabilities) and an API v2 client for it.
 * Clients are cached per provider and rebuilt when the provider's row changes (a new key or URL).
 */
import type { PrismaClient } from '../generated/prisma/client';
import { observeProviderCall } from '../observability/metrics';
import { createProviderClient } from './provider';
import type { ProviderClient } from './provider';

export interface ProviderInfo {
  id: number;
  name: string;
  apiUrl: string;
  supportsLinkLookup: boolean;
  countSourceUrl: string | null;
  active: boolean;
}

export interface ProviderDirectory {
  get(providerId: number): Promise<{ provider: ProviderInfo; client: ProviderClient }>;
}

export class UnknownProviderError extends Error {
  constructor(readonly providerId: number) {
    super(`provider ${providerId} does not exist`);
    this.name = 'UnknownProviderError';
  }
}

export function createProviderDirectory(
  prisma: PrismaClient,
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): ProviderDirectory {
  const cache = new Map<number, { fingerprint: string; client: ProviderClient }>();
  return {
    async get(providerId) {
      const row = await prisma.provider.findUnique({ where: { id: providerId } });
      if (!row) throw new UnknownProviderError(providerId);
      const fingerprint = `${row.apiUrl}\u0000${row.apiKey}`;
      let cached = cache.get(providerId);
      if (!cached || cached.fingerprint !== fingerprint) {
        const client = instrumented(
          createProviderClient({
            apiUrl: row.apiUrl,
            apiKey: row.apiKey,
            timeoutMs: options.timeoutMs ?? 15_000,
            fetch: options.fetch,
          }),
          String(row.id),
        );
        cached = { fingerprint, client };
        cache.set(providerId, cached);
      }
      const provider: ProviderInfo = {
        id: row.id,
        name: row.name,
        apiUrl: row.apiUrl,
        supportsLinkLookup: row.supportsLinkLookup,
        countSourceUrl: row.countSourceUrl,
        active: row.active,
      };
      return { provider, client: cached.client };
    },
  };
}

/** The same client, with every call timed and counted by provider, action and outcome (metrics). */
function instrumented(client: ProviderClient, provider: string): ProviderClient {
  const wrapped: Partial<Record<keyof ProviderClient, unknown>> = {};
  for (const action of Object.keys(client) as Array<keyof ProviderClient>) {
    const method = client[action] as (...args: unknown[]) => Promise<unknown>;
    wrapped[action] = (...args: unknown[]) => observeProviderCall(provider, action, () => method(...args), outcomeOf);
  }
  return wrapped as ProviderClient;
}

/** An answer that carries an error, or an add the provider did not take, counts as an error. */
function outcomeOf(result: unknown): 'ok' | 'error' {
  if (result && typeof result === 'object') {
    if ('error' in result) return 'error';
    const kind = (result as { kind?: string }).kind;
    if (kind !== undefined && kind !== 'placed') return 'error';
  }
  return 'ok';
}
