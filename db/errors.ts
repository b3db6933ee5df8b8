// Recognise PostgreSQL errors that reach us through Prisma and the pg driver adapter.
//
// Through @prisma/adapter-pg a database error arrives as PrismaClientKnownRequestError with
// `meta.driverAdapterError.cause` = { originalCode: '23505', originalMessage, constraint?: { index } }.
// Errors straight from `pg` carry `code` and `constraint`. Both shapes are handled.

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_CHECK_VIOLATION = '23514';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

export interface DbErrorInfo {
  /** SQLSTATE, e.g. '23505'. */
  code: string;
  /** Constraint or index name when the database named one. */
  constraint?: string;
  message: string;
}

export function dbErrorInfo(error: unknown): DbErrorInfo | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as Record<string, any>;
  const cause = e.meta?.driverAdapterError?.cause ?? e.cause?.cause ?? e.cause;
  if (cause && typeof cause === 'object' && typeof cause.originalCode === 'string') {
    const message = String(cause.originalMessage ?? cause.message ?? '');
    const named = typeof cause.constraint?.index === 'string' ? cause.constraint.index : undefined;
    return { code: cause.originalCode, constraint: named ?? constraintFromMessage(message), message };
  }
  // pg DatabaseError
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') {
    const message = String(e.message ?? '');
    return { code: e.code, constraint: e.constraint ?? constraintFromMessage(message), message };
  }
  return undefined;
}

function constraintFromMessage(message: string): string | undefined {
  return /constraint "([^"]+)"/.exec(message)?.[1];
}

export function isConstraintViolation(error: unknown, code: string, constraint?: string): boolean {
  const info = dbErrorInfo(error);
  if (!info || info.code !== code) return false;
  return constraint === undefined || info.constraint === constraint;
}
