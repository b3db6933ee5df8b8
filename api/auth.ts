// API keys: `Authorization: Bearer <key>` or `X-Api-Key: <key>` on every call.
// Keys are stored only as sha256 hex (api_keys.key_hash); the clear key is shown once, at creation.
// Roles live on the key: user (own orders only), support and admin (staff: every order);
// admin endpoints need role admin.
import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { PrismaClient } from '../generated/prisma/client';
import { ApiError } from './errors';

export type Role = 'user' | 'support' | 'admin';
export const ROLES: readonly Role[] = ['user', 'support', 'admin'];

export interface AuthContext {
  userId: number;
  apiKeyId: number;
  role: Role;
  /** The user's account status ('active' | 'blocked'), read with the key. */
  userStatus: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      auth?: AuthContext;
    }
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: 32 random bytes, base64url, with a recognisable prefix (secret scanners, support). */
export function generateApiKey(): { key: string; keyHash: string; keyPrefix: string } {
  const key = `smm_${randomBytes(32).toString('base64url')}`;
  return { key, keyHash: hashApiKey(key), keyPrefix: key.slice(0, 8) };
}

/** Staff see and act on every order; users only on their own. */
export function isStaff(role: Role): boolean {
  return role === 'support' || role === 'admin';
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const unauthenticated = (message: string) => new ApiError(401, 'unauthenticated', message);

function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string {
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const m = BEARER.exec(authorization);
    if (!m) throw unauthenticated('Authorization header must be "Bearer <api key>"');
    bearer = m[1];
  }
  const header = xApiKey?.trim() || undefined;
  if (bearer && header && bearer !== header) {
    throw unauthenticated('Authorization and X-Api-Key name different keys; send one');
  }
  const key = bearer ?? header;
  if (!key) throw unauthenticated('an API key is required (Authorization: Bearer <key> or X-Api-Key)');
  return key;
}

/** The caller a clear API key names, or null for an unknown or revoked key (REST and API v2 alike). */
export async function findApiKey(prisma: PrismaClient, key: string): Promise<AuthContext | null> {
  // One statement (a join): Prisma's nested select sends two, and every request authenticates.
  const [found] = await prisma.$queryRaw<Array<{ id: number; role: string; user_id: number; user_status: string }>>`
    SELECT k.id, k.role, u.id AS user_id, u.status AS user_status
    FROM api_keys k JOIN users u ON u.id = k.user_id
    WHERE k.key_hash = ${hashApiKey(key)} AND k.revoked_at IS NULL`;
  if (!found) return null;
  return { userId: found.user_id, apiKeyId: found.id, role: found.role as Role, userStatus: found.user_status };
}

export function authenticate(prisma: PrismaClient): RequestHandler {
  return async (req, res, next) => {
    res.setHeader('WWW-Authenticate', 'Bearer');
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    const found = await findApiKey(prisma, key);
    if (!found) throw unauthenticated('invalid API key');
    res.removeHeader('WWW-Authenticate');
    req.auth = found;
    next();
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.auth || !roles.includes(req.auth.role)) {
      throw new ApiError(403, 'forbidden', `this endpoint needs role ${roles.join(' or ')}`);
    }
    next();
  };
}

/** The authenticated caller; routes mounted behind authenticate() always have one. */
export function caller(req: Express.Request): AuthContext {
  if (!req.auth) throw new Error('caller(): route is not behind authenticate()');
  return req.auth;
}
