import { lifecycleHandler } from '../shared/handler.js';
import { organizationsClient } from '../shared/sessions.js';
import { processClosureQueue } from './account-closure.js';

/** Daily: closes queued accounts as the 30-day closure quota frees up. */
export const handler = lifecycleHandler('Process closure queue', async () => processClosureQueue(await organizationsClient()), { trackStep: false });
