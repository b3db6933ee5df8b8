// Page 4, the audit trail (GET /console/audit, admin keys: GET /admin/audit is admin only): its
// filters and keyset paging, each record linking to its order or account. The order and account
// pages show their own records to support too (what was done to what support is handling).
import type { AuditRecord } from '../../generated/prisma/client';
import { auditView } from '../../api/audit';
import type { PageContext } from '../context';
import { queryString } from '../context';
import { html } from '../html';
import type { Html } from '../html';
import { notice, page, when } from '../layout';
import { refusalOf } from '../rest-client';

type AuditViewRow = ReturnType<typeof auditView>;

/** The outcome an order action stored (accepted, or refused with its rule), in a few words. */
function outcomeOf(after: unknown): Html {
  const result = (after as { result?: { accepted?: boolean; rule?: string; reason?: string } } | null)?.result;
  if (!result || typeof result.accepted !== 'boolean') return html``;
  return result.accepted
    ? html`<span class="badge s-completed">accepted${result.rule ? html` · ${result.rule}` : ''}</span>`
    : html`<span class="badge s-rejected">refused · ${result.rule ?? ''}</span> ${result.reason ?? ''}`;
}

export function auditTable(rows: Array<AuditRecord | AuditViewRow>): Html {
  if (rows.length === 0) return html`<p class="muted">No audit records.</p>`;
  const views = rows.map((r) => ('createdAt' in r && r.createdAt instanceof Date ? auditView(r as AuditRecord) : (r as AuditViewRow)));
  return html`<table class="audit"><thead><tr><th>When</th><th>Action</th><th>Who</th><th>Order</th><th>Account</th><th>Reason</th><th>Outcome</th></tr></thead><tbody>${views.map((r) => html`<tr data-audit="${r.id}">
<td>${when(r.createdAt)}</td><td class="mono">${r.action}</td>
<td><a href="/console/users/${r.actorUserId}">u${r.actorUserId}</a> <span class="muted">key ${r.apiKeyId ?? '–'}</span></td>
<td>${r.orderId ? html`<a href="/console/orders/${r.orderId}">#${r.orderId}</a>` : '–'}</td>
<td>${r.targetUserId ? html`<a href="/console/users/${r.targetUserId}">u${r.targetUserId}</a>` : '–'}</td>
<td>${r.reason ?? ''}</td><td>${outcomeOf(r.after)}</td></tr>`)}</tbody></table>`;
}

const FILTERS = ['actorUserId', 'apiKeyId', 'action', 'orderId', 'targetUserId', 'from', 'to', 'limit', 'cursor'] as const;
const ACTIONS = ['order.cancel', 'order.move', 'order.resolve_dispatch', 'refill.retry', 'user.block', 'user.unblock', 'user.create', 'api_key.create', 'ledger.topup', 'ledger.withdrawal', 'ledger.chargeback', 'ledger.correction'];

export async function auditPage(ctx: PageContext, query: Record<string, unknown>): Promise<{ status: number; body: string }> {
  const frame = (status: number, content: Html) => ({ status, body: page({ title: 'Audit trail', session: ctx.session, nav: 'audit' }, html`<h1>Audit trail</h1>${content}`) });
  if (ctx.session.auth.role !== 'admin') {
    return frame(403, notice('refused', "The whole audit trail needs an admin key (as GET /admin/audit does). An order's or an account's own records are on its page."));
  }
  const params: Record<string, unknown> = {};
  for (const k of FILTERS) if (query[k] !== undefined) params[k] = query[k];
  const answer = await ctx.rest.get<{ records: AuditViewRow[]; nextCursor: number | null }>(`/admin/audit${queryString(params)}`);
  const value = (k: string) => (typeof params[k] === 'string' ? (params[k] as string) : '');
  const input = (name: string, label: string, placeholder = '') => html`<label>${label}<input name="${name}" value="${value(name)}" placeholder="${placeholder}"></label>`;
  const form = html`<form class="filters card" method="get" action="/console/audit">
${input('orderId', 'Order id')}${input('targetUserId', 'Account (user id)')}${input('actorUserId', 'Done by (user id)')}${input('apiKeyId', 'Key id')}
<label>Action<select name="action"><option value="">any</option>${ACTIONS.map((a) => html`<option${value('action') === a ? ' selected' : ''}>${a}</option>`)}</select></label>
${input('from', 'From', '2026-12-01')}${input('to', 'To (exclusive)')}${input('limit', 'Per page', '50')}
<div><button>Filter</button> <a href="/console/audit">clear</a></div></form>`;
  if (answer.status !== 200) {
    const r = refusalOf(answer);
    return frame(answer.status, html`${form}${notice('refused', html`Filter refused: ${r.field ? html`<b>${r.field}</b> ` : ''}${r.message}`)}`);
  }
  const { records, nextCursor } = answer.body;
  const pager = html`<div class="pager">${params.cursor ? html`<a href="/console/audit${queryString(params, { cursor: null })}">← first page</a>` : ''}${nextCursor !== null ? html`<a class="button secondary" href="/console/audit${queryString(params, { cursor: String(nextCursor) })}">Next page →</a>` : html`<span class="muted">end of the trail</span>`}</div>`;
  return frame(200, html`${form}<div class="card">${auditTable(records)}</div>${pager}`);
}
