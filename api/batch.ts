// POST /orders/batch: mass orders. Up to MAX_BATCH_LINES lines, each its own order placed exactly as
// POST /orders places one (api/placement.ts: same checks, same charge per type, same answers), in the
// order given, each with its own answer: the order, or that line's error. A refused line places
// nothing and does not stop the others.
//
// Lines come as a JSON array of POST /orders bodies (or `{"orders": [...]}`), or as the panels' text
// form, one `service|link|quantity` per line (text/plain).
//
// Idempotency-Key (optional, per batch): the batch's hash is stored under `batch:<key>` before any
// line is placed, and each line is placed with the key `batch:<key>:<line>`. A retried batch with the
// same key and content answers the stored results (or, if the first attempt stopped half-way,
// finishes it: placed lines replay, the others are placed now), so nothing is placed twice; the same
// key with other content is 409.
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { PG_UNIQUE_VIOLATION, isConstraintViolation } from '../db/errors';
import type { AuthContext } from './auth';
import { ApiError, fromZod } from './errors';
import type { Placement } from './placement';
import { MAX_BATCH_LINES, placeOrderBody } from './schemas';

const NO_ANSWER_YET = 0;

/** One line's answer: the placed order (as POST /orders answers it) or the line's error. */
export type BatchLineResult =
  | { line: number; status: number; order: unknown }
  | { line: number; status: number; error: unknown };

export interface BatchAnswer {
  results: BatchLineResult[];
  placed: number;
  refused: number;
}

/** A text line `service|link|quantity` as a POST /orders body; anything else stays as written (the schema refuses it). */
function textLine(line: string): unknown {
  const parts = line.split('|').map((p) => p.trim());
  if (parts.length !== 3) return { line };
  const [service, link, quantity] = parts;
  return { service, link, quantity };
}

/** The batch's lines from a JSON array, `{"orders": [...]}`, or text; 400 when there are none or too many. */
export function batchLines(body: unknown): unknown[] {
  let lines: unknown[];
  if (typeof body === 'string') {
    lines = body
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .map(textLine);
  } else if (Array.isArray(body)) {
    lines = body;
  } else if (body && typeof body === 'object' && Array.isArray((body as { orders?: unknown }).orders)) {
    lines = (body as { orders: unknown[] }).orders;
  } else {
    throw new ApiError(400, 'invalid_request', 'a batch is a JSON array of orders, {"orders": [...]}, or text lines service|link|quantity', { field: 'body', rule: 'type' });
  }
  if (lines.length === 0) throw new ApiError(400, 'invalid_request', 'the batch has no lines', { field: 'body', rule: 'min' });
  if (lines.length > MAX_BATCH_LINES) {
    throw new ApiError(400, 'invalid_request', `a batch has at most ${MAX_BATCH_LINES} lines, got ${lines.length}`, { field: 'body', rule: 'max' });
  }
  return lines;
}

const batchHash = (lines: unknown[]) => createHash('sha256').update(JSON.stringify(['POST /orders/batch', lines])).digest('hex');

export function createBatchPlacement(prisma: PrismaClient, placement: Placement) {
  /** Each line in turn (sequential: the user's balance is spent in the order the lines were given). */
  async function placeLines(who: AuthContext, lines: unknown[], key: string | undefined): Promise<BatchAnswer> {
    const results: BatchLineResult[] = [];
    for (const [index, raw] of lines.entries()) {
      const line = index + 1;
      try {
        const parsed = placeOrderBody.safeParse(raw, { reportInput: true });
        if (!parsed.success) throw fromZod(parsed.error);
        const answer = await placement.place(who, parsed.data, key === undefined ? undefined : `batch:${key}:${line}`);
        const body = answer.body as { order?: unknown; error?: unknown };
        results.push(answer.status === 201 ? { line, status: 201, order: body.order } : { line, status: answer.status, error: body.error });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        results.push({ line, status: error.status, error: error.toBody().error });
      }
    }
    const placed = results.filter((r) => r.status === 201).length;
    return { results, placed, refused: results.length - placed };
  }

  return async function placeBatch(who: AuthContext, body: unknown, key: string | undefined): Promise<{ answer: BatchAnswer; replayed: boolean }> {
    const lines = batchLines(body);
    if (key === undefined) return { answer: await placeLines(who, lines, undefined), replayed: false };

    const hash = batchHash(lines);
    const recordKey = `batch:${key}`;
    let record = await prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId: who.userId, key: recordKey } } });
    if (!record) {
      try {
        record = await prisma.idempotencyRecord.create({
          data: { userId: who.userId, key: recordKey, requestHash: hash, responseStatus: NO_ANSWER_YET, responseBody: { state: 'placing' } },
        });
      } catch (error) {
        if (!isConstraintViolation(error, PG_UNIQUE_VIOLATION, 'idempotency_records_user_id_key_key')) throw error;
        record = await prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId: who.userId, key: recordKey } } });
        if (!record) throw error;
      }
    } else if (record.requestHash === hash && record.responseStatus !== NO_ANSWER_YET) {
      return { answer: record.responseBody as unknown as BatchAnswer, replayed: true };
    }
    if (record.requestHash !== hash) {
      throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used with a different batch', { field: 'Idempotency-Key', rule: 'idempotency' });
    }
    // First attempt, a concurrent twin, or the rest of an attempt that stopped: each line's own key
    // makes a line already placed answer its stored result instead of placing again.
    const answer = await placeLines(who, lines, key);
    // A line still being placed (503) is not an answer yet: the retry finishes it.
    if (answer.results.some((r) => r.status >= 500)) return { answer, replayed: false };
    await prisma.idempotencyRecord.update({
      where: { id: record.id },
      data: { responseStatus: 200, responseBody: answer as unknown as Prisma.InputJsonValue },
    });
    return { answer, replayed: false };
  };
}

export type BatchPlacement = ReturnType<typeof createBatchPlacement>;
