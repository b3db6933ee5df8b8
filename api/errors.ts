// Errors as the API answers them: `{ "error": { "code", "message", "field"?, "rule"?, ... } }`.
//
// - Anything a client sent that we cannot accept is an ApiError with a 4xx status, naming the field
//   and the rule (a zod check such as "min", or a business rule ID such as "R-MINMAX").
// - body-parser's own failures (malformed JSON, too large, bad charset) become 400/413/415: they are
//   the client's, never a 500.
// - Everything else is a server fault: logged with pino (with the request's orderId when known)
//   and answered 500 with no internals.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  rule?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field?: string; rule?: string; [extra: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: ApiErrorBody } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `${what} not found`);

/** The zod check that failed, as a short rule name the client can act on. */
function zodRule(issue: ZodError['issues'][number]): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : 'type';
    case 'too_small':
      return 'min';
    case 'too_big':
      return 'max';
    case 'invalid_format':
      return 'format';
    case 'invalid_value':
    case 'invalid_union': // e.g. refill.kind not among the union's kinds
      return 'enum';
    case 'unrecognized_keys':
      return 'unknown_field';
    case 'custom': {
      const rule = (issue.params as { rule?: unknown } | undefined)?.rule;
      return typeof rule === 'string' ? rule : 'invalid';
    }
    default:
      return issue.code;
  }
}

function zodField(issue: ZodError['issues'][number]): string | undefined {
  if (issue.code === 'unrecognized_keys') return [...issue.path, issue.keys[0]].map(String).join('.');
  return issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
}

/**
 * A zod failure at the boundary → 400 naming the first field and rule; every issue is listed too.
 * `where` prefixes query-string fields ("query") so a client knows where to look.
 */
export function fromZod(error: ZodError, where?: 'query'): ApiError {
  const issues = error.issues.map((issue) => {
    const field = zodField(issue);
    return { field: where && field ? `${where}.${field}` : field, rule: zodRule(issue), message: issue.message };
  });
  const first = issues[0];
  const message = first.field ? `${first.field}: ${first.message}` : first.message;
  return new ApiError(400, 'invalid_request', message, { field: first.field, rule: first.rule, issues });
}

/** Unknown route (any method): 404 JSON, never Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'route_not_found', `no route for ${req.method} ${req.path}`));
};

/** body-parser errors carry `type` and a 4xx `status`; they are the client's doing. */
function bodyParserError(error: unknown): ApiError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { type?: unknown; status?: unknown; limit?: unknown };
  switch (e.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'malformed_json', 'request body is not valid JSON', { rule: 'json' });
    case 'entity.too.large':
      return new ApiError(413, 'body_too_large', `request body is larger than ${String(e.limit)} bytes`, { rule: 'size' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_encoding', 'request body encoding or charset is not supported');
    case 'request.aborted':
      return new ApiError(400, 'request_aborted', 'request was aborted by the client');
    case 'request.size.invalid':
      return new ApiError(400, 'request_size_invalid', 'request body length does not match Content-Length');
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const known = error instanceof ApiError ? error : bodyParserError(error);
    if (known) {
      res.status(known.status).json(known.toBody());
      return;
    }
    // A real server fault: log everything, tell the client nothing internal.
    logger.error(
      { err: error, method: req.method, path: req.path, orderId: res.locals.orderId, userId: req.auth?.userId },
      'request failed with a server error',
    );
    res.status(500).json({ error: { code: 'internal_error', message: 'internal server error' } });
  };
}
