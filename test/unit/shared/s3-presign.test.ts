import { createHash, createHmac } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MAX_PRESIGNED_GET_SECONDS, presignedGetObjectUrl } from '../../../lambdas/shared/s3-presign.js';

/**
 * presignedGetObjectUrl: a SigV4 query-string GET of one object, checked against the signature computed here from the
 * S3 API Reference's steps ("Authenticating Requests: Using Query Parameters (AWS Signature Version 4)": canonical
 * request with UNSIGNED-PAYLOAD, string to sign, the derived key), not against the signer it uses.
 */
const credentials = { accessKeyId: 'ASIAEXAMPLETENANT', secretAccessKey: 'tenant-session-secret', sessionToken: 'token/of+the=session' };
const client = (extra: Record<string, unknown> = {}) => new S3Client({ region: 'eu-west-1', credentials, ...extra });
const at = new Date(Date.UTC(2026, 11, 6, 15, 0, 0));
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding as SigV4 asks (encodeURIComponent leaves !'()* unescaped). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The signature S3 computes for `url` (a GET signing only `host`), with `secret`. */
function expectedSignature(url: URL, secret: string): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [enc(k), enc(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = ['GET', url.pathname, params.map(([k, v]) => `${k}=${v}`).join('&'), `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const [day, region, service] = scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}

describe('presignedGetObjectUrl', () => {
  it('signs a GET of the bucket\'s key with the client\'s credentials (the session token carried), for the lifetime asked, signing only host', async () => {
    const url = new URL(await presignedGetObjectUrl(client(), { Bucket: 'tessera-batch-files', Key: 'tenants/acme/batch-files/file-0123456789abcdef01234567' }, 60, at));
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('https://tessera-batch-files.s3.eu-west-1.amazonaws.com/tenants/acme/batch-files/file-0123456789abcdef01234567');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('ASIAEXAMPLETENANT/20261206/eu-west-1/s3/aws4_request');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(credentials.sessionToken);
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261206T150000Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, credentials.secretAccessKey));
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(expectedSignature(url, 'another-secret'));
  });

  it('follows the client\'s endpoint and addressing (path-style on a custom endpoint, as on moto), a port in the signed host', async () => {
    const url = new URL(await presignedGetObjectUrl(client({ endpoint: 'http://127.0.0.1:5000', forcePathStyle: true }), { Bucket: 'b', Key: 'kept-files/acme/file-0123456789abcdef01234567' }, 300, at));
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('http://127.0.0.1:5000/b/kept-files/acme/file-0123456789abcdef01234567');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, credentials.secretAccessKey));
  });

  it('refuses a lifetime outside 1 to MAX_PRESIGNED_GET_SECONDS', async () => {
    for (const seconds of [0, MAX_PRESIGNED_GET_SECONDS + 1, 1.5]) {
      await expect(presignedGetObjectUrl(client(), { Bucket: 'b', Key: 'k' }, seconds)).rejects.toThrow(`a presigned GET lives 1 to ${MAX_PRESIGNED_GET_SECONDS} seconds, not ${seconds}`);
    }
  });
});
