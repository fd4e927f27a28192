import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayResponder } from './gateway.js';
import { AUDIO_UPLOAD_BYTES, isAudioUpload, isImageForm, type Gateway } from './gateway.js';
import { GatewayError } from './openai-errors.js';
import { SseWriter } from './sse-writer.js';
import { CallerGone } from './upstream-calls.js';
import { MAX_UPLOAD_BODY_BYTES } from '../fine-tuning/files-service.js';
import { isUploadPart } from '../fine-tuning/fine-tuning-routes.js';
import { SERVE_MAX_PART_BODY_BYTES } from '../fine-tuning/uploads-service.js';
import { repeatedNames, repeatedValues } from './query-parameters.js';
import { repeatedHeaderNames } from './repeated-headers.js';

/**
 * The gateway on a loopback HTTP server (`tessera serve`): the same authorizer and router code as
 * in Lambda, behind node:http. Bodies over `maxBytes` are cut off with a 413 without buffering them.
 */
export function startLocalServer(gateway: Gateway, options: { port: number; host?: string; maxBytes: number; reusePort?: boolean }): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    const { path, query, repeatedQuery, queryValues } = requestTarget(req.url);
    // A file upload (POST /v1/files) has its own, larger limit, checked by the Files API.
    const route = path.replace(/\/+$/, '');
    const maxBytes = req.method === 'POST' && route === '/v1/files' ? Math.max(options.maxBytes, MAX_UPLOAD_BODY_BYTES)
      // An upload's part (client.uploads.parts.create): OpenAI's 64 MB parts, checked by the Uploads API.
      : isUploadPart(req.method ?? '', route) ? Math.max(options.maxBytes, SERVE_MAX_PART_BODY_BYTES)
      // An audio upload (client.audio.transcriptions / translations) or an image edit or variation has its own limit, checked by its endpoint.
      : isAudioUpload(req.method ?? '', route) || isImageForm(req.method ?? '', route) ? Math.max(options.maxBytes, AUDIO_UPLOAD_BYTES) : options.maxBytes;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes + 1) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const responder = new LocalResponder(res);
      const headers = singleValueHeaders(req.headersDistinct);
      // The size of a body not buffered is the bytes counted (a chunked body has no content-length): the 413 names it.
      if (tooBig) headers['content-length'] = String(size);
      // A body past the limit is passed on as an over-limit placeholder: the gateway answers 413.
      const bytes = tooBig ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const body = bytes ? bytes.toString('utf8') : ' '.repeat(maxBytes + 1);
      gateway.handle({ method: req.method ?? 'GET', path, query, repeatedQuery, queryValues, headers, repeatedHeaders: repeatedHeaderNames(req.headersDistinct), body, bytes }, responder).catch((e) => {
        if (e instanceof CallerGone) return; // a preflight whose caller left: nothing to answer
        // A failure of the gateway itself (a defect): a 500 `internal_error`, as the gateway answers its
        // own defects (openai-errors.ts internalError), not a 502, which says an upstream failed.
        if (!res.headersSent) {
          const body = new GatewayError(500, 'internal error (tessera serve could not answer the request; its log has the cause)', 'server_error', 'internal_error').body();
          res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
        }
        console.error(e);
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  // reusePort (Linux SO_REUSEPORT): several threads listen on one port and the kernel spreads connections.
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host ?? '127.0.0.1', reusePort: options.reusePort ?? false }, () => resolve(server));
  });
}

/**
 * The gateway's responder for one node:http response: whole answers in one `end`, streams through
 * an SseWriter. A class, so that a request builds one object and one AbortController, no closures.
 */
class LocalResponder implements GatewayResponder {
  /** Aborted when the caller leaves before the answer ended (not on the normal end): cancels the upstream call. */
  readonly signal: AbortSignal;
  private readonly gone = new AbortController();
  /** A whole answer's body bytes, or the stream that counts its own (sentBytes). */
  private bytes = 0;
  private sse: SseWriter | undefined;

  constructor(private readonly res: ServerResponse) {
    this.signal = this.gone.signal;
    (res as ClosingResponse)[GONE] = this.gone;
    res.on('close', onResponseClose); // emitted once; one shared listener, no closure per request
  }

  /**
   * Whether the caller is gone: it left, or its connection was closed (serve's stop closes every
   * connection); the response's `close`, which aborts `signal`, may not have run yet.
   */
  private callerGone(): boolean {
    if (this.res.socket?.destroyed && !this.gone.signal.aborted) this.gone.abort();
    return this.gone.signal.aborted;
  }

  /** @throws CallerGone when nobody is there to answer (recorded as cancelled, never as delivered) */
  json(status: number, body: string, headers?: Record<string, string>): void {
    const res = this.res;
    if (res.headersSent) return void res.end(); // an error after a stream began: the stream carried it
    if (this.callerGone()) throw new CallerGone();
    this.bytes = Buffer.byteLength(body);
    res.writeHead(status, withHeaders(headers, 'application/json', this.bytes)).end(body);
  }

  /** @throws CallerGone when nobody is there to answer */
  content(status: number, body: string | Uint8Array, contentType: string, headers?: Record<string, string>): void {
    if (this.callerGone()) throw new CallerGone();
    this.bytes = Buffer.byteLength(body);
    this.res.writeHead(status, withHeaders(headers, contentType, this.bytes)).end(body);
  }

  /** @throws CallerGone when nobody is there to answer */
  empty(status: number, headers: Record<string, string> = {}): void {
    if (this.callerGone()) throw new CallerGone();
    this.res.writeHead(status, headers).end();
  }

  /** @throws CallerGone when nobody is there to answer */
  stream(headers: Record<string, string> = {}): SseWriter {
    if (this.callerGone()) throw new CallerGone();
    this.res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.res.flushHeaders();
    // The events of one turn of the event loop go out as one write; a slow reader is waited for.
    return (this.sse = new SseWriter(this.res));
  }

  /** The answer's body bytes written: a whole answer's, or a stream's so far (its events, not the chunked framing). */
  sentBytes(): number {
    return this.sse ? this.sse.bytes : this.bytes;
  }

  /** The status sent, once the head was: a stream's 200 even when it ended with an error event. */
  sentStatus(): number | undefined {
    return this.res.headersSent ? this.res.statusCode : undefined;
  }
}

const GONE = Symbol('tessera.callerGone');
type ClosingResponse = ServerResponse & { [GONE]?: AbortController };

/** A response's `close` (`this`: the response): the caller left before the answer ended (not the normal end). */
function onResponseClose(this: ClosingResponse): void {
  if (!this.writableFinished) this[GONE]?.abort();
}

/**
 * `headers` and a whole answer's Content-Type and Content-Length as node's writeHead takes a flat
 * list (`[name, value, ...]`: no object copied per answer); a Content-Type or Content-Length in
 * `headers` is replaced by these, as `{ ...headers, 'content-type': ..., 'content-length': ... }` did.
 */
function withHeaders(headers: Record<string, string> | undefined, type: string, length: number): string[] {
  const list: string[] = [];
  for (const k in headers) if (k !== 'content-type' && k !== 'content-length') list.push(k, headers[k]);
  list.push('content-type', type, 'content-length', String(length));
  return list;
}

/**
 * The request target's path and query as the deployed router gets them: API Gateway REST passes
 * `event.path` as the client sent it (percent-encoding kept, so `%2e%2e` is text of the segment,
 * and under `/v1/models/{proxy+}` part of the model id) and `queryStringParameters` decoded (the
 * last value of a repeated name). WHATWG URL parsing, which this used, resolves dot segments and
 * their encodings (`%2e%2e`, `.%2e`, `%2e`), reads `\` as `/` and a leading `//` as an authority:
 * `GET /v1/models/%2e%2e/usage` was routed as `/v1/usage`, where the router Lambda answers 404
 * `model_not_found`. An absolute-form target (`http://host/v1/models`, RFC 9112 §3.2.2) keeps the
 * path after its authority. No URL object is built: the path is a slice of `url`.
 * The query is split at `&` and at a plain `;`, as API Gateway REST splits it ("The semicolon character (;) is not
 * supported for any request URL query string and results in the data being split": developer guide, "Amazon API
 * Gateway important notes for REST APIs"); until 2026-12-07 serve kept `a;b` one value, so a hand-written
 * `?group_by=model;bucket_width=1d` answered here and was another request deployed. An encoded `%3B` is the value's.
 * `repeatedQuery`: the names given more than once (API Gateway's `multiValueQueryStringParameters` has each value);
 * `queryValues`: each such name's values in order, present only when a name is repeated.
 * @param url the request target of node:http's `req.url` @default '/'
 */
export function requestTarget(url = '/'): { path: string; query: Record<string, string>; repeatedQuery: string[]; queryValues?: Record<string, string[]> } {
  const end = url.search(/[?#]/);
  let path = end < 0 ? url : url.slice(0, end);
  const authority = ABSOLUTE_FORM.exec(path);
  if (authority) path = path.slice(authority[0].length) || '/';
  if (end < 0 || url[end] === '#') return { path, query: {}, repeatedQuery: [] };
  const hash = url.indexOf('#', end);
  const search = url.slice(end + 1, hash < 0 ? undefined : hash);
  if (!search) return { path, query: {}, repeatedQuery: [] };
  const params = new URLSearchParams(search.replace(/;/g, '&'));
  const repeatedQuery = repeatedNames(params);
  return { path, query: Object.fromEntries(params), repeatedQuery, ...(repeatedQuery.length ? { queryValues: repeatedValues(params) } : {}) };
}
/** The scheme and authority of an absolute-form request target (RFC 3986 §3: `scheme://authority`). */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/;


/**
 * A request's headers as API Gateway REST hands them to a Lambda proxy integration and a REQUEST
 * authorizer in `headers`: names in lower case, one value each, the LAST of a repeated header (all
 * values go to `multiValueHeaders`, which the gateway reads only for the names repeated: GatewayRequest
 * `repeatedHeaders`). Node's `req.headers` keeps the
 * FIRST `Authorization` (and drops the others) and joins most other repeated headers with ", ", so a
 * request with two `Authorization` headers was authorized with one key by `tessera serve` and with the
 * other in AWS. Sources: AWS's "Lambda proxy integrations" (single-value `headers` beside
 * `multiValueHeaders`); observed `headers` = the last value (AWS Compute Blog "Support for multi-value
 * parameters in Amazon API Gateway", 2018, and the REST API event captured in
 * https://gist.github.com/metaskills/55f9e3c7e205f6dc9db2f2a1bcd3d289).
 * @param distinct `IncomingMessage.headersDistinct`: every value of every header, in order
 */
export function singleValueHeaders(distinct: Record<string, string[] | undefined>): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const k in distinct) {
    const v = distinct[k]?.at(-1);
    // A header named __proto__ stays a header, as Object.fromEntries kept it.
    if (k === '__proto__') Object.defineProperty(headers, k, { value: v, enumerable: true, writable: true, configurable: true });
    else headers[k] = v;
  }
  return headers;
}
