import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** An error the admin API answered with (OpenAI error shape), or a transport failure. */
export class AdminApiError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string, readonly param?: string | null) {
    super(message);
  }
}

/** Calls the admin API with SigV4 (service execute-api), using the standard AWS credential chain. */
export class AdminClient {
  private readonly signer: SignatureV4;

  constructor(private readonly baseUrl: string, region: string) {
    this.signer = new SignatureV4({ credentials: fromNodeProviderChain(), region, service: 'execute-api', sha256: Sha256 });
  }

  async call<T>(method: string, path: string, body?: unknown, query: Record<string, string | undefined> = {}): Promise<T> {
    const url = new URL(`${this.baseUrl.replace(/\/$/, '')}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = new HttpRequest({
      method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname,
      query: Object.fromEntries(url.searchParams), headers: { host: url.host, 'content-type': 'application/json' }, body: payload,
    });
    let signed: HttpRequest;
    try {
      signed = (await this.signer.sign(request)) as HttpRequest;
    } catch (e) {
      throw new AdminApiError(0, `no AWS credentials to sign the call with (${(e as Error).message}); configure a profile or the AWS_* variables`);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers: signed.headers as Record<string, string>, body: payload });
    } catch (e) {
      throw new AdminApiError(0, `cannot reach the admin API at ${this.baseUrl}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new AdminApiError(res.status, `the admin API answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const err = parsed.error ?? { message: parsed.message ?? `HTTP ${res.status}` };
      throw new AdminApiError(res.status, err.message, err.code, err.param);
    }
    return parsed as T;
  }
}
