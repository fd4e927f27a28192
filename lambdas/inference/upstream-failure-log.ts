import type { ModelDeployment, ModelEntry } from '../../lib/config/schema.js';
import { providerOf } from './policy.js';
import type { ProviderError } from './providers/provider.js';
import { requestLogKeys } from '../shared/request-log-context.js';
import { logText } from './log-text.js';
import { entryLogger, serviceLogger, type LogEntry } from '../shared/service-logger.js';

const log = entryLogger(serviceLogger('tessera-gateway'));

/**
 * What the gateway does after a failed upstream call: `retry` the same model (or deployment), go on to the `next`
 * place of the chain (another deployment of the model, or the tenant's fallback model), or `none`: the chain ends and
 * the caller gets its error (upstream-calls.ts callerErrorOf). A stream cut after its first chunk is always `none`.
 */
export type AfterFailure = 'retry' | 'next' | 'none';

/** One failed upstream call, as upstream-calls.ts saw it. */
export interface UpstreamFailure {
  /** The catalog model (the tenant-facing id) and what was sent: its `upstream`, or its deployment's. */
  model: ModelEntry;
  sent: ModelEntry;
  deployment?: ModelDeployment;
  error: ProviderError;
  /** The attempt on this model (1 for the first call) and how many it may have (`upstreamRetries` + 1). */
  attempt: number;
  attempts: number;
  /** Milliseconds from the call's start to its failure. */
  latencyMs: number;
  after: AfterFailure;
  /** Whether the call was a stream that failed after its first chunk (the answer was cut). @default false */
  midStream?: boolean;
}

/**
 * The log line of one failed upstream call (a provider's chat, embeddings, images, audio or count call: Bedrock
 * Converse/InvokeModel, SageMaker InvokeEndpoint, an OpenAI-compatible or Hugging Face HTTP call), as a value:
 * `upstream call failed` (or `upstream stream failed` past the first chunk) with `provider`, `model` (the catalog id the
 * tenant asked for or fell back to), `upstreamModel` (the id sent upstream), `deployment` (when the model has
 * deployments), `status` (the upstream's HTTP status, absent when none answered), `error` (the SDK exception's or the
 * network error's name, else the upstream's error code, `timeout`, `deadline`, or `upstream_invalid_answer` for an
 * answer the provider could not read: not JSON, without `choices` or `data`), `upstreamRequestId`
 * (Bedrock's and SageMaker's `$metadata.requestId`, OpenAI's `x-request-id`, when sent), `retryable`, `attempt` and
 * `attempts`, `latencyMs`, `next` (AfterFailure), and the request's `requestId` and `tenantId` (requestLogKeys).
 * Never the upstream's message (it may quote the key, OpenAI's 401 does, or the answer's text), the prompt or a key;
 * `error`, `code` and `upstreamRequestId` are the upstream's text: a credential-shaped token in them is `[redacted]`,
 * and each is at most 128 characters (log-text.ts logText).
 * Level: WARN while the gateway goes on (`next` `retry` or `next`); ERROR when the failure ends the chain: the caller
 * gets a 5xx or the upstream's 429. The upstream refusing the caller's own request (a 400 any model would give) is not
 * logged as a failure (upstream-calls.ts): the caller's answer and the access line carry it.
 */
export function upstreamFailureEntry(f: UpstreamFailure): LogEntry {
  const { error: e } = f;
  const status = e.status;
  // A failure with no status, no SDK or network error name and no code is an answer the provider could not read (not
  // JSON, no `choices`, no `data`): an unreachable upstream always has its network error's name (errorName).
  const name = e.details.deadline ? 'deadline' : e.details.timedOut ? 'timeout' : e.details.errorName ?? e.details.code ?? (status === undefined ? 'upstream_invalid_answer' : undefined);
  return {
    level: f.after === 'none' ? 'ERROR' : 'WARN',
    message: f.midStream ? 'upstream stream failed' : 'upstream call failed',
    ...requestLogKeys(),
    provider: providerOf(f.model),
    model: f.model.id,
    upstreamModel: f.sent.upstream,
    ...(f.deployment ? { deployment: f.deployment.name } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(name ? { error: logText(name, 128) } : {}),
    ...(e.details.code && e.details.code !== name ? { code: logText(e.details.code, 128) } : {}),
    ...(e.details.upstreamRequestId ? { upstreamRequestId: logText(e.details.upstreamRequestId, 128) } : {}),
    retryable: e.retryable,
    attempt: f.attempt,
    attempts: f.attempts,
    latencyMs: Math.round(f.latencyMs),
    next: f.after,
  };
}

/** Logs `upstreamFailureEntry(f)` through the gateway's Logger (`tessera-gateway`). */
export function logUpstreamFailure(f: UpstreamFailure): void {
  log(upstreamFailureEntry(f));
}
