/**
 * The one way tests get a Temporal server (see README, "Temporal for tests"):
 *   1. TEMPORAL_ADDRESS=host:port         → that real server (no time skipping);
 *   2. TEMPORAL_TEST_SERVER_PATH=/path    → Temporal's official time-skipping test server binary,
 *                                            started through the SDK's `existing-path` option;
 *   3. otherwise                          → our in-memory server (temporal-server), time-skipping.
 * Every workflow and API test uses this helper, so the same test files run unchanged on all three.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { startInMemoryTemporalServer } from '../../temporal-server';
import type { InMemoryTemporalServer } from '../../temporal-server';
import { temporalKindFromEnvironment } from './temporal-kind';
import type { TemporalKind } from './temporal-kind';

export { describeTemporalKind, temporalKindFromEnvironment } from './temporal-kind';
export type { TemporalKind } from './temporal-kind';

export interface TestTemporal {
  env: TestWorkflowEnvironment;
  kind: TemporalKind;
  address: string;
  /** Whether this server implements ListWorkflowExecutions (the official test server does not). */
  supportsVisibility: boolean;
  teardown(): Promise<void>;
}

let runtimeInstalled = false;
/** Worker logs at WARN and above: test output stays readable, failures still show. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN') ?? 'WARN') });
  } catch {
    // Already installed by another helper in this process: keep it.
  }
}

export async function startTestTemporal(): Promise<TestTemporal> {
  installQuietRuntime();
  const kind = temporalKindFromEnvironment();
  if (kind === 'real-server') {
    const address = process.env.TEMPORAL_ADDRESS!;
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    });
    return { env, kind, address, supportsVisibility: true, teardown: () => env.teardown() };
  }
  if (kind === 'official-test-server') {
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
    });
    return { env, kind, address: env.address, supportsVisibility: false, teardown: () => env.teardown() };
  }
  const server = await startInMemoryTemporalServer();
  const env = await connectTimeSkippingEnvironment(server);
  return {
    env,
    kind,
    address: server.address,
    supportsVisibility: true,
    teardown: async () => {
      await env.teardown();
      await server.shutdown();
    },
  };
}

/**
 * The SDK builds its time-skipping environment with TestWorkflowEnvironment.create (public in
 * JavaScript, marked private in its typings); createTimeSkipping() is that call plus a download.
 * We make the same call against our own server, so tests get the SDK's own TimeSkippingClient.
 */
async function connectTimeSkippingEnvironment(server: InMemoryTemporalServer): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as {
    create(options: object): Promise<TestWorkflowEnvironment>;
  }).create.bind(TestWorkflowEnvironment);
  return create({
    server: { type: 'existing' },
    address: server.address,
    namespace: 'default',
    supportsTimeSkipping: true,
  });
}

/** Where global-setup wrote the engine's workflows (workflows/), bundled once for the whole run. */
export const SHARED_BUNDLE_ENV = 'TEST_WORKFLOW_BUNDLE_PATH';
const ENGINE_WORKFLOWS = require.resolve('../../workflows');

const bundles = new Map<string, Promise<WorkflowBundle>>();
/**
 * Workflow code for a test's worker. The engine's workflows come from the bundle global-setup made
 * for the whole run (jest gives every test file fresh modules, so a per-process cache would bundle
 * them again in each file: 1.5–3 s of webpack each); other workflow files are bundled once per file.
 */
export function bundleWorkflows(workflowsPath: string): Promise<WorkflowBundle> {
  const shared = process.env[SHARED_BUNDLE_ENV];
  if (shared && workflowsPath === ENGINE_WORKFLOWS) return Promise.resolve({ code: readFileSync(shared, 'utf8') });
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    const quiet = new DefaultLogger('WARN');
    bundle = bundleWorkflowCode({ workflowsPath, logger: quiet });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED' → 'WorkflowTaskScheduled': how tests name history events. */
export function eventName(eventType: number | null | undefined): string {
  const raw = temporal.api.enums.v1.EventType[eventType ?? 0] ?? String(eventType);
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

export function eventNames(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).map((event) => eventName(event.eventType));
}
