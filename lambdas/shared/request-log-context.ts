import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line may name of the request it was written in: the request's id (its answer's `x-request-id`) and tenant. */
export type RequestLogSource = { readonly requestId: string; readonly tenantId?: string };

/** The request being handled, named once its id is made (`nameRequestLog`). */
type Slot = { source?: RequestLogSource };

const current = new AsyncLocalStorage<Slot>();

/**
 * Runs `fn` as the handling of one request: a log line written anywhere below it (a provider, an SDK error mapper),
 * however many requests one process answers at once (`tessera serve`), can name that request with `requestLogKeys()`
 * once `nameRequestLog` has named it. Node's AsyncLocalStorage carries the request through every await and promise made
 * inside `fn`; Powertools' own `appendKeys` is per process outside a Lambda invocation store, so two concurrent requests
 * would name each other's ids. Source: https://nodejs.org/api/async_context.html#class-asynclocalstorage
 *
 * @param fn - the request's handling
 * @returns what `fn` returns
 */
export function withRequestLog<T>(fn: () => T): T {
  return current.run({}, fn);
}

/**
 * Names the request `withRequestLog` runs: `source` is read when a line is written, so a `tenantId` set on it once the
 * caller is authenticated (the gateway passes its audit record) is named from then on. Outside `withRequestLog`, nothing.
 *
 * @param source - the request's id and tenant
 */
export function nameRequestLog(source: RequestLogSource): void {
  const slot = current.getStore();
  if (slot) slot.source = source;
}

/**
 * The keys naming the request being handled, for a log line's keys: `{ requestId, tenantId }` (`tenantId` once known),
 * or `{}` outside a named request (a background sweep, a test calling a provider directly).
 */
export function requestLogKeys(): { requestId?: string; tenantId?: string } {
  const source = current.getStore()?.source;
  if (!source) return {};
  return { requestId: source.requestId, ...(source.tenantId ? { tenantId: source.tenantId } : {}) };
}
