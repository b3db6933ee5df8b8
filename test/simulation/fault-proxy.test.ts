// The simulation's fault proxy (simulation/fault-proxy.ts) between the engine and the provider
// simulator: forwards each call as it came, answers HTML 502 while a provider is down, resets the
// engine's connection when the simulator resets its own, and counts every call.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy } from '../../simulation/fault-proxy';
import type { FaultProxy } from '../../simulation/fault-proxy';
import { readText } from '../../simulation/http-call';

let target: Server;
let proxy: FaultProxy;
let now = 0;

beforeAll(async () => {
  // Echoes what it got; `reset` in the body makes it drop the connection instead of answering.
  target = createServer((req, res) => {
    void readText(req).then((body) => {
      if (body.includes('reset')) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, path: req.url, contentType: req.headers['content-type'], body }));
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${(target.address() as AddressInfo).port}`, now: () => now });
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => target.close(() => resolve()));
});

it('forwards a call to the simulator as it came (method, path, content type, body) and counts it by action, order and link', async () => {
  const form = 'key=k&action=status&order=7';
  const answer = await fetch(proxy.apiUrl('alpha'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('application/json');
  expect(await answer.json()).toEqual({ method: 'POST', path: '/api/v2', contentType: 'application/x-www-form-urlencoded', body: form });
  const json = JSON.stringify({ key: 'k', action: 'add', link: 'https://x.test/p/1', quantity: 100 });
  const added = await fetch(proxy.apiUrl('alpha'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  expect(((await added.json()) as { body: string }).body).toBe(json);
  expect(proxy.calls.byAction).toMatchObject({ status: 1, add: 1 });
  expect(proxy.calls.byOrder.get('alpha:7')).toBe(1);
  expect(proxy.calls.addsByLink.get('alpha:https://x.test/p/1')).toBe(1);
  expect(proxy.calls.answerMs.length).toBe(2);
});

it('answers HTML 502 for a provider that is down until its window (simulated time) has passed', async () => {
  proxy.down('beta', 1_000);
  const down = await fetch(proxy.apiUrl('beta'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=balance' });
  expect(down.status).toBe(502);
  expect(await down.text()).toMatch(/<html>.*502 Bad Gateway/);
  // Another provider is not affected; and once the window is over, the call goes through.
  expect((await fetch(proxy.apiUrl('alpha'), { method: 'POST', body: 'action=balance' })).status).toBe(200);
  now = 1_001;
  expect((await fetch(proxy.apiUrl('beta'), { method: 'POST', body: 'action=balance' })).status).toBe(200);
  expect(proxy.calls.failed).toBe(1);
});

it('resets the engine’s connection when the simulator resets its own (a lost answer), and keeps forwarding after it', async () => {
  await expect(fetch(proxy.apiUrl('alpha'), { method: 'POST', body: 'action=add&note=reset' })).rejects.toThrow();
  const after = await fetch(proxy.apiUrl('alpha'), { method: 'POST', body: 'action=status&order=8' });
  expect(after.status).toBe(200);
});
