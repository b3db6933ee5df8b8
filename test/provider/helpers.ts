import { createProviderClient, type ProviderClient } from '../../activities/provider';
import {
  createVirtualClock,
  startProviderSimulator,
  type ProviderSimulator,
  type StartProviderSimulatorOptions,
  type VirtualClock,
} from '../../provider-simulator';

export interface SimHarness {
  sim: ProviderSimulator;
  clock: VirtualClock;
  client: ProviderClient;
  /** A client with another timeout (for the hang scenario). */
  clientWith(timeoutMs: number): ProviderClient;
  /** Calls the control API over HTTP. */
  control<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A raw API v2 call: form-encoded params, answer as text. */
  rawApi(params: Record<string, string>, contentType?: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

/** A simulator on a free loopback port, driven by a virtual clock, and an adapter pointed at it. */
export async function startHarness(opts: StartProviderSimulatorOptions = {}): Promise<SimHarness> {
  const clock = createVirtualClock();
  const sim = await startProviderSimulator({ clock: clock.now, ...opts });
  const clientWith = (timeoutMs: number) => createProviderClient({ apiUrl: sim.apiUrl, apiKey: sim.apiKey, timeoutMs });
  return {
    sim,
    clock,
    client: clientWith(5_000),
    clientWith,
    async control<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
      const res = await fetch(`${sim.url}/_sim${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    async rawApi(params, contentType = 'application/x-www-form-urlencoded') {
      const res = await fetch(sim.apiUrl, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: contentType.includes('json') ? JSON.stringify(params) : new URLSearchParams(params).toString(),
      });
      return { status: res.status, text: await res.text() };
    },
    close: () => sim.close(),
  };
}

export interface CallsAnswer {
  total: number;
  byAction: Record<string, number>;
  calls: { seq: number; at: number; action: string; ids: number; link?: string }[];
}

/** A loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as import('node:net').AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
