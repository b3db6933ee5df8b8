// Page 2, one order (GET /console/orders/:id): the live view (GET /orders/:id?live=1), money with its
// ledger entries, upstream ids and moves, refills (GET /orders/:id/refills), the timeline of every
// run (GET /orders/:id/history), the order's audit records, and a form for each of support's powers.
// The raw Temporal history downloads from GET /orders/:id/history?format=json (the REST route).
import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import type { RefillView } from '../../api/refills';
import type { OrderView } from '../../api/views';
import { decideSubstitute } from '../../domain/substitute';
import type { SubstituteService } from '../../domain/substitute';
import type { Service } from '../../generated/prisma/client';
import { guaranteeOf } from '../../worker/order-client';
import type { PageContext } from '../context';
import { html, safeHref } from '../html';
import type { Html } from '../html';
import { flagBadges, notice, page, statusBadge, when } from '../layout';
import { refusalOf } from '../rest-client';
import { auditTable } from './audit';

const substituteService = (s: Service): SubstituteService => ({
  id: s.id, category: s.category, type: s.type, active: s.active, min: s.min, max: s.max, guarantee: guaranteeOf(s.refillKind, s.refillDays),
});

/** The services a move may go to now (R-SUBSTITUTE, domain/substitute.ts): the picker's choices. */
async function moveTargets(ctx: PageContext, o: OrderView): Promise<Service[]> {
  const services = await ctx.prisma.service.findMany({ where: { active: true, id: { not: o.serviceId } }, orderBy: { id: 'asc' } });
  const current = await ctx.prisma.service.findUnique({ where: { id: o.serviceId } });
  if (!current) return [];
  return services.filter((target) =>
    decideSubstitute({ status: o.status, current: substituteService(current), target: substituteService(target), guarantee: o.refill, undelivered: o.remains ?? o.quantity }).allowed,
  );
}

/** What a finished action says above the page (after the redirect): fixed texts, the request id as data. */
const DONE: Record<string, string> = {
  cancel: "Support's cancel was accepted.",
  move: 'The move was accepted.',
  'resolve-dispatch': 'The dispatch was resolved.',
  retry: 'The refill was sent again.',
};

export interface ActionOutcome {
  /** The refused action's answer, shown with its rule and reason. */
  refused?: { action: string; code: string; rule?: string; message: string; field?: string };
  /** The form's values, so a refused or invalid request keeps what was typed. */
  form?: Record<string, string>;
}

export function refusalNotice(r: NonNullable<ActionOutcome['refused']>): Html {
  return notice('refused', html`<b>${r.action}</b> refused${r.rule ? html` — <span class="rule">${r.rule}</span>` : ''}: ${r.message}${r.field ? html` <span class="muted">(field ${r.field})</span>` : ''}`);
}

const hidden = (ctx: PageContext) => html`<input type="hidden" name="csrf" value="${ctx.session.csrfToken}"><input type="hidden" name="requestId" value="${randomUUID()}">`;
const reasonField = (form: Record<string, string>, placeholder: string) =>
  html`<label>Reason (kept in the audit trail and the order's history)<textarea name="reason" required maxlength="500" placeholder="${placeholder}">${form.reason ?? ''}</textarea></label>`;

function actionForms(ctx: PageContext, o: OrderView, targets: Service[], form: Record<string, string>): Html {
  const base = `/console/orders/${o.id}`;
  const active = ['new', 'pending', 'dispatch_uncertain', 'in_progress'].includes(o.status);
  if (!active) return html`<p class="muted">The order is ${o.status}: nothing more can be done to it${o.status === 'completed' ? ' but refills' : ''}.</p>`;
  const cancel = html`<form method="post" action="${base}/cancel" data-action="cancel"><h2>Cancel now</h2>${hidden(ctx)}
<div class="choices"><label><input type="radio" name="refund" value="full"${form.refund !== 'none' ? ' checked' : ''}> full refund (R-CANCEL-FULL)</label><label><input type="radio" name="refund" value="none"${form.refund === 'none' ? ' checked' : ''}> no refund (R-CANCEL-NO-REFUND)</label></div>
${reasonField(form, 'e.g. the provider stopped delivering')}<button class="danger">Cancel order</button></form>`;
  const move = ['pending', 'in_progress'].includes(o.status)
    ? html`<form method="post" action="${base}/move" data-action="move"><h2>Move to a similar service</h2>${hidden(ctx)}
<label>Service (those R-SUBSTITUTE allows)<select name="serviceId" required>${targets.length === 0 ? html`<option value="">no similar service is active</option>` : targets.map((s) => html`<option value="${s.id}">#${s.id} ${s.name} · provider ${s.providerId} · ${s.min}..${s.max}</option>`)}</select></label>
${reasonField(form, 'e.g. provider 1 stopped delivering')}<button>Move order</button></form>`
    : '';
  const resolve = o.status === 'dispatch_uncertain'
    ? html`<form method="post" action="${base}/resolve-dispatch" data-action="resolve-dispatch"><h2>Resolve the uncertain dispatch</h2>${hidden(ctx)}
<label>The provider…<select name="action"><option value="attach">has it: attach its order id</option><option value="redispatch">has nothing: send it again</option><option value="cancel">give up: cancel, full refund</option></select></label>
<label>Provider's order id (attach only)<input name="providerOrderId" value="${form.providerOrderId ?? ''}"></label>
${reasonField(form, 'e.g. seen in the provider panel')}<button>Resolve</button></form>`
    : '';
  return html`<div class="actions">${resolve}${cancel}${move}</div>`;
}

function refillsTable(ctx: PageContext, o: OrderView, refills: RefillView[]): Html {
  if (refills.length === 0) return html`<p class="muted">No refills.</p>`;
  return html`<table><thead><tr><th>Refill</th><th>Status</th><th>Attempts</th><th>Reason</th><th>Upstream id</th><th>Created</th><th></th></tr></thead><tbody>${refills.map((r) => html`<tr>
<td>#${r.id}</td><td>${statusBadge(r.status)}</td><td>${r.attempts}</td><td>${r.reason ?? ''}</td><td class="mono">${r.providerRefillId ?? '–'}</td><td>${when(r.createdAt)}</td>
<td>${['failed', 'rejected'].includes(r.status) ? html`<form method="post" action="/console/orders/${o.id}/refills/${r.id}/retry" data-action="retry">${hidden(ctx)}<input name="reason" required maxlength="500" placeholder="reason for the retry"> <button>Retry (R-REFILL-SUPPORT)</button></form>` : ''}</td></tr>`)}</tbody></table>`;
}

/** Timeline lines: money (refunds, debits) and support's actions stand out. */
function timelineList(lines: string[]): Html {
  return html`<ol class="timeline">${lines.map((line) => {
    const kind = /"kind":"(support|admin)"|\b(move|resolveDispatch|retryRefill)\b/.test(line) ? 'support' : /refund|reserveAndDebit/i.test(line) ? 'money' : '';
    return html`<li class="${kind}">${line}</li>`;
  })}</ol>`;
}

export async function orderPage(ctx: PageContext, orderId: string, outcome: ActionOutcome & { done?: string; request?: string } = {}): Promise<{ status: number; body: string }> {
  const id = encodeURIComponent(orderId);
  const read = await ctx.rest.get<{ order: OrderView; source: string }>(`/orders/${id}?live=1`);
  if (read.status !== 200) {
    const r = refusalOf(read);
    return { status: read.status, body: page({ title: `Order ${orderId}`, session: ctx.session, nav: 'orders' }, html`<h1>Order ${orderId}</h1>${notice('refused', r.message)}<p><a href="/console">← orders</a></p>`) };
  }
  const { order: o, source } = read.body;
  const [refills, history, targets, entries, records, provider] = await Promise.all([
    ctx.rest.get<{ refills: RefillView[] }>(`/orders/${o.id}/refills`),
    ctx.rest.get<{ runs: number; timeline: string[] }>(`/orders/${o.id}/history`),
    moveTargets(ctx, o),
    ctx.prisma.ledgerEntry.findMany({ where: { orderId: o.id }, orderBy: { id: 'asc' } }),
    ctx.prisma.auditRecord.findMany({ where: { orderId: o.id }, orderBy: { id: 'desc' }, take: 50 }),
    o.providerId ? ctx.prisma.provider.findUnique({ where: { id: o.providerId }, select: { name: true } }) : null,
  ]);
  const service = await ctx.prisma.service.findUnique({ where: { id: o.serviceId }, select: { name: true } });
  const effect = entries.reduce((sum, e) => sum.plus(e.amount.toString()), new Decimal(0));
  const href = safeHref(o.link);
  const form = outcome.form ?? {};

  const body = html`<h1>Order #${o.id} ${statusBadge(o.status)}${flagBadges(o.flags)} <span class="muted">API v2: ${o.apiStatus}</span></h1>
${outcome.done && DONE[outcome.done] ? notice('ok', html`${DONE[outcome.done]} ${outcome.request ? html`<span class="muted">request <code>${outcome.request}</code></span>` : ''}`) : ''}
${outcome.refused ? refusalNotice(outcome.refused) : ''}
<div class="grid">
<section class="card"><h2>Order</h2><dl class="kv">
<dt>User</dt><dd><a href="/console/users/${o.userId}">u${o.userId}</a></dd>
<dt>Service</dt><dd>#${o.serviceId} ${service?.name ?? ''}</dd>
<dt>Link</dt><dd>${href ? html`<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${o.link}</a>` : html`<span data-link>${o.link}</span>`}</dd>
<dt>Quantity</dt><dd>${o.quantity} · start count ${o.startCount ?? '–'} · remains ${o.remains ?? '–'}</dd>
<dt>Guarantee</dt><dd>${o.refill.kind === 'days' ? `refill ${o.refill.days} days` : o.refill.kind === 'lifetime' ? 'lifetime refill' : 'none'} · ${o.cancelable ? 'cancelable' : 'not cancelable'}</dd>
<dt>Created</dt><dd>${when(o.createdAt)}</dd><dt>Started</dt><dd>${when(o.startedAt)}</dd><dt>Finished</dt><dd>${when(o.finishedAt)}</dd>
${o.rejectReason ? html`<dt>Reason</dt><dd>${o.rejectReason}</dd>` : ''}
<dt>Read from</dt><dd class="muted">${source === 'workflow' ? 'the live workflow' : 'the database row'}</dd>
</dl></section>
<section class="card"><h2>Money</h2><dl class="kv">
<dt>Rate</dt><dd>${o.rate} / 1000</dd><dt>Charge</dt><dd><b>${o.charge}</b></dd><dt>Refunded</dt><dd><b>${o.refunded}</b></dd>
<dt>Balance effect</dt><dd class="${effect.isNegative() ? 'amount-neg' : 'amount-pos'}"><b>${effect.toFixed(5)}</b> <span class="muted">(sum of its ledger entries)</span></dd></dl>
<table class="ledger"><thead><tr><th>Entry</th><th class="num">Amount</th><th>Key</th></tr></thead><tbody>${entries.map((e) => html`<tr><td>${e.kind}</td><td class="num ${e.amount.isNegative() ? 'amount-neg' : 'amount-pos'}">${e.amount.toFixed(5)}</td><td class="mono">${e.idempotencyKey}</td></tr>`)}</tbody></table>
</section>
<section class="card"><h2>Upstream</h2><dl class="kv">
<dt>Provider</dt><dd>${o.providerId ?? '–'} ${provider?.name ?? ''}</dd><dt>Provider's order id</dt><dd class="mono">${o.providerOrderId ?? '–'}</dd></dl>
${(o.moves ?? []).length > 0 ? html`<h2 class="spaced">Moves</h2><ul>${(o.moves ?? []).map((m) => html`<li>service ${m.from.serviceId} (provider ${m.from.providerId}, upstream ${m.from.providerOrderId ?? '–'}) → service ${m.to.serviceId} (provider ${m.to.providerId}): <b>${m.phase}</b> — ${m.reason}</li>`)}</ul>` : ''}
<p><a class="button secondary" href="/orders/${o.id}/history?format=json" download="order-${o.id}-history.json">Download Temporal history (JSON)</a></p>
</section>
</div>
<section class="card"><h2>Support's powers</h2>${actionForms(ctx, o, targets, form)}</section>
<section class="card"><h2>Refills</h2>${refills.status === 200 ? refillsTable(ctx, o, refills.body.refills) : refusalOf(refills).message}</section>
<section class="card"><h2>Timeline${history.status === 200 ? html` <span class="muted">(${history.body.runs} run${history.body.runs === 1 ? '' : 's'})</span>` : ''}</h2>${history.status === 200 ? timelineList(history.body.timeline) : html`<p class="muted">${refusalOf(history).message}</p>`}</section>
<section class="card"><h2>Audit records of this order</h2>${auditTable(records)}</section>`;
  return { status: outcome.refused ? 409 : 200, body: page({ title: `Order ${o.id}`, session: ctx.session, nav: 'orders' }, body) };
}
