// The simulation's world is a pure function of its seed (simulation/scenario.ts): the same seed
// replays the same scenario, and what it generates fits the catalogue it sells.
import { createRng } from '../../simulation/prng';
import { ORDER_SHAPES } from '../../simulation/order-shapes';
import { generateScenario } from '../../simulation/scenario';
import { FATES, fateToken } from '../../simulation/fates';

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

it('every order fits its service (quantity within min..max), carries its fate token, and refill fates go to refill services only', () => {
  const s = generateScenario({ seed: 9, orders: 2000, days: 60 });
  for (const o of s.orders) {
    const service = s.services[o.service];
    const quantity = o.body.quantity as number;
    expect(quantity).toBeGreaterThanOrEqual(service.min);
    expect(quantity).toBeLessThanOrEqual(service.max);
    expect(o.link).toContain(fateToken(o.fate));
    if (FATES.find((f) => f.name === o.fate)!.refillOnly) expect(service.refill.kind).not.toBe('none');
  }
  expect(new Set(s.orders.map((o) => o.fate)).size).toBe(FATES.length);
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
