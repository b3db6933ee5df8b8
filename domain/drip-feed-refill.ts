/**
 * Refills of a drip-feed the engine runs (issue 12; R-REFILL-* on the delivered total): every run was
 * its own provider order, so one refill request becomes one provider refill per run order that
 * delivered something (its parts). Plain functions, no I/O: the order workflow decides with them.
 *
 * The request's status combines its parts':
 * - while any part is with the provider: `in_progress` once any part is in progress or completed,
 *   else `pending`;
 * - once none is: `completed` only when every part completed; otherwise the worst outcome, `failed`
 *   (a part the provider did not take: support may retry) before `rejected` (the provider declined a
 *   part). The reason names the run orders that were not refilled. Support's retry (R-REFILL-SUPPORT)
 *   sends again only the parts that did not complete and are not with the provider.
 */
import type { DripFeedProgress } from './drip-feed';
import { runDelivered } from './drip-feed';

type Status = 'pending' | 'in_progress' | 'completed' | 'rejected' | 'failed';

export interface PartLike {
  runIndex: number;
  status: Status;
  reason: string | null;
}

const inFlight = (s: Status) => s === 'pending' || s === 'in_progress';

/** The run orders a refill goes to: every run sent to the provider that delivered something. */
export function refillRunOrders(feed: DripFeedProgress): Array<{ runIndex: number; providerOrderId: string }> {
  return feed.list.flatMap((run) => (run.providerOrderId !== null && runDelivered(run) > 0 ? [{ runIndex: run.index, providerOrderId: run.providerOrderId }] : []));
}

/** The request's status and reason from its parts (see the file comment). */
export function combineRefillParts(parts: readonly PartLike[]): { status: Status; reason: string | null } {
  if (parts.length === 0) return { status: 'failed', reason: 'no run order delivered anything to refill' };
  if (parts.some((p) => inFlight(p.status))) {
    return { status: parts.some((p) => p.status === 'in_progress' || p.status === 'completed') ? 'in_progress' : 'pending', reason: null };
  }
  const notDone = parts.filter((p) => p.status !== 'completed');
  if (notDone.length === 0) return { status: 'completed', reason: null };
  const status: Status = notDone.some((p) => p.status === 'failed') ? 'failed' : 'rejected';
  const done = parts.length - notDone.length;
  const reason = `${done} of ${parts.length} run orders refilled; not refilled: ${notDone.map((p) => `run ${p.runIndex} (${p.status}${p.reason ? `: ${p.reason}` : ''})`).join('; ')}`;
  return { status, reason };
}
