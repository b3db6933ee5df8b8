// Page 3, one account (GET /console/users/:id): balance and status (GET /support/users/:id), its
// ledger entries with their keys (paged), its orders (GET /support/orders?userId=), its audit
// records, block / unblock with a reason, and balance corrections for admin keys only.
import { randomUUID } from 'node:crypto';
import type { OrderView } from '../../api/views';
import type { PageContext } from '../context';
import { html } from '../html';
import type { Html } from '../html';
import { notice, page, when } from '../layout';
import { refusalOf } from '../rest-client';
import { auditTable } from './audit';
import type { ActionOutcome } from './order';
import { refusalNotice } from './order';
import { ordersTable, serviceNames } from './orders';

interface UserView {
  id: number;
  name: string;
  email: string;
  status: string;
  balance: string;
  createdAt: string;
}

const LEDGER_PAGE = 25;

const DONE: Record<string, string> = {
  block: 'The account is blocked; its active orders were asked to cancel (see the audit records).',
  unblock: 'The account is active again.',
  corrections: 'The correction is in the ledger.',
};

export async function userPage(ctx: PageContext, userId: string, query: Record<string, unknown>, outcome: ActionOutcome & { done?: string } = {}): Promise<{ status: number; body: string }> {
  const id = encodeURIComponent(userId);
  const read = await ctx.rest.get<{ user: UserView }>(`/support/users/${id}`);
  if (read.status !== 200) {
    return { status: read.status, body: page({ title: `User ${userId}`, session: ctx.session }, html`<h1>User ${userId}</h1>${notice('refused', refusalOf(read).message)}`) };
  }
  const u = read.body.user;
  const before = typeof query.ledgerBefore === 'string' && /^\d+$/.test(query.ledgerBefore) ? BigInt(query.ledgerBefore) : undefined;
  const [orders, entries, records] = await Promise.all([
    ctx.rest.get<{ orders: OrderView[]; nextCursor: number | null }>(`/support/orders?userId=${u.id}&limit=20`),
    ctx.prisma.ledgerEntry.findMany({ where: { userId: u.id, ...(before ? { id: { lt: before } } : {}) }, orderBy: { id: 'desc' }, take: LEDGER_PAGE + 1 }),
    ctx.prisma.auditRecord.findMany({ where: { targetUserId: u.id }, orderBy: { id: 'desc' }, take: 30 }),
  ]);
  const ledger = entries.slice(0, LEDGER_PAGE);
  const form = outcome.form ?? {};
  const hidden = html`<input type="hidden" name="csrf" value="${ctx.session.csrfToken}"><input type="hidden" name="requestId" value="${randomUUID()}">`;
  const reason = (placeholder: string) => html`<label>Reason (kept in the audit trail)<textarea name="reason" required maxlength="1000" placeholder="${placeholder}">${form.reason ?? ''}</textarea></label>`;
  const blocked = u.status === 'blocked';
  const forms = html`<div class="actions">
${blocked
    ? html`<form method="post" action="/console/users/${u.id}/unblock" data-action="unblock"><h2>Unblock</h2>${hidden}${reason('e.g. the chargeback was withdrawn')}<button>Unblock account</button></form>`
    : html`<form method="post" action="/console/users/${u.id}/block" data-action="block"><h2>Block (R-BLOCKED)</h2>${hidden}${reason('e.g. chargeback on payment 123')}<button class="danger">Block account and cancel its active orders</button></form>`}
${ctx.session.auth.role === 'admin'
    ? html`<form method="post" action="/console/users/${u.id}/corrections" data-action="corrections"><h2>Balance correction (admin)</h2>${hidden}<label>Amount (+ credits, - debits)<input name="amount" required placeholder="-1.50000" value="${form.amount ?? ''}"></label>${reason('e.g. duplicate top-up 987')}<button>Post correction</button></form>`
    : html`<p class="muted">Balance corrections need an admin key.</p>`}
</div>`;
  let ordersBlock: Html;
  if (orders.status === 200) {
    const services = await serviceNames(ctx, orders.body.orders.map((o) => o.serviceId));
    ordersBlock = html`${ordersTable(orders.body.orders, services)}${orders.body.nextCursor !== null ? html`<a href="/console?userId=${u.id}">all of this user's orders →</a>` : ''}`;
  } else ordersBlock = notice('refused', refusalOf(orders).message);
  const ledgerTable: Html = html`<table class="ledger"><thead><tr><th>Entry</th><th>Kind</th><th class="num">Amount</th><th class="num">Balance after</th><th>Order</th><th>Key</th><th>Reason / reference</th><th>When</th></tr></thead><tbody>${ledger.map((e) => html`<tr>
<td>${e.id.toString()}</td><td>${e.kind}</td><td class="num ${e.amount.isNegative() ? 'amount-neg' : 'amount-pos'}">${e.amount.toFixed(5)}</td><td class="num">${e.balanceAfter.toFixed(5)}</td>
<td>${e.orderId ? html`<a href="/console/orders/${e.orderId}">#${e.orderId}</a>` : ''}</td><td class="mono">${e.idempotencyKey}</td><td>${e.reason ?? e.reference ?? ''}</td><td>${when(e.createdAt.toISOString())}</td></tr>`)}</tbody></table>
${entries.length > LEDGER_PAGE ? html`<div class="pager"><a class="button secondary" href="/console/users/${u.id}?ledgerBefore=${ledger[ledger.length - 1].id.toString()}">Older entries →</a></div>` : ''}`;

  const body = html`<h1>${u.name} <span class="muted">u${u.id}</span> <span class="badge ${blocked ? 's-rejected' : 's-completed'}">${u.status}</span></h1>
${outcome.done && DONE[outcome.done] ? notice('ok', DONE[outcome.done]) : ''}${outcome.refused ? refusalNotice(outcome.refused) : ''}
<div class="grid"><section class="card"><h2>Account</h2><dl class="kv"><dt>Balance</dt><dd><span class="stat">${u.balance}</span></dd><dt>Email</dt><dd>${u.email}</dd><dt>Since</dt><dd>${when(u.createdAt)}</dd></dl></section>
<section class="card">${forms}</section></div>
<section class="card"><h2>Ledger</h2>${ledgerTable}</section>
<h2>Orders</h2>${ordersBlock}
<section class="card"><h2>Audit records of this account</h2>${auditTable(records)}</section>`;
  return { status: outcome.refused ? 409 : 200, body: page({ title: u.name, session: ctx.session }, body) };
}
