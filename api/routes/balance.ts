// /balance: the caller's own balance (R-BALANCE: paid from the internal balance only).
import { Router } from 'express';
import type { ApiDeps } from '../app';
import { caller } from '../auth';

export function balanceRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const who = caller(req);
    res.json({ userId: who.userId, balance: await deps.ledger.balanceOf(who.userId) });
  });
  return router;
}
