// A thread of the shared-store exactness test (identity-limits.test.ts): on each message, a burst
// of one caller's admits or reservations against the SharedMemoryStore every thread shares.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';
import { burst, limitsCaller, limitsTenant } from './identity-limits-scenarios.js';

const { buffer, tenantIds } = workerData as { buffer: SharedArrayBuffer; tenantIds: string[] };
// The same tenants in the same order as every other thread: each tenant's slot is its index.
const store = new SharedMemoryStore(buffer, tenantIds.map(limitsTenant));
parentPort!.on('message', async ({ tenantId, kind, id, limits, step, n, userLimits }) => {
  parentPort!.postMessage(await burst(store, limitsCaller(tenantId, kind, id, limits), step, n, userLimits));
});
parentPort!.postMessage('ready');
