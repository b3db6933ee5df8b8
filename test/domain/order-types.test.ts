import { computePackageCharge } from '../../domain/charge';
import { SERVICE_TYPES } from '../../domain/service-types';
import { providerAddFields, readOrder } from '../../domain/order-types';
import type { ServiceTerms } from '../../domain/order-types';

const NOW = Date.UTC(2026, 11, 4, 12, 0);
const svc = (type: ServiceTerms['type'], over: Partial<ServiceTerms> = {}): ServiceTerms => ({ type, rate: '0.90000', min: 10, max: 1000, dripfeed: 'none', ...over });
const ok = (service: ServiceTerms, raw: Record<string, unknown>) => {
  const r = readOrder(service, raw, NOW);
  if (!r.ok) throw new Error(`refused: ${r.message}`);
  return r.order;
};
const no = (service: ServiceTerms, raw: Record<string, unknown>) => {
  const r = readOrder(service, raw, NOW);
  if (r.ok) throw new Error('accepted');
  return r;
};
const link = 'https://instagram.com/p/abc';

describe('readOrder: fields and charge per service type', () => {
  it('R-CHARGE: Default is charged rate × quantity / 1000 and sends link + quantity', () => {
    const o = ok(svc('default'), { link, quantity: '333' });
    expect(o).toMatchObject({ quantity: 333, charge: '0.29970', providerFields: {} });
    expect(providerAddFields({ serviceType: 'default', link, quantity: 333, providerFields: {} })).toEqual({ link, quantity: '333' });
  });

  it('R-PRICE-SNAPSHOT: a Package is one order at the fixed price per order (the rate), with no quantity sent', () => {
    const o = ok(svc('package', { rate: '12.34567' }), { link });
    expect(o).toMatchObject({ quantity: 1, charge: '12.34567' });
    expect(computePackageCharge('5')).toBe('5.00000');
    expect(providerAddFields({ serviceType: 'package', link, quantity: 1, providerFields: {} })).toEqual({ link });
    expect(no(svc('package'), { link, quantity: 5 })).toMatchObject({ status: 422, field: 'quantity' });
  });

  it('R-MINMAX: Custom Comments counts non-empty lines as the quantity, min/max apply, the text reaches the provider unchanged', () => {
    const comments = 'great!\n\n  nice pic \r\nwow\n';
    const o = ok(svc('custom_comments', { min: 3, max: 3 }), { link, comments });
    expect(o).toMatchObject({ quantity: 3, charge: '0.00270', providerFields: { comments } });
    expect(providerAddFields({ serviceType: 'custom_comments', link, quantity: 3, providerFields: o.providerFields })).toEqual({ link, comments });
    expect(no(svc('custom_comments', { min: 5 }), { link, comments })).toMatchObject({ status: 422, rule: 'R-MINMAX', field: 'comments', min: 5, value: 3 });
    expect(no(svc('custom_comments'), { link, comments: '\n  \n' })).toMatchObject({ status: 400, field: 'comments' });
    expect(no(svc('custom_comments'), { link })).toMatchObject({ status: 400, rule: 'required', field: 'comments' });
  });

  it('R-PRICE-SNAPSHOT: Custom Comments Package is priced per order, its lines are its quantity', () => {
    expect(ok(svc('custom_comments_package', { rate: '3.5', min: 1 }), { link, comments: 'a\nb' })).toMatchObject({ quantity: 2, charge: '3.50000' });
  });

  it.each([
    ['mentions', { usernames: 'alice\nbob' }],
    ['mentions_with_hashtags', { usernames: 'alice', hashtags: '#a\n#b' }],
    ['mentions_hashtag', { hashtag: '#fashion' }],
    ['mentions_user_followers', { username: 'alice' }],
    ['mentions_media_likers', { media: 'https://instagram.com/p/xyz' }],
    ['comment_likes', { username: 'alice' }],
    ['poll', { answer_number: '2' }],
    ['seo', { keywords: 'buy shoes\ncheap shoes' }],
  ] as const)('R-CHARGE: %s takes link, quantity and its own fields, sent unchanged', (type, fields) => {
    const o = ok(svc(type), { link, quantity: '100', ...fields });
    expect(o).toMatchObject({ quantity: 100, charge: '0.09000', providerFields: fields });
    expect(providerAddFields({ serviceType: type, link, quantity: 100, providerFields: o.providerFields })).toEqual({ link, quantity: '100', ...fields });
    const [first] = Object.keys(fields);
    const missing = { ...fields } as Record<string, string>;
    delete missing[first];
    expect(no(svc(type), { link, quantity: '100', ...missing })).toMatchObject({ status: 400, field: first });
  });

  it('Mentions Custom List and Comment Replies count their lines; no quantity is sent', () => {
    expect(ok(svc('mentions_custom_list', { min: 1 }), { link, usernames: 'a\nb\nc' })).toMatchObject({ quantity: 3 });
    const o = ok(svc('comment_replies', { min: 1 }), { link, username: 'alice', comments: 'hi\nyo' });
    expect(providerAddFields({ serviceType: 'comment_replies', link, quantity: 2, providerFields: o.providerFields })).toEqual({ link, username: 'alice', comments: 'hi\nyo' });
  });

  it('a field of another type is refused, never ignored', () => {
    expect(no(svc('default'), { link, quantity: 100, comments: 'x' })).toMatchObject({ status: 422, field: 'comments', rule: 'service_type' });
    expect(no(svc('poll'), { link, quantity: 100, answer_number: 1, runs: 2, interval: 5 })).toMatchObject({ status: 422, field: 'runs', rule: 'drip_feed' });
  });

  it('every type has a spec: a Default-shaped request is refused or taken, never thrown', () => {
    for (const type of SERVICE_TYPES) expect(() => readOrder(svc(type), { link, quantity: 100 }, NOW)).not.toThrow();
  });
});

describe('readOrder: drip-feed', () => {
  const feed = svc('default', { dripfeed: 'engine', min: 50, max: 1000 });
  it('R-CHARGE: total = quantity × runs, charged once; runs ≥ 2, interval ≥ 1', () => {
    const o = ok(feed, { link, quantity: '100', runs: '10', interval: '60' });
    expect(o).toMatchObject({ quantity: 1000, charge: '0.90000', dripFeed: { runs: 10, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' } });
    expect(no(feed, { link, quantity: 100, runs: 1, interval: 60 })).toMatchObject({ status: 400, field: 'runs' });
    expect(no(feed, { link, quantity: 100, runs: 2, interval: 0 })).toMatchObject({ status: 400, field: 'interval' });
    expect(no(feed, { link, quantity: 100, runs: 2 })).toMatchObject({ status: 400, field: 'interval', rule: 'required' });
  });
  it('R-MINMAX: the per-run quantity is checked against min, the total against max', () => {
    expect(no(feed, { link, quantity: 40, runs: 2, interval: 5 })).toMatchObject({ rule: 'R-MINMAX', field: 'quantity', value: 40 });
    expect(no(feed, { link, quantity: 200, runs: 6, interval: 5 })).toMatchObject({ rule: 'R-MINMAX', field: 'runs', value: 1200 });
  });
  it('only on services that offer it; mode provider forwards runs and interval with the per-run quantity', () => {
    expect(no(svc('default'), { link, quantity: 100, runs: 2, interval: 5 })).toMatchObject({ status: 422, rule: 'drip_feed' });
    const o = ok(svc('default', { dripfeed: 'provider' }), { link, quantity: 100, runs: 3, interval: 5 });
    expect(providerAddFields({ serviceType: 'default', link, quantity: o.quantity, providerFields: o.providerFields, dripFeed: o.dripFeed })).toEqual({
      link,
      quantity: '100',
      runs: '3',
      interval: '5',
    });
  });
});

describe('readOrder: subscriptions', () => {
  const sub = svc('subscriptions', { rate: '1.20000', min: 50, max: 500 });
  const good = { username: 'alice', min: '100', max: '200', posts: '30', delay: '30', old_posts: '2', expiry: '31/12/2026' };
  it('R-CHARGE-MAX: charged rate × max × posts / 1000; the provider gets the subscription fields and no link or quantity', () => {
    const o = ok(sub, good);
    expect(o).toMatchObject({ link: null, quantity: 6000, charge: '7.20000', subscription: { username: 'alice', min: 100, max: 200, posts: 30, oldPosts: 2, delayMinutes: 30, expiry: '31/12/2026' } });
    expect(providerAddFields({ serviceType: 'subscriptions', link: 'alice', quantity: 6000, providerFields: o.providerFields })).toEqual(good);
  });
  it('R-CHARGE-MAX: an unlimited subscription (no posts) is refused with a clear error', () => {
    const { posts: _p, ...unlimited } = good;
    expect(no(sub, unlimited)).toMatchObject({ status: 422, field: 'posts', rule: 'R-CHARGE-MAX' });
  });
  it('R-MINMAX on min and max; delay from the list; expiry not past; no link', () => {
    expect(no(sub, { ...good, min: '10' })).toMatchObject({ rule: 'R-MINMAX', field: 'min' });
    expect(no(sub, { ...good, max: '900' })).toMatchObject({ rule: 'R-MINMAX', field: 'max' });
    expect(no(sub, { ...good, min: '300' })).toMatchObject({ status: 400, field: 'max' });
    expect(no(sub, { ...good, delay: '7' })).toMatchObject({ status: 400, field: 'delay' });
    expect(no(sub, { ...good, expiry: '01/01/2020' })).toMatchObject({ status: 422, field: 'expiry' });
    expect(no(sub, { ...good, expiry: '31/02/2027' })).toMatchObject({ status: 400, field: 'expiry' });
    expect(no(sub, { ...good, link })).toMatchObject({ status: 422, field: 'link' });
  });
});

describe('readOrder: scheduled orders', () => {
  it('execute_at "YYYY-MM-DD HH:MM" UTC in the future, at most 90 days ahead', () => {
    expect(ok(svc('default'), { link, quantity: 100, execute_at: '2026-12-05 08:30' }).executeAt).toBe(Date.UTC(2026, 11, 5, 8, 30));
    expect(no(svc('default'), { link, quantity: 100, execute_at: '2026-12-04 11:59' })).toMatchObject({ status: 422, field: 'execute_at' });
    expect(no(svc('default'), { link, quantity: 100, execute_at: '2027-06-01 00:00' })).toMatchObject({ status: 422, field: 'execute_at' });
    expect(no(svc('default'), { link, quantity: 100, execute_at: '2026-12-05T08:30' })).toMatchObject({ status: 400, field: 'execute_at' });
    expect(no(svc('default'), { link, quantity: 100, execute_at: '2026-02-30 08:30' })).toMatchObject({ status: 400, field: 'execute_at' });
  });
});
