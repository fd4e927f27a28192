import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../lambdas/inference/s3-audit-sink.js';
import { secretsManagerKeys } from '../../../lambdas/inference/secrets.js';
import { unscopedSecretsClient } from '../../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../../support/config-with.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  secrets.reset();
  s3.reset();
});
const notFound = () => Object.assign(new Error('no such secret'), { name: 'ResourceNotFoundException' });

describe('provider keys from Secrets Manager', () => {
  it('prefers the tenant\'s own key, falls back to the platform\'s, and caches both', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).resolves({ SecretString: 'sk-acme' });
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/globex/openai' }).rejects(notFound());
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai' }).resolves({ SecretString: 'sk-platform' });
    const keys = secretsManagerKeys(configWith(), unscopedSecretsClient());
    expect(await keys('openai', 'acme')).toBe('sk-acme');
    expect(await keys('openai', 'globex')).toBe('sk-platform');
    expect(await keys('openai', 'acme')).toBe('sk-acme');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('says which secrets are missing', async () => {
    secrets.on(GetSecretValueCommand).rejects(notFound());
    await expect(secretsManagerKeys(configWith(), unscopedSecretsClient())('huggingface', 'acme')).rejects.toThrow(/no API key for provider huggingface: neither tessera\/tenants\/acme\/huggingface nor the platform secret exists/);
  });
});

describe('audit records into the audit bucket', () => {
  it('writes one object per request under the tenant and the day', async () => {
    s3.on(PutObjectCommand).resolves({});
    await new S3AuditSink('audit-bucket').write({ requestId: 'chatcmpl-1', at: '2026-11-23T10:00:00.000Z', tenantId: 'acme', latencyMs: 1, status: 200, outcome: 'ok', promptSha256: 'ab' });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'audit-bucket', Key: 'tessera-audit/inference/acme/2026-11-23/chatcmpl-1.json', ContentType: 'application/json' });
  });
});
