// The provider client's transport (activities/provider/http.ts): undici's request by default, a
// test's fetch when one is given. Both send the same request, follow no redirect (a POST turned into
// a GET would lose the key and the order fields), read the body whatever the status, and fail with
// the same kinds: never sent, timeout.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request, sendWithFetch, sendWithUndici, TransportFailure } from '../../activities/provider/http';
import type { Send } from '../../activities/provider/http';
import { freePort } from '../../db/postgres';

let server: Server;
let base: string;
const seen: Array<{ method?: string; url?: string; contentType?: string; accept?: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], accept: req.headers.accept, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/moved') return void res.writeHead(302, { location: '/elsewhere' }).end('moved');
      if (req.url === '/slow') return void setTimeout(() => res.end('{"late":true}'), 2_000);
      res.writeHead(503, { 'content-type': 'text/html' }).end('<html>busy</html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sends: Array<[string, Send]> = [
  ['undici (the default)', sendWithUndici],
  ['a given fetch', sendWithFetch(fetch)],
];

describe.each(sends)('sending with %s', (_name, send) => {
  it('posts the form with its content type, and reads a 5xx body as it came', async () => {
    seen.length = 0;
    const answer = await request({ send, url: `${base}/api/v2`, timeoutMs: 5_000, form: new URLSearchParams({ key: 'k', action: 'status', order: '1' }) });
    expect(answer).toEqual({ httpStatus: 503, bodyText: '<html>busy</html>' });
    expect(seen).toEqual([{ method: 'POST', url: '/api/v2', contentType: 'application/x-www-form-urlencoded', accept: 'application/json', body: 'key=k&action=status&order=1' }]);
  });

  it('does not follow a redirect: the 302 is the answer, and nothing else was requested', async () => {
    seen.length = 0;
    const answer = await request({ send, url: `${base}/moved`, timeoutMs: 5_000, form: new URLSearchParams({ key: 'k' }) });
    expect(answer.httpStatus).toBe(302);
    expect(seen.map((s) => s.url)).toEqual(['/moved']);
  });

  it('an answer slower than the timeout fails as "timeout"', async () => {
    await expect(request({ send, url: `${base}/slow`, timeoutMs: 200 })).rejects.toMatchObject({ name: 'TransportFailure', kind: 'timeout' });
  });

  it('a connection refused, or a URL that cannot be parsed, fails as "not_sent"', async () => {
    const refused = await request({ send, url: `http://127.0.0.1:${await freePort()}/api/v2`, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransportFailure);
    expect((refused as TransportFailure).kind).toBe('not_sent');
    await expect(request({ send, url: 'not a url', timeoutMs: 2_000 })).rejects.toMatchObject({ kind: 'not_sent' });
  });
});
