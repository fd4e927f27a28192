import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientWith } from '../../../lambdas/shared/aws-clients.js';
import { forgetSessions, keptProvisioningSessionCount, PROVISIONING_SESSION_RENEW_MARGIN_MS, ProvisioningRoleNotReadyError, tenantAccountCredentials } from '../../../lambdas/shared/sessions.js';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { setLifecycleEnv } from './support.js';

const sts = mockStrict(STSClient, 'sts', STSServiceException);
const PROVISIONING = 'arn:aws:iam::333333333333:role/TesseraProvisioning';
let issued = 0;
/** STS answers a new session per call, valid 15 minutes from `now`. */
const session = (now = Date.now()) => ({ Credentials: { AccessKeyId: `ASIA${++issued}`, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(now + 900_000) } });
const provisioningCalls = () => sts.commandCalls(AssumeRoleCommand).filter((c) => c.args[0].input.RoleArn === PROVISIONING);

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(() => session());
});
afterEach(() => vi.useRealTimers());

describe('provisioning-role sessions (lambdas/shared/sessions.ts)', () => {
  it('assumes the role once per account, tenant and step while the session lasts: a polled step reuses it, and its clients', async () => {
    // WHEN *Check blueprint* polls three times for acme, and another step and another tenant run once
    const first = await tenantAccountCredentials('333333333333', 'acme', 'check');
    const again = await tenantAccountCredentials('333333333333', 'acme', 'check');
    await tenantAccountCredentials('333333333333', 'acme', 'check');
    await tenantAccountCredentials('333333333333', 'acme', 'deploy');
    await tenantAccountCredentials('333333333333', 'globex', 'check');
    // THEN one AssumeRole per session name (CloudTrail still names tenant and step), not one per call
    expect(provisioningCalls().map((c) => c.args[0].input.RoleSessionName)).toEqual(['tessera-acme-check', 'tessera-acme-deploy', 'tessera-globex-check']);
    expect(again).toBe(first);
    // AND a client of the session is made once (lambdas/shared/aws-clients.ts)
    expect(clientWith(CloudFormationClient, again)).toBe(clientWith(CloudFormationClient, first));
  });

  it("names the session of a step whose name has spaces as STS accepts it ([\\w+=,.@-]): *Record failure*'s, *End stopped execution*'s", async () => {
    // STS refuses 'tessera-acme-Record failure' (AssumeRole RoleSessionName pattern; the strict mock checks it)
    await tenantAccountCredentials('333333333333', 'acme', 'Record failure');
    await tenantAccountCredentials('333333333333', 'acme', 'End stopped execution');
    expect(provisioningCalls().map((c) => c.args[0].input.RoleSessionName)).toEqual(['tessera-acme-Record-failure', 'tessera-acme-End-stopped-execution']);
  });

  it('shares one AssumeRole between concurrent first calls', async () => {
    const [a, b] = await Promise.all([tenantAccountCredentials('333333333333', 'acme', 'check'), tenantAccountCredentials('333333333333', 'acme', 'check')]);
    expect(a).toBe(b);
    expect(provisioningCalls()).toHaveLength(1);
  });

  it('assumes again once the session is within the renewal margin of its expiry (longer than any lifecycle Lambda runs)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-12-02T02:00:00Z').getTime();
    vi.setSystemTime(start);
    sts.on(AssumeRoleCommand).callsFake(() => session(Date.now()));
    await tenantAccountCredentials('333333333333', 'acme', 'check');
    // just before the margin: reused
    vi.setSystemTime(start + 900_000 - PROVISIONING_SESSION_RENEW_MARGIN_MS - 1_000);
    await tenantAccountCredentials('333333333333', 'acme', 'check');
    expect(provisioningCalls()).toHaveLength(1);
    // within the margin: a new session
    vi.setSystemTime(start + 900_000 - PROVISIONING_SESSION_RENEW_MARGIN_MS + 1_000);
    await tenantAccountCredentials('333333333333', 'acme', 'check');
    expect(provisioningCalls()).toHaveLength(2);
    expect(PROVISIONING_SESSION_RENEW_MARGIN_MS).toBeGreaterThan(10 * 60_000); // export-tenant-data's timeout
  });

  it('keeps only the sessions it may still hand out: a warm Lambda that went through 300 tenants does not hold them, nor their clients, for its life (hostile review 6)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-12-02T02:00:00Z').getTime();
    vi.setSystemTime(start);
    sts.on(AssumeRoleCommand).callsFake(() => session(Date.now()));
    for (let i = 0; i < 300; i++) await tenantAccountCredentials('333333333333', `t${i}`, 'quotas');
    expect(keptProvisioningSessionCount()).toBe(300);
    // WHEN the next tenant's session is assumed after the others' renewal time
    vi.setSystemTime(start + 900_000 - PROVISIONING_SESSION_RENEW_MARGIN_MS + 1_000);
    await tenantAccountCredentials('333333333333', 'next', 'quotas');
    // THEN only that one is kept
    expect(keptProvisioningSessionCount()).toBe(1);
  });

  it('keeps no failed AssumeRole: a role not assumable yet is asked again on the next call', async () => {
    sts.on(AssumeRoleCommand, { RoleArn: PROVISIONING }).rejectsOnce(Object.assign(new Error('not yet'), { name: 'AccessDenied' })).callsFake(() => session());
    await expect(tenantAccountCredentials('333333333333', 'acme', 'check')).rejects.toBeInstanceOf(ProvisioningRoleNotReadyError);
    await expect(tenantAccountCredentials('333333333333', 'acme', 'check')).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
    expect(provisioningCalls()).toHaveLength(2);
  });

  it('always calls STS with `fresh` (Verify provisioning access proves the role can be assumed now)', async () => {
    await tenantAccountCredentials('333333333333', 'acme', 'verify', { fresh: true });
    await tenantAccountCredentials('333333333333', 'acme', 'verify', { fresh: true });
    expect(provisioningCalls()).toHaveLength(2);
  });
});
