import type { AddressInfo } from 'node:net';
import { DEMO_CATALOGUE, type SimService } from './catalogue';
import type { Clock } from './clock';
import type { Behaviour } from './scenarios';
import { createSimulatorApp, type SimLogger, type TimerSet } from './server';
import { persistentOrderIds } from './order-ids';
import { SimulatorCore } from './state';

export { DEMO_CATALOGUE, type SimService } from './catalogue';
export { createVirtualClock, type Clock, type VirtualClock } from './clock';
export { ADD_ERROR_PRESETS, DEFAULT_BEHAVIOUR, scenarioSchema, type Behaviour, type Quirks, type Scenario } from './scenarios';
export { SimulatorCore, TEXT as SIM_TEXT, type CallLogEntry, type OrderView } from './state';
export type { SimLogger } from './server';

export const DEFAULT_SIM_API_KEY = 'sim-key';

export interface StartProviderSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** The accepted API key(s); default "sim-key". Orders belong to the key that placed them. */
  apiKey?: string | readonly string[];
  catalogue?: readonly SimService[];
  /** Default Date.now. */
  clock?: Clock;
  logger?: SimLogger;
  /** Behaviour of orders no scenario matches (default: start after 5 s, 20 units/s, complete). */
  defaults?: Partial<Behaviour>;
  /** Delay between an accepted cancel and the order ending (default 0: the next read sees it ended). */
  cancelDelayMs?: number;
  /** Provider-side balance of each key, default "100000". */
  balance?: string;
  /** Refuse `add` while the link has an active order, as upstream providers do (default true). */
  oneActivePerLink?: boolean;
  /**
   * Keeps the upstream order id sequence here (order-ids.json), so ids never repeat across restarts,
   * as a real provider's do. Without it ids start at 10001 in every run (tests, benchmarks).
   */
  dataDir?: string;
}

export interface ProviderSimulator {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** url + '/api/v2' */
  apiUrl: string;
  /** url + '/count' (GET ?link=...) */
  countUrl: string;
  port: number;
  /** The first accepted API key. */
  apiKey: string;
  /** Direct access to the simulator's state and controls (same operations as the /_sim API). */
  state: SimulatorCore;
  close(): Promise<void>;
}

export async function startProviderSimulator(opts: StartProviderSimulatorOptions = {}): Promise<ProviderSimulator> {
  const keys = opts.apiKey === undefined ? [DEFAULT_SIM_API_KEY] : typeof opts.apiKey === 'string' ? [opts.apiKey] : [...opts.apiKey];
  if (keys.length === 0) throw new Error('startProviderSimulator: at least one API key');
  const core = new SimulatorCore({
    apiKeys: keys,
    catalogue: opts.catalogue ?? DEMO_CATALOGUE,
    clock: opts.clock ?? Date.now,
    defaults: opts.defaults,
    cancelDelayMs: opts.cancelDelayMs,
    balance: opts.balance,
    oneActivePerLink: opts.oneActivePerLink,
    orderIds: opts.dataDir ? persistentOrderIds(opts.dataDir) : undefined,
  });
  const timers: TimerSet = new Set();
  const app = createSimulatorApp(core, { defaultKey: keys[0]!, timers, logger: opts.logger });
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger?.info({ url, keys: keys.length }, 'provider simulator listening');
  let closed: Promise<void> | null = null;
  return {
    url,
    apiUrl: `${url}/api/v2`,
    countUrl: `${url}/count`,
    port,
    apiKey: keys[0]!,
    state: core,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
