import { CloudFormationClient, CloudFormationServiceException, CreateStackCommand, DescribeStacksCommand, type Parameter } from '@aws-sdk/client-cloudformation';
import { DescribeInstanceTypeOfferingsCommand, EC2Client, EC2ServiceException, type AvailabilityZone } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKUP_SCHEDULE_MINUTE_PARAMETER, backupScheduleMinute } from '../../../lib/backup-schedule-minute.js';
import { mockStrict } from '../../support/strict-mock.js';
import { blueprintObject, leased, offeringsIn, state } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { accountZone, resetZoneDeployMocks } from './zone-deploy-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

// A DR tier's blueprint declares BackupScheduleMinute (lib/tenant-stack.ts): the minute past the hour its database's Backup
// rules and restore test start at. Before, every DR tenant's rules started at :00, so the cross-Region copy jobs of all DR
// tenants of an account queued behind AWS Backup's concurrency quotas at the same minute. *Deploy blueprint* passes the
// tenant's own minute, from its id, and only to a template that declares the parameter (an older published version does not).
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const ZONES: AvailabilityZone[] = [accountZone('a', 'use1-az1'), accountZone('b', 'use1-az2'), accountZone('c', 'use1-az4')];
const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
const valueOf = (params: Parameter[] | undefined, key: string) => params?.find((p) => p.ParameterKey === key)?.ParameterValue;
const DR_PARAMETERS = ['TenantId', 'VpcCidr', 'AvailabilityZones', 'DatabaseDeletionProtection', 'GpuNodesMinSize', 'GpuNodesDesiredSize', BACKUP_SCHEDULE_MINUTE_PARAMETER];

beforeEach(() => {
  resetZoneDeployMocks({ cfn, ec2, sts, s3 }, ZONES);
  ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(ZONES.map((z) => z.ZoneName!)));
  cfn.on(DescribeStacksCommand).rejects(notFound);
  cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
});

describe('backupScheduleMinute', () => {
  it('is a whole minute 0-59, the same for the same tenant, and spreads tenant ids over the hour', () => {
    expect(backupScheduleMinute('acme')).toBe(backupScheduleMinute('acme'));
    const ids = Array.from({ length: 600 }, (_, i) => `tenant-${i}`);
    const minutes = ids.map(backupScheduleMinute);
    for (const m of minutes) expect(Number.isInteger(m) && m >= 0 && m <= 59, String(m)).toBe(true);
    // 600 ids over 60 minutes: every minute is someone's, none holds more than three times its share.
    const counts = Array.from({ length: 60 }, (_, m) => minutes.filter((x) => x === m).length);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(30);
    // 20 DR tenants (docs/resilience.md: the copy quota's queue) start over more than ten minutes of the hour, not one.
    expect(new Set(ids.slice(0, 20).map(backupScheduleMinute)).size).toBeGreaterThan(10);
  });
});

describe('Deploy blueprint passes the tenant\'s backup minute', () => {
  const deploy = async () => (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;

  it('to a template that declares BackupScheduleMinute (a DR tier\'s), computed from the tenant id', async () => {
    s3.on(GetObjectCommand).resolves(blueprintObject(DR_PARAMETERS));
    records.set('acme', leased('onboard'));
    await (await deploy())(state('acme', { blueprint: 'tenant' }));
    const params = cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters;
    expect(valueOf(params, BACKUP_SCHEDULE_MINUTE_PARAMETER)).toBe(String(backupScheduleMinute('acme')));
  });

  it('to no template that does not declare it (a tier without DR, or an older published version: CloudFormation refuses an undeclared parameter)', async () => {
    records.set('acme', leased('onboard'));
    await (await deploy())(state('acme', { blueprint: 'tenant' }));
    const params = cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters;
    expect(params?.map((p) => p.ParameterKey)).not.toContain(BACKUP_SCHEDULE_MINUTE_PARAMETER);
  });
});
