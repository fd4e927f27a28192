import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AdminApiError, type AdminApiAnswer, credentialsError, gatewayRefusal, notAdminApiAnswer, transportError } from './admin-api-errors.js';

export { AdminApiError } from './admin-api-errors.js';

/**
 * How long an admin API call waits for its answer (ms): API Gateway ends a request at 29 s (its integration timeout, which
 * constructs/admin-api.ts leaves as it is), so a call unanswered after 60 s hangs on its connection. Before, undici's own
 * limits held it (300 s for the headers, 300 s between body chunks).
 */
export const ADMIN_CALL_TIMEOUT_MS = 60_000;

/** Calls the admin API with SigV4 (service execute-api), using the standard AWS credential chain. */
export class AdminClient {
  private readonly signer: SignatureV4;
  private readonly timeoutMs: number;

  /**
   * @param baseUrl the admin API's base URL (the AdminApiUrl output), e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`
   * @param region the region to sign for: the API's
   * @param profile the AWS profile whose credentials sign (`--profile`) @default - the default chain (AWS_PROFILE, the environment, ...)
   * @param options.timeoutMs how long a call waits for its whole answer, headers and body (ms) @default ADMIN_CALL_TIMEOUT_MS
   */
  constructor(private readonly baseUrl: string, private readonly region: string, private readonly profile?: string, options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? ADMIN_CALL_TIMEOUT_MS;
    this.signer = new SignatureV4({ credentials: fromNodeProviderChain(profile ? { profile } : {}), region, service: 'execute-api', sha256: Sha256 });
  }

  /**
   * One call: signed, sent, and its JSON answer parsed.
   * @param headers more request headers; a lower-case `content-type` among them replaces `application/json` (a PATCH's
   *   `application/merge-patch+json`)
   * @throws AdminApiError - one line saying what failed and the fix: no credentials to sign with,
   *   DNS / the connection / TLS, no whole answer within the timeout (status 0), API Gateway's refusal (403: IAM, a wrong URL, the
   *   signature, the credentials), or the admin API's own error (its message, code and field)
   */
  async call<T>(method: string, path: string, body?: unknown, query: Record<string, string | undefined> = {}, headers: Record<string, string> = {}): Promise<T> {
    return (await this.answer<T>(method, path, body, query, headers)).body;
  }

  /**
   * A GET and its answer's `ETag` header (RFC 9110 §8.8.3; `GET /admin/tenants/{id}` answers the tenant's): the `If-Match`
   * of a write decided on what the GET read (a read-modify-write such as `tenants update --tag`). Throws as call does.
   * @returns the parsed body, and the ETag as sent (quotes included), undefined when the answer has none
   */
  async getWithEtag<T>(path: string): Promise<{ body: T; etag?: string }> {
    return this.answer<T>('GET', path);
  }

  /** call's work: the parsed answer and its ETag header. */
  private async answer<T>(method: string, path: string, body?: unknown, query: Record<string, string | undefined> = {}, headers: Record<string, string> = {}): Promise<{ body: T; etag?: string }> {
    const url = new URL(`${this.baseUrl.replace(/\/$/, '')}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = new HttpRequest({
      method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname,
      query: Object.fromEntries(url.searchParams), headers: { 'content-type': 'application/json', ...headers, host: url.host }, body: payload,
    });
    let signed: HttpRequest;
    try {
      signed = (await this.signer.sign(request)) as HttpRequest;
    } catch (e) {
      throw await credentialsError(e, this.profile);
    }
    let res: Response;
    let text: string;
    // One deadline for the headers and the body: a body that stops mid-way threw the fetch's own error, not an AdminApiError.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      res = await fetch(url, { method, headers: signed.headers as Record<string, string>, body: payload, signal });
      text = await res.text();
    } catch (e) {
      const idempotent = Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key')
        || typeof (body as { requestId?: unknown } | undefined)?.requestId === 'string';
      throw transportError(e, this.baseUrl, { method, path, timeoutMs: this.timeoutMs, idempotent });
    }
    // API Gateway's id of the request (REST APIs send it on every answer): what AWS Support asks for; `--json` passes it on.
    const requestId = res.headers.get('x-amzn-requestid') ?? undefined;
    const unexpected: AdminApiAnswer = { errorClass: { type: 'unexpected_response', code: 'not_admin_api' }, requestId };
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new AdminApiError(res.status, `the admin API at ${this.baseUrl} answered ${res.status} with a body that is not JSON (${text.slice(0, 120).replace(/\s+/g, ' ')}); check --api-url / TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack)`, undefined, null, 1, unexpected);
    }
    if (!res.ok) {
      // A body of JSON that is no object (null, a string) is no error of the admin API's either.
      if (parsed === null || typeof parsed !== 'object') throw new AdminApiError(res.status, notAdminApiAnswer(this.baseUrl, res.status, text), undefined, null, 1, unexpected);
      const errorType = res.headers.get('x-amzn-errortype');
      if (!parsed.error) {
        const refusal = gatewayRefusal(res.status, parsed, errorType, this.baseUrl, this.region, requestId);
        if (refusal) throw refusal;
      }
      // Neither the handler's { error } nor API Gateway's { message }: another server answered (a URL without the stage, another
      // service's endpoint, such as the local platform's moto line). Said with the URL to check, not a bare `HTTP 404`.
      if (!parsed.error && parsed.message === undefined && parsed.Message === undefined) throw new AdminApiError(res.status, notAdminApiAnswer(this.baseUrl, res.status, text), undefined, null, 1, unexpected);
      if (!parsed.error) {
        // API Gateway's own answer (`{"message": "Endpoint request timed out"}`, a 429, a 5xx): its x-amzn-ErrorType is the code.
        throw new AdminApiError(res.status, parsed.message ?? parsed.Message, undefined, undefined, 1,
          { errorClass: { type: 'api_gateway_error', ...(errorType ? { code: errorType.split(':')[0] } : {}) }, requestId });
      }
      const err = parsed.error;
      // The admin API's own error: its body goes on as it came (`--json`), its message, code and field into the line.
      throw new AdminApiError(res.status, err.message, err.code, err.param, 1, { body: parsed, requestId });
    }
    return { body: parsed as T, etag: res.headers.get('etag') ?? undefined };
  }
}
