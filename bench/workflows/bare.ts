// A workflow that does nothing but answer a check-in update: the baseline of what Temporal and the
// SDK cost per workflow and per round trip. Bundled alone (memory) or beside the pathway (overhead).
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

/** Same name and payload as the pathway's check-in, so only the handler differs. */
const bareUpdate = defineUpdate<void, [unknown]>('CHECKIN.RECORD');

export async function bareCase(): Promise<void> {
  setHandler(bareUpdate, () => {});
  await condition(() => false);
}
