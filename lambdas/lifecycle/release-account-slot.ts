import { releaseSlot } from '../shared/control-table.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { LifecycleState } from './state.js';

/** Gives the account-creation slot back once Organizations has finished with the account. */
export const handler = lifecycleHandler('Release account slot', async (state: LifecycleState) => {
  await releaseSlot(state.request.tenantId);
  return { released: true };
});
