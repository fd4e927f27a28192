import { paginateDescribeInstanceTypeOfferings, type EC2Client, type LocationType } from '@aws-sdk/client-ec2';
import { pages } from '../../lib/aws-pages.js';

/**
 * Instance type → the locations of the region that offer it, for each of `types`
 * (DescribeInstanceTypeOfferings with LocationType `location` and the filter `instance-type`, every
 * page; EC2 API reference, DescribeInstanceTypeOfferings:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html).
 * Locations are zone names (`availability-zone`, names as the calling account maps them) or zone IDs
 * (`availability-zone-id`). A type no location offers maps to an empty set.
 * @throws the SDK's error (AccessDenied / UnauthorizedOperation without ec2:DescribeInstanceTypeOfferings)
 */
export async function instanceTypeOfferings(ec2: EC2Client, location: LocationType, types: readonly string[]): Promise<Map<string, Set<string>>> {
  const byType = new Map<string, Set<string>>(types.map((t) => [t, new Set<string>()]));
  for await (const page of paginateDescribeInstanceTypeOfferings(pages(ec2, 1000), { LocationType: location, Filters: [{ Name: 'instance-type', Values: [...types] }] })) {
    for (const o of page?.InstanceTypeOfferings ?? []) {
      if (o.InstanceType && o.Location) byType.get(o.InstanceType)?.add(o.Location);
    }
  }
  return byType;
}
