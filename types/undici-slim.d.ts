// undici's Pool and its request() API, imported from the files that define them so a bundle
// does not carry fetch, WebSocket, the cache and the proxy agents (see providers/undici-pool.ts).
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
// The header parser and the abort error that request() uses (providers/undici-pool.ts poolText).
declare module 'undici/lib/core/util.js' {
  const util: { parseHeaders(headers: Buffer[], obj?: Record<string, string | string[]>): Record<string, string | string[]> };
  export default util;
}
declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';
  const all: { RequestAbortedError: typeof errors.RequestAbortedError };
  export default all;
}
