// The panels' "API v2" (docs/smm-api-v2.md), served by the engine:
//   POST /api/v2   (and /api/v2/)   key=<API key>&action=<action>&...
// Answered directly (never a redirect: a client following one as a GET loses its body), always
// with JSON and HTTP 200: the action's answer, or `{"error": "<text>"}` (errors.ts). Never an
// empty body, never HTML, never a 500: unreadable bodies, unknown or missing actions and anything
// under /api/v2 that is not a POST to it are "Incorrect request"; a server fault is logged and
// answered "Temporary error, try again later".
//
// Mounted in createApp BEFORE the REST API's authenticate() and JSON body parser, so neither sees
// these requests; the key is the same API key (api/auth.ts findApiKey), sent as `key` (or `api`,
// a known client quirk). A key acts for its own user here, whatever its role: support's powers
// are the REST API's.
import express, { Router } from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { ApiDeps } from '../app';
import { findApiKey } from '../auth';
import { createPlacement } from '../placement';
import { add } from './actions/add';
import { balance } from './actions/balance';
import { cancel } from './actions/cancel';
import { createRefillDesk } from '../refills';
import { refill, refillStatus } from './actions/refill';
import type { RefillDesk } from './actions/refill';
import { services } from './actions/services';
import { status } from './actions/status';
import type { Action, V2Context } from './context';
import { V2_TEXT, V2Error, errorBody } from './errors';
import { field, readParams } from './parse';

export interface ApiV2Options {
  /** Largest accepted body (default 64kb); a larger one is "Incorrect request". */
  bodyLimit?: string | number;
  /** Refills (default: the engine's desk, api/refills.ts createRefillDesk: the order workflows' refills). */
  refills?: RefillDesk;
  /** Currency named by `status` and `balance` (default env PANEL_CURRENCY, else USD). */
  currency?: string;
}

export const ACTIONS: Readonly<Record<string, Action>> = Object.freeze({
  services,
  add,
  status,
  cancel,
  refill,
  refill_status: refillStatus,
  balance,
});

/** Longest key looked up; anything longer is no key of ours. */
const MAX_KEY_LENGTH = 256;

export function apiV2Router(deps: ApiDeps, options: ApiV2Options = {}): Router {
  const { logger } = deps;
  const placement = createPlacement(deps);
  const refills = options.refills ?? createRefillDesk(deps);
  const currency = options.currency ?? process.env.PANEL_CURRENCY ?? 'USD';
  const router = Router();
  // The raw bytes, whatever the content type: parse.ts reads form, multipart and JSON itself.
  const rawBody = express.raw({ type: () => true, limit: options.bodyLimit ?? '64kb' });

  router.post('/', rawBody, async (req: Request, res: Response) => {
    const queryAt = req.originalUrl.indexOf('?');
    const params = readParams(req.body as Buffer | undefined, req.get('content-type'), queryAt < 0 ? '' : req.originalUrl.slice(queryAt + 1));
    if (params === null) throw new V2Error(V2_TEXT.incorrectRequest);

    const key = field(params, 'key') ?? field(params, 'api');
    if (key === undefined || key.length > MAX_KEY_LENGTH) throw new V2Error(V2_TEXT.invalidKey);
    const who = await findApiKey(deps.prisma, key);
    if (!who) throw new V2Error(V2_TEXT.invalidKey);
    req.auth = who; // the request log line names the user

    const name = field(params, 'action')?.toLowerCase();
    res.locals.v2Action = name;
    const action = name !== undefined && Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
    if (!action) throw new V2Error(V2_TEXT.incorrectRequest);

    const ctx: V2Context = { deps, who, params, req, res, placement, refills, currency };
    res.status(200).json(await action(ctx));
  });

  // GET (a redirect followed, a browser), other methods, paths below /api/v2: not the protocol.
  router.all('/', () => {
    throw new V2Error(V2_TEXT.incorrectRequest);
  });
  router.use(() => {
    throw new V2Error(V2_TEXT.incorrectRequest);
  });

  const answerErrors: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let text: string;
    if (error instanceof V2Error) {
      text = error.text;
      logger.info({ action: res.locals.v2Action, userId: req.auth?.userId, orderId: res.locals.orderId, error: text }, 'api v2 refused');
    } else if (isBodyReadError(error)) {
      // Too large, unknown content encoding, aborted, length mismatch: the client's doing.
      text = V2_TEXT.incorrectRequest;
      logger.info({ type: (error as { type?: string }).type, message: (error as Error).message }, 'api v2: unreadable body');
    } else {
      text = V2_TEXT.temporary;
      logger.error({ err: error, action: res.locals.v2Action, userId: req.auth?.userId, orderId: res.locals.orderId }, 'api v2 failed with a server error');
    }
    res.status(200).json(errorBody(text));
  };
  router.use(answerErrors);
  return router;
}

/** body-parser's own failures (http-errors: a 4xx status, `expose`, mostly a `type`). */
function isBodyReadError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { type?: unknown; status?: unknown; expose?: unknown };
  return (typeof e.type === 'string' || e.expose === true) && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}
