// A thread that reserves against a SharedMemoryStore as fast as it can (shared-memory-store.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMemoryStore } from '../../lambdas/inference/stores/shared-memory-store.js';

const { buffer, tenants, attempts, tokens, limits, at } = workerData;
const store = new SharedMemoryStore(buffer, tenants);
let admitted = 0;
for (let i = 0; i < attempts; i++) {
  try {
    const r = await store.reserve('t', tokens, 0, limits, new Date(at));
    await store.settle(r, tokens, 0);
    admitted++;
  } catch {
    // refused: the budget is spent
  }
}
parentPort!.postMessage(admitted);
