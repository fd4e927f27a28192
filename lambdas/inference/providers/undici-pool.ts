import type { Dispatcher, Pool } from 'undici';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import apiRequest from 'undici/lib/api/api-request.js';

/**
 * undici's keep-alive Pool and request(), taken from the two files that define them. The package
 * entry also pulls in fetch, WebSocket, EventSource, the cache and the proxy agents: 524 KiB
 * minified against 284 KiB for these two, which keeps the router bundle under 1 MB.
 */
export function createPool(origin: string, options: Pool.Options): Pool {
  return new PoolClass(origin, options);
}

export function poolRequest(pool: Pool, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(pool, options);
}
