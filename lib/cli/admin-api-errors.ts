// Why a call to the admin API failed, said in one line with the fix: no credentials to sign it,
// DNS, the connection or TLS, or API Gateway's own refusal (IAM, a wrong URL, bad credentials).
import { askedProfile, filesOfProfile, missingProfile } from './aws-profiles.js';
import { printable } from '../printable.js';
import { CliError, type ErrorClass } from './cli-error.js';

/**
 * What `tessera --json` passes on of a failed admin API call (lib/cli/json-error.ts), beside AdminApiError's status, code and
 * param.
 */
export interface AdminApiAnswer {
  /** The error's class when the admin API's own `{"error": …}` is not what failed (a transport, credentials or API Gateway failure). */
  readonly errorClass?: ErrorClass;
  /** The answer's JSON body when it is the admin API's error (`{"error": {message, type, param, code}, …}`), as received. */
  readonly body?: Record<string, unknown>;
  /** API Gateway's id of the request (the answer's `x-amzn-RequestId` header), when the answer has one. */
  readonly requestId?: string;
}

/**
 * An error the admin API answered with (OpenAI error shape: `code`, `param`), a refusal of API
 * Gateway in front of it, or a transport failure (`status` 0). Printed `error: <message>` by the
 * CLI's one error handler; `exitCode` 1 (a runtime failure) unless said otherwise. The message shows the answer's control
 * characters escaped (lib/printable.ts): its `param` is a field's name as the request sent it (a key of a `--file`), and
 * a `note:` line quotes the message outside the error handler.
 * @param answer what `--json` passes on: the admin API's error body as received, the request id, the failure's class
 */
export class AdminApiError extends CliError {
  constructor(readonly status: number, message: string, readonly code?: string, readonly param?: string | null, exitCode: 1 | 2 = 1, readonly answer: AdminApiAnswer = {}) {
    super(printable(`${message}${code ? ` (${code}${param ? `, field ${param}` : ''})` : ''}`), exitCode, answer.errorClass);
    this.name = 'AdminApiError';
  }
}

const URL_FIX = 'check --api-url / TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack)';

/** Node's (undici's) network error codes, by what failed. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);
/** OpenSSL's certificate verification codes (`X509_V_ERR_*` without the prefix, as Node reports them) and Node's hostname check. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The innermost error with a `code`: fetch wraps the socket's error as `cause` (an AggregateError holds one per address). */
function networkCode(e: unknown): { code?: string; message: string } {
  for (let err = e as (Error & { code?: string; errors?: unknown[] }) | undefined; err; err = err.cause as typeof err) {
    if (err.code && !err.code.startsWith('ERR_INVALID')) return { code: err.code, message: err.message };
    const inner = err.errors?.find((x) => (x as { code?: string }).code) as (Error & { code?: string }) | undefined;
    if (inner) return { code: inner.code, message: inner.message };
  }
  let innermost = e as Error | undefined;
  while (innermost?.cause instanceof Error) innermost = innermost.cause;
  return { message: innermost?.message ?? String(e) };
}

/**
 * A failed `fetch` of the admin API at `url` as one line saying what failed and the fix:
 * - DNS (ENOTFOUND, EAI_AGAIN...): the host does not resolve: a wrong --api-url, or no network/DNS;
 * - the connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT...): nothing answers, or a proxy/firewall cuts it;
 * - TLS (CERT_*, self-signed, hostname mismatch): the certificate is not trusted for that host:
 *   an intercepting proxy needs its CA in NODE_EXTRA_CA_CERTS; otherwise the URL is not API Gateway's.
 * - no whole answer within `call.timeoutMs` (AbortSignal.timeout's TimeoutError): the call named, and that it may have been
 *   applied (the request was sent); whether sending it again is safe follows `call.idempotent` (it carried a requestId
 *   or an Idempotency-Key);
 * Anything else: the error's own message, with the URL.
 */
export function transportError(e: unknown, url: string, call?: { method: string; path: string; timeoutMs: number; idempotent?: boolean }): AdminApiError {
  const host = safeHost(url);
  // AbortSignal.timeout's abort: a DOMException named TimeoutError, before the headers or while the body came.
  if (call && (e as Error | undefined)?.name === 'TimeoutError') {
    const hung = 'API Gateway ends a request after 29 s, so the connection hung: a proxy or a network that dropped it';
    // Only a call that carried a requestId or an Idempotency-Key is answered by its first run when sent again; another
    // (a key created or rotated, a user invited, a drift check started) would be made twice.
    const again = call.idempotent
      ? 'the same request sent again (its requestId or Idempotency-Key) answers with the first'
      : 'it carried no requestId or Idempotency-Key, so sending it again may apply it twice: check what it did first';
    return new AdminApiError(0, call.method === 'GET'
      ? `no answer from the admin API at ${url} within ${call.timeoutMs / 1000} s to GET ${call.path} (${hung})`
      : `no answer from the admin API at ${url} within ${call.timeoutMs / 1000} s to ${call.method} ${call.path}: it may have been applied (${hung}); ${again}`,
    undefined, null, 1, connection('timeout'));
  }
  const { code, message } = networkCode(e);
  if (code && DNS_CODES.has(code)) {
    return new AdminApiError(0, `cannot reach the admin API at ${url}: DNS cannot resolve ${host} (${code}); ${URL_FIX}, and that this machine has network and DNS`, undefined, null, 1, connection(code));
  }
  if (code && (TLS_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))) {
    return new AdminApiError(0, `cannot reach the admin API at ${url}: TLS failed, the server's certificate is not trusted for ${host} (${code}); `
      + `${URL_FIX} (an execute-api URL has an Amazon certificate); behind a TLS-inspecting proxy give its CA in NODE_EXTRA_CA_CERTS`, undefined, null, 1, connection(code));
  }
  if (code && CONNECTION_CODES.has(code)) {
    return new AdminApiError(0, `cannot reach the admin API at ${url}: the connection to ${host} failed (${code}); ${URL_FIX} and its region, `
      + 'and any firewall between here and AWS (behind a proxy: HTTPS_PROXY with NODE_USE_ENV_PROXY=1)', undefined, null, 1, connection(code));
  }
  return new AdminApiError(0, `cannot reach the admin API at ${url}: ${message}${code ? ` (${code})` : ''}; ${URL_FIX}`, undefined, null, 1, connection(code));
}

/**
 * A call that starts an operation under a request id the CLI made (no `--request-id` given), failed without an answer
 * that says whether it started: no answer (status 0: the timeout, a connection cut; also what never reached the API, hence
 * "if"), or a 5xx (API Gateway's 504 after 29 s while the handler ran on: the admin API's Lambda has 60 s; a 502, 503).
 * The request id was printed only with an answer, and the same command run again makes a new one, which the operation
 * already started meets as a 409 (another operation holds the tenant), or as a second operation. So the error names it,
 * with the command that sends the same request again (its replay answers with that operation) and the one that follows
 * it. Used by `tessera tenants create`, `update`, `suspend`, `resume` and `upgrade`.
 * @param e the call's error
 * @param made the request id the CLI made; undefined when the operator gave `--request-id` (they have it): `e` as it is
 * @param what the operation, as the message names it: `onboarding`, `change`, `suspend`, `resume`, `upgrade`
 * @param follow the command that follows it: `tessera tenants watch acme`, `tessera tenants upgrade --follow <id>`
 * @returns a CliError (`e`'s message, then that line; `e`'s exit code), or `e` as it is: not an AdminApiError, a refusal
 *   (4xx: nothing started), or a request id given
 */
export function lostStartAnswer(e: unknown, made: string | undefined, what: string, follow: string): unknown {
  if (made === undefined || !(e instanceof AdminApiError) || (e.status !== 0 && e.status < 500)) return e;
  return new CliError(`${e.message}\nif the admin API received the request, the ${what} may have started: its request id is ${made}; the same command with --request-id ${made} answers with that ${what} (or starts it), ${follow} follows it`, e.exitCode, e.errorClass, e);
}

/** A transport failure's class for `--json`: `connection_error`, with the network code (ECONNREFUSED, ENOTFOUND, a TLS code) or `timeout`. */
const connection = (code: string | undefined): AdminApiAnswer => ({ errorClass: { type: 'connection_error', ...(code ? { code } : {}) } });

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * No credentials to sign with (the SDK's `CredentialsProviderError`, or an expired SSO session):
 * one line naming the ways to give them; when the profile asked for (`profile`, the `--profile` given, else AWS_PROFILE)
 * is in neither shared file, that (the SDK's own message does not name it), the files looked in and the profiles they hold.
 */
export async function credentialsError(e: unknown, profile?: string, env: NodeJS.ProcessEnv = process.env): Promise<AdminApiError> {
  const name = (e as Error | undefined)?.name;
  const asked = askedProfile(profile, env);
  const missing = asked && name === 'CredentialsProviderError' ? await missingProfile(asked.name, asked.source, env) : undefined;
  if (missing) return new AdminApiError(0, `cannot sign the admin API call (SigV4): ${missing}`, undefined, null, 2, { errorClass: { type: 'credentials_error', code: 'profile_not_found' } });
  if (asked && name === 'CredentialsProviderError') {
    return new AdminApiError(0, `no AWS credentials from profile "${asked.name}" (${asked.source}, in ${(await filesOfProfile(asked.name, env)).join(' and ')}) to sign the admin API call (SigV4): `
      + `give it credentials (sso_session or sso_start_url, role_arn, credential_process, or aws_access_key_id in the credentials file); for IAM Identity Center run aws sso login --profile ${asked.name} first`,
    undefined, null, 1, { errorClass: { type: 'credentials_error', code: 'no_credentials' } });
  }
  const what = name === 'CredentialsProviderError' ? 'no AWS credentials found' : `the AWS credentials cannot be loaded (${(e as Error | undefined)?.message?.split('\n')[0] ?? String(e)})`;
  return new AdminApiError(0, `${what} to sign the admin API call (SigV4): set AWS_PROFILE to a profile of ~/.aws/config (\`aws sso login --profile <name>\` first for IAM Identity Center), `
    + 'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)', undefined, null, 1,
  { errorClass: { type: 'credentials_error', code: name === 'CredentialsProviderError' ? 'no_credentials' : 'credentials_not_loaded' } });
}

/**
 * The message of a refusal (a status other than 2xx) whose JSON body is neither the admin API handler's `{"error": {...}}`
 * nor API Gateway's `{"message": ...}`: an empty body or another service's JSON (`{}`), as a server that is not the admin
 * API answers (the local platform's moto endpoint given for it; a URL without the stage behind a proxy). It printed
 * `error: HTTP 404` alone.
 * @param body the answer's text: an empty one is said as such, another's first 120 characters are quoted
 */
export function notAdminApiAnswer(url: string, status: number, body: string): string {
  const what = body.trim() ? `a JSON body that is not the admin API's error (${body.slice(0, 120).replace(/\s+/g, ' ')})` : 'an empty body';
  return `${url} answered HTTP ${status} with ${what}, not the admin API's {"error": …}: ${URL_FIX}; on the local platform, the admin API line it printed, not its AWS (moto) line`;
}

/**
 * API Gateway's own refusal, in front of the admin API handler: its body is `{"message": ...}` or
 * `{"Message": ...}` (IAM), never the handler's `{"error": {...}}`; `x-amzn-errortype` names it.
 * - 403 "... is not authorized to perform: execute-api:Invoke ...": the caller's IAM policies lack it;
 * - 403 "Missing Authentication Token": no such path or stage (a wrong URL);
 * - 403 signature mismatch / invalid or expired token: the signing region, the clock, the credentials.
 * @returns undefined when the answer is not one of these
 */
export function gatewayRefusal(status: number, body: { message?: unknown; Message?: unknown }, errorType: string | null, url: string, region: string, requestId?: string): AdminApiError | undefined {
  const said = String(body.message ?? body.Message ?? '');
  const type = errorType?.split(':')[0] ?? '';
  const answer = (code: string): AdminApiAnswer => ({ errorClass: { type: 'api_gateway_error', code }, requestId });
  if (status !== 403 && status !== 401) return undefined;
  if (/not authorized to perform: execute-api:Invoke/.test(said) || type === 'AccessDeniedException') {
    return new AdminApiError(status, `the admin API at ${url} refused your AWS identity (403 from API Gateway): it needs execute-api:Invoke on the admin API; `
      + 'sign in with the TesseraPlatformAdmin permission set (tessera admins create), or attach the customer-managed policy TesseraPlatformAdminAccess (the PlatformAdminPolicyArn output of the TesseraPlatform stack) to your role', 'AccessDenied', null, 1, answer('AccessDenied'));
  }
  if (/Missing Authentication Token/i.test(said) || type === 'MissingAuthenticationTokenException') {
    return new AdminApiError(status, `API Gateway at ${url} has no such resource (403 Missing Authentication Token): the URL lacks the stage or is another API; ${URL_FIX}`, 'MissingAuthenticationToken', null, 2, answer('MissingAuthenticationToken'));
  }
  if (/signature we calculated does not match|Credential should be scoped to a valid region/i.test(said) || ['InvalidSignatureException', 'IncompleteSignatureException'].includes(type)) {
    return new AdminApiError(status, `API Gateway at ${url} refused the request signature (${said.split('.')[0]}): sign for the API's region (--region / AWS_REGION, now ${region}: the region in the AdminApiUrl) and check this machine's clock`, 'InvalidSignature', null, 2, answer('InvalidSignature'));
  }
  if (/security token included in the request is (invalid|expired)/i.test(said) || ['UnrecognizedClientException', 'ExpiredTokenException'].includes(type)) {
    return new AdminApiError(status, `API Gateway at ${url} refused your AWS credentials (${said.replace(/\.$/, '')}): refresh them (\`aws sso login\`, or new AWS_* variables)`, 'InvalidCredentials', null, 1, answer('InvalidCredentials'));
  }
  return undefined;
}
