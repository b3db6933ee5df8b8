/**
 * The workflows the provider-sync tests' worker runs: the real providerSyncWorkflow, and a stand-in
 * for the order workflow that keeps the order contract's side the sync talks to (id `order-<id>`, the
 * ORDER_MESSAGES.providerUpdate and refillUpdate signals, the ORDER_MESSAGES.state query) and records
 * what it receives.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { ORDER_MESSAGES } from '../../workflows/order-contract';
import type { ProviderUpdate, RefillUpdate } from '../../workflows/order-contract';

export * from '../../workflows/provider-sync-workflow';

export const providerUpdateSignal = defineSignal<[ProviderUpdate]>(ORDER_MESSAGES.providerUpdate);
export const receivedUpdatesQuery = defineQuery<ProviderUpdate[]>('receivedProviderUpdates');
export const refillUpdateSignal = defineSignal<[RefillUpdate]>(ORDER_MESSAGES.refillUpdate);
export const receivedRefillUpdatesQuery = defineQuery<RefillUpdate[]>('receivedRefillUpdates');
export const standInStateQuery = defineQuery<{ orderId: number; status: string; startCount: number | null; remains: number | null }>(
  ORDER_MESSAGES.state,
);
export const stopStandInSignal = defineSignal('stopStandIn');

/** Records every providerUpdate (and refillUpdate); its "status" follows the last update. Runs until told to stop. */
export async function orderStandIn(orderId: number): Promise<number> {
  const received: ProviderUpdate[] = [];
  const refills: RefillUpdate[] = [];
  let stop = false;
  setHandler(providerUpdateSignal, (update) => {
    received.push(update);
  });
  setHandler(refillUpdateSignal, (update) => {
    refills.push(update);
  });
  setHandler(receivedRefillUpdatesQuery, () => refills);
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
