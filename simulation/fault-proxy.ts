/**
 * Between the engine and the provider simulator: one path per provider (/p/<key>/api/v2), forwarded
 * to the simulator unless that provider is "down" (every call then answers an HTML 502, as a provider
 * behind a failing load balancer does). Down windows are in simulated time. It also counts the
 * provider calls (per action, and per provider order id or link) for the report's figures.
 * Forwards over kept-alive connections (http-call.ts).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCaller, readText } from './http-call';

export interface ProviderCalls {
  total: number;
  failed: number;
  byAction: Record<string, number>;
  /** "<provider>:<provider order id>" → calls that named it (status, cancel, refill). */
  byOrder: Map<string, number>;
  /** "<provider>:<link>" → add calls. */
  addsByLink: Map<string, number>;
  /**
   * Calls the engine stopped waiting for before the answer came (its provider timeout), by action:
   * the `slow_add` fate's on purpose; any other is a call the world made too slow to answer in time.
   */
  gaveUp: Record<string, number>;
  /** Real ms from a call's arrival to its answer, for every call answered in time (outages' 502s aside). */
  answerMs: number[];
}

export interface FaultProxy {
  url: string;
  apiUrl(provider: string): string;
  /** The provider answers HTML 502 to everything until `untilMs` (simulated time). */
  down(provider: string, untilMs: number): void;
  calls: ProviderCalls;
  close(): Promise<void>;
}

const HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

export async function startFaultProxy(options: { target: string; now: () => number }): Promise<FaultProxy> {
  const downUntil = new Map<string, number>();
  const calls: ProviderCalls = { total: 0, failed: 0, byAction: {}, byOrder: new Map(), addsByLink: new Map(), gaveUp: {}, answerMs: [] };
  const server: Server = createServer((req, res) => void handle(req, res));
  const simulator = httpCaller(options.target);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/p\/([^/]+)(\/api\/v2.*)$/.exec(req.url ?? '');
    if (!match) return void res.writeHead(404).end();
    const [, provider, rest] = match;
    const arrived = Date.now();
    const body = await readText(req);
    const action = count(provider, req.headers['content-type'] ?? '', body);
    let ended = false;
    res.once('close', () => {
      if (!ended && !res.writableFinished) calls.gaveUp[action] = (calls.gaveUp[action] ?? 0) + 1;
    });
    if ((downUntil.get(provider) ?? 0) > options.now()) {
      calls.failed++;
      return void res.writeHead(502, { 'content-type': 'text/html' }).end(HTML_502);
    }
    try {
      const contentType = req.headers['content-type'];
      const answer = await simulator.call({ method: req.method ?? 'GET', path: rest, headers: contentType ? { 'content-type': contentType } : {}, body });
      if (!res.destroyed) {
        res.writeHead(answer.status, { 'content-type': answer.headers['content-type'] ?? 'text/plain' }).end(answer.text);
        calls.answerMs.push(Date.now() - arrived);
      }
    } catch {
      // The simulator reset the connection (a scenario): do the same.
      ended = true;
      res.destroy();
    }
  }

  function count(provider: string, contentType: string, body: string): string {
    let params: Record<string, unknown> = {};
    try {
      params = contentType.includes('json') ? (JSON.parse(body) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body));
    } catch {
      /* unparsable: counted as an unknown action */
    }
    const action = typeof params.action === 'string' ? params.action : 'unknown';
    calls.total++;
    calls.byAction[action] = (calls.byAction[action] ?? 0) + 1;
    if (action === 'add' && typeof params.link === 'string') bump(calls.addsByLink, `${provider}:${params.link}`);
    for (const field of ['order', 'orders']) {
      const value = params[field];
      if (typeof value === 'string' || typeof value === 'number') {
        for (const id of String(value).split(',')) if (id.trim()) bump(calls.byOrder, `${provider}:${id.trim()}`);
      }
    }
    return action;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: (provider) => `${url}/p/${provider}/api/v2`,
    down: (provider, untilMs) => void downUntil.set(provider, Math.max(untilMs, downUntil.get(provider) ?? 0)),
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        simulator.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
