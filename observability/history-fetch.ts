/**
 * Fetches every run of a workflow (following continue-as-new from the first run to the current
 * one) and exports histories in the JSON format `temporal workflow show --output json` writes,
 * which `Worker.runReplayHistory` and Temporal's own tools read back.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import type { RunHistory } from './timeline';

const CONTINUED_AS_NEW = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW;

/**
 * A handle's fetchHistory calls the service directly, so a missing workflow surfaces as a raw gRPC
 * NOT_FOUND rather than the client's WorkflowNotFoundError; callers (the API's 404, npm run history)
 * test for the latter.
 */
async function fetchHistory(client: Client, workflowId: string, runId?: string) {
  try {
    return await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === GrpcStatus.NOT_FOUND) {
      throw new WorkflowNotFoundError(error.details || 'workflow not found', workflowId, runId);
    }
    throw error;
  }
}

export async function fetchAllRuns(client: Client, workflowId: string): Promise<RunHistory[]> {
  const current = await fetchHistory(client, workflowId);
  const started = current.events?.[0]?.workflowExecutionStartedEventAttributes;
  let runId: string | null | undefined = started?.firstExecutionRunId || started?.originalExecutionRunId;
  // A current run that continued no other is the first run: its history is the one just fetched
  // (most workflows have one run; they are fetched once, not twice).
  let fetched = started && !started.continuedExecutionRunId ? current : null;
  const runs: RunHistory[] = [];
  // Walk forward from the first run; each continued run names the next. Bounded, as a safety net.
  for (let guard = 0; runId && guard < 10_000; guard += 1) {
    const history = fetched ?? (await fetchHistory(client, workflowId, runId));
    fetched = null;
    runs.push({ runId, history });
    const last = history.events?.[history.events.length - 1];
    runId = last?.eventType === CONTINUED_AS_NEW ? last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId : null;
  }
  return runs;
}

/** Writes one file per run: <dir>/<workflowId>.<n>.<runId>.json; returns the paths. */
export async function exportRuns(runs: RunHistory[], workflowId: string, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [index, run] of runs.entries()) {
    const path = join(dir, `${workflowId}.${index + 1}.${run.runId}.json`);
    await writeFile(path, historyToJSON(temporal.api.history.v1.History.create(run.history)));
    paths.push(path);
  }
  return paths;
}
