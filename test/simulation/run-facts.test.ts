// The facts a run's history gives (simulation/run-facts.ts), which the replay process takes from
// every history it fetches during the drive, and an order's facts put together from its runs: the
// chain from the first run to the current one, or nothing when a run of it is missing (the end then
// fetches the workflow itself).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { orderFactsOfRuns, runFactsOf } from '../../simulation/run-facts';
import type { RunFacts } from '../../simulation/run-facts';

const stored = (name: string) => historyFromJSON(JSON.parse(readFileSync(join(__dirname, '..', 'workflows', 'histories', name), 'utf8')));

describe('runFactsOf', () => {
  it('a completed run: closed, its result is the order state it returned, events and Actions counted', () => {
    const history = stored('partial-refund.json');
    const facts = runFactsOf('order-1', 'run-a', history);
    expect(facts).toMatchObject({ workflowId: 'order-1', runId: 'run-a', previousRunId: null, nextRunId: null, closed: true, events: history.events!.length });
    expect(facts.result).toMatchObject({ status: 'partial' });
    expect(facts.actions).toBeGreaterThan(0);
    expect(facts.actions).toBeLessThan(facts.events);
  });

  it('a run that continued as new names the run before it and the one after it, and has no result', () => {
    const facts = runFactsOf('order-2', 'run-2', stored('lifetime-refills-run-2-continues-as-new.json'));
    expect(facts).toMatchObject({ previousRunId: '7c66e0c1-182c-446b-bf06-5e6e2feaf641', nextRunId: '64423852-af1a-40b0-ae7f-807a25531270', closed: true, result: null });
  });

  it('a run still open (its refill window) is not closed', () => {
    expect(runFactsOf('order-3', 'run-3', stored('lifetime-refills-last-run.json'))).toMatchObject({ closed: false, nextRunId: null, result: null });
  });
});

describe('orderFactsOfRuns', () => {
  const run = (runId: string, previousRunId: string | null, nextRunId: string | null, more: Partial<RunFacts> = {}): RunFacts => ({
    workflowId: 'order-9',
    runId,
    previousRunId,
    nextRunId,
    closed: true,
    result: null,
    events: 10,
    actions: 4,
    activityFailures: 1,
    ...more,
  });

  it('puts runs given in any order into their chain, first to current, and adds up their figures', () => {
    const last = run('c', 'b', null, { result: { status: 'completed' } as never, events: 5 });
    expect(orderFactsOfRuns([last, run('a', null, 'b'), run('b', 'a', 'c')])).toEqual({
      runIds: ['a', 'b', 'c'],
      open: false,
      result: { status: 'completed' },
      events: 25,
      actions: 12,
      activityFailures: 3,
    });
  });

  it('a workflow whose current run is open is open, with no result', () => {
    expect(orderFactsOfRuns([run('a', null, 'b'), run('b', 'a', null, { closed: false })])).toMatchObject({ runIds: ['a', 'b'], open: true, result: null });
  });

  it('nothing when a run is missing: the next run of a continue-as-new, or the first run', () => {
    expect(orderFactsOfRuns([run('a', null, 'b')])).toBeNull();
    expect(orderFactsOfRuns([run('b', 'a', null)])).toBeNull();
    expect(orderFactsOfRuns([])).toBeNull();
  });
});
