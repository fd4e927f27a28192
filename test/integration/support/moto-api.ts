import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/**
 * Signed JSON-protocol calls to moto for a service the project has no SDK client for (SSM). moto finds the account from the access key, as AWS does, so
 * the calls are signed with the caller's credentials. Errors come back as `MotoApiError` with
 * the service's error code and message.
 */

export class MotoApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(`${code}: ${message}`);
    this.name = code;
  }
}

async function send(endpoint: string, credentials: AwsCredentialIdentity, service: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const url = new URL(endpoint);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const request = new HttpRequest({ protocol: url.protocol, hostname: url.hostname, port: Number(url.port), method: 'POST', path: '/', headers: { host: url.host, ...headers }, body });
  const signed = await new SignatureV4({ service, region, credentials, sha256: Sha256 }).sign(request);
  const res = await fetch(endpoint, { method: 'POST', headers: signed.headers, body });
  return { status: res.status, text: await res.text() };
}

/** A JSON-protocol action (`X-Amz-Target`), e.g. `Logs_20140328.CreateLogGroup`, `AmazonSSM.PutParameter`. */
export async function jsonCall<T = Record<string, unknown>>(
  endpoint: string, credentials: AwsCredentialIdentity, service: string, target: string, input: Record<string, unknown>,
): Promise<T> {
  const { status, text } = await send(endpoint, credentials, service, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, JSON.stringify(input));
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (status >= 400) throw new MotoApiError(String(body.__type ?? status).split('#').pop()!, String(body.message ?? body.Message ?? text), status);
  return body as T;
}
