// The REST API reads bodies as JSON only (express.json, Content-Type application/json with any
// charset). A body under another Content-Type (text/plain, a form, none at all: curl -d sends
// application/x-www-form-urlencoded) is never read, so without this check the request would fail
// validation with a misleading "service is required". Instead: 415, saying the body was not read
// and which Content-Type to send. A request without a body (Content-Length 0, none) passes.
// The panels' API v2 (api/v2/parse.ts) reads forms and JSON under any label and is mounted before.
import type { Request, RequestHandler } from 'express';
import { ApiError } from './errors';

export const ACCEPTED_BODY_TYPES = ['application/json'] as const;

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    if (!hasBody(req) || req.is(ACCEPTED_BODY_TYPES[0])) return next();
    const sent = req.headers['content-type'];
    const label = sent ? `Content-Type ${JSON.stringify(sent)}` : 'no Content-Type';
    next(
      new ApiError(415, 'unsupported_media_type', `the request body was not read as JSON (${label}); send it with Content-Type: application/json`, {
        field: 'Content-Type',
        rule: 'json',
        accepted: [...ACCEPTED_BODY_TYPES],
      }),
    );
  };
}
