/**
 * The workflows the provider-sync tests' worker runs: the real providerSyncWorkflow, and a stand-in
 * for the order workflow that keeps the order contract's side the sync talks to (id `order-<id>`, the
 * ORDER_MESSAGES.providerUpdate signal, the ORDER_MESSAGES.state query) and records what it receives.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { ORDER_MESSAGES } from '../../workflows/order-contract';
import type { ProviderUpdate } from '../../workflows/order-contract';

export * from '../../workflows/provider-sync-workflow';

export const providerUpdateSignal = defineSignal<[ProviderUpdate]>(ORDER_MESSAGES.providerUpdate);
export const receivedUpdatesQuery = defineQuery<ProviderUpdate[]>('receivedProviderUpdates');
export const standInStateQuery = defineQuery<{ orderId: number; status: string; startCount: number | null; remains: number | null }>(
  ORDER_MESSAGES.state,
);
export const stopStandInSignal = defineSignal('stopStandIn');

/** Records every providerUpdate; its "status" follows the last update. Runs until told to stop. */
export async function orderStandIn(orderId: number): Promise<number> {
  const received: ProviderUpdate[] = [];
  let stop = false;
  setHandler(providerUpdateSignal, (update) => {
    received.push(update);
  });
  setHandler(stopStandInSignal, () => {
    stop = true;
  });
  setHandler(receivedUpdatesQuery, () => received);
  setHandler(standInStateQuery, () => {
    const last = received[received.length - 1];
    return { orderId, status: last?.status ?? 'pending', startCount: last?.startCount ?? null, remains: last?.remains ?? null };
  });
  await condition(() => stop);
  return received.length;
}
