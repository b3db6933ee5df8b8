/**
 * Orders already running must go on after a deploy: Temporal replays their histories against the
 * new workflow code, and a change in the commands it issues (an activity moved before a timer's
 * cancel, a new await between two steps) fails that replay and stalls the order. These histories
 * were made by earlier versions of the order workflow (test/workflows/histories, one per path an
 * order takes); each must replay on today's code. A change that cannot keep them replaying needs
 * Temporal's patching API (workflow.patched) rather than a new fixture.
 *
 * To add one: run the scenario, then `npm run history -- <order id> --json test/workflows/histories`
 * and give the file a name that says which path it covers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../support/temporal';

const DIR = join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

it('there are stored histories to replay (one per path an order takes)', () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
});

it.each(files)('the stored history %s replays on today\'s order workflow', async (file) => {
  const bundle = await bundleWorkflows(require.resolve('../../workflows'));
  const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: file }, history);
});
