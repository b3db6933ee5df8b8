import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { scenarioSchema } from './scenarios';
import type { SimulatorCore } from './state';

export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** Timers of `hang` answers, cleared when the server closes. */
export type TimerSet = Set<ReturnType<typeof setTimeout>>;

function flatten(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => flatten(x) ?? '').join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * The request's parameters: query string merged with the body, which may be form-encoded (with any
 * charset suffix) or JSON. The body is read raw and parsed here, so no content-type or charset is refused.
 */
export function readParams(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    const s = flatten(v);
    if (s !== undefined) out[k] = s;
  }
  const buf = req.body;
  if (!Buffer.isBuffer(buf) || buf.length === 0) return out;
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  const latin1 = /charset\s*=\s*"?(iso-8859-1|latin1|windows-1252|us-ascii)/.test(type);
  const text = buf.toString(latin1 ? 'latin1' : 'utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (type.includes('json') || trimmed.startsWith('{')) {
    try {
      const obj = JSON.parse(trimmed) as unknown;
      if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
        for (const [k, v] of Object.entries(obj)) {
          const s = flatten(v);
          if (s !== undefined) out[k] = s;
        }
        return out;
      }
    } catch {
      // fall through: try it as a form body
    }
  }
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function idsIn(action: string, p: Record<string, string>): number {
  const list = (s: string | undefined) => (s ?? '').split(',').filter((t) => t.trim().length > 0).length;
  switch (action) {
    case 'status':
    case 'refill':
      return p.orders !== undefined ? list(p.orders) : list(p.order);
    case 'cancel':
      return list(p.orders ?? p.order);
    case 'refill_status':
      return p.refills !== undefined ? list(p.refills) : list(p.refill);
    default:
      return 0;
  }
}

const scenarioBody = z.object({ linkContains: z.string().min(1), scenario: scenarioSchema });
const forceBody = z.strictObject({
  status: z.string().optional(),
  start_count: z.union([z.string(), z.number()]).optional(),
  remains: z.union([z.string(), z.number()]).optional(),
  charge: z.union([z.string(), z.number()]).optional(),
  refill_status: z.string().optional(),
});
const countBody = z.union([
  z.object({ link: z.string().min(1), count: z.number().int().nonnegative() }),
  z.object({ link: z.string().min(1), drop: z.number().int().nonnegative() }),
]);
const balanceBody = z.object({ key: z.string().optional(), balance: z.string().regex(/^\d+(\.\d+)?$/) });

export function createSimulatorApp(core: SimulatorCore, opts: { defaultKey: string; timers: TimerSet; logger?: SimLogger }) {
  const { logger, timers } = opts;
  const app = express();
  app.disable('x-powered-by');

  const api = async (req: Request, res: Response) => {
    const p = readParams(req);
    const action = (p.action ?? '').trim().toLowerCase();
    core.recordCall(action, idsIn(action, p), action === 'add' || action === 'orders_by_link' ? p.link : undefined);
    logger?.debug?.({ action, ids: idsIn(action, p) }, 'provider call');
    const key = p.key ?? p.api;
    if (!core.isKey(key)) return void res.json({ error: 'Invalid API key' });
    switch (action) {
      case 'services':
        return void res.json(core.services());
      case 'balance':
        return void res.json(core.balance(key));
      case 'add': {
        const d = core.add(key, p);
        switch (d.kind) {
          case 'json':
            return void res.status(d.httpStatus ?? 200).json(d.body);
          case 'empty':
            return void res.status(200).type('application/json').end();
          case 'non_json':
            return void res.status(200).type('text/html').send('<html><body><h1>502 Bad Gateway</h1></body></html>');
          case 'http500':
            return void res.status(500).type('text/html').send('<html><body><h1>500 Internal Server Error</h1></body></html>');
          case 'reset':
            return void req.socket.destroy();
          case 'hang': {
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (!res.writableEnded && !res.destroyed) res.status(d.late.httpStatus ?? 200).json(d.late.body);
            }, d.hangMs);
            timers.add(timer);
            return;
          }
        }
        return;
      }
      case 'status':
        return void res.json(p.orders !== undefined ? core.statusMulti(key, p.orders) : core.status(key, p.order ?? ''));
      case 'cancel':
        return void res.json(core.cancel(key, p.orders ?? p.order ?? ''));
      case 'refill':
        return void res.json(p.orders !== undefined ? core.refillMulti(key, p.orders) : core.refill(key, p.order ?? ''));
      case 'refill_status':
        return void res.json(
          p.refills !== undefined ? core.refillStatusMulti(key, p.refills) : core.refillStatus(key, p.refill ?? ''),
        );
      case 'orders_by_link':
        return void res.json(core.ordersByLink(key, p.link ?? ''));
      default:
        return void res.json({ error: 'Incorrect request' });
    }
  };
  const raw = express.raw({ type: () => true, limit: '2mb' });
  app.post('/api/v2', raw, api);
  app.get('/api/v2', raw, api);

  app.get('/count', (req, res) => {
    const link = typeof req.query.link === 'string' ? req.query.link : '';
    core.recordCall('count', 0, link);
    if (!link.trim()) return void res.status(400).json({ error: 'link is required' });
    res.json({ count: core.count(link) });
  });

  // ------------------------------------------------------------ control API for tests and benchmarks
  const sim = express.Router();
  sim.use(express.json({ type: () => true }));
  const bad = (res: Response, error: unknown) => res.status(400).json({ error: String(error) });

  sim.post('/scenarios', (req, res) => {
    const parsed = scenarioBody.safeParse(req.body);
    if (!parsed.success) return void bad(res, z.prettifyError(parsed.error));
    res.status(201).json(core.addScenario(parsed.data.linkContains, parsed.data.scenario));
  });
  sim.get('/scenarios', (_req, res) => void res.json(core.scenarios()));
  sim.delete('/scenarios/:id', (req, res) => void res.json({ removed: core.removeScenario(Number(req.params.id)) }));
  sim.get('/orders', (req, res) =>
    void res.json(core.listOrders(typeof req.query.link === 'string' ? req.query.link : undefined)),
  );
  sim.get('/orders/:id', (req, res) => {
    const o = core.getOrder(Number(req.params.id));
    if (!o) return void res.status(404).json({ error: 'no such order' });
    res.json(o);
  });
  sim.post('/orders/:id', (req, res) => {
    const parsed = forceBody.safeParse(req.body);
    if (!parsed.success) return void bad(res, z.prettifyError(parsed.error));
    const o = core.forceOrder(Number(req.params.id), parsed.data);
    if (!o) return void res.status(404).json({ error: 'no such order' });
    res.json(o);
  });
  sim.post('/counts', (req, res) => {
    const parsed = countBody.safeParse(req.body);
    if (!parsed.success) return void bad(res, z.prettifyError(parsed.error));
    const d = parsed.data;
    const count = 'count' in d ? core.setCount(d.link, d.count) : core.setCount(d.link, Math.max(0, core.count(d.link) - d.drop));
    res.json({ link: d.link, count });
  });
  sim.get('/calls', (req, res) => {
    const calls = core.calls(typeof req.query.action === 'string' ? req.query.action : undefined);
    const byAction = core.callCountsByAction();
    const total = typeof req.query.action === 'string' ? byAction[req.query.action] ?? 0 : Object.values(byAction).reduce((a, b) => a + b, 0);
    res.json({ total, byAction, calls });
  });
  sim.delete('/calls', (_req, res) => {
    core.clearCalls();
    res.json({ ok: true });
  });
  sim.post('/balance', (req, res) => {
    const parsed = balanceBody.safeParse(req.body);
    if (!parsed.success) return void bad(res, z.prettifyError(parsed.error));
    core.setBalance(parsed.data.key ?? opts.defaultKey, parsed.data.balance);
    res.json(core.balance(parsed.data.key ?? opts.defaultKey));
  });
  sim.post('/reset', (_req, res) => {
    core.reset();
    res.json({ ok: true });
  });
  app.use('/_sim', sim);

  app.use((req: Request, res: Response) => void res.status(404).json({ error: `no route ${req.method} ${req.path}` }));
  return app;
}
