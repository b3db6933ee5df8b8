// GET /metrics: Prometheus text. Open like a health check (counts only, no order data): scrape it
// from inside the deployment. Orders by status are read from the database at scrape time; the
// Temporal SDK's own metrics (workflow task and activity latencies) are appended when the worker
// exposes them (SDK_METRICS_URL: set by npm start; docker-compose.yml points the api at the worker).
import { Router } from 'express';
import type { PrismaClient } from '../../generated/prisma/client';
import { dispatchUncertainOldestAge, dispatchUncertainOrders, metricsText, ordersByStatus } from '../../observability/metrics';
import { ORDER_STATUSES } from '../../domain/order-status';

export function metricsRouter(prisma: PrismaClient, sdkMetricsUrl = process.env.SDK_METRICS_URL): Router {
  const router = Router();
  router.get('/', async (_req, res, next) => {
    try {
      const counts = await prisma.order.groupBy({ by: ['status'], _count: { _all: true } });
      for (const status of ORDER_STATUSES) ordersByStatus.set({ status }, 0);
      for (const row of counts) ordersByStatus.set({ status: row.status }, row._count._all);
      const uncertain = await prisma.order.aggregate({ where: { status: 'dispatch_uncertain' }, _count: { _all: true }, _min: { createdAt: true } });
      dispatchUncertainOrders.set(uncertain._count._all);
      const oldest = uncertain._min.createdAt;
      dispatchUncertainOldestAge.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
      res.type('text/plain; version=0.0.4').send(await metricsText(sdkMetricsUrl));
    } catch (error) {
      next(error);
    }
  });
  return router;
}
