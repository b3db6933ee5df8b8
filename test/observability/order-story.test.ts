/**
 * The engineers' view of a real order: its timeline (npm run history / GET /orders/:id/history),
 * the export that replays, and /metrics moving with a placed order.
 */
import type { Server } from 'node:http';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import type { Role } from '../../api/auth';
import { makeOrder } from '../db/fixtures';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
let server: Server;

async function keyFor(userId: number, role: Role = 'user'): Promise<string> {
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role } });
  return key;
}

beforeAll(async () => {
  engine = await startTestEngine();
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }) }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const withoutTime = (line: string) => line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  /, '');

it('R-PARTIAL: the timeline of a scripted order tells placement, start, partial and its refund, and its export replays', async () => {
  const userId = await engine.newUser('10.00000');
  const key = await keyFor(userId);
  const support = await keyFor(engine.seed.userId, 'support');
  const link = engine.uniqueLink('story');
  const placed = await request(server)
    .post('/orders')
    .set(bearer(key))
    .send({ service: engine.seed.serviceIds.followers, link, quantity: 1000 });
  expect(placed.status).toBe(201);
  const orderId: number = placed.body.order.id;
  await engine.waitForState(orderId, (s) => s.providerOrderId !== null);
  await engine.providerUpdate(orderId, { status: 'in_progress', startCount: 120, remains: 1000 });
  await engine.temporal.env.sleep('3 hours');
  await engine.providerUpdate(orderId, { status: 'partial', startCount: 120, remains: 250 });
  await engine.handle(orderId).result();

  const forbidden = await request(server).get(`/orders/${orderId}/history`).set(bearer(key));
  expect(forbidden.status).toBe(403);
  const story = await request(server).get(`/orders/${orderId}/history`).set(bearer(support));
  expect(story.status).toBe(200);
  const lines: string[] = story.body.timeline.map(withoutTime);
  const providerOrderId = (await engine.state(orderId)).providerOrderId;
  // The business facts, in order; timestamps and the workflow's own bookkeeping aside.
  const expected = [
    expect.stringMatching(new RegExp(`^WorkflowExecutionStarted orderWorkflow  \\{charge=0\\.90000 quantity=1000 .*link=${link.replace(/[.?]/g, '\\$&')}\\}$`)),
    'WorkflowExecutionUpdateAccepted placement',
    'LocalActivity reserveAndDebit  {accepted=true}',
    expect.stringMatching(/^TimerStarted (1 d|23 h 59 min)$/), // the 24-hour start window (R-START-WINDOW)
    'SearchAttributes OrderStatus="pending"',
    expect.stringMatching(/^ActivityTaskScheduled dispatchOrder  \{/),
    expect.stringMatching(/^WorkflowExecutionUpdateCompleted  \{accepted=true/),
    expect.stringMatching(new RegExp(`^ActivityTaskCompleted dispatchOrder \\(attempt 1\\)  \\{.*providerOrderId=${providerOrderId}`)),
    'WorkflowExecutionSignaled providerUpdate  {status=in_progress startCount=120 remains=1000}',
    'SearchAttributes OrderStatus="in_progress"',
    'TimerCanceled',
    expect.stringMatching(/^LocalActivity mirrorOrder/),
    expect.stringMatching(/^   … (3 h|2 h 59 min) with nothing to report …$/),
    'WorkflowExecutionSignaled providerUpdate  {status=partial startCount=120 remains=250}',
    'ActivityTaskScheduled refundOrder  {rule=R-PARTIAL reason=partial amount=0.22500}', // 0.90000 × 250 / 1000
    expect.stringMatching(/^ActivityTaskCompleted refundOrder \(attempt 1\)  \{amount=0\.22500/),
    'SearchAttributes OrderStatus="partial"',
    expect.stringMatching(/^LocalActivity mirrorOrder/),
    expect.stringMatching(/^WorkflowExecutionCompleted  \{status=partial charge=0\.90000 refunded=0\.22500 .*remains=250/),
  ];
  expect(lines.slice(1)).toEqual(expected);

  // The export: Temporal's JSON history format, one per run, replaying against today's code.
  const exported = await request(server).get(`/orders/${orderId}/history?format=json`).set(bearer(support));
  expect(exported.status).toBe(200);
  expect(exported.body.runs).toHaveLength(1);
  const history = historyFromJSON(exported.body.runs[0].history);
  // The start event shows the status the order started with, not the one its upserts ended on.
  const startFields = history.events![0].workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields!;
  expect(JSON.parse(Buffer.from(startFields.OrderStatus.data!).toString('utf8'))).toBe('new');
  await Worker.runReplayHistory({ workflowBundle: engine.bundle }, history, `order-${orderId}`);
});

it('an order without a workflow has no history: 404 order_not_found, for an unknown id and for a row whose workflow is gone', async () => {
  const support = await keyFor(engine.seed.userId, 'support');
  const unknown = await request(server).get('/orders/987654321/history').set(bearer(support));
  expect(unknown.status).toBe(404);
  expect(unknown.body.error).toMatchObject({ code: 'order_not_found', message: 'order 987654321 has no workflow' });

  // A row the engine knows whose workflow is gone (e.g. an in-memory server restarted): the row's id.
  const userId = await engine.newUser('10.00000');
  const orphanId = await makeOrder(engine.prisma, { userId, providerId: engine.seed.providerId, serviceId: engine.seed.serviceIds.followers });
  const gone = await request(server).get(`/orders/${orphanId}/history?format=json`).set(bearer(support));
  expect(gone.status).toBe(404);
  expect(gone.body.error.code).toBe('order_not_found');
});

it('/metrics parses as Prometheus text, and its counters move with a placed order', async () => {
  const scrape = async () => {
    const res = await request(server).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const values = new Map<string, number>();
    for (const line of (res.text as string).split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (-?[\d.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
      if (!match) throw new Error(`not Prometheus text: ${line}`);
      values.set(match[1], Number(match[2]));
    }
    return values;
  };
  const before = await scrape();
  const userId = await engine.newUser('5.00000');
  const key = await keyFor(userId);
  const placed = await request(server)
    .post('/orders')
    .set(bearer(key))
    .send({ service: engine.seed.serviceIds.followers, link: engine.uniqueLink('metrics'), quantity: 2000 });
  expect(placed.status).toBe(201);
  const refused = await request(server)
    .post('/orders')
    .set(bearer(key))
    .send({ service: engine.seed.serviceIds.followers, link: engine.uniqueLink('metrics'), quantity: 10 });
  expect(refused.status).toBe(422);
  await engine.waitForState(placed.body.order.id, (s) => s.providerOrderId !== null);
  const after = await scrape();
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  expect(delta('engine_placements_total{outcome="accepted"}')).toBe(1);
  expect(delta(`engine_placements_total{outcome="${refused.body.error.code}"}`)).toBe(1);
  expect(delta('engine_money_charged_total')).toBeCloseTo(1.8, 5);
  expect(after.get('engine_orders{status="pending"}')).toBeGreaterThanOrEqual(1);
  expect(delta(`engine_provider_calls_total{provider="${engine.seed.providerId}",action="addOrder",outcome="ok"}`)).toBe(1);
});
