import type { Dispatcher, Pool } from 'undici';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import apiRequest from 'undici/lib/api/api-request.js';
import undiciUtil from 'undici/lib/core/util.js';
import undiciErrors from 'undici/lib/core/errors.js';

const { parseHeaders } = undiciUtil;
const { RequestAbortedError } = undiciErrors;

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

/** A whole answer read as text: status, headers as undici's `request` gives them, body decoded as UTF-8. */
export interface TextResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, UTF-8, a leading byte order mark removed (as undici's `body.text()` does). */
  text: string;
}

/**
 * One request whose answer is read whole (a non-streamed completion, embeddings, an error body):
 * the same as `request()` then `body.text()`, through `dispatch` with a plain handler, without the
 * Readable body stream, the async resource and the promise chain `request` builds for every call
 * (what a relay of whole answers does not use). Aborting `signal` aborts the request at any point,
 * before the connection, while waiting, or in the middle of the body.
 * @throws the request's error: the signal's reason (RequestAbortedError without one) when aborted,
 *   undici's error when the upstream cannot be reached or closes early
 */
export function poolText(pool: Pool, options: { method: Dispatcher.HttpMethod; path: string; headers: Record<string, string>; body: string; signal?: AbortSignal }): Promise<TextResponse> {
  return new Promise<TextResponse>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) return reject(signal.reason ?? new RequestAbortedError());
    const handler = new TextHandler(resolve, reject, signal);
    signal?.addEventListener('abort', handler, { once: true });
    pool.dispatch({ method: options.method, path: options.path, headers: options.headers, body: options.body }, handler as unknown as Dispatcher.DispatchHandler);
  });
}

/**
 * A whole answer; its headers are parsed (undici's parseHeaders, as `request()` gives them) when first
 * read: a relayed 2xx completion reads none of them (~0.8 µs a request in `tessera serve`'s profile).
 */
class WholeAnswer implements TextResponse {
  private parsed: TextResponse['headers'] | undefined;

  constructor(readonly statusCode: number, private readonly rawHeaders: Buffer[], readonly text: string) {}

  get headers(): TextResponse['headers'] {
    return (this.parsed ??= parseHeaders(this.rawHeaders) as TextResponse['headers']);
  }
}

/** undici's (legacy, still supported) handler interface for one whole answer, and the abort listener of its signal. */
class TextHandler {
  private abort: ((reason?: Error) => void) | undefined;
  private reason: Error | undefined;
  private statusCode = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];

  constructor(private readonly resolve: (r: TextResponse) => void, private readonly reject: (e: unknown) => void, private readonly signal: AbortSignal | undefined) {}

  /** The signal's `abort`: before the connection, remembered for onConnect; after it, the request is aborted. */
  handleEvent(): void {
    this.reason = (this.signal!.reason as Error | undefined) ?? new RequestAbortedError();
    this.abort?.(this.reason);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.reason) return abort(this.reason);
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: the answer is still to come
    this.statusCode = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.signal?.removeEventListener('abort', this);
    const { chunks } = this;
    let text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.resolve(new WholeAnswer(this.statusCode, this.rawHeaders, text));
  }

  onError(e: Error): void {
    this.signal?.removeEventListener('abort', this);
    this.reject(e);
  }
}
