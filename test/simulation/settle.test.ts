// The settle's "nothing changed" (simulation/driver.ts UnchangedFor): the settle ends once only
// never-ending orders are left and a simulated day of sweeps (4, every 6 hours) changed none of them.
import { UnchangedFor } from '../../simulation/driver';

it('is true only once the same value was seen after the given number of further sweeps', () => {
  const unchanged = new UnchangedFor(4);
  expect(['a', 'a', 'a', 'a'].map((v) => unchanged.same(v))).toEqual([false, false, false, false]);
  expect(unchanged.same('a')).toBe(true);
});

it('starts counting again when the value changes or is reset', () => {
  const unchanged = new UnchangedFor(2);
  expect(['a', 'a', 'b', 'b'].map((v) => unchanged.same(v))).toEqual([false, false, false, false]);
  expect(unchanged.same('b')).toBe(true);
  unchanged.reset();
  expect(['b', 'b'].map((v) => unchanged.same(v))).toEqual([false, false]);
  expect(unchanged.same('b')).toBe(true);
});
