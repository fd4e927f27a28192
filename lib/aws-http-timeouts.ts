/**
 * The HTTP timeouts of every AWS SDK client Tessera makes, per kind of use, in milliseconds. The
 * Lambdas' clients get them from aws-clients.ts (one shared handler per kind: lambdas/shared/http-handlers.ts
 * `httpHandler`); the statements' Cost Explorer client and the CLI's own clients take the `control`
 * ones (the CLI as handler options: this module imports nothing, so a CLI command loads no SDK code
 * it does not use).
 *
 * Before them every client had the SDK's `legacy` defaults (no AWS_DEFAULTS_MODE): no timeout at
 * all. A connection that hangs (a half-open keep-alive socket that gets no answer, a blackholed
 * endpoint whose SYNs go unanswered) held the call until the kernel gave up (about 2 minutes for a
 * connect, up to 15 for a silent socket) or the Lambda's own timeout ended the invocation: a
 * tenant's gateway request waited for its timeout with its reservation held, a lifecycle step for
 * its Lambda's and then its state machine's retry.
 *
 * What each setting bounds (NodeHttpHandler of @smithy/node-http-handler 4.14.2, dist-cjs/index.js):
 * - `connectionTimeout`: from the attempt's start until its TCP connection is made, waiting for a
 *   free socket of the keep-alive pool (50 per endpoint) included; a reused socket ends it at once.
 *   Not the TLS handshake, which `socketTimeout` covers.
 * - `socketTimeout`: no byte on the socket, in either direction, for that long, from the connection
 *   to the end of the response body. For values of 6 s or more the handler arms it 3 s after the
 *   attempt starts (`DEFER_EVENT_LISTENER_TIME`), so a socket silent from the start is ended after
 *   up to 3 s more than the value. In the handler's earlier versions (a Lambda runtime's own, which
 *   the functions load: @smithy/* is left out of their bundles, sdkV3ExcludeSmithyPackages) the same
 *   option was the deprecated alias of `requestTimeout`, then this same inactivity timeout.
 * - `requestTimeout` is left unset: in this handler it is a total time to the response's headers,
 *   and without `throwOnRequestTimeout` only logs a warning (it was long an inactivity timeout,
 *   which `socketTimeout` now is). A total would cut an S3 transfer or a generation that is making
 *   progress; inactivity is what a hung connection shows.
 * Each ends the attempt with an error named `TimeoutError`, which the SDK's retry sends again:
 * @smithy/core 3.41.0 (dist-cjs/submodules/retry/index.js) lists it in TRANSIENT_ERROR_CODES
 * ("TimeoutError", "RequestTimeout", "RequestTimeoutException"), `getRetryErrorType` classes it
 * TRANSIENT, and StandardRetryStrategy retries TRANSIENT up to the client's `maxAttempts` (3 here,
 * aws-clients.ts), 50 ms base backoff, 14 of the client's 500 retry tokens a retry. A write sent
 * again may have been applied the first time: the gateway's budget writes are transactions whose
 * ClientRequestToken the SDK keeps across retries (they count once; test/integration/settle-retry);
 * as before for a dropped connection (ECONNRESET), which the SDK already retried.
 * Keep-alive is as before: the handler's own agents (keepAlive, at most 50 sockets per endpoint).
 *
 * The values are meant to hold against moto on the loaded 2-core CI machine as well as in AWS. The
 * worst waits measured on such a machine (vitest running identity-limits-dynamodb with lifecycle
 * and settle-retry, or with lifecycle-concurrency and offboarding-export, beside two busy-loop CPU
 * burners and other jobs: load average 8-9): a connection 1.5 s (one SYN retransmitted after
 * Linux's 1 s initial RTO, what a 1 s connect timeout cut: commit 304b765), a free pool socket
 * 1.7 s, a DynamoDB answer 8.9 s (150 concurrent gateway requests queued on a serial moto), any
 * other service's 3.7 s.
 * - `connectionTimeout` 5 s, every kind: above two lost SYNs (retransmitted 1 s and 3 s after the
 *   first) and a wait for a pool socket, below the third retransmission (7 s), by which an endpoint
 *   is taken for unreachable; the SDK's `standard` defaults mode uses 3.1 s, which the second
 *   retransmission on a loaded machine would miss. In AWS a connection takes milliseconds.
 * - `request`: the gateway's hot path, small calls that answer in milliseconds in AWS (every
 *   DynamoDB client, document-clients.ts; STS AssumeRole, aws-clients.ts, on the gateway's path for
 *   the tenant-data and model-invoker sessions; the router's S3 audit record). 15 s without a byte
 *   (up to 18 s from the attempt's start): a stalled attempt and its retry on a new connection
 *   still answer within API Gateway's 29 s, and a stream's router (15 minutes) goes on after 18 s
 *   instead of waiting for its end; about twice moto's worst DynamoDB wait above, so a slow moto
 *   answer is not taken for a dead socket and sent again (moto has no ClientRequestToken
 *   idempotency: a retried transaction would count twice there; 10 s, up to 13 s, measured too
 *   close). Not short enough to rescue everything: a settle stalled inside the router's last 15 s
 *   (SETTLE_MARGIN_MS, lambda-deadline.ts) is still cut by the Lambda's end and left to the
 *   reservation reclaim, as before, and the authorizer's own 10 s Lambda timeout comes first.
 * - `control`: everything else, control-plane and data calls of the lifecycle, admin API,
 *   statements and fine-tuning functions (Organizations, CloudFormation, EC2, IAM, RDS, KMS, S3...).
 *   30 s without a byte: these answer in seconds (S3 keeps a long CompleteMultipartUpload alive
 *   with whitespace, and transfers move bytes all along; the export reads a part whole before it
 *   uploads it, no stalled pipe), half of botocore's 60 s read_timeout, eight times moto's worst
 *   above; a stalled attempt and its retry still fit in a lifecycle step's 60 s (lambda-function.ts).
 * - `model`: Bedrock Runtime (Converse, ConverseStream, InvokeModel, ApplyGuardrail) and SageMaker
 *   Runtime. No socket timeout: a non-streamed Converse answers only after the whole generation, and
 *   a stream may be silent while a model thinks before its first token. The gateway bounds these
 *   calls itself, per attempt and with an abort signal (UpstreamCalls: `upstreamTimeoutMs` to the
 *   first byte, `upstreamIdleTimeoutMs` between chunks, up to 900 s; the router's deadline). The SDK
 *   packages agree: their opt-in service defaults (AWS_ENABLE_DEFAULT_SOCKET_TIMEOUT_2026, not set
 *   here, and not applied to a client given a handler) have no socket timeout for Bedrock Runtime
 *   and 15 minutes for SageMaker Runtime (5 for DynamoDB, STS and KMS).
 *
 * No environment variable changes them: no test needs one (the timeout tests pass their own values
 * to `nodeHttpHandler`).
 */
export const HTTP_TIMEOUTS = {
  request: { connectionTimeout: 5_000, socketTimeout: 15_000 },
  control: { connectionTimeout: 5_000, socketTimeout: 30_000 },
  model: { connectionTimeout: 5_000 },
} as const satisfies Record<string, HttpTimeouts>;

/** A kind of use, naming its timeouts in HTTP_TIMEOUTS. */
export type HttpProfile = keyof typeof HTTP_TIMEOUTS;

/** The timeouts of one handler, in milliseconds (NodeHttpHandler's options of the same names). */
export interface HttpTimeouts {
  /** Until the TCP connection is made, a wait for a pooled socket included. */
  readonly connectionTimeout: number;
  /** Longest silence on the socket. @default none (the caller bounds the call) */
  readonly socketTimeout?: number;
}
