import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, type AvailabilityZone, type EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { records } from './registry-mock.js';
import { blueprintObject, credentials, setLifecycleEnv } from './support.js';

/** A usable Availability Zone of us-east-1 in a tenant account: `us-east-1<letter>` with zone ID `id`, `extra` over it. */
export function accountZone(letter: string, id: string, extra: Partial<AvailabilityZone> = {}): AvailabilityZone {
  return { ZoneName: `us-east-1${letter}`, ZoneId: id, ZoneType: 'availability-zone', State: 'available', OptInStatus: 'opt-in-not-required', RegionName: 'us-east-1', ...extra };
}

/**
 * The start of each *Deploy blueprint* zone test: the default lifecycle environment, an empty registry, every mock
 * reset; the catalog answers the current blueprint, STS the role's credentials, and DescribeAvailabilityZones the
 * account's `accountZones` (those named, when the call names zones).
 */
export function resetZoneDeployMocks(m: { cfn: AwsClientStub<CloudFormationClient>; ec2: AwsClientStub<EC2Client>; sts: AwsClientStub<STSClient>; s3: AwsClientStub<S3Client> }, accountZones: readonly AvailabilityZone[]): void {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const stub of [m.cfn, m.ec2, m.sts, m.s3]) stub.reset();
  m.s3.on(GetObjectCommand).resolves(blueprintObject());
  m.sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  m.ec2.on(DescribeAvailabilityZonesCommand).callsFake((input: { ZoneNames?: string[] }) => ({
    AvailabilityZones: accountZones.filter((z) => !input.ZoneNames || input.ZoneNames.includes(z.ZoneName!)),
  }));
}
