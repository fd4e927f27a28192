import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../../lib/fine-tuning.js';
import { TrainingFilesService } from '../../../lambdas/fine-tuning/files-service.js';
import { fileKey, type StoredFile, type TrainingFileStore } from '../../../lambdas/fine-tuning/stores/file-store.js';
import { S3FileStore } from '../../../lambdas/fine-tuning/stores/s3-file-store.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { CONTENT_URL_SECONDS, MAX_INLINE_CONTENT_BYTES } from '../../../lambdas/inference/file-content-redirect.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/**
 * A fine-tuning file's `files.content` on AWS: over 4 MiB, a 307 to a presigned GET of the tenant's object, as the
 * gateway's own files (batch-service.ts); before, its bytes went into the Lambda's answer, whose 6 MB a 50 MiB training
 * file (the Uploads API takes 512 MiB) passed: a 502.
 */
const at = { tenantId: 'acme', accountId: '111122223333', bucket: 'tessera-acme-data-111122223333', keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k' };
const caller = {
  tenantId: 'acme', userId: 'u', role: 'developer',
  tenant: { tenantId: 'acme', tier: 'enterprise', accountId: at.accountId, stackOutputs: { BucketName: at.bucket, KeyArn: at.keyArn, TrainingRoleArn: 'arn:aws:iam::111122223333:role/t', ComputeSubnetIds: 'subnet-1', WorkloadSecurityGroupId: 'sg-1' } },
} as unknown as Caller;
const fileOf = (bytes: number): StoredFile => {
  const id = 'file-0000000000010000000000aa';
  return { id, filename: 'train.jsonl', bytes, s3Uri: `s3://${at.bucket}/${fileKey(TRAINING_FILES_PREFIX, id, 'train.jsonl')}` };
};
function service(file: StoredFile, withUrl = true) {
  const contentUrl = vi.fn(async () => 'https://s3.example/signed');
  const content = vi.fn(async () => new TextEncoder().encode('{"messages":[]}\n'));
  const files = { get: async (_at: unknown, id: string) => (id === file.id ? file : undefined), content, ...(withUrl ? { contentUrl } : {}) } as unknown as TrainingFileStore;
  return { svc: new TrainingFilesService({ config: gatewayConfig(), files }), contentUrl, content };
}
const get = (svc: TrainingFilesService, id: string) => svc.handle('GET', `/v1/files/${id}/content`, {}, undefined, undefined, undefined, caller, {} as AuditRecord);

describe("a fine-tuning file's files.content over 4 MiB is a 307 to a presigned GET where the store serves one (AWS)", () => {
  it('4 MiB + 1 byte: 307 with location and cache-control no-store, no body, the bytes not read', async () => {
    const file = fileOf(MAX_INLINE_CONTENT_BYTES + 1);
    const { svc, contentUrl, content } = service(file);
    expect(await get(svc, file.id)).toEqual({ status: 307, body: '', headers: { location: 'https://s3.example/signed', 'cache-control': 'no-store' } });
    expect(contentUrl).toHaveBeenCalledWith(expect.objectContaining({ tenantId: 'acme', bucket: at.bucket }), file, CONTENT_URL_SECONDS);
    expect(content).not.toHaveBeenCalled();
  });

  it('exactly 4 MiB, or a store without URLs (tessera serve): the bytes', async () => {
    for (const [file, withUrl] of [[fileOf(MAX_INLINE_CONTENT_BYTES), true], [fileOf(50 * 1024 * 1024), false]] as const) {
      const { svc, contentUrl, content } = service(file, withUrl);
      expect(await get(svc, file.id)).toMatchObject({ status: 200, body: '{"messages":[]}\n', contentType: 'application/octet-stream' });
      expect(content).toHaveBeenCalledTimes(1);
      expect(contentUrl).not.toHaveBeenCalled();
    }
  });

  it('S3FileStore.contentUrl: a presigned GET of the file\'s key in the tenant\'s bucket, signed by the session s3(at) gives, host the one signed header', async () => {
    const credentials = { accessKeyId: 'ASIATENANTSESSION', secretAccessKey: 's', sessionToken: 'tok' };
    const s3For = vi.fn(async () => new S3Client({ region: 'us-east-1', credentials }));
    const file = fileOf(MAX_INLINE_CONTENT_BYTES + 1);
    const url = new URL(await new S3FileStore(TRAINING_FILES_PREFIX, s3For).contentUrl(at, file, CONTENT_URL_SECONDS));
    expect(s3For).toHaveBeenCalledWith(at);
    expect(`${url.host}${decodeURIComponent(url.pathname)}`).toBe(`${at.bucket}.s3.us-east-1.amazonaws.com/${file.s3Uri.slice(`s3://${at.bucket}/`.length)}`);
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIATENANTSESSION\//);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('tok');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
  });
});
