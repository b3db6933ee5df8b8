// The support console at /console (issue 13): server-rendered pages for support and admin keys.
//
//   GET  /console/sign-in, POST /console/sign-in (an API key → a session), POST /console/sign-out
//   GET  /console                     queues and search        GET /console/overview   the shift's figures
//   GET  /console/orders/:id          one order, its powers    GET /console/users/:id  one account
//   GET  /console/audit               the audit trail (admin)  GET /console/go?q=      find by id / link
//   POST /console/orders/:id/{cancel,move,resolve-dispatch}, /console/orders/:id/refills/:refillId/retry
//   POST /console/users/:id/{block,unblock,corrections}
//
// Mounted before the REST API's key authentication (it has its own sign-in). Every POST needs the
// session's CSRF token in the form and an Origin of this host when the browser sends one; the
// cookie is SameSite=Strict as well. Reads and powers are REST calls (console/rest-client.ts).
import path from 'node:path';
import express, { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { findApiKey, isStaff } from '../api/auth';
import { ORDER_ACTIONS, USER_ACTIONS, runAction } from './actions';
import type { ConsoleDeps, PageContext } from './context';
import { clearSessionCookie, sessionToken, setSessionCookie } from './cookie';
import { html } from './html';
import { notice, page } from './layout';
import { auditPage } from './pages/audit';
import { orderPage } from './pages/order';
import { ordersPage } from './pages/orders';
import { overviewPage } from './pages/overview';
import { signInPage } from './pages/sign-in';
import { userPage } from './pages/user';
import { refusalOf, restClient } from './rest-client';
import { createSession, endSession, findSession } from './session-store';

const ASSETS = path.join(__dirname, 'assets');

/** Script, style and forms from this origin only; no frames. A missed escape would still run nothing. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A browser's Origin, when sent, must be this host: a form on another site is refused. */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (!origin) return true;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

const send = (res: Response, out: { status: number; body: string }) => res.status(out.status).type('html').send(out.body);
const formOf = (req: Request): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
};
const positiveId = (text: string): number | null => (/^[1-9]\d{0,9}$/.test(text) ? Number(text) : null);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      console?: PageContext;
    }
  }
}

export function consoleRouter(deps: ConsoleDeps & { logger: Logger }): Router {
  const { prisma, logger } = deps;
  const router = Router();
  router.use(securityHeaders);
  router.use('/assets', express.static(ASSETS, { index: false, fallthrough: false, maxAge: '1h' }));
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));

  router.get('/sign-in', async (req, res) => {
    const token = sessionToken(req);
    if (token && (await findSession(prisma, token))) return res.redirect(303, '/console');
    res.type('html').send(signInPage(req.query.signedOut === '1' ? { kind: 'ok', text: 'Signed out. The session has ended.' } : undefined));
  });

  router.post('/sign-in', async (req, res) => {
    if (!sameOrigin(req)) return res.status(403).type('html').send(signInPage({ kind: 'refused', text: 'Sign-in from another site refused.' }));
    const key = formOf(req).apiKey?.trim() ?? '';
    const found = key ? await findApiKey(prisma, key) : null;
    if (!found) return res.status(401).type('html').send(signInPage({ kind: 'refused', text: 'Unknown or revoked API key.' }));
    if (!isStaff(found.role)) {
      logger.warn({ userId: found.userId, apiKeyId: found.apiKeyId }, 'console: a user key tried to sign in');
      return res.status(403).type('html').send(signInPage({ kind: 'refused', text: 'This is a user key: the console is for support and admin keys only.' }));
    }
    const session = await createSession(prisma, found.apiKeyId);
    const created = await findSession(prisma, session.token);
    setSessionCookie(req, res, session.token, created!.expiresAt);
    logger.info({ userId: found.userId, apiKeyId: found.apiKeyId, role: found.role }, 'console: signed in');
    res.redirect(303, '/console');
  });

  // Everything below needs a session; POSTs also its CSRF token.
  router.use(async (req, res, next) => {
    const token = sessionToken(req);
    const session = token ? await findSession(prisma, token) : null;
    if (!token || !session) {
      if (req.method === 'GET') return res.redirect(303, '/console/sign-in');
      return res.status(401).type('html').send(signInPage({ kind: 'refused', text: 'Your session has ended: sign in again.' }));
    }
    if (req.method === 'POST' && (!sameOrigin(req) || formOf(req).csrf !== session.csrfToken)) {
      logger.warn({ userId: session.auth.userId, path: req.path }, 'console: CSRF check failed');
      return res.status(403).type('html').send(page({ title: 'Refused', session }, notice('refused', 'This form did not come from the console (CSRF check failed). Reload the page and try again.')));
    }
    res.locals.console = { ...deps, session, rest: restClient(req, { token, csrfToken: session.csrfToken }) };
    next();
  });
  const ctxOf = (res: Response): PageContext => res.locals.console!;

  router.post('/sign-out', async (req, res) => {
    await endSession(prisma, sessionToken(req)!);
    clearSessionCookie(req, res);
    res.redirect(303, '/console/sign-in?signedOut=1');
  });

  router.get('/', async (req, res) => send(res, await ordersPage(ctxOf(res), req.query as Record<string, unknown>)));
  router.get('/overview', async (_req, res) => send(res, await overviewPage(ctxOf(res))));
  router.get('/audit', async (req, res) => send(res, await auditPage(ctxOf(res), req.query as Record<string, unknown>)));

  // The header's search box: an order id, "u<id>" for an account, anything else is a link.
  router.get('/go', (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().replace(/^#/, '') : '';
    if (/^\d+$/.test(q)) return res.redirect(303, `/console/orders/${q}`);
    if (/^u\d+$/i.test(q)) return res.redirect(303, `/console/users/${q.slice(1)}`);
    res.redirect(303, q ? `/console?link=${encodeURIComponent(q)}` : '/console');
  });

  router.get('/orders/:id', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    send(res, await orderPage(ctxOf(res), req.params.id, { done: q.done, request: q.request }));
  });

  async function orderAction(req: Request, res: Response, name: string, refillId?: number) {
    const orderId = positiveId(req.params.id as string);
    const build = ORDER_ACTIONS[name];
    if (orderId === null || !build) return res.status(404).type('html').send(page({ title: 'Not found', session: ctxOf(res).session }, html`${notice('refused', 'No such order action.')}`));
    const form = formOf(req);
    const answer = await runAction(ctxOf(res).rest, build(orderId, form, refillId));
    if (answer.status >= 200 && answer.status < 300) {
      return res.redirect(303, `/console/orders/${orderId}?done=${name}&request=${encodeURIComponent(form.requestId ?? '')}`);
    }
    const out = await orderPage(ctxOf(res), String(orderId), { refused: { action: name, ...refusalOf(answer) }, form });
    send(res, { status: answer.status, body: out.body });
  }
  router.post('/orders/:id/refills/:refillId/retry', async (req, res) => {
    const refillId = positiveId(req.params.refillId);
    await orderAction(req, res, refillId === null ? 'none' : 'retry', refillId ?? undefined);
  });
  router.post('/orders/:id/:action', async (req, res) => orderAction(req, res, req.params.action as string));

  router.get('/users/:id', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    send(res, await userPage(ctxOf(res), req.params.id, req.query as Record<string, unknown>, { done: q.done }));
  });
  router.post('/users/:id/:action', async (req, res) => {
    const userId = positiveId(req.params.id);
    const build = USER_ACTIONS[req.params.action];
    if (userId === null || !build) return res.status(404).type('html').send(page({ title: 'Not found', session: ctxOf(res).session }, notice('refused', 'No such account action.')));
    const form = formOf(req);
    const answer = await runAction(ctxOf(res).rest, build(userId, form));
    if (answer.status >= 200 && answer.status < 300) return res.redirect(303, `/console/users/${userId}?done=${req.params.action}`);
    const out = await userPage(ctxOf(res), String(userId), {}, { refused: { action: req.params.action, ...refusalOf(answer) }, form });
    send(res, { status: answer.status, body: out.body });
  });

  router.use((req, res) => {
    res.status(404).type('html').send(page({ title: 'Not found', session: res.locals.console?.session }, notice('refused', 'No such console page.')));
  });
  // A fault: logged, and a page without internals (the REST API's JSON error handler is not for browsers).
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status ?? 500;
    if (status >= 500) logger.error({ err: error, path: req.path }, 'console: page failed');
    res.status(status).type('html').send(page({ title: 'Error', session: res.locals.console?.session }, notice('refused', status >= 500 ? 'The page failed; the error is in the API log.' : 'The request was not understood.')));
  });
  return router;
}
