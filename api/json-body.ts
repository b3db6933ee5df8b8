// The REST API reads bodies as JSON only (express.json, Content-Type application/json with any
// charset). A body under another Content-Type (text/plain, a form, none at all: curl -d sends
// application/x-www-form-urlencoded) is never read, so without this check the request would fail
// validation with a misleading "service is required". Instead: 415, saying the body was not read
// and which Content-Type to send. A request without a body (Content-Length 0, none) passes.
// The panels' API v2 (api/v2/parse.ts) reads forms and JSON under any label and is mounted before.
// Routes that also take the panels' text form (mass orders: service|link|quantity lines) name it.
import type { Request, RequestHandler } from 'express';
import { ApiError } from './errors';

export const ACCEPTED_BODY_TYPES = ['application/json'] as const;

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export interface RequireJsonBodyOptions {
  /** Paths whose route also reads a text/plain body (it mounts its own express.text before this). */
  textPaths?: readonly string[];
}

export function requireJsonBody(options: RequireJsonBodyOptions = {}): RequestHandler {
  return (req, _res, next) => {
    const accepted: string[] = options.textPaths?.includes(req.path) ? [...ACCEPTED_BODY_TYPES, 'text/plain'] : [...ACCEPTED_BODY_TYPES];
    if (!hasBody(req) || req.is(accepted)) return next();
    const sent = req.headers['content-type'];
    const label = sent ? `Content-Type ${JSON.stringify(sent)}` : 'no Content-Type';
    next(
      new ApiError(415, 'unsupported_media_type', `the request body was not read as JSON${accepted.length > 1 ? ' or text' : ''} (${label}); send it with Content-Type: ${accepted.join(' or ')}`, {
        field: 'Content-Type',
        rule: 'json',
        accepted,
      }),
    );
  };
}
