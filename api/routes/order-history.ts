// GET /orders/:id/history (support, admin): the order's timeline across all its workflow runs, as
// `npm run history` prints it; `?format=json` gives each run's raw history in the format
// `temporal workflow show --output json` writes (Worker.runReplayHistory reads it back).
import { Router } from 'express';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal as proto } from '@temporalio/proto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { fetchAllRuns } from '../../observability/history-fetch';
import { renderTimeline } from '../../observability/timeline';
import { orderWorkflowId } from '../../workflows/order-contract';
import { requireRole } from '../auth';
import { ApiError } from '../errors';
import type { ApiDeps } from '../app';

export function orderHistoryRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/:id/history', requireRole('support', 'admin'), async (req, res) => {
    const orderId = Number(req.params.id);
    if (!Number.isInteger(orderId) || orderId <= 0) {
      throw new ApiError(400, 'invalid_order_id', 'order id must be a positive integer', { field: 'params.id' });
    }
    res.locals.orderId = orderId;
    const workflowId = orderWorkflowId(orderId);
    let runs;
    try {
      runs = await fetchAllRuns(deps.temporal, workflowId);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ApiError(404, 'order_not_found', `order ${orderId} has no workflow`);
      throw error;
    }
    if (req.query.format === 'json') {
      res.json({
        orderId,
        workflowId,
        runs: runs.map((run) => ({
          runId: run.runId,
          history: JSON.parse(historyToJSON(proto.api.history.v1.History.create(run.history))) as unknown,
        })),
      });
      return;
    }
    res.json({ orderId, workflowId, runs: runs.length, timeline: renderTimeline(runs) });
  });
  return router;
}
