/**
 * The replay during the drive, from the simulation's side: forks replay-process.ts (lowest CPU
 * priority) and, when the drive is over, takes the facts of every run it fetched (run-facts.ts), has
 * it replay every run left (open ones included) while the simulation collects the facts of the
 * rest, then asks it what it replayed. The end's replay (histories.ts replayAll) then replays only
 * the runs this did not; should the process fail, the end fetches and replays them all.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ReplayResultEntry } from './replay-process';
import type { RunFacts } from './run-facts';

export interface EarlyReplayResult {
  /** runId → the replay's error, or null when the run replayed. */
  byRunId: Map<string, { workflowId: string; error: string | null }>;
  /** How many of them were replayed before the drive ended (the rest while the facts were collected). */
  duringDrive: number;
}

export interface EarlyReplayFinish {
  /** The facts of every run whose history the process fetched so far (at once; none if it failed). */
  runFacts: Promise<RunFacts[]>;
  /** What it replayed, once it replayed every run left. */
  replayed: Promise<EarlyReplayResult>;
}

export interface EarlyReplay {
  /**
   * The drive is over: the process answers the facts of the runs it fetched, replays every run not
   * replayed yet, open ones included (as their histories stand when it lists them), and answers
   * what it replayed. After `timeoutMs` of real time without that answer it is killed and nothing
   * counts as replayed.
   */
  finish(timeoutMs?: number): EarlyReplayFinish;
  /** Ends the process at once (the world stops). */
  kill(): void;
}

export function startEarlyReplay(options: { temporalAddress: string; bundlePath: string; pollMs?: number; log?: (line: string) => void }): EarlyReplay {
  const child: ChildProcess = fork(join(__dirname, 'replay-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      SIM_TEMPORAL_ADDRESS: options.temporalAddress,
      SIM_BUNDLE_PATH: options.bundlePath,
      SIM_REPLAY_POLL_MS: String(options.pollMs ?? 10_000),
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr!.on('data', (chunk: Buffer) => options.log?.(`[replay ${child.pid}] ${chunk.toString().trimEnd()}`));
  // A failed fork or a message that cannot be sent: logged, never an uncaught error of the simulation.
  child.on('error', (error) => options.log?.(`[replay ${child.pid}] ${error.message}`));
  const empty = (): EarlyReplayResult => ({ byRunId: new Map(), duringDrive: 0 });
  let finished: EarlyReplayFinish | null = null;
  return {
    finish(timeoutMs = 900_000) {
      if (finished) return finished;
      let giveFacts: (facts: RunFacts[]) => void = () => undefined;
      const runFacts = new Promise<RunFacts[]>((resolve) => (giveFacts = resolve));
      const replayed = new Promise<EarlyReplayResult>((resolve) => {
        // Nothing replayed (the process failed, was killed, or never answered): no facts either.
        const nothing = () => {
          giveFacts([]);
          resolve(empty());
        };
        if (child.exitCode !== null || !child.connected) return nothing();
        const timer = setTimeout(() => {
          options.log?.('the replay during the drive did not answer; the end replays every run');
          child.kill('SIGKILL');
          nothing();
        }, timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          nothing();
        });
        child.on('message', (message: { type?: string; runs?: RunFacts[]; results?: ReplayResultEntry[]; duringDrive?: number }) => {
          if (message?.type === 'facts') return giveFacts(message.runs ?? []);
          if (message?.type !== 'done') return;
          clearTimeout(timer);
          const results = message.results ?? [];
          giveFacts([]);
          resolve({
            byRunId: new Map(results.map(([runId, workflowId, error]) => [runId, { workflowId, error }])),
            duringDrive: Math.min(message.duringDrive ?? 0, results.length),
          });
        });
        // A process already on its way out (it failed, or was killed) cannot take the message (EPIPE,
        // channel closed): nothing was replayed, and its exit follows.
        child.send({ type: 'finish' }, (error) => {
          if (!error) return;
          clearTimeout(timer);
          nothing();
        });
      });
      finished = { runFacts, replayed };
      return finished;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
