// action=balance → {"balance":"100.84292","currency":"USD"} (R-BALANCE: the internal balance).
import type { Action } from '../context';

export const balance: Action = async ({ deps, who, currency }) => ({
  balance: await deps.ledger.balanceOf(who.userId),
  currency,
});
