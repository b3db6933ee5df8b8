/**
 * The ceiling's workflow (bench/ceiling/index.ts): the least a workflow-per-order design does per
 * order. Started by update-with-start; the `debit` update's handler runs one local activity (the
 * debit transaction) and answers with its result; the workflow then ends.
 */
import { condition, defineUpdate, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { CeilingActivities, CeilingDebit } from './activities';

export const debitUpdate = defineUpdate<CeilingDebit, []>('debit');

const { ceilingDebit } = proxyLocalActivities<CeilingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

export async function ceilingWorkflow(input: { userId: number; amount: string; key: string }): Promise<CeilingDebit> {
  let answer: CeilingDebit | undefined;
  setHandler(debitUpdate, async () => {
    answer ??= await ceilingDebit(input);
    return answer;
  });
  await condition(() => answer !== undefined);
  return answer!;
}
