// The support console (console/, issue 13) in a real browser: Debian's Chromium driven by
// playwright-core, against the whole engine (test/support/engine.ts: the order workflows on the
// in-memory Temporal server, the provider simulator over HTTP, a private database) and the REST API
// that serves /console. Each test writes the screenshot the README shows (docs/console/*.png).
import type { Page } from 'playwright-core';
import type { Scenario } from '../../provider-simulator';
import type { TestEngine } from '../support/engine';
import { useEngineApi } from '../api/support/engine-api';
import { launchBrowser, screenshot } from './browser';
import type { TestBrowser } from './browser';

const ctx = useEngineApi();
const DAY = 24 * 60 * 60 * 1000;
const XSS = '"><img src=x onerror=alert(1)>';
/** The same as a link the placement accepts (a URL has no spaces). */
const XSS_LINK = 'https://example.com/"><img/src=x/onerror=alert(1)>';
let engine: TestEngine;
let browser: TestBrowser;
let base: string;
let support: { userId: number; key: string; apiKeyId: number };
let admin: { userId: number; key: string; apiKeyId: number };
/** A service similar to the seed's followers (same category and type, 30-day refill) on the other provider. */
let backupFollowers: number;
/** The order that stalled (placed first, then 10 days skipped). */
let stalledOrder: number;
/** Alerts an injected script would raise: there must be none. */
const dialogs: string[] = [];

beforeAll(async () => {
  engine = ctx.engine;
  browser = await launchBrowser();
  const address = ctx.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  support = await ctx.keyFor('support');
  admin = await ctx.keyFor('admin');
  await engine.prisma.user.update({ where: { id: support.userId }, data: { name: 'Dana (support)' } });
  await engine.prisma.user.update({ where: { id: admin.userId }, data: { name: 'Sam (shift lead)' } });
  backupFollowers = (
    await engine.prisma.service.create({
      data: { name: 'Instagram Followers [Backup, Refill 30D]', category: 'Instagram', providerId: engine.seed.noLookupProviderId, providerServiceId: '1', rate: '1.10000', min: 50, max: 10000, refillKind: 'days', refillDays: 30, cancelable: true },
    })
  ).id;
  // An order the provider took but never started: after 10 days it is stalled (R-CANCEL-STALLED).
  stalledOrder = (await dispatched(await engine.newUser('20'), 'stalled')).orderId;
  await engine.temporal.env.sleep(10 * DAY + 60_000);
  await engine.waitForState(stalledOrder, (s) => s.flags.stalled);
});

afterAll(async () => {
  await browser?.close();
});

async function dispatched(userId: number, prefix: string, serviceId = engine.seed.serviceIds.followers) {
  const placed = await engine.placeOrder({ userId, serviceId, link: engine.uniqueLink(prefix), quantity: 1000 });
  expect(placed.result.accepted).toBe(true);
  await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  return placed;
}

async function signIn(key: string): Promise<Page> {
  const { page } = await browser.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${base}/console`);
  expect(page.url()).toBe(`${base}/console/sign-in`);
  await page.fill('input[name=apiKey]', key);
  await page.click('button:has-text("Sign in")');
  await page.waitForURL(`${base}/console`);
  return page;
}

/** Fills and submits one of the order page's forms; waits for the page it leads to. */
async function submit(page: Page, action: string, fields: Record<string, string>, choose: Record<string, string> = {}) {
  const form = page.locator(`form[data-action="${action}"]`);
  for (const [name, value] of Object.entries(choose)) await form.locator(`select[name=${name}]`).selectOption(value);
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'refund') await form.locator(`input[name=refund][value=${value}]`).check();
    else await form.locator(`[name=${name}]`).fill(value);
  }
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), form.locator('button').click()]);
}

const cookieOf = async (page: Page) => (await page.context().cookies()).find((c) => c.name === 'smm_console');

describe('sign-in', () => {
  it('a user key is refused: the page says so, no session cookie, no session row', async () => {
    const user = await ctx.keyFor('user');
    const { page } = await browser.newPage();
    await page.goto(`${base}/console/sign-in`);
    await page.fill('input[name=apiKey]', user.key);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign in")')]);
    expect(answer?.status()).toBe(403);
    await expect(page.locator('.notice.refused').textContent()).resolves.toContain('user key');
    expect(await cookieOf(page)).toBeUndefined();
    expect(await engine.prisma.consoleSession.count({ where: { apiKey: { userId: user.userId } } })).toBe(0);
    await screenshot(page, 'sign-in-user-key-refused');
    await page.context().close();
  });

  it('the session cookie is HttpOnly and SameSite=Strict, and the page cannot read it', async () => {
    const page = await signIn(support.key);
    const cookie = await cookieOf(page);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.context().close();
  });
});

describe('support at work', () => {
  let page: Page;
  beforeAll(async () => {
    page = await signIn(support.key);
  });
  afterAll(async () => {
    await page.context().close();
  });

  it('R-CANCEL-STALLED: the stalled queue counts and lists the stalled order, status at a glance', async () => {
    const queue = page.locator('.queues a[data-queue=stalled]');
    await expect(queue.locator('.count').textContent()).resolves.toBe('1');
    await Promise.all([page.waitForNavigation(), queue.click()]);
    const rows = page.locator('table.orders tbody tr');
    expect(await rows.count()).toBe(1);
    await expect(rows.first().getAttribute('data-order')).resolves.toBe(String(stalledOrder));
    await expect(rows.first().locator('.badge').textContent()).resolves.toBe('pending');
    await expect(rows.first().locator('.flag').textContent()).resolves.toBe('stalled');
    // The list reloads itself (console.js) every 30 s while nobody types.
    expect(await page.locator('body').getAttribute('data-refresh')).toBe('30');
    await screenshot(page, 'queue-stalled');
  });

  it('R-CANCEL-FULL: support cancels the stalled order with a reason; the refund is in the timeline, the audit record on the page', async () => {
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/console/orders/${stalledOrder}"]`)]);
    await submit(page, 'cancel', { refund: 'full', reason: 'stalled for 10 days; the customer asked' });
    expect(page.url()).toContain(`/console/orders/${stalledOrder}?done=cancel`);
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain("Support's cancel was accepted");
    await engine.handle(stalledOrder).result();
    await page.reload();
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('canceled');
    const timeline = (await page.locator('ol.timeline').textContent()) ?? '';
    expect(timeline).toMatch(/refund/i);
    expect(timeline).toContain('R-CANCEL-FULL');
    const record = page.locator('table.audit tbody tr').first();
    await expect(record.textContent()).resolves.toContain('order.cancel');
    await expect(record.textContent()).resolves.toContain('stalled for 10 days; the customer asked');
    await expect(record.locator('a').first().textContent()).resolves.toBe(`u${support.userId}`);
    // Money: the whole charge back, as a ledger entry with its key.
    const refunds = await engine.prisma.ledgerEntry.findMany({ where: { orderId: stalledOrder, kind: 'refund' } });
    expect(refunds).toHaveLength(1);
    await expect(page.locator('table.ledger').textContent()).resolves.toContain(refunds[0].idempotencyKey);
    await expect(page.locator('dl.kv').nth(1).textContent()).resolves.toContain('0.00000');
    await screenshot(page, 'order-canceled');
    await page.locator('ol.timeline').scrollIntoViewIfNeeded();
    await screenshot(page, 'order-timeline');
    await engine.history(stalledOrder);
  });

  it('R-SUBSTITUTE: support moves an order to a similar service chosen from the picker', async () => {
    const { orderId } = await dispatched(await engine.newUser('10'), 'move');
    const placedUpstream = (await engine.state(orderId)).providerOrderId!;
    await page.goto(`${base}/console/orders/${orderId}`);
    const options = await page.locator('form[data-action=move] select[name=serviceId] option').evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(options).toContain(String(backupFollowers));
    expect(options).not.toContain(String(engine.seed.serviceIds.likes));
    await submit(page, 'move', { reason: 'provider 1 is down for this service' }, { serviceId: String(backupFollowers) });
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('The move was accepted');
    await expect(page.locator('section.card', { hasText: 'Upstream' }).textContent()).resolves.toMatch(/stopping — provider 1 is down for this service/);
    // The old provider cancels its order whole (what the provider sync would report): all of it goes to the new service.
    await engine.providerUpdate(orderId, { status: 'canceled', providerId: engine.seed.providerId, providerOrderId: placedUpstream, startCount: null, remains: 1000 });
    const state = await engine.waitForState(orderId, (s) => s.moves?.at(-1)?.phase === 'moved' && s.providerOrderId !== null);
    expect(state).toMatchObject({ serviceId: backupFollowers, providerId: engine.seed.noLookupProviderId, status: 'pending' });
    await page.reload();
    await expect(page.locator('section.card', { hasText: 'Upstream' }).textContent()).resolves.toMatch(/moved — provider 1 is down for this service/);
    await screenshot(page, 'order-moved');
    await expect(page.locator('table.audit').textContent()).resolves.toContain('order.move');
    await engine.history(orderId);
  });

  it('a refusal shows its rule and reason: a move of an order that completed meanwhile (R-SUBSTITUTE), nothing changes', async () => {
    const { orderId } = await dispatched(await engine.newUser('10'), 'move-late');
    await page.goto(`${base}/console/orders/${orderId}`);
    await engine.providerUpdate(orderId, { status: 'completed', startCount: 10, remains: 0 });
    await engine.handle(orderId).result();
    await submit(page, 'move', { reason: 'too late' }, { serviceId: String(backupFollowers) });
    const refusal = (await page.locator('.notice.refused').textContent()) ?? '';
    expect(refusal).toContain('R-SUBSTITUTE');
    expect(refusal).toContain('completed');
    await expect(page.locator('textarea[name=reason]').count()).resolves.toBe(0);
    expect(await engine.state(orderId)).toMatchObject({ serviceId: engine.seed.serviceIds.followers, status: 'completed' });
    await screenshot(page, 'order-refusal');
    await engine.history(orderId);
  });

  it('support resolves an uncertain dispatch from the dispatch_uncertain queue: redispatch, sent again', async () => {
    const link = engine.uniqueLink('uncertain');
    const lost: Scenario = { add: { respond: 'http500', record: false, times: 1 } };
    engine.simulator.state.addScenario(link, lost);
    const placed = await engine.placeOrder({ userId: await engine.newUser('10'), link, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    await page.goto(`${base}/console`);
    await Promise.all([page.waitForNavigation(), page.click('.queues a[data-queue=dispatch_uncertain]')]);
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/console/orders/${placed.orderId}"]`)]);
    await screenshot(page, 'order-dispatch-uncertain');
    await submit(page, 'resolve-dispatch', { reason: 'not in the provider panel' }, { action: 'redispatch' });
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('The dispatch was resolved');
    const state = await engine.waitForState(placed.orderId, (s) => s.status === 'pending' && s.providerOrderId !== null);
    expect(engine.simulator.state.calls('add').filter((c) => c.link === link)).toHaveLength(2);
    expect(state.status).toBe('pending');
    expect(await engine.prisma.auditRecord.count({ where: { orderId: placed.orderId, action: 'order.resolve_dispatch', reason: 'not in the provider panel' } })).toBe(1);
    await engine.history(placed.orderId);
  });

  it(`everything user-controlled is escaped: ${XSS} shows as text in a search, a link, a name and a reason`, async () => {
    const victim = await engine.newUser('10');
    await engine.prisma.user.update({ where: { id: victim }, data: { name: XSS } });
    const placed = await engine.placeOrder({ userId: victim, link: XSS_LINK, quantity: 1000 });
    await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    await submit(await openOrder(page, placed.orderId), 'cancel', { refund: 'none', reason: XSS });
    await engine.handle(placed.orderId).result();

    await page.goto(`${base}/console?link=${encodeURIComponent(XSS)}`);
    await expect(page.locator('input[name=link]').inputValue()).resolves.toBe(XSS);
    await page.goto(`${base}/console/orders/${placed.orderId}`);
    await expect(page.locator('dl.kv').first().textContent()).resolves.toContain(XSS_LINK);
    await expect(page.locator('.timeline').textContent()).resolves.toContain(XSS);
    await expect(page.locator('table.audit').textContent()).resolves.toContain(XSS);
    await page.goto(`${base}/console/users/${victim}`);
    await expect(page.locator('h1').textContent()).resolves.toContain(XSS);
    await expect(page.locator('table.orders').textContent()).resolves.toContain(XSS_LINK);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await screenshot(page, 'xss-as-text');
    await engine.history(placed.orderId);
  });
});

async function openOrder(page: Page, orderId: number): Promise<Page> {
  await page.goto(`${base}/console/orders/${orderId}`);
  return page;
}

describe('admin pages', () => {
  it('the overview, an account with its ledger and orders, the audit trail whose records link to their order and account', async () => {
    const page = await signIn(admin.key);
    await page.goto(`${base}/console/overview`);
    await expect(page.locator('h1').textContent()).resolves.toContain('Overview');
    const refundsToday = await page.locator('section.card', { hasText: 'Refunds today' }).locator('.stat').textContent();
    expect(Number(refundsToday)).toBeGreaterThan(0);
    await screenshot(page, 'overview');

    // Keyset paging: one order a page, the next page holds the next older order.
    await page.goto(`${base}/console?limit=1`);
    const newest = Number(await page.locator('table.orders tbody tr').first().getAttribute('data-order'));
    await Promise.all([page.waitForNavigation(), page.click('a:has-text("Next page")')]);
    expect(page.url()).toContain(`cursor=${newest}`);
    expect(Number(await page.locator('table.orders tbody tr').first().getAttribute('data-order'))).toBe(newest - 1);

    // An account: its ledger with keys, a correction (admin), a block and an unblock, each with its reason.
    const owner = (await engine.deps.orders.getOrder(stalledOrder))!.userId;
    await page.goto(`${base}/console/users/${owner}`);
    await expect(page.locator('table.ledger').textContent()).resolves.toMatch(/refund[\s\S]*order_debit[\s\S]*topup/);
    await submit(page, 'corrections', { amount: '1.5', reason: 'goodwill for the stalled order' });
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('The correction is in the ledger');
    expect(await engine.deps.ledger.balanceOf(owner)).toBe('21.50000');
    await submit(page, 'block', { reason: 'chargeback on payment 77' });
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('blocked');
    await submit(page, 'unblock', { reason: 'chargeback withdrawn' });
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('active');
    await expect(page.locator('table.audit').textContent()).resolves.toMatch(/user\.unblock[\s\S]*user\.block[\s\S]*ledger\.correction/);
    await screenshot(page, 'user');

    await page.goto(`${base}/console/audit`);
    const trail = (await page.locator('table.audit').textContent()) ?? '';
    expect(trail).toMatch(/user\.unblock[\s\S]*user\.block[\s\S]*ledger\.correction[\s\S]*order\.cancel/);
    await screenshot(page, 'audit');
    await page.goto(`${base}/console/audit?action=order.move`);
    const moved = page.locator('table.audit tbody tr');
    // The accepted move and the refused one (refusals are recorded too).
    expect(await moved.count()).toBe(2);
    const orderLink = moved.first().locator('a[href^="/console/orders/"]');
    await Promise.all([page.waitForNavigation(), orderLink.click()]);
    await expect(page.locator('h1').textContent()).resolves.toContain('Order #');
    await page.context().close();
  });

  it('support does not get the whole audit trail (admin only, as GET /admin/audit), nor corrections', async () => {
    const page = await signIn(support.key);
    const answer = await page.goto(`${base}/console/audit`);
    expect(answer?.status()).toBe(403);
    await page.goto(`${base}/console/users/${engine.seed.userId}`);
    expect(await page.locator('form[data-action=corrections]').count()).toBe(0);
    await page.context().close();
  });
});

describe('CSRF and sign-out', () => {
  it('a console form without the CSRF token, and a REST write with the cookie but without X-Console-Csrf, are refused (403)', async () => {
    const page = await signIn(support.key);
    const { orderId } = await dispatched(await engine.newUser('10'), 'csrf');
    const cookie = `smm_console=${(await cookieOf(page))!.value}`;
    const form = await fetch(`${base}/console/orders/${orderId}/cancel`, {
      method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'refund=full&reason=forged',
    });
    expect(form.status).toBe(403);
    const rest = await fetch(`${base}/support/orders/${orderId}/cancel`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ refund: 'full', reason: 'forged' }),
    });
    expect(rest.status).toBe(403);
    expect(((await rest.json()) as { error: { code: string } }).error.code).toBe('csrf_refused');
    // Reads with the cookie work (the history download is a plain link).
    const history = await fetch(`${base}/orders/${orderId}/history?format=json`, { headers: { cookie } });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { runs: Array<{ history: { events: unknown[] } }> }).runs[0].history.events.length).toBeGreaterThan(0);
    expect(await engine.prisma.auditRecord.count({ where: { orderId } })).toBe(0);
    expect((await engine.state(orderId)).status).toBe('pending');
    await engine.providerUpdate(orderId, { status: 'completed', startCount: 1, remains: 0 });
    await engine.handle(orderId).result();
    await page.context().close();
  });

  it('sign-out ends the session: back to sign-in, the row is gone, the old cookie opens nothing', async () => {
    const page = await signIn(support.key);
    const token = (await cookieOf(page))!.value;
    await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign out")')]);
    expect(page.url()).toBe(`${base}/console/sign-in?signedOut=1`);
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('Signed out');
    expect(await cookieOf(page)).toBeUndefined();
    await page.goto(`${base}/console`);
    expect(page.url()).toBe(`${base}/console/sign-in`);
    await screenshot(page, 'sign-in');
    const replay = await fetch(`${base}/support/orders`, { headers: { cookie: `smm_console=${token}` } });
    expect(replay.status).toBe(401);
    const console = await fetch(`${base}/console`, { redirect: 'manual', headers: { cookie: `smm_console=${token}` } });
    expect(console.status).toBe(303);
    await page.context().close();
  });
});
