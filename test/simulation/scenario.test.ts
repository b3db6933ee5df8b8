// The simulation's world is a pure function of its seed (simulation/scenario.ts): the same seed
// replays the same scenario, and what it generates fits the catalogue it sells.
import { createRng } from '../../simulation/prng';
import { ORDER_SHAPES } from '../../simulation/order-shapes';
import { generateScenario, moveRefusedByType } from '../../simulation/scenario';
import { FATES, fateFits, fateToken } from '../../simulation/fates';
import { TYPE_SPECS, readOrder } from '../../domain/order-types';
import { SERVICE_TYPES } from '../../domain/service-types';

it('the same seed generates the same scenario, event for event', () => {
  const a = generateScenario({ seed: 42, orders: 500, days: 20 });
  const b = generateScenario({ seed: 42, orders: 500, days: 20 });
  expect(JSON.stringify(b)).toBe(JSON.stringify(a));
});

it('another seed generates another scenario', () => {
  const a = generateScenario({ seed: 1, orders: 200, days: 10 });
  const b = generateScenario({ seed: 2, orders: 200, days: 10 });
  expect(JSON.stringify(b.events)).not.toBe(JSON.stringify(a.events));
});

it('events are in time order within the days, each order placed once (plus repeats with its Idempotency-Key)', () => {
  const s = generateScenario({ seed: 7, orders: 1000, days: 30 });
  const times = s.events.map((e) => e.at);
  expect(times).toEqual([...times].sort((x, y) => x - y));
  const firsts = s.events.filter((e) => e.kind === 'place' && !e.repeat).map((e) => (e as { order: number }).order);
  expect(new Set(firsts).size).toBe(1000);
  for (const e of s.events) if (e.kind === 'place' && e.repeat) expect(s.orders[e.order].idempotencyKey).not.toBeNull();
  const kinds = new Set(s.events.map((e) => e.kind));
  for (const kind of ['cancel', 'refill', 'support_cancel', 'move', 'block', 'unblock', 'topup', 'withdraw', 'chargeback', 'kill_worker', 'terminate_db', 'provider_down', 'support_sweep', 'status_backwards']) {
    expect(kinds).toContain(kind);
  }
});

it('every order fits its service (its type\'s fields and bounds, read by the engine\'s own rules), carries its fate token, and fates suit their orders', () => {
  const s = generateScenario({ seed: 9, orders: 2000, days: 60 });
  const now = Date.UTC(2026, 0, 1);
  for (const o of s.orders) {
    const service = s.services[o.service];
    const target = TYPE_SPECS[service.type].link ? { link: o.link } : { username: o.link };
    const read = readOrder({ type: service.type, rate: service.rate, min: service.min, max: service.max, dripfeed: service.dripfeed ?? 'none' }, { ...target, ...o.body }, now);
    expect({ order: o.index, shape: service.shape, read: read.ok ? 'ok' : read.message }).toEqual({ order: o.index, shape: service.shape, read: 'ok' });
    expect(o.link).toContain(fateToken(o.fate));
    const fate = FATES.find((f) => f.name === o.fate)!;
    expect(fateFits(fate, { subscription: service.type === 'subscriptions', refill: service.refill.kind !== 'none' })).toBe(true);
  }
  expect(new Set(s.orders.map((o) => o.fate)).size).toBe(FATES.length);
});

it('every service type the engine sells, both drip-feeds and scheduled orders appear in a seed\'s scenario, at a realistic mix', () => {
  for (const [seed, orders] of [[5, 60], [1, 300], [42, 10000]] as const) {
    const s = generateScenario({ seed, orders, days: 10 });
    const shapes = new Set(s.orders.map((o) => s.services[o.service].shape));
    expect([...shapes].sort()).toEqual(ORDER_SHAPES.map((shape) => shape.name).sort());
    expect(new Set(s.orders.map((o) => s.services[o.service].type))).toEqual(new Set(SERVICE_TYPES));
    expect(s.orders.some((o) => o.executeAfterMs !== undefined)).toBe(true);
  }
  // The mix: Default orders are most of them, each other shape its share (not one of each only).
  const s = generateScenario({ seed: 42, orders: 10000, days: 60 });
  const count = (name: string) => s.orders.filter((o) => s.services[o.service].shape === name).length;
  const total = ORDER_SHAPES.reduce((n, shape) => n + shape.weight, 0);
  for (const shape of ORDER_SHAPES) expect(Math.abs(count(shape.name) / 10000 - shape.weight / total)).toBeLessThan(0.02);
  const scheduled = s.orders.filter((o) => o.executeAfterMs !== undefined).length / 10000;
  expect(scheduled).toBeGreaterThan(0.04);
  expect(scheduled).toBeLessThan(0.08);
});

it('moves of orders the engine cannot move by type (lines, a package, a drip-feed, a subscription) are marked as expected refusals', () => {
  const s = generateScenario({ seed: 11, orders: 3000, days: 30 });
  const moves = s.events.filter((e): e is Extract<typeof e, { kind: 'move' }> => e.kind === 'move');
  const refused = moves.filter((m) => m.typeRefuses);
  expect(refused.length).toBeGreaterThan(0);
  expect(moves.length - refused.length).toBeGreaterThan(0);
  for (const m of moves) {
    const o = s.orders[m.order];
    const service = s.services[o.service];
    const movable = service.type !== 'subscriptions' && o.body.runs === undefined && TYPE_SPECS[service.type].quantity.kind === 'given';
    expect({ order: m.order, refused: Boolean(m.typeRefuses) }).toEqual({ order: m.order, refused: !movable });
    expect(moveRefusedByType(service, o) ?? undefined).toBe(m.typeRefuses);
  }
});

it('the catalogue holds every service of every order shape at every provider', () => {
  const s = generateScenario({ seed: 3, orders: 10, days: 1 });
  const entries = ORDER_SHAPES.flatMap((shape) => shape.services.map((e) => e.key));
  for (const key of entries) expect(s.services.filter((x) => x.key === key).map((x) => x.provider).sort()).toEqual(s.providers.map((p) => p.key).sort());
});

it('the PRNG is deterministic per seed and its forks are independent streams', () => {
  const draws = (seed: number) => Array.from({ length: 5 }, createRng(seed).next);
  expect(draws(5)).toEqual(draws(5));
  expect(draws(5)).not.toEqual(draws(6));
  const r = createRng(5);
  expect(Array.from({ length: 3 }, r.fork('a').next)).not.toEqual(Array.from({ length: 3 }, r.fork('b').next));
});
