import fc from 'fast-check';
import Decimal from 'decimal.js';
import {
  applySubscriptionUpstream,
  isSubscriptionEnded,
  newSubscriptionProgress,
  subscriptionOutcome,
  subscriptionRemains,
} from '../../domain/subscription';
import { parseOrderStatusEntry, parseSubscriptionEntry } from '../../activities/provider/parse';
import { expiryInstant, postAmount, subscriptionAt } from '../../provider-simulator/subscription';

const terms = { max: 300, posts: 30 };

describe('subscription progress (domain/subscription.ts)', () => {
  it('moves forward only: posts never go back, an ended subscription stays ended, a repeat changes nothing', () => {
    const p = newSubscriptionProgress();
    expect(applySubscriptionUpstream(p, { status: 'active', posts: 2, delivered: [120, 300] }, 30)).toBe(true);
    expect(applySubscriptionUpstream(p, { status: 'active', posts: 2, delivered: [120, 300] }, 30)).toBe(false);
    expect(applySubscriptionUpstream(p, { status: 'paused', posts: 1, delivered: [] }, 30)).toBe(true);
    expect(p).toMatchObject({ status: 'paused', posts: 2, delivered: [120, 300] });
    expect(applySubscriptionUpstream(p, { status: 'expired', posts: 3, delivered: [120, 300, 200] }, 30)).toBe(true);
    expect(isSubscriptionEnded(p)).toBe(true);
    expect(applySubscriptionUpstream(p, { status: 'active', posts: 4, delivered: [] }, 30)).toBe(false);
    expect(p.posts).toBe(3);
  });

  it('never counts more posts than were paid for', () => {
    const p = newSubscriptionProgress();
    applySubscriptionUpstream(p, { status: 'completed', posts: 40, delivered: [] }, 30);
    expect(p.posts).toBe(30);
  });

  it('R-SUBSCRIPTION-UNSERVED: all served at max completes with no refund; part served is partial; none served is canceled with the whole charge', () => {
    const all = { posts: 30, delivered: Array(30).fill(300) };
    expect(subscriptionOutcome('3.60000', terms, all)).toEqual({ status: 'completed', remains: 0, refund: '0.00000', rule: 'R-SUBSCRIPTION-UNSERVED' });
    // 10 posts not served (3000 units) and 100 short on one served post: 3100 of 9000 units.
    const part = { posts: 20, delivered: [...Array(19).fill(300), 200] };
    expect(subscriptionOutcome('3.60000', terms, part)).toEqual({ status: 'partial', remains: 3100, refund: '1.24000', rule: 'R-SUBSCRIPTION-UNSERVED' });
    expect(subscriptionOutcome('3.60000', terms, { posts: 0, delivered: [] })).toMatchObject({ status: 'canceled', remains: 9000, refund: '3.60000' });
  });

  it('R-SUBSCRIPTION-UNSERVED: posts whose delivery the provider did not report count as served at max', () => {
    expect(subscriptionRemains(terms, { posts: 3, delivered: [100] })).toBe(27 * 300 + 200);
  });

  it('R-SUBSCRIPTION-UNSERVED: the refund never exceeds the charge and equals charge × unserved / (max × posts) rounded down', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 30 }), (posts, got) => {
        const delivered = got.slice(0, posts);
        const o = subscriptionOutcome('3.60000', terms, { posts, delivered });
        const unserved = subscriptionRemains(terms, { posts, delivered });
        expect(o.refund).toBe(new Decimal('3.6').mul(unserved).div(9000).toDecimalPlaces(5, Decimal.ROUND_DOWN).toFixed(5));
        expect(new Decimal(o.refund).lte('3.6')).toBe(true);
      }),
    );
  });
});

describe('subscription status answers (activities/provider/parse.ts)', () => {
  it('reads {"status": "Active", "posts": "2", ...} in any case, with per-post counts from `delivered` or child orders', () => {
    expect(parseSubscriptionEntry({ status: 'ACTIVE', posts: '2', delivered: ['120', 300] })).toEqual({ status: 'active', posts: 2, delivered: [120, 300] });
    expect(parseSubscriptionEntry({ status: 'paused', posts: 1, orders: [{ order: 77, quantity: '150' }] })).toEqual({ status: 'paused', posts: 1, delivered: [150] });
    // Bare child ids say nothing about what each post got.
    expect(parseSubscriptionEntry({ status: 'Completed', posts: '2', orders: [77, 78] })).toEqual({ status: 'completed', posts: 2, delivered: [null, null] });
    expect(parseSubscriptionEntry({ status: 'Expired', posts: 0 })).toEqual({ status: 'expired', posts: 0, delivered: [] });
    expect(parseSubscriptionEntry({ status: 'Cancelled', posts: '0' })).toEqual({ status: 'canceled', posts: 0, delivered: [] });
  });

  it('leaves order answers alone: "Active" without posts stays an order\'s In progress', () => {
    expect(parseSubscriptionEntry({ status: 'Active', remains: '10' })).toBeNull();
    expect(parseSubscriptionEntry({ status: 'Paused', remains: '1' })).toBeNull();
    expect(parseOrderStatusEntry({ status: 'Active', remains: '10' })).toMatchObject({ status: 'in_progress', remains: 10 });
    expect(parseOrderStatusEntry({ status: 'Paused', posts: '3' })).toMatchObject({ status: 'in_progress', subscription: { status: 'paused', posts: 3 } });
    expect(parseOrderStatusEntry({ status: 'Expired', posts: '3' })).toMatchObject({ status: 'completed', subscription: { status: 'expired' } });
  });
});

describe('the simulator serves subscriptions (provider-simulator/subscription.ts)', () => {
  const sub = { min: 100, max: 300, posts: 5, oldPosts: 1, delayMs: 60_000, expiresAt: null };
  const DAY = 86_400_000;

  it('serves old posts at the start, a new post each period after, each between min and max, then Completed', () => {
    expect(subscriptionAt(sub, 7, 0, DAY, 0, Infinity)).toMatchObject({ canon: 'Active', delivered: [] });
    expect(subscriptionAt(sub, 7, 0, DAY, 60_000, Infinity).delivered).toHaveLength(1);
    expect(subscriptionAt(sub, 7, 0, DAY, DAY + 60_000, Infinity).delivered).toHaveLength(2);
    const done = subscriptionAt(sub, 7, 0, DAY, 10 * DAY, Infinity);
    expect(done).toMatchObject({ canon: 'Completed', endedAt: 4 * DAY + 60_000 });
    expect(done.delivered).toEqual([0, 1, 2, 3, 4].map((k) => postAmount(7, k, 100, 300)));
    for (const d of done.delivered) expect(d >= 100 && d <= 300).toBe(true);
  });

  it('answers Paused during a pause; the posts due meanwhile are served when it ends', () => {
    const pause = { from: DAY / 2, until: 3 * DAY };
    expect(subscriptionAt(sub, 7, 0, DAY, 2 * DAY, Infinity, pause)).toMatchObject({ canon: 'Paused' });
    expect(subscriptionAt(sub, 7, 0, DAY, 2 * DAY, Infinity, pause).delivered).toHaveLength(1);
    expect(subscriptionAt(sub, 7, 0, DAY, 3 * DAY, Infinity, pause)).toMatchObject({ canon: 'Active' });
    expect(subscriptionAt(sub, 7, 0, DAY, 3 * DAY, Infinity, pause).delivered).toHaveLength(3);
  });

  it('ends Expired at the end of the expiry day, Canceled at a cancel, with the posts served until then', () => {
    const expiresAt = expiryInstant('2/1/1970')!;
    expect(expiresAt).toBe(2 * DAY);
    expect(subscriptionAt({ ...sub, expiresAt }, 7, 0, DAY, 9 * DAY, Infinity)).toMatchObject({ canon: 'Expired', endedAt: 2 * DAY });
    expect(subscriptionAt({ ...sub, expiresAt }, 7, 0, DAY, 9 * DAY, Infinity).delivered).toHaveLength(2);
    expect(subscriptionAt(sub, 7, 0, DAY, 9 * DAY, DAY / 2)).toMatchObject({ canon: 'Canceled', delivered: [postAmount(7, 0, 100, 300)] });
  });
});
