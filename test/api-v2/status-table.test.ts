// The engine state → API v2 status table, one test per row through the endpoint: an order row in
// each state (status, cancel requested, overdue, stalled), read with action=status. The expected
// values are written out here, independently of domain/api-v2-status.ts, and api/README.md's
// table must say the same, row for row.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_V2_STATUS_TABLE } from '../../domain/api-v2-status';
import type { OrderStatus } from '../../domain/order-status';
import { makeService, makeUser, startTestApi } from '../api/support/api';
import type { TestApi } from '../api/support/api';
import { expectV2Answer, postForm } from './support';

interface Row {
  status: OrderStatus;
  cancelRequested: boolean;
  overdue: boolean;
  stalled: boolean;
  api: string;
}

const row = (status: OrderStatus, api: string, flags: Partial<Pick<Row, 'cancelRequested' | 'overdue' | 'stalled'>> = {}): Row => ({
  status, api, cancelRequested: false, overdue: false, stalled: false, ...flags,
});

const ROWS: Row[] = [
  row('new', 'Pending'),
  row('new', 'Pending', { cancelRequested: true }),
  row('pending', 'Pending'),
  row('pending', 'Processing', { cancelRequested: true }),
  row('pending', 'Pending', { overdue: true }),
  row('pending', 'Pending', { overdue: true, stalled: true }),
  row('pending', 'Processing', { overdue: true, stalled: true, cancelRequested: true }),
  row('dispatch_uncertain', 'Pending'),
  row('dispatch_uncertain', 'Pending', { overdue: true }),
  row('dispatch_uncertain', 'Processing', { cancelRequested: true }),
  row('in_progress', 'In progress'),
  row('in_progress', 'Processing', { cancelRequested: true }),
  row('completed', 'Completed'),
  row('completed', 'Completed', { cancelRequested: true }),
  row('partial', 'Partial'),
  row('partial', 'Partial', { cancelRequested: true }),
  row('canceled', 'Canceled'),
  row('canceled', 'Canceled', { cancelRequested: true }),
  row('rejected', 'Canceled'),
  row('rejected', 'Canceled', { cancelRequested: true }),
];

const describeRow = (r: Row) =>
  [`\`${r.status}\``, r.stalled ? 'stalled' : null, r.overdue && !r.stalled ? 'overdue' : null, r.cancelRequested ? 'cancel requested' : null]
    .filter(Boolean)
    .join(' + ');

let api: TestApi;
let user: { key: string; userId: number };
let service: { serviceId: number; providerId: number };
let seq = 0;

beforeAll(async () => {
  api = await startTestApi();
  user = await makeUser(api.prisma);
  service = await makeService(api.prisma, { rate: '1.2' });
});
afterAll(async () => {
  await api.close();
});

async function orderIn(r: Row): Promise<number> {
  const n = ++seq;
  const order = await api.prisma.order.create({
    data: {
      workflowId: `table-${n}`, userId: user.userId, serviceId: service.serviceId, providerId: service.providerId,
      link: `https://instagram.com/table_${n}`, linkKey: `https://instagram.com/table_${n}`,
      quantity: 1000, rate: '1.2', charge: '1.2', refillKind: 'none', cancelable: true,
      status: r.status, cancelRequested: r.cancelRequested, overdue: r.overdue, stalled: r.stalled,
    },
  });
  return order.id;
}

const status = async (order: number) => expectV2Answer(await postForm(api.app, { key: user.key, action: 'status', order })) as Record<string, string>;

describe('API v2 status table, through the endpoint', () => {
  it.each(ROWS.map((r) => [describeRow(r), r.api, r] as const))('%s → %s', async (_state, apiStatus, r) => {
    expect((await status(await orderIn(r))).status).toBe(apiStatus);
  });

  it('R-START-WINDOW: overdue and stalled never change the status a client sees (every status, both flags)', async () => {
    const ids: number[] = [];
    const expected: string[] = [];
    for (const base of API_V2_STATUS_TABLE) {
      ids.push(await orderIn(row(base.status, base.api, { cancelRequested: base.cancelRequested, overdue: true, stalled: true })));
      expected.push(base.api);
    }
    const answer = expectV2Answer(await postForm(api.app, { key: user.key, action: 'status', orders: ids.join(',') })) as Record<string, { status: string }>;
    expect(ids.map((id) => answer[id].status)).toEqual(expected);
  });

  it('every row of the domain\'s table is a row here (same API status)', () => {
    for (const d of API_V2_STATUS_TABLE) {
      expect(ROWS.find((r) => r.status === d.status && r.cancelRequested === d.cancelRequested && !r.overdue && !r.stalled)?.api).toBe(d.api);
    }
  });
});

describe('the other fields of status', () => {
  it('R-BALANCE: a rejected placement (never paid) shows charge 0.00000', async () => {
    expect(await status(await orderIn(row('rejected', 'Canceled')))).toEqual({ charge: '0.00000', start_count: '0', status: 'Canceled', remains: '1000', currency: 'USD' });
  });

  it('R-CANCEL-FULL: a canceled order refunded in full shows charge 0.00000', async () => {
    const id = await orderIn(row('canceled', 'Canceled'));
    await api.prisma.order.update({ where: { id }, data: { refunded: '1.2' } });
    expect((await status(id)).charge).toBe('0.00000');
  });

  it('a Completed order that never reported remains shows remains 0; an in-progress one its start count', async () => {
    const done = await orderIn(row('completed', 'Completed'));
    await api.prisma.order.update({ where: { id: done }, data: { startCount: 10 } });
    expect(await status(done)).toEqual({ charge: '1.20000', start_count: '10', status: 'Completed', remains: '0', currency: 'USD' });
    const running = await orderIn(row('in_progress', 'In progress'));
    await api.prisma.order.update({ where: { id: running }, data: { startCount: 3572, remains: 157 } });
    expect(await status(running)).toMatchObject({ start_count: '3572', remains: '157' });
  });
});

describe('api/README.md', () => {
  it('documents exactly these rows, with these API v2 statuses', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'api', 'README.md'), 'utf8');
    const start = readme.indexOf('| engine state | API v2 status | why |');
    expect(start).toBeGreaterThan(0);
    const documented: Array<[string, string]> = [];
    for (const line of readme.slice(start).split('\n').slice(2)) {
      if (!line.startsWith('|')) break;
      const [, state, apiStatus] = line.split('|').map((cell) => cell.trim());
      documented.push([state!, apiStatus!]);
    }
    expect(documented).toEqual(ROWS.map((r) => [describeRow(r), r.api]));
  });
});
