/**
 * zod schemas of the order fields, one per field, with the texts a client sees when one is missing
 * or malformed. Values come as API v2 strings ("1000") or REST JSON numbers; both are read.
 * Range checks that depend on the service (min/max, drip-feed offer) are not here: see read-order.ts.
 */
import { z } from 'zod';
import { EXECUTE_AT_HORIZON_DAYS, SUBSCRIPTION_DELAYS } from './spec';

const digits = (v: unknown) => (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : v);

/** A whole number ≥ min, from digits or a JSON number. */
export const wholeField = (name: string, min: number) =>
  z.preprocess(
    digits,
    z
      .int({ error: (i) => (i.input === undefined ? `${name} is required` : `${name} must be a whole number`) })
      .min(min, { error: `${name} must be at least ${min}` }),
  );

const MAX_TEXT = 100_000;

/** Non-empty lines of a list field, trimmed (what Custom Comments counts as its quantity). */
export function nonEmptyLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) => line.length > 0);
}

/** A one-per-line list (comments, usernames, keywords, hashtags): at least one non-empty line. */
export const linesField = (name: string, what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${name} is required: ${what}, one per line` : `${name} must be text`) })
    .max(MAX_TEXT, { error: `${name} must be at most ${MAX_TEXT} characters` })
    .refine((text) => nonEmptyLines(text).length > 0, { error: `${name} must have at least one non-empty line: ${what}, one per line` });

/** A single token: a username, a hashtag, a media link (no spaces). */
export const tokenField = (name: string, what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${name} is required: ${what}` : `${name} must be text`) })
    .trim()
    .min(1, { error: `${name} is required: ${what}` })
    .max(2048, { error: `${name} must be at most 2048 characters` })
    .regex(/^\S+$/, { error: `${name} must be ${what} without spaces` });

export const delayField = z.preprocess(
  digits,
  z
    .int({ error: (i) => (i.input === undefined ? 'delay is required' : 'delay must be a whole number of minutes') })
    .refine((d) => SUBSCRIPTION_DELAYS.includes(d), { error: `delay must be one of ${SUBSCRIPTION_DELAYS.join(', ')} (minutes)` }),
);

/** d/m/Y, a real calendar day; the epoch ms of its end (23:59:59.999 UTC). */
export function parseExpiry(text: string): number | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
  if (!m) return null;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(year, month - 1, day);
  const date = new Date(start);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return start + 86_400_000 - 1;
}

/** "YYYY-MM-DD HH:MM" in UTC → epoch ms, or null when it is not a real minute. */
export function parseExecuteAt(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (hour > 23 || minute > 59) return null;
  const at = Date.UTC(year, month - 1, day, hour, minute);
  const date = new Date(at);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return at;
}

/** execute_at: a real minute, after `now`, at most EXECUTE_AT_HORIZON_DAYS ahead. */
export const executeAtField = (now: number) =>
  z
    .string({ error: 'execute_at must be text "YYYY-MM-DD HH:MM" (UTC)' })
    .transform((text, ctx) => {
      const at = parseExecuteAt(text);
      if (at === null) {
        ctx.addIssue({ code: 'custom', params: { rule: 'format' }, message: 'execute_at must be "YYYY-MM-DD HH:MM" (UTC)' });
        return z.NEVER;
      }
      if (at <= now) {
        ctx.addIssue({ code: 'custom', params: { rule: 'execute_at' }, message: 'execute_at must be in the future (UTC)' });
        return z.NEVER;
      }
      if (at > now + EXECUTE_AT_HORIZON_DAYS * 86_400_000) {
        ctx.addIssue({ code: 'custom', params: { rule: 'execute_at' }, message: `execute_at must be at most ${EXECUTE_AT_HORIZON_DAYS} days ahead` });
        return z.NEVER;
      }
      return at;
    });

/** expiry (subscriptions): d/m/Y, today or later. */
export const expiryField = (now: number) =>
  z.string({ error: 'expiry must be text d/m/Y' }).superRefine((text, ctx) => {
    const end = parseExpiry(text);
    if (end === null) ctx.addIssue({ code: 'custom', params: { rule: 'format' }, message: 'expiry must be a date d/m/Y (e.g. 31/12/2026)' });
    else if (end <= now) ctx.addIssue({ code: 'custom', params: { rule: 'expiry' }, message: 'expiry must not be in the past' });
  });
