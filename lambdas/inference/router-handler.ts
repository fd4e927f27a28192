import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';
import { handleBatchQueue, isSqsEvent } from './batches/queue-handler.js';
import { answerOptions, type GatewayResponder } from './gateway.js';
import { lambdaCorsOrigins } from './lambda-cors.js';
import { lambdaDeadline, streamIdleDeadline, type RemainingTime } from './lambda-deadline.js';
import { batchesServed, lambdaBackgroundWorker, lambdaBatchWorker, lambdaGateway, lambdaVectorStoreProcessing, vectorStoresServed } from './lambda-deps.js';
import { loadTokenizer } from './token-count.js';
import { repeatedOf, repeatedValuesOf } from './query-parameters.js';
import { repeatedHeaderNames } from './repeated-headers.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

// During init (boosted CPU, not billed to a request): the tokenizer's ranks, ~150 ms.
loadTokenizer().catch(() => undefined);

/**
 * The router Lambda: API Gateway (REST, `responseTransferMode: STREAM`) → Lambda response
 * streaming → the gateway. `awslambda` is the Lambda Node.js runtime's global.
 */
declare const awslambda: {
  streamifyResponse(fn: (event: APIGatewayProxyEvent | SQSEvent, stream: NodeJS.WritableStream, context: Context) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: NodeJS.WritableStream, meta: { statusCode: number; headers: Record<string, string> }): NodeJS.WritableStream };
};

/**
 * How long an open event stream may go without a write before the responder writes an SSE comment (`: keep-alive`), in
 * ms: well within API Gateway's idle limit of a streamed answer (lambda-deadline.ts STREAM_IDLE_TIMEOUT_MS, 5 minutes),
 * so that a stream whose upstream is alive but sends nothing the caller gets (a Bedrock model's thinking, which is not
 * relayed; an upstream's own keep-alive comments) is not ended by API Gateway, or by the router's idle deadline before
 * it. The official clients' SSE decoders skip comment lines (WHATWG HTML, "Server-sent events": a line that starts
 * with a colon is ignored), as they skip the background responses' (responses/background-events.ts).
 */
export const SSE_KEEP_ALIVE_MS = 60_000;

/**
 * The gateway's responder on a Lambda response stream.
 * @param deadline aborted when the answer must end (lambda-deadline.ts): passed on to the gateway, and a write
 *   waiting for a slow reader stops waiting then, so that the stream can end and the reservation be settled
 *   @default - none
 * @param wrote called at each write on the stream (the idle deadline's `touch`: lambda-deadline.ts streamIdleDeadline)
 *   @default - none
 */
export function responderFor(raw: NodeJS.WritableStream, deadline?: AbortSignal, wrote?: () => void): GatewayResponder {
  // Lambda closes the response stream when API Gateway's client disconnects: that cancels the upstream call.
  const gone = new AbortController();
  let ended = false;
  const onGone = () => { if (!ended) gone.abort(); };
  raw.once('close', onGone);
  raw.once('error', onGone);
  const open = (statusCode: number, headers: Record<string, string>) => awslambda.HttpResponseStream.from(raw, { statusCode, headers });
  let opened: NodeJS.WritableStream | undefined;
  // The runtime writes the prelude (status, headers) before the stream's first write only: an end() without one sends
  // none, and API Gateway gets no status (aws/aws-lambda-nodejs-runtime-interface-client#97). An answer without a
  // body (a 204, a stream that produced no event) is sent with one empty write first.
  let written = false;
  let keepAlive: ReturnType<typeof setTimeout> | undefined;
  const put = (s: NodeJS.WritableStream, chunk: string | Buffer) => { written = true; wrote?.(); return s.write(chunk); };
  const finish = (s: NodeJS.WritableStream) => {
    clearTimeout(keepAlive);
    if (!written) put(s, '');
    ended = true;
    s.end();
  };
  // An open event stream that has had no write for SSE_KEEP_ALIVE_MS gets a comment line (none once it ended or its caller left).
  const keepAliveAfterWrite = (s: NodeJS.WritableStream) => {
    clearTimeout(keepAlive);
    keepAlive = setTimeout(() => {
      if (ended || gone.signal.aborted) return;
      put(s, ': keep-alive\n\n');
      keepAliveAfterWrite(s);
    }, SSE_KEEP_ALIVE_MS);
    keepAlive.unref?.();
  };
  return {
    signal: gone.signal,
    deadline,
    json(status, body, headers = {}) {
      if (opened) return finish(opened); // an error after a stream began: the stream carried it
      const s = (opened = open(status, { ...headers, 'content-type': 'application/json' }));
      put(s, body);
      finish(s);
    },
    // A whole answer that is not JSON (speech's audio): its bytes as they are. On the response stream API Gateway
    // passes them on unchanged, whatever the request's Accept (a streamed proxy integration converts no binary media).
    content(status, body, contentType, headers = {}) {
      if (opened) return finish(opened);
      const s = (opened = open(status, { ...headers, 'content-type': contentType }));
      put(s, typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      finish(s);
    },
    empty(status, headers = {}) {
      if (opened) return finish(opened);
      finish((opened = open(status, headers)));
    },
    stream(headers = {}) {
      const s = (opened = open(200, { ...headers, 'content-type': 'text/event-stream' }));
      keepAliveAfterWrite(s);
      // A slow reader is waited for (the upstream is read no faster than API Gateway takes the stream).
      // Not past the deadline: what is written then stays in the stream's buffer for the runtime to send.
      return {
        write: (event) => {
          keepAliveAfterWrite(s);
          return put(s, event) || deadline?.aborted ? undefined : drained(s, deadline);
        },
        end: () => finish(s),
      };
    },
  };
}

/** Resolves when `s` drained or closed, or `deadline` came. */
function drained(s: NodeJS.WritableStream, deadline: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((ok) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      deadline?.removeEventListener('abort', done);
      ok();
    };
    s.once('drain', done);
    s.once('close', done);
    deadline?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The gateway path of a REST API event: `event.path` without a stage or base-path prefix. API
 * Gateway REST passes `path` as the client sent it, still percent-encoded (a model id's `%2F`
 * stays `%2F`), while `pathParameters.proxy` is decoded; the gateway routes on the encoded path
 * and decodes ids itself (endpoints/models.ts), so `GET /v1/models/{proxy+}` reads both forms.
 */
export const gatewayPath = (event: Pick<APIGatewayProxyEvent, 'path'>) => event.path.replace(/^\/[^/]+(?=\/v1\/)/, '');

/**
 * The router's invocation: a preflight from the origin index, anything else through the gateway,
 * with the invocation's deadline (lambda-deadline.ts: the Lambda's remaining time less
 * SETTLE_MARGIN_MS) so that a request still running then is stopped and settled, not cut by the runtime; and, the
 * earlier when it comes first, the response stream's idle deadline (streamIdleDeadline: API Gateway ends a stream that
 * sends nothing for 5 minutes), moved on by each write.
 * An SQS event (the Batch API's work queue, the background responses' or the vector store files', each an event source
 * mapping with `ReportBatchItemFailures`) runs its batch chunks, background responses or vector store files (batches/queue-handler.ts) and answers `{"batchItemFailures": [...]}` as the invocation's payload (the
 * stream's bytes, without an HTTP prelude: the mapping invokes the function, not a URL or API Gateway).
 */
export const handler = awslambda.streamifyResponse(async (event, raw, context) => {
  // The invocation's Lambda context on the gateway's log lines (function_request_id, function_name, cold_start...).
  if (context) logger.addContext(context);
  if (isSqsEvent(event)) {
    const answer = await handleBatchQueue(event, context, lambdaBatchWorker, { responses: lambdaBackgroundWorker, vectorStoreFiles: lambdaVectorStoreProcessing });
    raw.write(JSON.stringify(answer));
    raw.end();
    return;
  }
  return apiEvent(event as APIGatewayProxyEvent, raw, context);
});

/** An API Gateway event (handler). */
async function apiEvent(event: APIGatewayProxyEvent, raw: NodeJS.WritableStream, context: RemainingTime): Promise<void> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
  // A preflight (API Gateway's OPTIONS methods have no authorizer) is answered from the origin index alone.
  // The router answers the preflights of its resources; on /v1/models/{proxy+} the fine-tuning Lambda (always deployed
  // beside it: lib/platform-stack.ts) serves DELETE, so the preflight lists it too (routes.ts FINE_TUNING_ROUTES).
  if (event.httpMethod === 'OPTIONS') return answerOptions({ path: gatewayPath(event), headers }, responderFor(raw), lambdaCorsOrigins(), { fineTuning: true, batches: batchesServed(), vectorStores: vectorStoresServed() });
  // A binary media type's body (multipart/form-data: an audio upload) arrives base64-encoded: its bytes go on as they came.
  const bytes = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const body = bytes ? bytes.toString('utf8') : (event.body ?? undefined);
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? undefined]));
  const deadline = lambdaDeadline(context);
  const idle = streamIdleDeadline();
  try {
    await (await lambdaGateway()).handle({ method: event.httpMethod, path: gatewayPath(event), headers, body, bytes, query, repeatedQuery: repeatedOf(event.multiValueQueryStringParameters), queryValues: repeatedValuesOf(event.multiValueQueryStringParameters), repeatedHeaders: repeatedHeaderNames(event.multiValueHeaders) }, responderFor(raw, AbortSignal.any([deadline.signal, idle.signal]), idle.touch));
  } finally {
    deadline.dispose();
    idle.dispose();
  }
}
