// Console sessions in PostgreSQL (table console_sessions): a restart of the API, or a second API
// container behind the same database, keeps everyone signed in; sign-out deletes the row.
//
// The browser holds a random token (32 bytes, base64url) in an HttpOnly cookie; the row is keyed by
// its sha256, so a leaked database holds no usable token. Every lookup reads the API key again: a
// revoked key, or one whose role is no longer staff, ends the session at once.
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';
import type { AuthContext, Role } from '../api/auth';
import { isStaff } from '../api/auth';

/** A shift and some: after this a staff member signs in again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface ConsoleSession {
  auth: AuthContext;
  csrfToken: string;
  expiresAt: Date;
  /** The staff member's name, for the page header. */
  name: string;
}

const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** A new session for a staff key: the cookie's token (shown once) and the CSRF token. */
export async function createSession(prisma: PrismaClient, apiKeyId: number, now = new Date()): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  // Sessions nobody signed out of would stay forever: each sign-in sweeps the expired ones.
  await prisma.consoleSession.deleteMany({ where: { expiresAt: { lte: now } } });
  await prisma.consoleSession.create({
    data: { id: tokenHash(token), apiKeyId, csrfToken, createdAt: now, expiresAt: new Date(now.getTime() + SESSION_TTL_MS) },
  });
  return { token, csrfToken };
}

/** The session a cookie token names, or null (unknown, expired, key revoked, or no longer staff). */
export async function findSession(prisma: PrismaClient, token: string, now = new Date()): Promise<ConsoleSession | null> {
  const row = await prisma.consoleSession.findUnique({
    where: { id: tokenHash(token) },
    include: { apiKey: { select: { id: true, role: true, revokedAt: true, user: { select: { id: true, status: true, name: true } } } } },
  });
  if (!row) return null;
  const key = row.apiKey;
  if (row.expiresAt <= now || key.revokedAt || !isStaff(key.role as Role)) {
    await prisma.consoleSession.deleteMany({ where: { id: row.id } });
    return null;
  }
  return {
    auth: { userId: key.user.id, apiKeyId: key.id, role: key.role as Role, userStatus: key.user.status },
    csrfToken: row.csrfToken,
    expiresAt: row.expiresAt,
    name: key.user.name,
  };
}

/** Sign-out: the token is worthless afterwards, whatever the browser keeps. */
export async function endSession(prisma: PrismaClient, token: string): Promise<void> {
  await prisma.consoleSession.deleteMany({ where: { id: tokenHash(token) } });
}
