// API v2 request parameters, read the way panels' clients send them:
// - application/x-www-form-urlencoded, with or without `;charset=...` (PHP curl with a string,
//   Python requests data=, fetch with URLSearchParams), `name[]=1&name[]=2` lists too;
// - multipart/form-data (PHP curl given an array instead of a string);
// - JSON objects (numbers, strings, arrays of ids);
// - the query string, under the body (a body field wins).
// The body is read raw and parsed here, so no content type or charset is refused. Every value is
// a trimmed string; fields may come in any order. Unreadable input is `null`: "Incorrect request".
import { MAX_IDS, V2_TEXT, V2Error } from './errors';

/** Field name → value. Null prototype: a field named `__proto__` or `constructor` is just a field. */
export type Params = Readonly<Record<string, string>>;

function put(out: Record<string, string>, lists: Map<string, string[]>, name: string, value: string): void {
  // PHP-style lists: orders[]=1&orders[]=2, orders[0]=1&orders[1]=2.
  const list = /^(.+?)\[[^\]]*\]$/.exec(name);
  if (list) {
    const values = lists.get(list[1]) ?? [];
    values.push(value.trim());
    lists.set(list[1], values);
    return;
  }
  out[name] = value.trim();
}

function finish(out: Record<string, string>, lists: Map<string, string[]>): Record<string, string> {
  for (const [name, values] of lists) if (out[name] === undefined) out[name] = values.join(',');
  return out;
}

/** A JSON value as a field: scalars as text, arrays as comma lists; null is no field. */
function jsonField(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => jsonField(v) ?? '').join(',');
  return JSON.stringify(value); // an object where a value belongs: no action reads it as valid
}

function fromForm(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const lists = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(text)) put(out, lists, name, value);
  return finish(out, lists);
}

function fromJson(text: string): Record<string, string> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(parsed)) {
    const field = jsonField(value);
    if (field !== undefined) out[name] = field;
  }
  return out;
}

/** The text fields of a multipart/form-data body (files are not fields here); null if malformed. */
function fromMultipart(body: Buffer, contentType: string): Record<string, string> | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) return null;
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  const text = body.toString('utf8');
  if (!text.includes(delimiter)) return null;
  const out: Record<string, string> = Object.create(null);
  const lists = new Map<string, string[]>();
  for (const part of text.split(delimiter).slice(1)) {
    if (part.startsWith('--')) break; // the closing delimiter
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers);
    if (!name || /;\s*filename=/i.test(headers)) continue;
    put(out, lists, name[1], part.slice(headerEnd + 4).replace(/\r\n$/, ''));
  }
  return finish(out, lists);
}

/**
 * The request's fields: query string under the body. `body` is the raw body (express.raw), or
 * undefined when there was none. null when a body was sent but cannot be read as fields.
 */
export function readParams(body: Buffer | undefined, contentType: string | undefined, query: string): Params | null {
  const params: Record<string, string> = fromForm(query);
  if (!Buffer.isBuffer(body) || body.length === 0) return params;
  const type = (contentType ?? '').toLowerCase();
  let fields: Record<string, string> | null;
  if (type.startsWith('multipart/form-data')) {
    fields = fromMultipart(body, contentType ?? '');
  } else {
    const latin1 = /charset\s*=\s*"?(iso-8859-1|latin1|windows-1252|us-ascii)/.test(type);
    const text = body.toString(latin1 ? 'latin1' : 'utf8').replace(/^\uFEFF/, '').trim();
    if (type.includes('json')) fields = fromJson(text);
    // Undeclared or mislabelled: a JSON object is JSON, anything else is read as a form.
    else if (text.startsWith('{')) fields = fromJson(text) ?? fromForm(text);
    else fields = fromForm(text);
  }
  if (fields === null) return null;
  return Object.assign(params, fields);
}

/** A field's value, with an empty one counted as absent (clients send `runs=` for "no drip-feed"). */
export function field(params: Params, name: string): string | undefined {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  return value === undefined || value === '' ? undefined : value;
}

/** A positive integer id written as digits ("23501"), or null. */
export function parseId(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** One token of a comma list: the text the client wrote (its key in a multi answer) and its id. */
export interface ListItem {
  token: string;
  id: number | null;
}

/**
 * A comma list of ids ("1,10,100", "1, 10"), each distinct token once, in the client's order.
 * More than MAX_IDS ids → V2Error naming `what`; an empty list → [].
 */
export function parseIdList(text: string, what: string): ListItem[] {
  const tokens = [...new Set(text.split(',').map((t) => t.trim()).filter((t) => t.length > 0))];
  if (tokens.length > MAX_IDS) throw new V2Error(V2_TEXT.tooManyIds(what));
  return tokens.map((token) => ({ token, id: parseId(token) }));
}

/** The id an answer shows for a list item: the integer, or the client's own text when it was not one. */
export const itemId = (item: ListItem): number | string => item.id ?? item.token;
