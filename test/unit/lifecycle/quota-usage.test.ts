import { GetAccountSummaryCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { DescribeAccountAttributesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { USAGE, usageClients } from '../../../lambdas/lifecycle/quota-usage.js';
import { setLifecycleEnv } from './support.js';

const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const credentials = { accessKeyId: 'ASIA', secretAccessKey: 'secret', sessionToken: 'token' };

beforeEach(() => {
  setLifecycleEnv();
  rds.reset();
  iam.reset();
  rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [
    { AccountQuotaName: 'DBInstances', Used: 3, Max: 40 }, { AccountQuotaName: 'DBSubnetGroups', Used: 2, Max: 50 },
    { AccountQuotaName: 'DBParameterGroups', Used: 1, Max: 50 }, { AccountQuotaName: 'DBClusterParameterGroups', Used: 4, Max: 50 },
  ] });
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { Roles: 12, Policies: 5 } });
});

describe('quota usage of account-wide answers (lambdas/lifecycle/quota-usage.ts)', () => {
  it('reads DescribeAccountAttributes and GetAccountSummary once per check, however many rules they serve', async () => {
    // GIVEN one check's clients
    const c = usageClients(credentials);
    // WHEN the three RDS rules and the two IAM rules are measured
    const used = [];
    for (const key of ['rds-db-instances', 'rds-db-subnet-groups', 'rds-parameter-groups', 'iam-roles-per-account', 'iam-customer-managed-policies-per-account']) used.push(await USAGE[key](c));
    // THEN each rule has its own figure, from one call of each API
    expect(used).toEqual([3, 2, 5, 12, 5]);
    expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(1);
    expect(iam.commandCalls(GetAccountSummaryCommand)).toHaveLength(1);
    // AND another check (new clients) reads them again: usage changes between checks
    await USAGE['rds-db-instances'](usageClients(credentials));
    expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(2);
  });

  it('shares a failed read between the rules it serves', async () => {
    rds.on(DescribeAccountAttributesCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const c = usageClients(credentials);
    await expect(USAGE['rds-db-instances'](c)).rejects.toThrow('denied');
    await expect(USAGE['rds-db-subnet-groups'](c)).rejects.toThrow('denied');
    expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(1);
  });
});
