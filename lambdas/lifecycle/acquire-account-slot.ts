import { acquireSlot } from '../shared/control-table.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { LifecycleState } from './state.js';

/**
 * Takes one of the organization-wide account-creation slots (default 5: Control Tower and
 * Organizations allow five concurrent account operations). When none is free, the state machine
 * waits and asks again: extra requests queue instead of failing.
 */
export const handler = lifecycleHandler('Acquire account slot', async (state: LifecycleState) => {
  const cap = numberEnv(ENV.accountCreationCap, 5);
  return { acquired: await acquireSlot(state.request.tenantId, cap), cap };
});
