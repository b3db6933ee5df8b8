/** The benchmark's workflow: three activities and one timer, the shape of a small order. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from './temporal-activities';

const { step } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export async function threeStepsAndATimer(name: string): Promise<string> {
  const a = await step(`${name}:a`);
  await sleep(100);
  const b = await step(`${name}:b`);
  const c = await step(`${name}:c`);
  return [a, b, c].join(',');
}
