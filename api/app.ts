// The engine's REST API: createApp(deps) → an Express application (no listening here).
//
// Every route needs an API key (api/auth.ts). Routes are grouped per resource:
//   /orders          place (update-with-start), read (row or live state), list, cancel;
//                    /orders/:id/history: the order's timeline (support, admin)
//   /balance         the caller's balance
//   /admin/users     accounts, keys, top-ups, withdrawals, chargebacks   (role admin)
//   /admin/providers, /admin/services   the catalogue                     (role admin)
//   /admin/audit     the audit trail of staff actions                     (role admin)
//   /support         order search, accounts: block, unblock               (roles support, admin)
//   /support/orders/:id/cancel, /move, /resolve-dispatch: support's powers over one order
//   /metrics         Prometheus text (no key)
//   /api/v2          the panels' API v2 (api/v2/router.ts): key in the body, its own errors
//   /console         the support console (console/router.ts): web pages for support and admin keys
// Errors are JSON `{ error: { code, message, field?, rule? } }` (api/errors.ts); API v2 answers
// `{"error": "<text>"}` with HTTP 200, as panels do.
import express from 'express';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Ledger } from '../activities/ledger';
import type { OrderRecords } from '../activities/order-records';
import type { PrismaClient } from '../generated/prisma/client';
import { requireRole } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { requireJsonBody } from './json-body';
import { createPlacement } from './placement';
import { adminAuditRouter } from './routes/admin-audit';
import { adminCatalogueRouter } from './routes/admin-catalogue';
import { adminUsersRouter } from './routes/admin-users';
import { balanceRouter } from './routes/balance';
import { metricsRouter } from './routes/metrics';
import { orderHistoryRouter } from './routes/order-history';
import { ordersRouter } from './routes/orders';
import { supportRouter } from './routes/support';
import { supportOrdersRouter } from './routes/support-orders';
import { apiV2Router } from './v2/router';
import { consoleRouter } from '../console/router';
import { authenticateKeyOrConsoleSession } from '../console/rest-auth';

export interface ApiDeps {
  prisma: PrismaClient;
  temporal: Client;
  ledger: Ledger;
  orders: OrderRecords;
  logger: Logger;
  /** How long POST /orders waits for the placement's answer before 503 (default 30 s). */
  placementTimeoutMs?: number;
  /**
   * The engine's clock for an order's placement time (R-CANCEL-STALLED, the start window and refill
   * windows count from it in the workflow): it must agree with Temporal's. Default Date.now; the
   * simulation passes the in-memory server's skipped clock.
   */
  now?: () => number;
}

export interface CreateAppDeps extends Omit<ApiDeps, 'logger'> {
  /** pino logger; default: JSON lines on stdout at LOG_LEVEL (info). */
  logger?: Logger;
  /** Largest accepted JSON body (default 16kb); larger → 413. */
  bodyLimit?: string | number;
}

export function createApp(deps: CreateAppDeps): express.Application {
  const logger = deps.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const { prisma, temporal, ledger, orders, placementTimeoutMs, now } = deps;
  const full: ApiDeps = { prisma, temporal, ledger, orders, logger, placementTimeoutMs, now };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // One JSON log line per request, with the order it concerned when there was one.
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        userId: req.auth?.userId,
        orderId: res.locals.orderId,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  });

  // Prometheus scrapes without a key (counts only, no order data).
  app.use('/metrics', metricsRouter(deps.prisma));

  // The panels' API v2 (api/v2/router.ts): its own key field, body parsing and error answers
  // (always JSON, HTTP 200), so it is mounted before the REST API's authentication and parser.
  app.use('/api/v2', apiV2Router(full));

  // The support console's pages (its own sign-in; every page is a client of the routes below).
  app.use('/console', consoleRouter(full));

  // Who is calling comes first: a stranger's body is not even parsed. A console session (cookie, and
  // its CSRF token for writes) stands for the staff key it was opened with.
  app.use(authenticateKeyOrConsoleSession(deps.prisma));
  // Mass orders carry up to 100 lines (comments included): a larger limit, and the panels' text form.
  const batchPath = '/orders/batch';
  app.use(batchPath, express.json({ limit: '1mb', strict: true }), express.text({ limit: '1mb', type: 'text/plain' }));
  app.use(express.json({ limit: deps.bodyLimit ?? '16kb', strict: true }));
  app.use(requireJsonBody({ textPaths: [batchPath] }));

  app.use('/orders', orderHistoryRouter(full));
  app.use('/orders', ordersRouter(full, createPlacement(full)));
  app.use('/balance', balanceRouter(full));
  app.use('/support', requireRole('support', 'admin'), supportRouter(full), supportOrdersRouter(full));
  app.use('/admin', requireRole('admin'));
  app.use('/admin/users', adminUsersRouter(full));
  app.use('/admin/audit', adminAuditRouter(full));
  app.use('/admin', adminCatalogueRouter(full));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
