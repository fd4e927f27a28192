import { GetObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lambdas/inference/audit.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { S3AuditSink } from '../../lambdas/inference/s3-audit-sink.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { putNewTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { AUDIT_BUCKET } from './support/platform-fixture.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';

// `tessera requests show` on the local platform (`npm run local-platform`): before, its admin API had no audit bucket
// (TESSERA_AUDIT_BUCKET unset), and every lookup of an existing tenant answered 500 "internal error; see the admin API
// logs", which the local platform does not print. Now the fixture makes the bucket the platform stack makes.

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
  await putNewTenant(localTenant('acme', 'enterprise'));
}, 180_000);
afterAll(async () => platform?.stop());

let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess : ((spawned = true), runTessera))(platform.apiUrl, ...args);

describe('tessera requests show on the local platform', () => {
  it('has the platform\'s audit bucket: Object Lock on, compliance mode by default for audit.objectLockRetentionDays', async () => {
    expect(process.env[ENV.auditBucket]).toBe(AUDIT_BUCKET);
    const lock = await new S3Client({ forcePathStyle: true }).send(new GetObjectLockConfigurationCommand({ Bucket: AUDIT_BUCKET }));
    expect(lock.ObjectLockConfiguration).toMatchObject({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: platform.config.audit.objectLockRetentionDays } } });
  });

  it('answers 404 request_not_found for an id the tenant has no record of (exit 1), and the record of one the gateway wrote there', async () => {
    const unknown = await tessera('requests', 'show', 'req_0123456789abcdef01234567', '--tenant', 'acme');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/tenant acme has no gateway record of request req_0123456789abcdef01234567 on .*\(request_not_found, field requestId\)/);
    expect(unknown.stderr).not.toMatch(/internal/);

    // A record as the deployed gateway writes it (S3AuditSink, under tessera-audit/inference/<tenant>/<day>/)
    const id = 'chatcmpl-89abcdef0123456789abcdef';
    const record: AuditRecord = {
      requestId: id, at: new Date().toISOString(), method: 'POST', path: '/v1/chat/completions', tenantId: 'acme', userId: 'key_00000000000000aa', keyId: 'key_00000000000000aa', role: 'developer',
      model: 'openai/gpt-4o-mini', provider: 'openai', promptTokens: 12, costUsd: 1e-6, latencyMs: 30, status: 200, outcome: 'ok', promptSha256: 'c'.repeat(64),
    };
    await new S3AuditSink(AUDIT_BUCKET).write(record);
    const found = await tessera('--json', 'requests', 'show', id, '--tenant', 'acme');
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ object: 'tenant.request', id, tenant: 'acme', model: 'openai/gpt-4o-mini', status: 200 });
    expect(JSON.parse(found.stdout)).not.toHaveProperty('prompt_sha256');
  });

  it('answers with API Gateway\'s x-amzn-RequestId, which tessera --json reports as the error\'s request_id', async () => {
    const missing = await tessera('--json', 'tenants', 'show', 'globex');
    expect(missing.code).toBe(1);
    const { error } = JSON.parse(missing.stderr.trimEnd().split('\n').at(-1)!) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'not_found_error', code: 'tenant_not_found', status: 404, request_id: expect.stringMatching(/^local-\d+-[a-z0-9]+$/) });
  });

  it('finds a fine-tuning API request\'s record (stream fine-tuning), after the router\'s stream has none', async () => {
    // As the deployed fine-tuning API writes it (lambda-deps.ts: S3AuditSink of stream fine-tuning, tessera-audit/fine-tuning/<tenant>/<day>/)
    const id = 'req_fedcba9876543210fedcba98';
    const record: AuditRecord = {
      requestId: id, at: new Date().toISOString(), method: 'POST', path: '/v1/fine_tuning/jobs', tenantId: 'acme', userId: 'u-1', role: 'developer',
      latencyMs: 40, status: 200, outcome: 'ok', detail: { jobId: 'ftjob-0123' },
    };
    await new S3AuditSink(AUDIT_BUCKET, 'fine-tuning').write(record);
    const found = await tessera('--json', 'requests', 'show', id, '--tenant', 'acme');
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ object: 'tenant.request', id, tenant: 'acme', path: '/v1/fine_tuning/jobs', detail: { jobId: 'ftjob-0123' } });
  });
});
