import { CloudFormationClient, ListStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeAccountAttributesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ListAWSDefaultServiceQuotasCommand, ListRequestedServiceQuotaChangeHistoryByQuotaCommand,
  ListServiceQuotasCommand, RequestServiceQuotaIncreaseCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockStrict } from '../../support/strict-mock.js';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { ACCOUNT_ZONES, blueprintObject, credentials, leased, setLifecycleEnv, state } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlMock = vi.hoisted(() => ({
  nextPoolIndex: vi.fn(async () => 0),
  passPoolIndex: vi.fn(async () => undefined),
  claimCidr: vi.fn(async () => true),
  cidrClaimsOf: vi.fn(async (): Promise<string[]> => []),
  releaseCidr: vi.fn(async () => undefined),
  returnPoolIndex: vi.fn(async () => undefined),
  // No block given back at offboarding is listed (pool-allocation.test.ts hands them out).
  releasedCidrs: vi.fn(async (): Promise<string[]> => []),
  claimReleasedCidr: vi.fn(async () => 'gone' as const),
  dropClaimedCidr: vi.fn(async () => undefined),
  releaseSlot: vi.fn(async () => undefined),
}));

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const sq = mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);

/** A tier template with one VPC and one DB instance: needs 1 VPC, 1 security group (the VPC default), 1 DB instance, 1 ENI, 1 stack. */
const TEMPLATE = { Resources: { Vpc: { Type: 'AWS::EC2::VPC' }, Db: { Type: 'AWS::RDS::DBInstance' } } };
const noSuchQuota = Object.assign(new Error('The request failed because the specified service quota does not exist.'), { name: 'NoSuchResourceException' });

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions(); // each test sees its own AssumeRole calls (the provisioning sessions are kept per account, tenant and step)
  records.clear();
  vi.clearAllMocks();
  for (const m of [s3, sts, sq, ec2, rds, cfn, events]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  ec2.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  s3.on(GetObjectCommand).resolves(blueprintObject());
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  s3.on(GetObjectCommand, { Bucket: 'tessera-blueprints', Key: 'blueprints/1.0.0/starter.template.json' })
    .callsFake(() => ({ Body: sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify(TEMPLATE))])) }));
  // Usage: a workload account with 2 VPCs and little else.
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-default' }, { VpcId: 'vpc-t1' }] });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1' }, { GroupId: 'sg-2' }] });
  rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 1, Max: 40 }] });
  cfn.on(ListStacksCommand).resolves({ StackSummaries: [] });
  // Applied values: VPCs by code; the rest by name from the listings (empty: AWS defaults of lib/quotas.ts).
  sq.on(GetServiceQuotaCommand, { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' }).resolves({ Quota: { Value: 5 } });
  sq.on(GetServiceQuotaCommand).rejects(noSuchQuota);
  sq.on(GetAWSDefaultServiceQuotaCommand).rejects(noSuchQuota);
  sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
  sq.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
  sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).resolves({ RequestedQuotas: [] });
  sq.on(RequestServiceQuotaIncreaseCommand).resolves({ RequestedQuota: { Id: 'req-vpc-1', Status: 'PENDING' } });
});

describe('Allocate network checks the account\'s quotas first', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  const fresh = () => records.set('acme', leased('onboard', { vpcCidr: undefined }));

  it('claims a range when one more tenant fits every quota, and says what it checked', async () => {
    fresh();
    const out = await handler(state());
    expect(out).toMatchObject({ vpcCidr: '10.64.0.0/22', quotas: { checked: expect.any(Number) } });
    expect((out as { quotas: { checked: number } }).quotas.checked).toBeGreaterThanOrEqual(4);
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand)).toHaveLength(0);
    // measured in the tenant's account, through the provisioning role
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toContain('arn:aws:iam::333333333333:role/TesseraProvisioning');
  });

  it('fails before claiming a range when the workload account is at its VPC quota, names the quota and requests an increase', async () => {
    // GIVEN 5 of 5 VPCs in use
    fresh();
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: ['a', 'b', 'c', 'd', 'e'].map((v) => ({ VpcId: `vpc-${v}` })) });
    // WHEN / THEN
    await expect(handler(state())).rejects.toMatchObject({
      name: 'QuotaExceeded',
      message: 'account 333333333333 us-east-1 uses 5 of 5 "VPCs per Region" (vpc L-F678F1CE); tier starter needs 1 more; requested an increase to 6 (req-vpc-1, PENDING)',
    });
    expect(controlMock.nextPoolIndex).not.toHaveBeenCalled();
    expect(controlMock.claimCidr).not.toHaveBeenCalled();
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand).map((c) => c.args[0].input)).toEqual([{ ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE', DesiredValue: 6 }]);
    expect(records.get('acme')?.quotaRequests).toEqual([
      { serviceCode: 'vpc', quotaCode: 'L-F678F1CE', name: 'VPCs per Region', applied: 5, desired: 6, requestId: 'req-vpc-1', status: 'PENDING', region: 'us-east-1', requestedAt: expect.any(String) },
    ]);
  });

  it('does not file a second request while one is open, and says so', async () => {
    fresh();
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: ['a', 'b', 'c', 'd', 'e'].map((v) => ({ VpcId: `vpc-${v}` })) });
    sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).resolves({ RequestedQuotas: [
      { Id: 'old', Status: 'DENIED', DesiredValue: 10, Created: new Date('2026-01-01') },
      { Id: 'req-open', Status: 'CASE_OPENED', DesiredValue: 8, Created: new Date('2026-11-01') },
    ] });
    await expect(handler(state())).rejects.toMatchObject({ message: expect.stringMatching(/needs 1 more; an increase to 8 is already requested \(req-open, CASE_OPENED\)$/) });
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand)).toHaveLength(0);
  });

  it('names every quota short, reads a quota without a code by its name, and uses the applied value over the default', async () => {
    // GIVEN RDS "DB instances" raised to 2 (found by name) and in use twice, and VPCs full
    fresh();
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: ['a', 'b', 'c', 'd', 'e'].map((v) => ({ VpcId: `vpc-${v}` })) });
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 2, Max: 2 }] });
    sq.on(ListServiceQuotasCommand, { ServiceCode: 'rds' }).resolves({ Quotas: [{ QuotaName: 'DB instances', QuotaCode: 'L-7B6409FD', Value: 2 }] });
    sq.on(RequestServiceQuotaIncreaseCommand, { QuotaCode: 'L-7B6409FD' }).resolves({ RequestedQuota: { Id: 'req-rds-1', Status: 'PENDING' } });
    // WHEN
    const error = (await handler(state()).then(() => new Error("did not fail"), (e: Error) => e));
    // THEN both quotas are named, each with its own request
    expect(error.message.split('; requested')).toHaveLength(3);
    expect(error.message).toContain('uses 2 of 2 "DB instances" (rds L-7B6409FD); tier starter needs 1 more; requested an increase to 3 (req-rds-1, PENDING)');
    expect(records.get('acme')?.quotaRequests?.map((r) => r.quotaCode)).toEqual(['L-F678F1CE', 'L-7B6409FD']);
  });

  it('falls back to the AWS default value, then to the documented default, when Service Quotas has no applied value', async () => {
    fresh();
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: ['a', 'b', 'c', 'd'].map((v) => ({ VpcId: `vpc-${v}` })) });
    sq.on(GetServiceQuotaCommand, { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' }).rejects(noSuchQuota);
    sq.on(GetAWSDefaultServiceQuotaCommand, { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' }).resolves({ Quota: { Value: 4 } });
    await expect(handler(state())).rejects.toMatchObject({ message: expect.stringMatching(/^account 333333333333 us-east-1 uses 4 of 4 "VPCs per Region"/) });
    sq.on(GetAWSDefaultServiceQuotaCommand, { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' }).rejects(noSuchQuota);
    await expect(handler(state())).resolves.toMatchObject({ vpcCidr: '10.64.0.0/22' }); // 4 + 1 <= 5 (lib/quotas.ts default)
  });

  it('leaves a quota it cannot measure unchecked (logged) and goes on; throttling goes to the state machine retry', async () => {
    fresh();
    rds.on(DescribeAccountAttributesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(handler(state())).resolves.toMatchObject({ quotas: { unchecked: expect.arrayContaining(['rds-db-instances']) } });
    fresh();
    ec2.on(DescribeVpcsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'Throttling' });
  });

  it('still fails, naming the quota, when the increase request itself is refused', async () => {
    fresh();
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: ['a', 'b', 'c', 'd', 'e'].map((v) => ({ VpcId: `vpc-${v}` })) });
    sq.on(RequestServiceQuotaIncreaseCommand).rejects(Object.assign(new Error('organization template'), { name: 'AccessDeniedException' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'QuotaExceeded', message: expect.stringMatching(/"VPCs per Region" \(vpc L-F678F1CE\); tier starter needs 1 more; no increase requested: AccessDeniedException: organization template$/) });
    expect(records.get('acme')?.quotaRequests).toBeUndefined();
  });

  it('does nothing when the tenant already holds a range (a resumed run)', async () => {
    records.set('acme', leased('onboard'));
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.0.0/22' });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

describe('Record failure carries the quota shortfall', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/record-failure.js');
  it('writes the named quota into the registry failure and the event', async () => {
    records.set('acme', leased('onboard', { vpcCidr: undefined, currentStep: 'Allocate network', accountId: undefined }));
    const message = 'account 333333333333 us-east-1 uses 5 of 5 "VPCs per Region" (vpc L-F678F1CE); tier starter needs 1 more; requested an increase to 6 (req-vpc-1, PENDING)';
    await handler({ ...state(), kind: 'onboard', error: { Error: 'QuotaExceeded', Cause: JSON.stringify({ errorType: 'QuotaExceeded', errorMessage: message }) } });
    expect(records.get('acme')?.failure).toMatchObject({ step: 'Allocate network', reason: `QuotaExceeded: ${message}` });
    expect(JSON.parse(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!)).toMatchObject({ step: 'Allocate network', reason: `QuotaExceeded: ${message}` });
  });
});
