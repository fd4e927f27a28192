/**
 * A `fetch` for the official Node client (`new OpenAI({ fetch })`) that loses the answer to the first request `matches`
 * picks after the server has answered it: the answer's JSON body is read and kept, then the call fails as undici reports a
 * reset connection (`TypeError('fetch failed')` whose cause is `socket hang up`, code `ECONNRESET`). The client retries
 * it (a connection error: openai-node's retry, `x-stainless-retry-count: 1`); every later request goes through untouched.
 * @param matches which request's answer to lose: its URL as a string and its `init` (method, headers, body)
 * @returns `fetch` to give the client, and `lost()`: the lost answer's body (undefined until a request matched)
 */
export function lostAnswerFetch<T = { id: string }>(matches: (url: string, init?: RequestInit) => boolean): {
  fetch: (url: string | URL | Request, init?: RequestInit) => Promise<Response>;
  lost: () => T | undefined;
} {
  let lost: T | undefined;
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    const res = await globalThis.fetch(url, init);
    if (lost === undefined && matches(String(url), init)) {
      lost = (await res.json()) as T;
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }
    return res;
  };
  return { fetch, lost: () => lost };
}
