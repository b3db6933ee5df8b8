// The frame of every console page: header with the navigation and the signed-in staff member, one
// stylesheet and one small script from console/assets (served by the API: no CDN, works offline).
import type { Html } from './html';
import { html } from './html';
import type { ConsoleSession } from './session-store';

export interface PageOptions {
  title: string;
  session?: ConsoleSession;
  /** Which navigation entry is current. */
  nav?: 'overview' | 'orders' | 'audit';
  /** Reload the page every this many seconds while nobody is typing (console.js). */
  refreshSeconds?: number;
}

export function page(options: PageOptions, body: Html): string {
  const { session, nav } = options;
  const item = (key: PageOptions['nav'], href: string, label: string) => html`<a href="${href}" class="${nav === key ? 'current' : ''}">${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} · SMM console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body${options.refreshSeconds ? html` data-refresh="${options.refreshSeconds}"` : ''}>
<header class="top">
  <a class="brand" href="/console">SMM engine <span>support console</span></a>
  ${session
    ? html`<nav>${item('overview', '/console/overview', 'Overview')}${item('orders', '/console', 'Orders')}${session.auth.role === 'admin' ? item('audit', '/console/audit', 'Audit trail') : ''}</nav>
  <form class="search" method="get" action="/console/go"><input name="q" placeholder="order #, user u12, link…" aria-label="Find"></form>
  <div class="who">${session.name} <span class="role">${session.auth.role}</span>
    <form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${session.csrfToken}"><button class="link">Sign out</button></form></div>`
    : ''}
</header>
<main>
${body}
</main>
</body>
</html>`.text;
}

/** The engine's statuses, colored so a list reads at a glance. */
export function statusBadge(status: string): Html {
  return html`<span class="badge s-${status}">${status.replace('_', ' ')}</span>`;
}

export function flagBadges(flags: { overdue?: boolean; stalled?: boolean; cancelRequested?: boolean } | undefined): Html {
  if (!flags) return html``;
  return html`${flags.stalled ? html`<span class="flag f-stalled">stalled</span>` : flags.overdue ? html`<span class="flag f-overdue">overdue</span>` : ''}${flags.cancelRequested ? html`<span class="flag f-cancel">cancel requested</span>` : ''}`;
}

/** A notice (done) or a refusal with its rule and reason. */
export function notice(kind: 'ok' | 'refused', text: Html | string): Html {
  return html`<div class="notice ${kind}" role="${kind === 'refused' ? 'alert' : 'status'}">${text}</div>`;
}

export const when = (iso: string | null | undefined) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html`<span class="muted">–</span>`);
