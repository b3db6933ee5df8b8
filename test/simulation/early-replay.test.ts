// The replay during the drive, from the simulation's side (simulation/early-replay.ts): when its
// process cannot do the work, finish() answers that nothing was replayed and no run's facts were
// taken, so the end fetches and replays every run instead of trusting a replay that did not happen.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../db/postgres';
import { startEarlyReplay } from '../../simulation/early-replay';

it('a replay process that cannot reach Temporal answers "nothing replayed", and says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'early-replay-'));
  const bundlePath = join(dir, 'workflows.js');
  await writeFile(bundlePath, '// no workflows');
  const lines: string[] = [];
  // A port nobody listens on.
  const replay = startEarlyReplay({ temporalAddress: `127.0.0.1:${await freePort()}`, bundlePath, log: (line) => lines.push(line) });
  // Its failure is logged (it exits); a finish afterwards answers at once.
  for (let waited = 0; !lines.join('\n').includes('simulation replay process failed') && waited < 60_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(lines.join('\n')).toMatch(/simulation replay process failed/);
  const finishing = replay.finish(60_000);
  expect(await finishing.runFacts).toEqual([]);
  expect((await finishing.replayed).byRunId.size).toBe(0);
  await rm(dir, { recursive: true, force: true });
}, 90_000);
