/**
 * npm start — the whole engine on one machine, with embedded defaults (scripts/runtime/engine.ts; the
 * README's configuration table lists the variables). Prints a line as each part comes up, then the API
 * URL, the demo API key and a curl line that places an order. Ctrl-C (SIGINT) or SIGTERM stops every
 * part in order (API, worker, Temporal, simulator, PostgreSQL) and exits 0 (scripts/runtime/signals.ts).
 *
 * Two processes: this one only supervises; the engine runs in a child in its own process group. A
 * terminal's Ctrl-C goes to every process of the foreground group, and the embedded PostgreSQL (and
 * the Temporal dev server) would take it as "shut down now" while the worker still needs them. In its
 * own group, the engine gets the signal once, from here, and stops its parts in order.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { runEntryPoint } from './runtime/entry';

const CHILD_MARK = 'ENGINE_START_CHILD';

function engineProcess(): void {
  runEntryPoint('start', async ({ log, fail }) => {
    const began = Date.now();
    // The supervisor is gone (killed hard): stop as if told to.
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    const { startEngine } = await import('./runtime/engine');
    const { demoLines } = await import('./runtime/demo-text');
    const engine = await startEngine({ log, onFailure: fail });
    for (const line of demoLines(engine.apiUrl, engine.demo)) log(line);
    log(`ready in ${((Date.now() - began) / 1000).toFixed(1)} s: API ${engine.apiUrl} · Ctrl-C stops everything`);
    return engine.stop;
  });
}

function supervise(): void {
  // Same node, same flags (tsx's loader), same file, in a new process group.
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
    });
  }
  child.on('error', (error) => {
    console.error(`[start] could not start the engine process: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
}

if (process.env[CHILD_MARK] === '1') engineProcess();
else supervise();
