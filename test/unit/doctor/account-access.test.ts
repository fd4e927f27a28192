import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { expect, it } from 'vitest';
import { accountAccess } from '../../../lib/cli/doctor/account-access.js';
import { awsClientFactory } from '../../../lib/cli/doctor/clients.js';
import { trustsAccount } from '../../../lib/cli/doctor/trust-policy.js';
import { MANAGEMENT, mockSts, PLATFORM, REGION, trustDocument, WORKLOAD } from './support.js';

const factory = awsClientFactory({ maxAttempts: 1 });
const caller = factory({ accessKeyId: 'AKIA-caller', secretAccessKey: 's' }, REGION);

it('reads an account with its --account-profile instead of a role, and the caller\'s own account with the caller\'s credentials', async () => {
  const sts = mockSts();
  const access = accountAccess({ factory, region: REGION, callerAccount: MANAGEMENT, caller, managementAccount: MANAGEMENT, accountProfiles: { [PLATFORM]: 'platform-ro' } });
  expect(await access(PLATFORM)).toMatchObject({ ok: true, via: 'profile platform-ro' });
  expect(await access(MANAGEMENT)).toMatchObject({ ok: true, via: 'your credentials' });
  expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
});

it('assumes the lookup role once per account (cached) and lists every role tried when none can be assumed', async () => {
  const sts = mockSts(() => true);
  const access = accountAccess({ factory, region: REGION, callerAccount: MANAGEMENT, caller, managementAccount: MANAGEMENT, fallbackRoles: { [WORKLOAD]: ['TesseraProvisioning'] } });
  const [a, b] = await Promise.all([access(WORKLOAD), access(WORKLOAD)]);
  expect(a).toBe(b);
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
    `arn:aws:iam::${WORKLOAD}:role/cdk-hnb659fds-lookup-role-${WORKLOAD}-${REGION}`,
    `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`,
  ]);
  expect(a.ok).toBe(false);
  if (!a.ok) expect(a.detail).toContain(`; also sts:AssumeRole arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning failed: AccessDenied`);
});

it('reads trust policies as IAM returns them (URL-encoded) and in every principal form', () => {
  expect(trustsAccount(trustDocument(`arn:aws:iam::${MANAGEMENT}:root`), MANAGEMENT)).toBe(true);
  expect(trustsAccount(trustDocument(MANAGEMENT), MANAGEMENT)).toBe(true);
  expect(trustsAccount(trustDocument(`arn:aws:iam::${MANAGEMENT}:role/deployer`), MANAGEMENT)).toBe(true);
  expect(trustsAccount(trustDocument(`arn:aws:iam::${PLATFORM}:root`), MANAGEMENT)).toBe(false);
  expect(trustsAccount(JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: { AWS: MANAGEMENT }, Action: 'sts:AssumeRole' }] }), MANAGEMENT)).toBe(false);
  expect(trustsAccount(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }), MANAGEMENT)).toBe(false);
  expect(trustsAccount(JSON.stringify({ Statement: { Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${MANAGEMENT}:root`] }, Action: ['sts:AssumeRole', 'sts:TagSession'] } }), MANAGEMENT)).toBe(true);
  expect(trustsAccount('not json', MANAGEMENT)).toBe(false);
});
