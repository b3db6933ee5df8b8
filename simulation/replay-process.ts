/**
 * The replay check, done while the drive goes on: a child process at the lowest CPU priority that
 * replays every run as soon as it has closed (a closed run's history never changes, so replaying it
 * now or at the end is the same check). The drive is a chain of short steps that leaves part of the
 * machine idle; this process takes that idle part instead of the minutes the end would spend.
 * It replays on its own thread, without the per-call watchdog that bounds nothing there
 * (unbounded-vm-timeouts.ts) and without the SDK's per-promise stack capture (no-stack-capture.ts).
 * Started by early-replay.ts (fork, with an IPC channel) with:
 *   SIM_TEMPORAL_ADDRESS, SIM_BUNDLE_PATH (the workflow code the worker runs), SIM_REPLAY_POLL_MS.
 * Messages: → { type: 'finish' }
 *           ← { type: 'facts', runs: RunFacts[] } at once: every run fetched so far (run-facts.ts)
 *           ← { type: 'done', results: Array<[runId, workflowId, error | null]>, duringDrive: number }
 * A finish (the drive is over) first answers the facts of the runs it fetched (the simulation then
 * fetches only the others), then takes every run not replayed yet, open ones included, and replays
 * them all while the simulation collects the rest of its facts, then answers what it replayed.
 */
import { setPriority } from 'node:os';
import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { closedRunsQuery, OPEN_RUNS_QUERY, RunsSeen } from './replay-feed';
import { requiredEnv } from './required-env';
import { runFactsOf } from './run-facts';
import type { RunFacts } from './run-facts';
import { dropPromiseStackCapture } from './no-stack-capture';
import { dropUnboundedVmTimeouts } from './unbounded-vm-timeouts';
import type { ClosedRun } from './replay-feed';

export type ReplayResultEntry = [runId: string, workflowId: string, error: string | null];

async function main(): Promise<void> {
  // Before any thread starts (core's, the replay's workflow thread): they inherit the niceness.
  setPriority(19);
  // The simulation gone (or killed): so is this process.
  process.on('disconnect', () => process.exit(0));
  // A finish before the replay is set up (a drive of seconds) answers at once: nothing replayed.
  let onFinish = () => {
    process.send?.({ type: 'facts', runs: [] });
    process.send?.({ type: 'done', results: [], duringDrive: 0 }, () => process.exit(0));
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'finish') onFinish();
  });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const client = new Client({ connection: await Connection.connect({ address: requiredEnv('SIM_TEMPORAL_ADDRESS') }) });
  const code = await readFile(requiredEnv('SIM_BUNDLE_PATH'), 'utf8');
  const pollMs = Number(process.env.SIM_REPLAY_POLL_MS ?? 10_000);

  const seen = new RunsSeen();
  const queue: ClosedRun[] = [];
  const results: ReplayResultEntry[] = [];
  const runFacts: RunFacts[] = [];
  let finishing = false;
  /** The drive is over and every run left is queued: the feed ends when the queue is empty. */
  let drained = false;
  let wakeFeed: (() => void) | null = null;

  const list = async (query: string) => {
    for await (const info of client.workflow.list({ query })) {
      const run = { workflowId: info.workflowId, runId: info.runId, closedAtMs: info.closeTime?.getTime() ?? 0 };
      if (seen.admit(run)) queue.push(run);
    }
    wakeFeed?.();
  };
  const listClosed = () => list(closedRunsQuery(seen.since));

  // One replay worker for the whole drive, fed one closed run at a time; its history is fetched
  // only when the replay is ready for it.
  async function* feed() {
    while (!finishing) {
      const run = queue.shift();
      if (!run) {
        if (drained) return;
        await new Promise<void>((resolve) => (wakeFeed = resolve));
        wakeFeed = null;
        continue;
      }
      // A history that cannot be fetched now is left to the end's replay.
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory().catch(() => null);
      if (!history) continue;
      runFacts.push(runFactsOf(run.workflowId, run.runId, history));
      yield { workflowId: run.workflowId, history };
    }
  }
  // On this process's own thread (the SDK's replay default, debugMode: the sandbox calls' timeout
  // bounds nothing), without Node's watchdog thread per call: a third less CPU per run; and without
  // the SDK's per-promise stack capture, which no replay asks for.
  dropUnboundedVmTimeouts();
  dropPromiseStackCapture();
  const options = { workflowBundle: { code }, replayName: 'simulation-during-drive' };
  const replaying = (async () => {
    // The SDK names each result's run (the runs are replayed one at a time, in the feed's order).
    for await (const result of Worker.runReplayHistories(options, feed())) {
      results.push([result.runId, result.workflowId, result.error ? String(result.error.message ?? result.error) : null]);
    }
  })();

  const timer = setInterval(() => void listClosed().catch(() => undefined), pollMs);
  onFinish = () => {
    clearInterval(timer);
    process.send?.({ type: 'facts', runs: runFacts });
    const duringDrive = results.length;
    const behind = queue.length;
    // Every run not replayed yet: those closed since the last list, and the open ones as their
    // histories stand now; the feed ends when they are done. A list that fails stops the feed
    // after the run in progress, and leaves what is still queued to the end's replay.
    Promise.all([listClosed(), list(OPEN_RUNS_QUERY)])
      .then(() => {
        drained = true;
        process.stderr.write(`the drive is over: ${duringDrive} runs replayed, ${behind} listed and not replayed yet, ${queue.length - behind} more listed now (closed since the last look, and the open ones)\n`);
      })
      .catch(() => (finishing = true))
      .finally(() => {
        wakeFeed?.();
        void replaying.finally(() => process.send?.({ type: 'done', results, duringDrive }, () => process.exit(0)));
      });
  };
  await replaying;
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`simulation replay process failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
