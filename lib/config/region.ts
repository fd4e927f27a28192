import { RegionInfo } from 'aws-cdk-lib/region-info';

/** A region name's shape: two letters, an optional `-gov`, a direction, a digit (`us-east-1`, `us-gov-west-1`). */
const REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * Why `name` cannot be a Tessera region (homeRegion, allowedRegions, a DR region, a key of
 * availabilityZones), or undefined when it can. Tessera's policies, ARNs and nag acknowledgements
 * assume the `aws` partition: a region of another one fails synth or deploy later, without a path.
 * The partition is CDK's (aws-cdk-lib/region-info RegionInfo, its table of known regions:
 * aws-us-gov, aws-cn, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc); a name CDK does not
 * know yet is taken by its shape (`-gov-`: GovCloud, `cn-`: China, else `aws`).
 * https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
 * @returns the message after `<key> = "<name>": `, or undefined
 */
export function regionProblem(name: string): string | undefined {
  const shaped = REGION_NAME.test(name);
  const partition = RegionInfo.get(name).partition ?? (shaped ? (name.includes('-gov-') ? 'aws-us-gov' : name.startsWith('cn-') ? 'aws-cn' : 'aws') : undefined);
  // GovCloud would fail synth later, without a path.
  if (partition === 'aws-us-gov') return 'is an AWS GovCloud region (partition aws-us-gov), which Tessera does not support yet: use a region of the aws partition';
  // The China regions (cn-north-1 Beijing, cn-northwest-1 Ningxia) have their own ARNs (arn:aws-cn:),
  // endpoints (amazonaws.com.cn) and service set (no Cognito user pools in cn-north-1): synth died on
  // the platform stack without a path.
  if (partition === 'aws-cn') return 'is an AWS China region (partition aws-cn), which Tessera does not support: use a region of the aws partition';
  // The isolated (us-iso-east-1, us-isob-east-1, eu-isoe-west-1, us-isof-south-1) and sovereign
  // (eusc-de-east-1) regions: real names, which "not a region name" would contradict.
  if (partition && partition !== 'aws') return `is a region of the ${partition} partition, which Tessera does not support: use a region of the aws partition`;
  if (!shaped) return 'must be an AWS region name such as us-east-1';
  return undefined;
}
