import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../../lambdas/inference/policy.js';
import { tenantRoleClient } from '../../../lambdas/shared/tenant-role-clients.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { configWith } from '../../support/config-with.js';

// Issue 12 review: a session of a tenant's model-invoker role carries that tenant's tag; neither
// the policy nor the session cache may hand it to another tenant's request.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const record = (tenantId: string) => ({ tenantId, name: tenantId, tier: 'professional', isolation: 'vpc', adminEmail: `a@${tenantId}.example.com`, status: 'ACTIVE' }) as unknown as TenantRecord;
const invoker = (tenantId: string) => `arn:aws:iam::333333333333:role/tessera-${tenantId}-model-invoker`;

describe('models invoked as a tenant\'s own role', () => {
  it('offers a configured model invoked as tenant B\'s model-invoker role to B only', () => {
    const config = configWith({
      gateway: { models: [{ id: 'sagemaker/acme-2-private', upstream: 'acme-2-ep', inputPricePer1k: 0.001, outputPricePer1k: 0.001, maxOutputTokens: 1024, invokeRoleArn: invoker('acme-2') }] },
    });
    expect(resolvePolicy(config, record('acme-2')).models.has('sagemaker/acme-2-private')).toBe(true);
    expect(resolvePolicy(config, record('acme')).models.has('sagemaker/acme-2-private')).toBe(false);
  });

  it('keeps one session per tenant and role: a request for acme never reuses acme-2\'s tagged session', async () => {
    const sts = mockStrict(STSClient, 'sts', STSServiceException);
    let n = 0;
    sts.on(AssumeRoleCommand).callsFake(async () => ({ Credentials: { AccessKeyId: `ASIA${++n}`, SecretAccessKey: 's', SessionToken: `t${n}`, Expiration: new Date(Date.now() + 900_000) } }));
    const role = 'arn:aws:iam::333333333333:role/tessera-shared-endpoint-invoker';
    const forB = await tenantRoleClient(SageMakerRuntimeClient, role, 'acme-2', 'invoke');
    const forA = await tenantRoleClient(SageMakerRuntimeClient, role, 'acme', 'invoke');
    expect(forA).not.toBe(forB);
    expect(await tenantRoleClient(SageMakerRuntimeClient, role, 'acme', 'invoke')).toBe(forA);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.Tags)).toEqual([
      [{ Key: 'tessera:tenant-id', Value: 'acme-2' }],
      [{ Key: 'tessera:tenant-id', Value: 'acme' }],
    ]);
    sts.restore();
  });
});
