/**
 * The replay during the drive, from the simulation's side: forks replay-process.ts (lowest CPU
 * priority) and, when the drive is over, has it replay every run left (open ones included) while
 * the simulation collects its facts, then asks it what it replayed. The end's replay (histories.ts
 * replayAll) then replays only the runs this did not; should the process fail, it replays them all.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ReplayResultEntry } from './replay-process';

export interface EarlyReplayResult {
  /** runId → the replay's error, or null when the run replayed. */
  byRunId: Map<string, { workflowId: string; error: string | null }>;
  /** How many of them were replayed before the drive ended (the rest while the facts were collected). */
  duringDrive: number;
}

export interface EarlyReplay {
  /**
   * The drive is over: the process replays every run not replayed yet, open ones included (as their
   * histories stand when it lists them), and answers what it replayed. After `timeoutMs` of real
   * time without an answer it is killed and nothing counts as replayed.
   */
  finish(timeoutMs?: number): Promise<EarlyReplayResult>;
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
  let finished: Promise<EarlyReplayResult> | null = null;
  return {
    finish(timeoutMs = 900_000) {
      finished ??= new Promise<EarlyReplayResult>((resolve) => {
        if (child.exitCode !== null || !child.connected) return resolve(empty());
        const timer = setTimeout(() => {
          options.log?.('the replay during the drive did not answer; the end replays every run');
          child.kill('SIGKILL');
          resolve(empty());
        }, timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(empty());
        });
        child.on('message', (message: { type?: string; results?: ReplayResultEntry[]; duringDrive?: number }) => {
          if (message?.type !== 'done') return;
          clearTimeout(timer);
          const results = message.results ?? [];
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
          resolve(empty());
        });
      });
      return finished;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
