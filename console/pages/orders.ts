// Page 1, queues and search (GET /console): every filter of GET /support/orders as a form, the flags
// as one-click queues with their counts, keyset paging, status at a glance; reloads every 30 s.
// The list is GET /support/orders itself (the form's fields are its query parameters).
import { flagCondition } from '../../activities/order-records';
import type { OrderFlag } from '../../activities/order-records';
import { ACTIVE_STATUSES, ORDER_STATUSES } from '../../domain/order-status';
import { SERVICE_TYPES, SERVICE_TYPE_NAMES } from '../../domain/service-types';
import type { OrderView } from '../../api/views';
import type { Prisma } from '../../generated/prisma/client';
import type { PageContext } from '../context';
import { queryString } from '../context';
import { html, safeHref } from '../html';
import type { Html } from '../html';
import { flagBadges, notice, page, statusBadge, when } from '../layout';
import { refusalOf } from '../rest-client';

interface Queue {
  flag: OrderFlag;
  label: string;
  /** Only unfinished orders: a flag on a finished order is history, not work. */
  activeOnly: boolean;
}

/** The queues support works through, most urgent first. */
export const QUEUES: readonly Queue[] = [
  { flag: 'dispatch_uncertain', label: 'Dispatch uncertain', activeOnly: false },
  { flag: 'stalled', label: 'Stalled', activeOnly: true },
  { flag: 'overdue', label: 'Overdue', activeOnly: true },
  { flag: 'cancel_requested', label: 'Cancel requested', activeOnly: true },
  { flag: 'refill_failed', label: 'Refill failed', activeOnly: false },
];

const ACTIVE = ACTIVE_STATUSES.join(',');

export function queueHref(q: Queue): string {
  return `/console?flag=${q.flag}${q.activeOnly ? `&status=${ACTIVE}` : ''}`;
}

/** How many orders each queue holds now (the same conditions as the listing's flag filter). */
export async function queueCounts(ctx: Pick<PageContext, 'prisma'>): Promise<Map<OrderFlag, number>> {
  const counts = await Promise.all(
    QUEUES.map((q) => {
      const where: Prisma.OrderWhereInput = { AND: [flagCondition(q.flag), ...(q.activeOnly ? [{ status: { in: [...ACTIVE_STATUSES] } }] : [])] };
      return ctx.prisma.order.count({ where });
    }),
  );
  return new Map(QUEUES.map((q, i) => [q.flag, counts[i]]));
}

const FILTERS = ['id', 'userId', 'link', 'status', 'providerId', 'providerOrderId', 'serviceType', 'scheduled', 'dripFeed', 'hasRuns', 'flag', 'createdAfter', 'createdBefore', 'limit', 'cursor'] as const;

/** The order shapes of issue 12 as search choices (GET /support/orders's own values). */
const SHAPE_FILTERS: ReadonlyArray<{ name: string; label: string; options: ReadonlyArray<[string, string]> }> = [
  { name: 'scheduled', label: 'Scheduled', options: [['true', 'scheduled'], ['false', 'not scheduled']] },
  { name: 'dripFeed', label: 'Drip-feed', options: [['true', 'any drip-feed'], ['engine', 'run by the engine'], ['provider', 'run by the provider'], ['false', 'not a drip-feed']] },
  { name: 'hasRuns', label: 'Runs', options: [['true', 'runs begun'], ['false', 'no runs']] },
];

export async function serviceNames(ctx: Pick<PageContext, 'prisma'>, ids: number[]): Promise<Map<number, string>> {
  const rows = await ctx.prisma.service.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true } });
  return new Map(rows.map((r) => [r.id, r.name]));
}

export function ordersTable(orders: OrderView[], services: Map<number, string>): Html {
  if (orders.length === 0) return html`<p class="muted card">No orders match.</p>`;
  return html`<div class="table-wrap"><table class="orders">
<thead><tr><th>Order</th><th>Status</th><th>User</th><th>Service</th><th>Link</th><th class="num">Qty</th><th class="num">Remains</th><th class="num">Charge</th><th class="num">Refunded</th><th>Provider · upstream id</th><th>Created</th></tr></thead>
<tbody>${orders.map((o) => {
    const href = safeHref(o.link);
    return html`<tr data-order="${o.id}">
<td><a href="/console/orders/${o.id}"><b>#${o.id}</b></a></td>
<td>${statusBadge(o.status)}${flagBadges(o.flags)}</td>
<td><a href="/console/users/${o.userId}">u${o.userId}</a></td>
<td>${services.get(o.serviceId) ?? `service ${o.serviceId}`}</td>
<td class="link">${href ? html`<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${o.link}</a>` : o.link}</td>
<td class="num">${o.quantity}</td><td class="num">${o.remains ?? '–'}</td><td class="num">${o.charge}</td><td class="num">${o.refunded}</td>
<td>${o.providerId ?? ''} · <span class="mono">${o.providerOrderId ?? '–'}</span></td>
<td>${when(o.createdAt)}</td></tr>`;
  })}</tbody></table></div>`;
}

function filterForm(query: Record<string, unknown>): Html {
  const value = (k: string) => {
    const v = query[k];
    return Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : '';
  };
  const statuses = value('status').split(',');
  const flags = value('flag').split(',');
  const input = (name: string, label: string, placeholder = '') => html`<label>${label}<input name="${name}" value="${value(name)}" placeholder="${placeholder}"></label>`;
  return html`<form class="filters card" method="get" action="/console">
${input('id', 'Order id(s)', '12, 13')}${input('userId', 'User id')}${input('link', 'Link', 'any spelling')}
<label>Status<select name="status"><option value="">any</option>${ORDER_STATUSES.map((s) => html`<option value="${s}"${statuses.length === 1 && statuses[0] === s ? ' selected' : ''}>${s}</option>`)}${statuses.length > 1 ? html`<option value="${statuses.join(',')}" selected>${statuses.join(', ')}</option>` : ''}</select></label>
${input('providerId', 'Provider id')}${input('providerOrderId', "Provider's order id")}
<label>Type<select name="serviceType"><option value="">any</option>${SERVICE_TYPES.map((t) => html`<option value="${t}"${value('serviceType') === t ? ' selected' : ''}>${SERVICE_TYPE_NAMES[t]}</option>`)}</select></label>
${SHAPE_FILTERS.map((f) => html`<label>${f.label}<select name="${f.name}"><option value="">any</option>${f.options.map(([v, label]) => html`<option value="${v}"${value(f.name) === v ? ' selected' : ''}>${label}</option>`)}</select></label>`)}
<label>Flag<select name="flag"><option value="">any</option>${QUEUES.map((q) => html`<option value="${q.flag}"${flags.includes(q.flag) ? ' selected' : ''}>${q.flag}</option>`)}</select></label>
${input('createdAfter', 'Created after', '2026-12-01')}${input('createdBefore', 'Created before', '2026-12-04T12:00Z')}${input('limit', 'Per page', '50')}
<div><button>Search</button> <a href="/console">clear</a></div>
</form>`;
}

export async function ordersPage(ctx: PageContext, query: Record<string, unknown>): Promise<{ status: number; body: string }> {
  const params: Record<string, unknown> = {};
  for (const k of FILTERS) if (query[k] !== undefined) params[k] = query[k];
  const qs = queryString(params);
  const [answer, counts] = await Promise.all([ctx.rest.get<{ orders: OrderView[]; nextCursor: number | null }>(`/support/orders${qs}`), queueCounts(ctx)]);
  const currentQs = queryString(params, { cursor: null });
  const queues = html`<div class="queues">${QUEUES.map((q) => {
    const n = counts.get(q.flag) ?? 0;
    const current = currentQs === queryString({ flag: q.flag, ...(q.activeOnly ? { status: ACTIVE } : {}) });
    return html`<a href="${queueHref(q)}" class="${current ? 'current' : ''}" data-queue="${q.flag}"><span class="count${n > 0 ? ' hot' : ''}">${n}</span> ${q.label}</a>`;
  })}<a href="/console"><span class="count">All</span> orders</a></div>`;

  let list: Html;
  let status = 200;
  if (answer.status !== 200) {
    const r = refusalOf(answer);
    status = answer.status;
    list = notice('refused', html`Search refused: ${r.field ? html`<b>${r.field}</b> ` : ''}${r.message}`);
  } else {
    const { orders, nextCursor } = answer.body;
    const services = await serviceNames(ctx, orders.map((o) => o.serviceId));
    list = html`${ordersTable(orders, services)}
<div class="pager">${params.cursor ? html`<a href="/console${currentQs}">← first page</a>` : ''}${nextCursor !== null ? html`<a class="button secondary" href="/console${queryString(params, { cursor: String(nextCursor) })}">Next page →</a>` : html`<span class="muted">end of the list</span>`}
<span class="muted">· refreshes every 30 s · ${new Date().toISOString().slice(11, 19)} UTC</span></div>`;
  }
  const body = html`<h1>Orders</h1>${queues}${filterForm(params)}${list}`;
  return { status, body: page({ title: 'Orders', session: ctx.session, nav: 'orders', refreshSeconds: 30 }, body) };
}
