// How the simulation's driver and fault proxy make HTTP calls (simulation/http-call.ts): the base
// URL's path is kept, a body goes with its length, a GET has none, the whole answer is read, and a
// connection that fails rejects.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../db/postgres';
import { httpCaller, readText } from '../../simulation/http-call';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    void readText(req).then((body) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-seen': String(req.headers['content-length'] ?? 'none') });
      res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization ?? null, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('posts a body with its length under the base URL’s path and reads the whole answer, headers included', async () => {
  const caller = httpCaller(`${base}/api/`);
  const body = JSON.stringify({ text: 'é'.repeat(3) });
  const answer = await caller.call({ method: 'POST', path: '/orders?x=1', headers: { authorization: 'Bearer k' }, body });
  expect(answer.status).toBe(201);
  expect(answer.headers['x-seen']).toBe(String(Buffer.byteLength(body)));
  expect(JSON.parse(answer.text)).toEqual({ method: 'POST', url: '/api/orders?x=1', auth: 'Bearer k', body });
  caller.close();
});

it('sends no body with a GET, and reuses its connection for the next call', async () => {
  const caller = httpCaller(base);
  const sockets = new Set<unknown>();
  const onConnection = (socket: unknown) => sockets.add(socket);
  server.on('connection', onConnection);
  const first = JSON.parse((await caller.call({ method: 'GET', path: '/a', body: 'ignored' })).text);
  const second = JSON.parse((await caller.call({ method: 'GET', path: '/b' })).text);
  server.off('connection', onConnection);
  expect([first.body, second.body]).toEqual(['', '']);
  expect(sockets.size).toBe(1);
  caller.close();
});

it('rejects when nobody listens', async () => {
  const caller = httpCaller(`http://127.0.0.1:${await freePort()}`);
  await expect(caller.call({ method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  caller.close();
});
