/**
 * The engine's client for any upstream provider speaking API v2.
 *
 * Failure policy:
 * - Writes that can create or change something at the provider (addOrder, cancelOrders, refill,
 *   refillMany) never throw: every outcome, including transport failures, comes back classified.
 * - Reads (getStatuses, refillStatuses, findOrdersByLink, readCount, balance, services) return the
 *   provider's answers, errors included, but throw ProviderUnavailableError when no usable answer came
 *   (timeout, connection failure, 5xx, non-JSON body): they are idempotent, so the activity is retried.
 */
import { classifyAddOutcome, type TransportFailureKind } from './classify';
import { request, sendWithFetch, sendWithUndici, TransportFailure, type HttpAnswer } from './http';
import {
  errorText,
  parseCancelAnswer,
  parseCount,
  parseJsonBody,
  parseMultiStatus,
  parseOrdersByLink,
  parseRefillAnswer,
  parseRefillMultiAnswer,
  parseRefillStatusAnswer,
  parseServices,
} from './parse';
import type {
  AddOrderRequest,
  AddOrderResult,
  BalanceResult,
  CancelResult,
  CountResult,
  OrderStatusResult,
  ProviderOrderSummary,
  ProviderService,
  RefillResult,
  RefillStatusResult,
} from './types';

/** API v2 caps multi-id calls at 100 ids. */
export const MAX_IDS_PER_CALL = 100;

export interface ProviderClientOptions {
  /** The provider's endpoint, e.g. https://provider.example/api/v2 */
  apiUrl: string;
  apiKey: string;
  /** Per call: connect, send and read the whole answer. */
  timeoutMs: number;
  /** Send with this fetch instead of undici's request (tests that script a provider's failures). */
  fetch?: typeof fetch;
  /** Name of the key parameter; default "key" (a few providers want "api"). */
  keyParam?: string;
  /** Ids per multi call, 1..100 (default 100). */
  batchSize?: number;
}

/** No usable answer to an idempotent read: retry (Temporal retries the activity). */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly reason: TransportFailureKind | 'http_5xx' | 'non_json' | 'empty_body',
    message: string,
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

export interface ProviderClient {
  services(): Promise<ProviderService[] | { error: string }>;
  addOrder(req: AddOrderRequest): Promise<AddOrderResult>;
  /** Batches of at most 100 ids, multi form `orders=`; keyed by the ids as given. */
  getStatuses(providerOrderIds: readonly string[]): Promise<Map<string, OrderStatusResult>>;
  /** Acknowledgement only: the order's end comes later in its status. */
  cancelOrders(providerOrderIds: readonly string[]): Promise<Map<string, CancelResult>>;
  refill(providerOrderId: string): Promise<RefillResult>;
  refillMany(providerOrderIds: readonly string[]): Promise<Map<string, RefillResult>>;
  refillStatuses(refillIds: readonly string[]): Promise<Map<string, RefillStatusResult>>;
  /** The non-standard `orders_by_link` action; null when the provider does not support it. */
  findOrdersByLink(link: string): Promise<ProviderOrderSummary[] | null>;
  /** GET countSourceUrl?link=... → {"count": n} (R-REFILL-NEED, R-COUNTERS). */
  readCount(countSourceUrl: string, link: string): Promise<CountResult>;
  balance(): Promise<BalanceResult>;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function createProviderClient(opts: ProviderClientOptions): ProviderClient {
  const send = opts.fetch ? sendWithFetch(opts.fetch) : sendWithUndici;
  const keyParam = opts.keyParam ?? 'key';
  const batchSize = Math.min(MAX_IDS_PER_CALL, Math.max(1, Math.floor(opts.batchSize ?? MAX_IDS_PER_CALL)));
  if (!(opts.timeoutMs > 0)) throw new Error('createProviderClient: timeoutMs must be > 0');

  const post = (params: Record<string, string | number>): Promise<HttpAnswer> => {
    const form = new URLSearchParams();
    form.set(keyParam, opts.apiKey);
    for (const [k, v] of Object.entries(params)) form.set(k, String(v));
    return request({ send, url: opts.apiUrl, timeoutMs: opts.timeoutMs, form });
  };

  /** A read: the parsed JSON answer, or ProviderUnavailableError. */
  const read = async (params: Record<string, string | number>, url?: string): Promise<unknown> => {
    let answer: HttpAnswer;
    try {
      answer = url === undefined ? await post(params) : await request({ send, url, timeoutMs: opts.timeoutMs });
    } catch (err) {
      if (err instanceof TransportFailure) throw new ProviderUnavailableError(err.kind, err.message, undefined, { cause: err });
      throw err;
    }
    const parsed = parseJsonBody(answer.bodyText);
    if (answer.httpStatus >= 500 && !(parsed.ok && errorText(parsed.value) === null)) {
      throw new ProviderUnavailableError('http_5xx', `HTTP ${answer.httpStatus} from provider`, answer.httpStatus);
    }
    if (!parsed.ok) {
      throw new ProviderUnavailableError(parsed.reason === 'empty' ? 'empty_body' : 'non_json', `HTTP ${answer.httpStatus}: ${parsed.reason === 'empty' ? 'empty body' : 'not JSON'}`, answer.httpStatus);
    }
    return parsed.value;
  };

  /** A write: the parsed JSON answer, or a description of why there is none (never throws). */
  const write = async (params: Record<string, string | number>): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> => {
    try {
      const answer = await post(params);
      const parsed = parseJsonBody(answer.bodyText);
      if (answer.httpStatus >= 500) return { ok: false, error: `HTTP ${answer.httpStatus} from provider` };
      if (!parsed.ok) return { ok: false, error: `HTTP ${answer.httpStatus}: ${parsed.reason === 'empty' ? 'empty body' : 'not JSON'}` };
      return { ok: true, value: parsed.value };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };

  return {
    async services() {
      const body = await read({ action: 'services' });
      return parseServices(body) ?? { error: errorText(body) ?? 'Unreadable services answer' };
    },

    async addOrder({ service, link, quantity, extra }) {
      try {
        const params: Record<string, string | number> = { ...extra, action: 'add', service };
        if (link !== undefined) params.link = link;
        if (quantity !== undefined) params.quantity = quantity;
        const answer = await post(params);
        return classifyAddOutcome({ type: 'answer', ...answer });
      } catch (err) {
        if (err instanceof TransportFailure) return classifyAddOutcome({ type: 'failure', failure: err.kind, message: err.message });
        return { kind: 'uncertain', code: 'connection_lost', reason: `unexpected client failure: ${String(err)}` };
      }
    },

    async getStatuses(ids) {
      const out = new Map<string, OrderStatusResult>();
      for (const batch of chunks(unique(ids), batchSize)) {
        const body = await read({ action: 'status', orders: batch.join(',') });
        for (const [id, r] of parseMultiStatus(body, batch)) out.set(id, r);
      }
      return out;
    },

    async cancelOrders(ids) {
      const out = new Map<string, CancelResult>();
      for (const batch of chunks(unique(ids), batchSize)) {
        const r = await write({ action: 'cancel', orders: batch.join(',') });
        if (!r.ok) for (const id of batch) out.set(id, { accepted: false, error: r.error, uncertain: true });
        else for (const [id, c] of parseCancelAnswer(r.value, batch)) out.set(id, c);
      }
      return out;
    },

    async refill(id) {
      const r = await write({ action: 'refill', order: id });
      return r.ok ? parseRefillAnswer(r.value) : { error: r.error, uncertain: true };
    },

    async refillMany(ids) {
      const out = new Map<string, RefillResult>();
      for (const batch of chunks(unique(ids), batchSize)) {
        const r = await write({ action: 'refill', orders: batch.join(',') });
        if (!r.ok) for (const id of batch) out.set(id, { error: r.error, uncertain: true });
        else for (const [id, x] of parseRefillMultiAnswer(r.value, batch)) out.set(id, x);
      }
      return out;
    },

    async refillStatuses(ids) {
      const out = new Map<string, RefillStatusResult>();
      for (const batch of chunks(unique(ids), batchSize)) {
        const body = await read({ action: 'refill_status', refills: batch.join(',') });
        for (const [id, r] of parseRefillStatusAnswer(body, batch)) out.set(id, r);
      }
      return out;
    },

    async findOrdersByLink(link) {
      const body = await read({ action: 'orders_by_link', link });
      return parseOrdersByLink(body);
    },

    async readCount(countSourceUrl, link) {
      const url = new URL(countSourceUrl);
      url.searchParams.set('link', link);
      const body = await read({}, url.toString());
      const count = typeof body === 'object' && body !== null ? parseCount((body as { count?: unknown }).count) : parseCount(body);
      if (count !== null && count >= 0) return { count };
      return { error: errorText(body) ?? `Unreadable count answer ${JSON.stringify(body)}` };
    },

    async balance() {
      const body = await read({ action: 'balance' });
      const err = errorText(body);
      if (err !== null) return { error: err };
      const b = body as { balance?: unknown; currency?: unknown };
      const balance = typeof b.balance === 'number' ? String(b.balance) : typeof b.balance === 'string' ? b.balance.trim() : null;
      if (balance === null || !/^-?\d+(\.\d+)?$/.test(balance)) return { error: `Unreadable balance answer ${JSON.stringify(body)}` };
      return { balance, currency: typeof b.currency === 'string' ? b.currency : 'USD' };
    },
  };
}
