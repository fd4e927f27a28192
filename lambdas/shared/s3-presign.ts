import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FinalizeHandlerArguments, HttpRequest as HttpRequestShape } from '@smithy/types';

/** The longest a presigned GET may live here, in seconds: a URL is for the one download its answer redirects to. */
export const MAX_PRESIGNED_GET_SECONDS = 300;

/**
 * A presigned URL for one S3 `GetObject` of `Bucket`/`Key` (SigV4 query-string authentication: S3 API Reference,
 * "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"), signed with `client`'s credentials, so
 * the URL reads what they may read and nothing else: with a tenant's session (the tenant-data role, its tenant tag) only
 * that tenant's objects, and an SSE-KMS object only where that session may `kms:Decrypt` through S3 (S3 User Guide,
 * "Sharing objects with presigned URLs": "anyone with valid security credentials can create a presigned URL. But for
 * someone to successfully access an object, the presigned URL must be created by someone who has permission to perform
 * the operation that the presigned URL is based upon"). The URL stops working at `expiresInSeconds` or when the
 * session's credentials expire, whichever is first (same guide: a URL signed with temporary credentials expires with
 * them). The payload is `UNSIGNED-PAYLOAD` and only `host` is signed, so the official clients' own headers, sent again
 * on the redirect, do not spoil it (their `Authorization` is not: fetch and httpx drop it on a cross-origin redirect).
 *
 * The request is the client's own `GetObjectCommand` (its endpoint, bucket addressing and region), stopped before the
 * client would sign and send it; the signer is the SDK's `@smithy/signature-v4`, as `@aws-sdk/s3-request-presigner`
 * does it (that package is not a dependency of this project).
 * @param expiresInSeconds the URL's lifetime, 1 to MAX_PRESIGNED_GET_SECONDS
 * @param now the signing time @default the clock
 * @throws Error for a lifetime out of range
 */
export async function presignedGetObjectUrl(client: S3Client, input: { Bucket: string; Key: string }, expiresInSeconds: number, now?: Date): Promise<string> {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGNED_GET_SECONDS) {
    throw new Error(`a presigned GET lives 1 to ${MAX_PRESIGNED_GET_SECONDS} seconds, not ${expiresInSeconds}`);
  }
  const command = new GetObjectCommand(input);
  let built: HttpRequestShape | undefined;
  // Just before the client would sign: the request as the client built it (endpoint, addressing, path), not sent.
  command.middlewareStack.addRelativeTo(
    () => async (args: FinalizeHandlerArguments<object>) => {
      built = args.request as HttpRequestShape;
      return { output: { $metadata: {} }, response: {} } as never;
    },
    { name: 'tesseraPresignStop', relation: 'before', toMiddleware: 'httpSigningMiddleware', override: true },
  );
  await client.send(command);
  if (!built) throw new Error('the S3 client built no request to presign');
  const port = built.port ? `:${built.port}` : '';
  const request = new HttpRequest({
    method: 'GET', protocol: built.protocol, hostname: built.hostname, port: built.port, path: built.path, query: built.query,
    headers: { host: `${built.hostname}${port}`, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  });
  const config = client.config;
  const signer = new SignatureV4({ credentials: config.credentials, region: await config.region(), service: 's3', sha256: config.sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.presign(request, { expiresIn: expiresInSeconds, signingDate: now });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${encodeURIComponent(k)}=${encodeURIComponent(one ?? '')}`))
    .join('&');
  return `${signed.protocol}//${signed.hostname}${port}${signed.path}${query ? `?${query}` : ''}`;
}
