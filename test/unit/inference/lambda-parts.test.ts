import { GetSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../lambdas/inference/s3-audit-sink.js';
import { AUDIT_REPLICATED_PREFIXES, tierHasDisasterRecovery } from '../../../lib/audit-prefixes.js';
import { secretsManagerKeys } from '../../../lambdas/inference/secrets.js';
import { TenantKeyUnreadable } from '../../../lambdas/inference/openai-errors.js';
import { unscopedSecretsClient } from '../../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../../support/config-with.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const secrets = mockStrict(SecretsManagerClient, 'secretsmanager', SecretsManagerServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
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
    expect(await keys('openai', 'acme')).toEqual({ key: 'sk-acme', tenantOwn: true });
    expect(await keys('openai', 'globex')).toBe('sk-platform');
    expect(await keys('openai', 'acme')).toEqual({ key: 'sk-acme', tenantOwn: true });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('reads a deployment\'s own platform secret (gateway.models[].deployments[].apiKeySecretId) instead of the provider\'s, the tenant\'s own key first', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).resolves({ SecretString: 'sk-acme' });
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/globex/openai' }).rejects(notFound());
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai-org-b' }).resolves({ SecretString: 'sk-org-b' });
    const keys = secretsManagerKeys(configWith(), unscopedSecretsClient());
    expect(await keys('openai', 'globex', { platformSecretId: 'tessera/providers/openai-org-b' })).toBe('sk-org-b');
    expect(await keys('openai', 'acme', { platformSecretId: 'tessera/providers/openai-org-b' })).toEqual({ key: 'sk-acme', tenantOwn: true });
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).not.toContain('tessera/providers/openai');
  });

  it('with a deployment\'s secret: own answers the tenant\'s key or TenantKeyUnreadable, never the deployment\'s; platform reads the deployment\'s, never the tenant\'s', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).resolves({ SecretString: 'sk-acme' });
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/globex/openai' }).rejects(notFound());
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai-org-b' }).resolves({ SecretString: 'sk-org-b' });
    const keys = secretsManagerKeys(configWith(), unscopedSecretsClient());
    const orgB = 'tessera/providers/openai-org-b';
    expect(await keys('openai', 'acme', { source: 'own', platformSecretId: orgB })).toEqual({ key: 'sk-acme', tenantOwn: true });
    await expect(keys('openai', 'globex', { source: 'own', platformSecretId: orgB })).rejects.toBeInstanceOf(TenantKeyUnreadable);
    const read = () => secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(read()).toEqual(['tessera/tenants/acme/openai', 'tessera/tenants/globex/openai']);
    expect(await keys('openai', 'acme', { source: 'platform', platformSecretId: orgB })).toBe('sk-org-b');
    expect(read()).toEqual(['tessera/tenants/acme/openai', 'tessera/tenants/globex/openai', orgB]);
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

  it('writes a DR tier\'s records under tessera-audit/dr-tier/, which the replication rules pick up, and a none tier\'s (and a record without a tier) where none does', async () => {
    s3.on(PutObjectCommand).resolves({});
    // GIVEN a config whose enterprise tier has a DR region and whose starter tier has none
    const config = configWith({ allowedRegions: ['us-east-1', 'us-west-2'] });
    config.tiers.enterprise.disasterRecovery = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 };
    expect(config.tiers.starter.disasterRecovery ?? 'none').toBe('none');
    const drTier = (tier: string | undefined) => tierHasDisasterRecovery(config.tiers, tier);
    const record = { at: '2026-11-23T10:00:00.000Z', latencyMs: 1, status: 200, outcome: 'ok', prompt: 'the prompt text' };
    await new S3AuditSink('audit-bucket', 'inference', drTier).write({ ...record, requestId: 'chatcmpl-dr', tenantId: 'initech', tier: 'enterprise' });
    await new S3AuditSink('audit-bucket', 'inference', drTier).write({ ...record, requestId: 'chatcmpl-home', tenantId: 'acme', tier: 'starter' });
    await new S3AuditSink('audit-bucket', 'inference', drTier).write({ ...record, requestId: 'chatcmpl-anon' });
    await new S3AuditSink('audit-bucket', 'fine-tuning', drTier).write({ ...record, requestId: 'ftaudit-dr', tenantId: 'initech', tier: 'enterprise' });
    await new S3AuditSink('audit-bucket', 'fine-tuning', drTier).write({ ...record, requestId: 'ftaudit-gone', tenantId: 'hooli', tier: 'retired-tier' });
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!);
    expect(keys).toEqual([
      'tessera-audit/dr-tier/inference/initech/2026-11-23/chatcmpl-dr.json',
      'tessera-audit/inference/acme/2026-11-23/chatcmpl-home.json',
      'tessera-audit/inference/unauthenticated/2026-11-23/chatcmpl-anon.json',
      'tessera-audit/dr-tier/fine-tuning/initech/2026-11-23/ftaudit-dr.json',
      'tessera-audit/fine-tuning/hooli/2026-11-23/ftaudit-gone.json',
    ]);
    // THEN only the DR tier's records fall under a replicated prefix (the rules' filters, constructs/audit-trail.ts)
    const replicated = (key: string) => AUDIT_REPLICATED_PREFIXES.some((prefix) => key.startsWith(prefix));
    expect(keys.map(replicated)).toEqual([true, false, false, true, false]);
  });

  it('as the Lambdas make it (lambdaAuditSink), takes the DR tiers from the Lambda\'s config', async () => {
    s3.on(PutObjectCommand).resolves({});
    const config = configWith({ allowedRegions: ['us-east-1', 'us-west-2'] });
    config.tiers.enterprise.disasterRecovery = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 };
    const saved = { config: process.env.TESSERA_PLATFORM_CONFIG, bucket: process.env.TESSERA_AUDIT_BUCKET };
    Object.assign(process.env, { TESSERA_PLATFORM_CONFIG: JSON.stringify(config), TESSERA_AUDIT_BUCKET: 'audit-bucket' });
    try {
      // lambdaConfig() keeps the first config it parses: this is the file's only import of lambda-deps (a fresh module per file, test/support/file-state.ts)
      const { lambdaAuditSink } = await import('../../../lambdas/inference/lambda-deps.js');
      const record = { at: '2026-11-23T10:00:00.000Z', latencyMs: 1, status: 200, outcome: 'ok' };
      await (await lambdaAuditSink('inference')).write({ ...record, requestId: 'chatcmpl-dr', tenantId: 'initech', tier: 'enterprise' });
      await (await lambdaAuditSink('fine-tuning')).write({ ...record, requestId: 'ftaudit-home', tenantId: 'acme', tier: 'starter' });
    } finally {
      for (const [name, value] of [['TESSERA_PLATFORM_CONFIG', saved.config], ['TESSERA_AUDIT_BUCKET', saved.bucket]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'tessera-audit/dr-tier/inference/initech/2026-11-23/chatcmpl-dr.json',
      'tessera-audit/fine-tuning/acme/2026-11-23/ftaudit-home.json',
    ]);
  });
});
