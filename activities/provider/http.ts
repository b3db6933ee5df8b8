/**
 * The transport under the provider client: one POST (or GET) with a hard timeout, body always read.
 * Sent with undici's `request` (the HTTP client under Node's fetch, without fetch's Request,
 * Response and web streams: `npm run bench:provider-transport` measured 380 against 884 µs of CPU a
 * call, the simulator's server included); a test may send with a fetch of its own instead.
 */
import { request as undiciRequest } from 'undici';
import type { TransportFailureKind } from './classify';

export interface HttpAnswer {
  httpStatus: number;
  bodyText: string;
}

/** A request that got no answer. `kind` says whether it may have reached the provider. */
export class TransportFailure extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportFailure';
  }
}

/** Error codes meaning the connection was never made, so the request cannot have been received. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
]);

function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    const errors = (e as { errors?: unknown }).errors; // AggregateError from happy-eyeballs connects
    if (Array.isArray(errors)) for (const x of errors) codes.push(...codesOf(x));
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/** Which kind of failure a rejected request is (pure, for tests). */
export function describeFetchFailure(err: unknown, timedOut: boolean): TransportFailureKind {
  if (timedOut) return 'timeout';
  const codes = codesOf(err);
  if (codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c))) return 'not_sent';
  if (err instanceof TypeError && /parse URL|Invalid URL/i.test(err.message)) return 'not_sent';
  return 'connection_lost';
}

function messageOf(err: unknown): string {
  const codes = codesOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${msg}${cause}${codes.length ? ` (${[...new Set(codes)].join(', ')})` : ''}`;
}

/** Sends one request and reads the whole answer; rejects when no answer came (the signal aborts it). */
export type Send = (url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<HttpAnswer>;

/** The default: undici's request. No redirect is followed (it follows none unless asked). */
export const sendWithUndici: Send = async (url, init) => {
  // Parsed here so that a malformed URL fails as "never sent" (ERR_INVALID_URL), as fetch's did.
  const answer = await undiciRequest(new URL(url), { method: init.method, headers: init.headers, body: init.body, signal: init.signal });
  return { httpStatus: answer.statusCode, bodyText: await answer.body.text() };
};

/** Sends with a fetch (a test's, scripting failures). A redirect is not followed. */
export function sendWithFetch(doFetch: typeof fetch): Send {
  return async (url, init) => {
    const res = await doFetch(url, { ...init, redirect: 'manual' });
    return { httpStatus: res.status, bodyText: await res.text() };
  };
}

export interface RequestOptions {
  send: Send;
  url: string;
  timeoutMs: number;
  /** Sent form-encoded in a POST; absent → GET. */
  form?: URLSearchParams;
}

/**
 * Sends one request and reads the whole body, whatever the HTTP status, within timeoutMs (headers and
 * body together). Resolves with the status and body text; rejects only with a TransportFailure.
 */
export async function request(opts: RequestOptions): Promise<HttpAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timeout after ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  try {
    // A redirect is not followed (neither send does): a POST turned into a GET would lose the key
    // and the order fields.
    return await opts.send(opts.url, {
      method: opts.form ? 'POST' : 'GET',
      headers: {
        accept: 'application/json',
        ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: opts.form?.toString(),
      signal: controller.signal,
    });
  } catch (err) {
    const kind = describeFetchFailure(err, timedOut);
    throw new TransportFailure(kind, timedOut ? `timeout after ${opts.timeoutMs} ms` : messageOf(err), { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
