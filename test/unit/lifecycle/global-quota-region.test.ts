import { ListStacksCommand, CloudFormationClient, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { GetAccountSummaryCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import {
  GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ListAWSDefaultServiceQuotasCommand, ListRequestedServiceQuotaChangeHistoryByQuotaCommand,
  ListServiceQuotasCommand, RequestServiceQuotaIncreaseCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentials, setLifecycleEnv } from './support.js';

/**
 * IAM quotas are global: Service Quotas serves them only in us-east-1 and answers
 * NoSuchResourceException in any other Region (lib/quotas.ts GLOBAL_QUOTA_SERVICES). A platform
 * whose home Region (the lifecycle's, AWS_REGION) is another one must still read the account's
 * raised IAM roles quota, and ask to raise it, in us-east-1.
 */
const sq = mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const noSuchQuota = () => Object.assign(new Error('The request failed because the specified service does not exist.'), { name: 'NoSuchResourceException' });
/** A tier template that needs one IAM role (and one stack). */
const TEMPLATE = { Resources: { Role: { Type: 'AWS::IAM::Role' } } };
const TARGET = { accountId: '333333333333', region: 'us-west-2', credentials: { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! } };
/** Service Quotas as AWS has it: the IAM roles quota (raised to 5000) only in us-east-1, nothing else applied anywhere. */
const regionOf = async (getClient: () => ServiceQuotasClient) => getClient().config.region();
const sqCalls = () => sq.calls().map((c) => (c.args[0] as { input: { ServiceCode: string } }).input.ServiceCode);

beforeEach(() => {
  setLifecycleEnv();
  // The lifecycle runs in the home Region us-west-2.
  process.env.AWS_REGION = 'us-west-2';
  for (const m of [sq, iam, cfn]) m.reset();
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { Roles: 1000, Policies: 0 } });
  cfn.on(ListStacksCommand).resolves({ StackSummaries: [] });
  sq.on(GetServiceQuotaCommand).callsFake(async (input: { ServiceCode: string }, getClient) => {
    if (input.ServiceCode === 'iam' && (await regionOf(getClient)) === 'us-east-1') return { Quota: { Value: 5000 } };
    throw noSuchQuota();
  });
  sq.on(GetAWSDefaultServiceQuotaCommand).callsFake(async (input: { ServiceCode: string }, getClient) => {
    if (input.ServiceCode === 'iam' && (await regionOf(getClient)) === 'us-east-1') return { Quota: { Value: 1000 } };
    throw noSuchQuota();
  });
  sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
  sq.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
  sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).resolves({ RequestedQuotas: [] });
  sq.on(RequestServiceQuotaIncreaseCommand).callsFake(async (_input, getClient) => {
    if ((await regionOf(getClient)) !== 'us-east-1') throw noSuchQuota();
    return { RequestedQuota: { Id: 'req-iam-1', Status: 'PENDING' } };
  });
});

afterEach(() => setLifecycleEnv());

describe('the quota check reads a global (IAM) quota in us-east-1', async () => {
  const { checkQuotas } = await import('../../../lambdas/lifecycle/quota-check.js');

  it('reads the raised IAM roles quota there, so 1000 roles in use are no shortfall, when us-east-1 is allowed', async () => {
    const result = await checkQuotas(TEMPLATE, { ...TARGET, allowedRegions: ['us-west-2', 'us-east-1'] });
    const roles = result.findings.find((f) => f.rule.key === 'iam-roles-per-account');
    expect(roles).toMatchObject({ usage: 1000, need: 1, applied: { value: 5000, source: 'applied', quotaCode: 'L-FE177D64' } });
    expect(result.shortfalls).toEqual([]);
    expect(sqCalls()).toContain('iam');
  });

  it('asks for the increase in us-east-1 and records that Region', async () => {
    sq.on(GetServiceQuotaCommand, { ServiceCode: 'iam' }).callsFake(async (_input, getClient) => {
      if ((await regionOf(getClient)) === 'us-east-1') return { Quota: { Value: 1000 } };
      throw noSuchQuota();
    });
    const result = await checkQuotas(TEMPLATE, { ...TARGET, allowedRegions: ['us-west-2', 'us-east-1'] });
    expect(result.shortfalls.map((s) => s.request)).toEqual([expect.objectContaining({ serviceCode: 'iam', quotaCode: 'L-FE177D64', desired: 1001, requestId: 'req-iam-1', region: 'us-east-1' })]);
  });

  it('keeps to the home Region when the region guardrail denies us-east-1 (not in allowedRegions): the documented default', async () => {
    const result = await checkQuotas(TEMPLATE, { ...TARGET, allowedRegions: ['us-west-2', 'eu-west-1'] });
    const roles = result.findings.find((f) => f.rule.key === 'iam-roles-per-account');
    expect(roles).toMatchObject({ applied: { value: 1000, source: 'rule-default' } });
    const regions = await Promise.all(sq.calls().map((c) => (c.thisValue as ServiceQuotasClient).config.region()));
    expect(new Set(regions)).toEqual(new Set(['us-west-2']));
  });
});
