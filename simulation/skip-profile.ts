/**
 * Where the wall time of time skipping goes (SIM_PROFILE=1): while the driver waits for Temporal's
 * clock to reach a group's time, the in-memory server's state is sampled every few real ms and each
 * sample is charged to what holds the clock then (a workflow task queued or running, an activity
 * attempt queued or running, by type), or to "free" when nothing holds it (time jumps).
 * A diagnostic for the simulation's speed; it changes nothing it looks at.
 */
import type { InMemoryTemporalServer } from '../temporal-server';
import { clockHolds } from './clock-holders';

const SAMPLE_MS = 20;

export interface SkipProfile {
  /** Marks the driver as waiting on a time skip (samples are taken only then). */
  skipping(on: boolean): void;
  /** What held the clock during the last skip, largest first. */
  lastSkip(): string;
  /** Real ms by what held the clock, largest first. */
  report(): string[];
  stop(): void;
}

export function startSkipProfile(temporal: InMemoryTemporalServer): SkipProfile {
  const engine = temporal.engine;
  const heldMs = new Map<string, number>();
  let active = false;
  let samples = 0;
  let current = new Map<string, number>();
  const charge = (what: string) => {
    heldMs.set(what, (heldMs.get(what) ?? 0) + SAMPLE_MS);
    current.set(what, (current.get(what) ?? 0) + SAMPLE_MS);
  };
  // Counts the distinct instants timers fire at during a skip (each is a jump followed by the work it wakes).
  let instants = 0;
  let totalInstants = 0;
  let lastFireAt = -1;
  const clock = engine.clock as unknown as { at(fireAt: number, callback: () => void): () => void };
  const at = clock.at.bind(engine.clock);
  clock.at = (fireAt, callback) =>
    at(fireAt, () => {
      if (active && fireAt > lastFireAt) {
        instants++;
        totalInstants++;
        lastFireAt = fireAt;
      }
      callback();
    });
  const timer = setInterval(() => {
    if (!active) return;
    samples++;
    if (engine.clock.isSkipping()) return charge('free (nothing holds the clock)');
    const seen = new Set<string>();
    for (const h of clockHolds(temporal)) {
      if (h.kind === 'workflow task retry pause') seen.add(h.kind);
      else if (h.kind === 'workflow task') seen.add(`workflow task ${h.phase} (${h.workflowType}${h.attempt! > 1 ? `, attempt ${h.attempt}` : ''})`);
      else seen.add(`activity ${h.phase} ${h.activityType}${h.attempt! > 1 ? ' (retry)' : ''}`);
    }
    if (seen.size === 0) seen.add('held by the client lock');
    for (const what of seen) charge(what);
  }, SAMPLE_MS);
  timer.unref();
  return {
    skipping: (on) => {
      active = on;
      if (on) {
        current = new Map();
        instants = 0;
      }
    },
    lastSkip: () => `${instants} timer instants; ` + [...current].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([what, ms]) => `${(ms / 1000).toFixed(1)} s ${what}`).join('; '),
    report: () => [
      `skip profile: ${((samples * SAMPLE_MS) / 1000).toFixed(1)} s sampled while skipping, ${totalInstants} timer instants; real s each holder held the clock (a sample can charge several):`,
      ...[...heldMs].sort((a, b) => b[1] - a[1]).map(([what, ms]) => `  ${(ms / 1000).toFixed(1).padStart(8)} s  ${what}`),
    ],
    stop: () => clearInterval(timer),
  };
}
