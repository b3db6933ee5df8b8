/**
 * Preloaded (`--require`) into the simulation's worker process, so that it runs in every thread of
 * it, the SDK's workflow thread included (worker threads inherit `--require`, not `--import`):
 * the workflow sandbox without its two debugging aids, which cost more than the workflows' own code.
 *
 * - No per-call watchdog: the worker is created with the SDK's "no timeout" (debugMode's
 *   4294967295 ms, worker-process.ts), and Node's watchdog thread for that bound is dropped
 *   (unbounded-vm-timeouts.ts). A workflow stuck in a loop would hold Temporal's clock instead of
 *   failing its task after 5 s; the drive's stuck check (5 minutes of real time) names it then.
 * - No per-promise stack capture (no-stack-capture.ts).
 *
 * The workflows, activities and every command they send are the engine's own; the engine's worker
 * (npm start) keeps both aids.
 */
import { dropPromiseStackCapture } from './no-stack-capture';
import { dropUnboundedVmTimeouts } from './unbounded-vm-timeouts';

dropUnboundedVmTimeouts();
dropPromiseStackCapture();
