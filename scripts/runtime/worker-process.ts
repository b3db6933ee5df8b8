/**
 * npm start's worker in a process of its own (scripts/worker.ts, the same entry point docker compose
 * runs), so the workflow activations, the activities and their database work take the second core
 * while this process serves the API (issue 15: one event loop for everything was the bottleneck).
 *
 * It reaches the same database and Temporal server by address. It counts as up once it printed its
 * "worker running" line; if it ends while the engine runs, onFailure hears of it (the engine stops,
 * as it did when the in-process worker failed). stop() sends SIGTERM and waits: the worker finishes
 * or cancels its running activities and closes its connections (SHUTDOWN_TIMEOUT_MS bounds it).
 * A Ctrl-C in a terminal reaches it directly too (same process group); it then stops by itself.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Stoppable } from './parts';

const READY = /\[worker\] worker running on namespace /;

export interface WorkerProcessOptions {
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  /** Each line the worker prints (its progress lines, its JSON logs). */
  output: (line: string) => void;
  onFailure: (error: unknown) => void;
}

/** How to run a .ts entry point the way this process runs: its own loader flags, else tsx's. */
export function typeScriptExecArgv(execArgv: string[] = process.execArgv): string[] {
  return execArgv.some((arg) => arg.includes('tsx')) ? execArgv : [...execArgv, '--import', 'tsx'];
}

export function startWorkerProcess(options: WorkerProcessOptions): Promise<Stoppable & { pid: number }> {
  const child = spawn(process.execPath, [...typeScriptExecArgv(), require.resolve('../worker')], {
    env: {
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stopping = false;
  let ready = false;
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      options.output(line);
      if (!ready && READY.test(line)) {
        ready = true;
        resolve({ pid: child.pid!, stop });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => options.output(line));
    child.once('error', (error) => (ready ? options.onFailure(error) : reject(error)));
    void exited.then(({ code, signal }) => {
      const error = new Error(`worker process exited (code ${code}, signal ${signal})`);
      if (!ready) reject(error);
      else if (!stopping) options.onFailure(error);
    });
  });

  async function stop(): Promise<void> {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const { code, signal } = await exited;
    // 0: stopped cleanly; 130: a second Ctrl-C reached it directly and it left at once.
    if (code !== 0 && code !== 130 && signal === null) throw new Error(`worker process exited with code ${code} while stopping`);
  }
}
