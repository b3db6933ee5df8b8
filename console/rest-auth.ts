// Who calls the REST API: an API key (api/auth.ts authenticate), or a console session cookie. The
// console is a client of the REST routes (console/rest-client.ts): its pages and its support powers
// go through the very routes, validation, audit and errors a script with a key uses.
//
// A request with a key header is a key request, cookie or not. A cookie request that changes
// anything (any method but GET/HEAD/OPTIONS) must carry the session's CSRF token in X-Console-Csrf:
// a page on another site can neither send the SameSite=Strict cookie nor set that header.
import type { RequestHandler } from 'express';
import type { PrismaClient } from '../generated/prisma/client';
import { authenticate } from '../api/auth';
import { ApiError } from '../api/errors';
import { sessionToken } from './cookie';
import { findSession } from './session-store';

export const CSRF_HEADER = 'x-console-csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authenticateKeyOrConsoleSession(prisma: PrismaClient): RequestHandler {
  const byKey = authenticate(prisma);
  return async (req, res, next) => {
    const token = sessionToken(req);
    if (!token || req.get('authorization') !== undefined || req.get('x-api-key') !== undefined) return byKey(req, res, next);
    const session = await findSession(prisma, token);
    if (!session) return byKey(req, res, next);
    if (!SAFE_METHODS.has(req.method) && req.get(CSRF_HEADER) !== session.csrfToken) {
      throw new ApiError(403, 'csrf_refused', 'a console session changes nothing without its CSRF token (X-Console-Csrf)');
    }
    req.auth = session.auth;
    next();
  };
}
