// Helpers for the API v2 tests: requests encoded the way the panels' published clients encode them.
//
//   PHP (the panels' own client class): connect($post) joins `name=urlencode(value)` with '&' and
//     gives curl that string (CURLOPT_POSTFIELDS) → application/x-www-form-urlencoded, key first;
//   PHP http_build_query($post): the same, with arrays as name[0]=...;
//   PHP curl given the array itself → multipart/form-data;
//   Python urllib.parse.urlencode / requests data= → quote_plus form body;
//   JavaScript fetch/axios with URLSearchParams → "application/x-www-form-urlencoded;charset=UTF-8".
import type { Server } from 'node:http';
import type express from 'express';
import request from 'supertest';

export type Fields = Record<string, string | number | Array<string | number>>;

/** PHP urlencode(): everything but [A-Za-z0-9_.-] percent-encoded, spaces as '+'. */
export function phpUrlencode(value: string | number): string {
  return encodeURIComponent(String(value))
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The body of the panels' PHP client: `$_post[] = $name.'='.urlencode($value); join('&', $_post)`. */
export function phpClientBody(post: Record<string, string | number>): string {
  return Object.entries(post).map(([name, value]) => `${name}=${phpUrlencode(value)}`).join('&');
}

/** PHP http_build_query(): keys encoded too, arrays as name[0]=a&name[1]=b. */
export function httpBuildQuery(post: Fields): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(post)) {
    if (Array.isArray(value)) value.forEach((v, i) => parts.push(`${phpUrlencode(`${name}[${i}]`)}=${phpUrlencode(v)}`));
    else parts.push(`${phpUrlencode(name)}=${phpUrlencode(value)}`);
  }
  return parts.join('&');
}

/** A multipart/form-data body as curl builds it from a PHP array. */
export function multipartBody(post: Record<string, string | number>, boundary = '------------------------a1b2c3d4e5f6'): { body: string; contentType: string } {
  const parts = Object.entries(post).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * POST /api/v2 with a form body (the PHP client's encoding by default). `raw` sends the string as
 * is; `contentType` overrides the header.
 */
export function postForm(app: express.Application | Server, body: Record<string, string | number> | string, options: { path?: string; contentType?: string } = {}) {
  const text = typeof body === 'string' ? body : phpClientBody(body);
  return request(app)
    .post(options.path ?? '/api/v2')
    .set('Content-Type', options.contentType ?? FORM)
    .set('User-Agent', 'Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)')
    .send(text);
}

export function postJson(app: express.Application | Server, body: unknown, options: { path?: string } = {}) {
  return request(app).post(options.path ?? '/api/v2').set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** An API v2 answer must be JSON with HTTP 200, never empty, never HTML. */
export function expectV2Answer(res: { status: number; headers: Record<string, string>; text: string }): unknown {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.text.length).toBeGreaterThan(1);
  return JSON.parse(res.text);
}

/** `{"error": text}` and nothing else. */
export function expectV2Error(res: { status: number; headers: Record<string, string>; text: string }, text: string | RegExp): void {
  const body = expectV2Answer(res) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  if (typeof text === 'string') expect(body.error).toBe(text);
  else expect(body.error).toMatch(text);
}
