// API v2 driven the way the panels' published example clients drive it, unchanged:
// - the Python client (urllib, and requests data=), run for real with python3 (clients/panel_api.py);
// - the PHP client class: its connect() encoding (`name=urlencode(value)` joined with '&', curl's
//   form content type), emulated byte for byte since no PHP runs here; http_build_query and curl
//   given an array (multipart) too;
// - JavaScript: fetch with URLSearchParams;
// - the curl lines of api/README.md, run with curl.
// Over a listening server with the API tests' fake Temporal (e2e.test.ts runs the real workflow).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { makeService, makeUser, startTestApi } from '../api/support/api';
import type { TestApi } from '../api/support/api';
import { fakeTemporal } from '../api/support/fake-temporal';
import { expectV2Answer, httpBuildQuery, multipartBody, phpClientBody } from './support';

const run = promisify(execFile);

let api: TestApi;
let server: Server;
let url: string;
let serviceId: number;
let linkSeq = 0;
const newLink = () => `https://instagram.com/client_${process.pid}_${++linkSeq}`;

beforeAll(async () => {
  api = await startTestApi({ temporal: (deps) => fakeTemporal(deps).client });
  ({ serviceId } = await makeService(api.prisma, { rate: '1.2', min: 50, max: 10000 }));
  server = api.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await api.close();
});

async function hasCommand(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

describe('the published Python client (python3, urllib and requests)', () => {
  it('services, balance, add, busy link, drip-feed, status, multi status, refill, refill_status, cancel, the api quirk', async () => {
    if (!(await hasCommand('python3', ['-c', 'import requests']))) {
      console.warn('python3 with requests is not installed: the Python client test did not run');
      return;
    }
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const link = newLink();
    const link2 = newLink();
    const { stdout } = await run('python3', [join(__dirname, 'clients', 'panel_api.py'), url, key, String(serviceId), link, link2], { timeout: 60_000 });
    const out = JSON.parse(stdout);
    const order = out.order.order;
    expect(out.order).toEqual({ order: expect.any(Number) });
    expect(out.services).toContainEqual(expect.objectContaining({ service: serviceId, rate: '1.20000', min: '50', max: '10000', type: 'Default' }));
    expect(out.balance).toEqual({ balance: '10.00000', currency: 'USD' });
    expect(out.same_link.error).toMatch(/^You have active order with this link\. Please wait until order being completed\./);
    expect(out.dripfeed).toEqual({ error: 'drip-feed is not offered for this service' });
    expect(out.status).toEqual({ charge: '0.12000', start_count: '0', status: 'Pending', remains: '100', currency: 'USD' });
    expect(out.multi_status).toEqual({ [order]: out.status, 99999999: { error: 'Incorrect order ID' } });
    expect(out.refill).toEqual({ error: 'Only a completed order can be refilled (order is pending)' });
    expect(out.multi_refill).toEqual([
      { order, refill: { error: 'Only a completed order can be refilled (order is pending)' } },
      { order: 99999999, refill: { error: 'Incorrect order ID' } },
    ]);
    expect(out.refill_status).toEqual({ error: 'Refill not found' });
    expect(out.multi_refill_status).toEqual([{ refill: 1, status: { error: 'Refill not found' } }, { refill: 2, status: { error: 'Refill not found' } }]);
    expect(out.cancel).toEqual([{ order, cancel: 1 }, { order: 99999999, cancel: { error: 'Incorrect order ID' } }]);
    expect(out.status_after_cancel).toMatchObject({ status: 'Processing' });
    expect(out.balance_after).toEqual({ balance: '9.88000', currency: 'USD' });
    expect(out.requests_order).toEqual({ order: expect.any(Number) });
    expect(out.requests_status).toEqual({ [out.requests_order.order]: { charge: '0.24000', start_count: '0', status: 'Pending', remains: '200', currency: 'USD' } });
    expect(out.bad_key).toEqual({ error: 'Invalid API key' });
    expect(out.api_quirk).toEqual({ balance: '9.64000', currency: 'USD' });
  });
});

/**
 * The panels' PHP client class, method for method: each builds the same array and connect() posts
 * `name=urlencode(value)` pairs joined with '&' (CURLOPT_POSTFIELDS given a string).
 */
class PhpStyleApi {
  constructor(private readonly key: string, private readonly encode: (post: Record<string, string | number>) => { body: string; contentType: string } = (post) => ({ body: phpClientBody(post), contentType: 'application/x-www-form-urlencoded' })) {}

  order(data: Record<string, string | number>) {
    return this.connect({ key: this.key, action: 'add', ...data });
  }
  status(orderId: number) {
    return this.connect({ key: this.key, action: 'status', order: orderId });
  }
  multiStatus(orderIds: number[]) {
    return this.connect({ key: this.key, action: 'status', orders: orderIds.join(',') });
  }
  services() {
    return this.connect({ key: this.key, action: 'services' });
  }
  refill(orderId: number) {
    return this.connect({ key: this.key, action: 'refill', order: orderId });
  }
  multiRefill(orderIds: number[]) {
    return this.connect({ key: this.key, action: 'refill', orders: orderIds.join(',') });
  }
  refillStatus(refillId: number) {
    return this.connect({ key: this.key, action: 'refill_status', refill: refillId });
  }
  multiRefillStatus(refillIds: number[]) {
    return this.connect({ key: this.key, action: 'refill_status', refills: refillIds.join(',') });
  }
  cancel(orderIds: number[]) {
    return this.connect({ key: this.key, action: 'cancel', orders: orderIds.join(',') });
  }
  balance() {
    return this.connect({ key: this.key, action: 'balance' });
  }
  private async connect(post: Record<string, string | number>): Promise<any> {
    const { body, contentType } = this.encode(post);
    const res = await request(url).post('').set('Content-Type', contentType).set('User-Agent', 'Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)').send(body);
    return expectV2Answer(res);
  }
}

describe('the published PHP client (its encoding)', () => {
  it.each([
    ['connect(): urlencode pairs joined with &', undefined],
    ['http_build_query', (post: Record<string, string | number>) => ({ body: httpBuildQuery(post), contentType: 'application/x-www-form-urlencoded' })],
    ['curl given the array: multipart/form-data', (post: Record<string, string | number>) => multipartBody(post)],
  ])('%s: the whole journey', async (_name, encode) => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const php = new PhpStyleApi(key, encode);
    // A link with characters urlencode escapes (?, =, &, ~, spaces around).
    const link = `${newLink()}?igsh=a~b&x=1 `;
    expect(await php.balance()).toEqual({ balance: '10.00000', currency: 'USD' });
    expect(await php.services()).toContainEqual(expect.objectContaining({ service: serviceId }));
    const { order } = await php.order({ service: serviceId, link, quantity: 1000 });
    expect(order).toEqual(expect.any(Number));
    expect((await api.orders.getOrder(order))?.link).toBe(link.trim());
    // The published example's drip-feed call.
    expect(await php.order({ service: serviceId, link: 'http://example.com/test', quantity: 100, runs: 2, interval: 5 })).toEqual({
      error: 'drip-feed is not offered for this service',
    });
    expect(await php.status(order)).toEqual({ charge: '1.20000', start_count: '0', status: 'Pending', remains: '1000', currency: 'USD' });
    expect(await php.multiStatus([order, 1])).toEqual({ [order]: expect.objectContaining({ status: 'Pending' }), 1: { error: 'Incorrect order ID' } });
    expect(await php.refill(order)).toEqual({ error: 'Only a completed order can be refilled (order is pending)' });
    expect(await php.multiRefill([order])).toEqual([{ order, refill: { error: 'Only a completed order can be refilled (order is pending)' } }]);
    expect(await php.refillStatus(5)).toEqual({ error: 'Refill not found' });
    expect(await php.multiRefillStatus([5])).toEqual([{ refill: 5, status: { error: 'Refill not found' } }]);
    expect(await php.cancel([order])).toEqual([{ order, cancel: 1 }]);
    expect(await php.balance()).toEqual({ balance: '8.80000', currency: 'USD' });
  });
});

describe('JavaScript clients', () => {
  it('fetch with URLSearchParams (content type "application/x-www-form-urlencoded;charset=UTF-8"), key last', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const res = await fetch(url, { method: 'POST', body: new URLSearchParams({ action: 'add', service: String(serviceId), link: newLink(), quantity: '100', key }) });
    expect(res.status).toBe(200);
    expect(res.redirected).toBe(false);
    const { order } = (await res.json()) as { order: number };
    expect(order).toEqual(expect.any(Number));
    const status = await fetch(`${url}/`, { method: 'POST', body: new URLSearchParams({ key, action: 'status', orders: `${order}` }) });
    expect(await status.json()).toEqual({ [order]: expect.objectContaining({ status: 'Pending' }) });
  });

  it('fetch with a JSON body and numbers', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key, action: 'add', service: serviceId, link: newLink(), quantity: 100 }) });
    expect(await res.json()).toEqual({ order: expect.any(Number) });
  });
});

describe('api/README.md', () => {
  it('each curl line answers with JSON, as documented', async () => {
    if (!(await hasCommand('curl', ['--version']))) {
      console.warn('curl is not installed: the README curl lines did not run');
      return;
    }
    const readme = readFileSync(join(__dirname, '..', '..', 'api', 'README.md'), 'utf8');
    const lines = readme.split('\n').filter((line) => line.startsWith('curl -sS $API'));
    expect(lines.map((line) => /action=(\w+)/.exec(line)?.[1])).toEqual([
      'services', 'add', 'status', 'status', 'cancel', 'refill', 'refill', 'refill_status', 'refill_status', 'balance',
    ]);
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const answers: unknown[] = [];
    for (const line of lines) {
      // service=1 in the README is the demo catalogue's first service: this test's service here.
      const command = line.replace('service=1 ', `service=${serviceId} `);
      const { stdout } = await run('bash', ['-c', command], { env: { ...process.env, API: url, KEY: key }, timeout: 30_000 });
      answers.push(JSON.parse(stdout));
    }
    expect(answers[0]).toContainEqual(expect.objectContaining({ service: serviceId }));
    expect(answers[1]).toEqual({ order: expect.any(Number) });
    expect(answers[2]).toEqual({ error: 'Incorrect order ID' });
    expect(answers[3]).toEqual({ 1: { error: 'Incorrect order ID' }, 10: { error: 'Incorrect order ID' }, 100: { error: 'Incorrect order ID' } });
    expect(answers[4]).toEqual([{ order: 2, cancel: { error: 'Incorrect order ID' } }, { order: 9, cancel: { error: 'Incorrect order ID' } }]);
    expect(answers[9]).toEqual({ balance: '8.80000', currency: 'USD' });
  });
});
