// Page 5, the overview (GET /console/overview): what a shift lead looks at first. Orders by status,
// the queues with the dispatch_uncertain queue's oldest order, each provider's sync (its workflow's
// state query: last round, errors), and today's refunds (UTC). Reloads every 30 s.
import Decimal from 'decimal.js';
import { ORDER_STATUSES } from '../../domain/order-status';
import { providerSyncStateQuery } from '../../workflows/provider-sync-workflow';
import type { ProviderSyncStatus } from '../../workflows/provider-sync-workflow';
import { providerSyncWorkflowId } from '../../workflows/order-contract';
import { formatDuration } from '../../observability/timeline';
import type { PageContext } from '../context';
import { html } from '../html';
import { page, statusBadge, when } from '../layout';
import { QUEUES, queueCounts, queueHref } from './orders';

/** How long the page waits for one provider's sync workflow to answer. */
const SYNC_QUERY_TIMEOUT_MS = 3_000;

type SyncHealth = { state: 'running'; status: ProviderSyncStatus } | { state: 'not_running' } | { state: 'unknown'; error: string };

async function syncHealth(ctx: PageContext, providerId: number): Promise<SyncHealth> {
  try {
    const handle = ctx.temporal.workflow.getHandle(providerSyncWorkflowId(providerId));
    const description = await ctx.temporal.withDeadline(Date.now() + SYNC_QUERY_TIMEOUT_MS, () => handle.describe());
    if (description.status.name !== 'RUNNING') return { state: 'not_running' };
    const status = await ctx.temporal.withDeadline(Date.now() + SYNC_QUERY_TIMEOUT_MS, () => handle.query(providerSyncStateQuery));
    return { state: 'running', status };
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return { state: 'not_running' };
    return { state: 'unknown', error: (error as Error).message };
  }
}

export async function overviewPage(ctx: PageContext): Promise<{ status: number; body: string }> {
  const now = new Date();
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const [byStatus, counts, oldestUncertain, refunds, providers] = await Promise.all([
    ctx.prisma.order.groupBy({ by: ['status'], _count: { _all: true } }),
    queueCounts(ctx),
    ctx.prisma.order.findFirst({ where: { status: 'dispatch_uncertain' }, orderBy: { createdAt: 'asc' }, select: { id: true, createdAt: true } }),
    ctx.prisma.ledgerEntry.findMany({ where: { kind: 'refund', createdAt: { gte: midnight } }, select: { amount: true } }),
    ctx.prisma.provider.findMany({ where: { active: true }, orderBy: { id: 'asc' }, select: { id: true, name: true } }),
  ]);
  const health = await Promise.all(providers.map((p) => syncHealth(ctx, p.id)));
  const statusCount = new Map(byStatus.map((r) => [r.status, r._count._all]));
  const refunded = refunds.reduce((sum, e) => sum.plus(e.amount.toString()), new Decimal(0));
  const uncertain = counts.get('dispatch_uncertain') ?? 0;

  const body = html`<h1>Overview <span class="muted">${now.toISOString().slice(0, 16).replace('T', ' ')} UTC</span></h1>
<div class="grid">
<section class="card"><h2>Dispatch uncertain</h2><div class="stat${uncertain > 0 ? ' hot' : ''}">${uncertain}</div>
<p>${oldestUncertain ? html`oldest: <a href="/console/orders/${oldestUncertain.id}">#${oldestUncertain.id}</a>, placed ${formatDuration(now.getTime() - oldestUncertain.createdAt.getTime())} ago` : html`<span class="muted">nothing to resolve</span>`}</p>
<a href="${queueHref(QUEUES[0])}">open the queue →</a></section>
<section class="card"><h2>Refunds today</h2><div class="stat">${refunded.toFixed(5)}</div><p class="muted">${refunds.length} refund entr${refunds.length === 1 ? 'y' : 'ies'} since 00:00 UTC</p></section>
<section class="card"><h2>Queues</h2><dl class="kv">${QUEUES.map((q) => html`<dt><a href="${queueHref(q)}">${q.label}</a></dt><dd><b class="${(counts.get(q.flag) ?? 0) > 0 ? 'amount-neg' : ''}">${counts.get(q.flag) ?? 0}</b></dd>`)}</dl></section>
</div>
<div class="grid">
<section class="card"><h2>Orders by status</h2><table><tbody>${ORDER_STATUSES.map((s) => html`<tr><td><a href="/console?status=${s}">${statusBadge(s)}</a></td><td class="num"><b>${statusCount.get(s) ?? 0}</b></td></tr>`)}</tbody></table></section>
<section class="card"><h2>Provider sync</h2>${providers.length === 0 ? html`<p class="muted">No active provider.</p>` : html`<table><thead><tr><th>Provider</th><th>Sync</th><th>Last round</th><th class="num">Checked</th><th class="num">Errors</th><th>Last error</th></tr></thead><tbody>${providers.map((p, i) => {
    const h = health[i];
    if (h.state !== 'running') return html`<tr><td>${p.id} ${p.name}</td><td>${h.state === 'not_running' ? html`<span class="badge">idle</span>` : html`<span class="badge s-rejected">no answer</span>`}</td><td colspan="4" class="muted">${h.state === 'not_running' ? 'no workflow running: nothing to follow (a dispatch starts it)' : h.error}</td></tr>`;
    const s = h.status;
    const errors = s.lastRound?.errors ?? 0;
    return html`<tr><td>${p.id} ${p.name}</td><td><span class="badge ${errors > 0 || s.lastError ? 's-partial' : 's-completed'}">${s.phase}</span></td><td>${s.lastRoundStartedMs ? when(new Date(s.lastRoundStartedMs).toISOString()) : '–'} <span class="muted">${s.totalRounds} rounds</span></td><td class="num">${s.lastRound?.checked ?? 0}</td><td class="num">${errors}</td><td>${s.lastError ?? ''}</td></tr>`;
  })}</tbody></table>`}</section>
</div>`;
  return { status: 200, body: page({ title: 'Overview', session: ctx.session, nav: 'overview', refreshSeconds: 30 }, body) };
}
