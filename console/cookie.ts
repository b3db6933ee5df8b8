// The console's session cookie: HttpOnly (no page script reads it), SameSite=Strict (no other site's
// page sends it), Path=/ (the REST routes the console calls, and the history download, need it),
// Secure when the request came over HTTPS.
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'smm_console';

/** The session token the request carries, if any (the Cookie header, without a parser dependency). */
export function sessionToken(req: Request): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
  }
  return undefined;
}

export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', expires: expiresAt });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}
