import { CreateIndexCommand, DeleteIndexCommand, GetIndexCommand, NotFoundException, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, expect, it } from 'vitest';
import { s3VectorsIndexFor } from '../../../../lambdas/inference/vector-stores/lambda-s3-vectors.js';

const sts = mockClient(STSClient);
const s3v = mockClient(S3VectorsClient);
afterAll(() => {
  sts.restore();
  s3v.restore();
});

it('acts in the tenant\'s account as its vector-store role, the session tagged with the tenant, in its vector bucket', async () => {
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) } });
  s3v.on(DeleteIndexCommand).resolves({});
  const accounts: string[] = [];
  const index = s3VectorsIndexFor(async (tenantId) => (accounts.push(tenantId), { accountId: '111122223333', keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k-1' }));
  await index.deleteIndex('vsacme', 'vs_0a');
  expect(accounts).toEqual(['vsacme']);
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{
    RoleArn: 'arn:aws:iam::111122223333:role/tessera-vsacme-vector-store', RoleSessionName: 'tessera-vsacme-vector-store',
    DurationSeconds: 900, Tags: [{ Key: 'tessera:tenant-id', Value: 'vsacme' }], SourceIdentity: undefined,
  }]);
  expect(s3v.commandCalls(DeleteIndexCommand).map((c) => c.args[0].input)).toEqual([{ vectorBucketName: 'tessera-vsacme-vectors', indexName: 'vs-0a' }]);
});

it('creates an index under the key of the tenant\'s record (its KeyArn), which the vector-store role\'s CreateIndex requires', async () => {
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) } });
  s3v.on(GetIndexCommand).rejects(new NotFoundException({ message: 'no such index', $metadata: {} }));
  s3v.on(CreateIndexCommand).resolves({});
  const index = s3VectorsIndexFor(async (tenantId) => ({ accountId: '444455556666', keyArn: `arn:aws:kms:us-east-1:444455556666:key/${tenantId}-key` }));
  await index.createIndex('vsbeta', 'vs_0b', 4);
  expect(s3v.commandCalls(CreateIndexCommand).map((c) => c.args[0].input.encryptionConfiguration)).toEqual([{ sseType: 'aws:kms', kmsKeyArn: 'arn:aws:kms:us-east-1:444455556666:key/vsbeta-key' }]);
});

it('creates no index for a tenant whose record has no KeyArn, and still reaches its indexes otherwise', async () => {
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) } });
  s3v.reset();
  s3v.on(GetIndexCommand).rejects(new NotFoundException({ message: 'no such index', $metadata: {} }));
  s3v.on(DeleteIndexCommand).resolves({});
  const index = s3VectorsIndexFor(async () => ({ accountId: '444455556666' }));
  await expect(index.createIndex('vsgamma', 'vs_0c', 4)).rejects.toThrow('tenant vsgamma has no KeyArn stack output in the registry: its vector indexes are created under its key only');
  expect(s3v.commandCalls(CreateIndexCommand)).toHaveLength(0);
  await index.deleteIndex('vsgamma', 'vs_0c');
  expect(s3v.commandCalls(DeleteIndexCommand)).toHaveLength(1);
});
