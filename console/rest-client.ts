// The console calls the REST API as any client does: over HTTP, to the server that received the
// page request (its own address and port), with the staff member's session cookie and CSRF token.
// So every read and every support power goes through the same routes, checks, audit records and
// error answers as `curl -H "Authorization: Bearer …"` — nothing is done twice.
import type { Request } from 'express';
import { SESSION_COOKIE } from './cookie';
import { CSRF_HEADER } from './rest-auth';

/** How long one REST call may take (support's powers wait up to 30 s for the workflow). */
const REST_TIMEOUT_MS = 45_000;

export interface RestAnswer<T = unknown> {
  status: number;
  body: T;
}

/** The REST error shape (api/errors.ts). */
export interface RestError {
  error: { code: string; message: string; field?: string; rule?: string; reason?: string; [k: string]: unknown };
}

export interface RestClient {
  get<T>(path: string): Promise<RestAnswer<T>>;
  post<T>(path: string, body: object, headers?: Record<string, string>): Promise<RestAnswer<T>>;
}

/** This server as seen from itself: the address and port the request came in on. */
function selfOrigin(req: Request): string {
  let address = req.socket.localAddress ?? '127.0.0.1';
  if (address.startsWith('::ffff:')) address = address.slice(7);
  if (address === '::' || address === '0.0.0.0') address = '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort}`;
}

export function restClient(req: Request, session: { token: string; csrfToken: string }): RestClient {
  const origin = selfOrigin(req);
  const base = { cookie: `${SESSION_COOKIE}=${encodeURIComponent(session.token)}`, accept: 'application/json' };
  async function call<T>(method: string, path: string, body?: object, headers: Record<string, string> = {}): Promise<RestAnswer<T>> {
    const res = await fetch(origin + path, {
      method,
      headers: { ...base, ...(body ? { 'content-type': 'application/json', [CSRF_HEADER]: session.csrfToken } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(REST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { code: 'not_json', message: `the API answered ${res.status} without JSON` } };
    }
    return { status: res.status, body: parsed as T };
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body, headers) => call('POST', path, body, headers),
  };
}

/** The error of a non-2xx answer, as one line: "R-SUBSTITUTE: reason" or "code: message". */
export function refusalOf(answer: RestAnswer): { code: string; rule?: string; message: string; field?: string } {
  const error = (answer.body as RestError | null)?.error;
  if (!error) return { code: `http_${answer.status}`, message: `the API answered ${answer.status}` };
  return { code: error.code, rule: error.rule, message: error.reason ?? error.message, field: error.field };
}
