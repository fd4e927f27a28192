import { withVary } from './cors.js';
import type { GatewayResponder } from './gateway.js';

/**
 * A request's responder with the CORS headers of its answer: every answer (whole, streamed,
 * empty, error) carries `Vary: Origin`, and `cors` (Access-Control-Allow-Origin ...) once the
 * gateway has set it from the caller's tenant. A class rather than closures over the request:
 * nothing is built per request but this object.
 */
export class CorsResponder implements GatewayResponder {
  /** The CORS headers of the answer (cors.ts actualResponseCors); none until the tenant is known. */
  cors: Record<string, string> = {};
  /**
   * The request's id, sent as `x-request-id` on every answer that does not set one itself (models,
   * usage, files, fine-tuning jobs, tenant keys and users, as chat and embeddings do), as OpenAI's
   * API does: the SDKs' `request_id` / `_request_id` of a successful answer. @default - none
   */
  requestId?: string;
  /**
   * When the gateway began the request (`performance.now()`): every answer carries
   * `openai-processing-ms`, the whole milliseconds from then until its head is sent (a stream's:
   * until the stream opens), as OpenAI's API sends it on every answer; the SDKs' raw response
   * headers (`.withResponse()`, `with_raw_response`) show it, and CORS exposes it. @default - none sent
   */
  started?: number;
  readonly signal: AbortSignal | undefined;
  readonly deadline: AbortSignal | undefined;
  readonly empty: GatewayResponder['empty'];
  readonly content: GatewayResponder['content'];

  constructor(private readonly raw: GatewayResponder) {
    this.signal = raw.signal;
    this.deadline = raw.deadline;
    this.empty = raw.empty ? this.emptyWithCors : undefined;
    this.content = raw.content ? this.contentWithCors : undefined;
  }

  private withCors(headers?: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    let vary: string | undefined; // the name a `Vary` header has in `headers`, in whatever case
    for (const k in headers) {
      out[k] = headers[k];
      if (vary === undefined && k.length === 4 && k.toLowerCase() === 'vary') vary = k;
    }
    for (const k in this.cors) out[k] = this.cors[k];
    if (this.requestId !== undefined && out['x-request-id'] === undefined) out['x-request-id'] = this.requestId;
    if (this.started !== undefined) out['openai-processing-ms'] = String(Math.round(performance.now() - this.started));
    // withVary on the copy made here (no second copy): Origin added unless listed (or `*`).
    if (vary === undefined) out.vary = 'Origin';
    else return withVary(out, 'Origin');
    return out;
  }

  json(status: number, body: string, headers?: Record<string, string>): void | Promise<void> {
    return this.raw.json(status, body, this.withCors(headers));
  }

  stream(headers?: Record<string, string>): ReturnType<GatewayResponder['stream']> {
    return this.raw.stream(this.withCors(headers));
  }

  private contentWithCors(status: number, body: string, contentType: string, headers?: Record<string, string>): void | Promise<void> {
    return this.raw.content!(status, body, contentType, this.withCors(headers));
  }

  private emptyWithCors(status: number, headers?: Record<string, string>): void | Promise<void> {
    return this.raw.empty!(status, this.withCors(headers));
  }
}
