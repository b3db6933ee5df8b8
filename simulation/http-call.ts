/**
 * One HTTP call over a kept-alive connection, its whole answer read: how the simulation's driver
 * calls the API and its fault proxy calls the provider simulator. node:http rather than fetch: the
 * world makes tens of thousands of such calls on the simulation's one thread, and fetch's web
 * streams and Request/Response objects cost about twice the CPU a call (bench:provider-transport
 * measures the same for the provider client's undici against fetch).
 */
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface HttpCall {
  method: string;
  /** Path and query, appended to the base URL's path. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (not for GET and HEAD). */
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Calls `base` with kept-alive connections; rejects as the connection fails (refused, reset). */
export function httpCaller(base: string): { call(call: HttpCall): Promise<HttpAnswer>; close(): void } {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/$/, '');
  const agent = new Agent({ keepAlive: true });
  return {
    call({ method, path, headers = {}, body }) {
      const withBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      const sent: Record<string, string | number> = { ...headers };
      if (withBody) sent['content-length'] = Buffer.byteLength(body);
      return new Promise((resolve, reject) => {
        const outgoing = request({ host: url.hostname, port: url.port, path: `${prefix}${path}`, method, headers: sent, agent }, (answer) => {
          readText(answer).then((text) => resolve({ status: answer.statusCode ?? 0, headers: answer.headers, text }), reject);
        });
        outgoing.on('error', reject);
        outgoing.end(withBody ? body : undefined);
      });
    },
    close: () => agent.destroy(),
  };
}

/** The whole body of a request or an answer, as UTF-8 text. */
export function readText(message: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (c: Buffer) => chunks.push(c));
    message.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    message.on('error', reject);
  });
}
