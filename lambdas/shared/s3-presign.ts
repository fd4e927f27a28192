import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

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
 * Signed by AWS's own presigner (`@aws-sdk/s3-request-presigner` `getSignedUrl`) on the client's own `GetObjectCommand`
 * (its endpoint, bucket addressing and region); the SDK hoists the `x-amz-*` headers it adds (the checksum mode) into
 * the query, so `host` is the one signed header.
 * @param expiresInSeconds the URL's lifetime, 1 to MAX_PRESIGNED_GET_SECONDS
 * @param now the signing time @default the clock
 * @throws Error for a lifetime out of range
 */
export async function presignedGetObjectUrl(client: S3Client, input: { Bucket: string; Key: string }, expiresInSeconds: number, now?: Date): Promise<string> {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGNED_GET_SECONDS) {
    throw new Error(`a presigned GET lives 1 to ${MAX_PRESIGNED_GET_SECONDS} seconds, not ${expiresInSeconds}`);
  }
  return getSignedUrl(client, new GetObjectCommand(input), { expiresIn: expiresInSeconds, ...(now ? { signingDate: now } : {}) });
}
