import { nearest } from './nearest.js';
/** A region name's shape: two letters, an optional `-gov`, a direction, a digit (`us-east-1`, `us-gov-west-1`). */
const REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * Every region aws-cdk-lib's region table (aws-cdk-lib/region-info `RegionInfo`, 2.276.0) knows, with its partition:
 * the table's `partition` fact, copied. Importing aws-cdk-lib/region-info registers the ~8,400 facts of its 1.4 MB
 * built-ins file (60-130 ms of CPU, once per process): every process that imported the config schema paid it, each
 * `tessera serve` or `tessera init` start and a refusal of a bad flag included, and every Lambda bundling
 * lambdas/shared/environment.ts carried the file. test/unit/config/region-table.test.ts compares this table with
 * `RegionInfo` of the installed aws-cdk-lib on every run (both ways: a region either knows and the other does not
 * fails it), so an aws-cdk-lib upgrade that adds or moves a region fails the suite until it is copied here.
 */
export const CDK_REGION_PARTITIONS: Readonly<Record<string, string>> = {
  'af-south-1': 'aws', 'ap-east-1': 'aws', 'ap-east-2': 'aws', 'ap-northeast-1': 'aws', 'ap-northeast-2': 'aws',
  'ap-northeast-3': 'aws', 'ap-south-1': 'aws', 'ap-south-2': 'aws', 'ap-southeast-1': 'aws', 'ap-southeast-2': 'aws',
  'ap-southeast-3': 'aws', 'ap-southeast-4': 'aws', 'ap-southeast-5': 'aws', 'ap-southeast-6': 'aws', 'ap-southeast-7': 'aws',
  'ca-central-1': 'aws', 'ca-west-1': 'aws', 'eu-central-1': 'aws', 'eu-central-2': 'aws', 'eu-north-1': 'aws',
  'eu-south-1': 'aws', 'eu-south-2': 'aws', 'eu-west-1': 'aws', 'eu-west-2': 'aws', 'eu-west-3': 'aws',
  'il-central-1': 'aws', 'me-central-1': 'aws', 'me-south-1': 'aws', 'me-west-1': 'aws', 'mx-central-1': 'aws',
  'sa-east-1': 'aws', 'us-east-1': 'aws', 'us-east-2': 'aws', 'us-west-1': 'aws', 'us-west-2': 'aws',
  'cn-north-1': 'aws-cn', 'cn-northwest-1': 'aws-cn',
  'us-gov-east-1': 'aws-us-gov', 'us-gov-west-1': 'aws-us-gov',
  'us-iso-east-1': 'aws-iso', 'us-iso-west-1': 'aws-iso',
  'us-isob-east-1': 'aws-iso-b', 'us-isob-west-1': 'aws-iso-b',
  'eu-isoe-west-1': 'aws-iso-e',
  'us-isof-east-1': 'aws-iso-f', 'us-isof-south-1': 'aws-iso-f',
  'eusc-de-east-1': 'aws-eusc',
};

/**
 * The opt-in regions of the `aws` partition in aws-cdk-lib's region table (RegionInfo `isOptInRegion`, 2.276.0, the
 * `aws:is-opt-in-region` fact), copied as CDK_REGION_PARTITIONS is: regions launched after 20 March 2019, disabled in
 * an account until enabled (AWS Account Management Reference Guide, "Enable or disable AWS Regions in your account",
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html). test/unit/config/region-table.test.ts
 * compares it with the installed aws-cdk-lib.
 */
export const CDK_OPT_IN_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6',
  'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1',
  'me-west-1', 'mx-central-1',
]);

/**
 * Whether `name` is an opt-in region of the `aws` partition: one CDK's table marks opt-in ({@link CDK_OPT_IN_REGIONS}), or a
 * region of the `aws` partition CDK's table does not know yet (a name of the region shape, not GovCloud or China:
 * {@link regionProblem} takes it). Every region launched after 20 March 2019 is disabled in an account until enabled ("Opt-in
 * Regions – Regions launched after March 20, 2019 are disabled by default", AWS Account Management Reference Guide, "Enable or
 * disable AWS Regions in your account", https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html),
 * and a region newer than the copied table (aws-cdk-lib 2.276.0) is newer than that date. Counting such a region opt-in
 * costs nothing if it is not: GetRegionOptStatus answers ENABLED_BY_DEFAULT and *Enable regions* calls nothing else.
 */
export function isOptInRegion(name: string): boolean {
  if (CDK_OPT_IN_REGIONS.has(name)) return true;
  return !Object.hasOwn(CDK_REGION_PARTITIONS, name) && regionProblem(name) === undefined;
}

/**
 * Why `name` cannot be a Tessera region (homeRegion, allowedRegions, a DR region, a key of
 * availabilityZones), or undefined when it can. Tessera's policies, ARNs and nag acknowledgements
 * assume the `aws` partition: a region of another one fails synth or deploy later, without a path.
 * The partition is CDK's (aws-cdk-lib/region-info RegionInfo's table of known regions, as CDK_REGION_PARTITIONS:
 * aws-us-gov, aws-cn, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc); a name CDK does not
 * know yet is taken by its shape (`-gov-`: GovCloud, `cn-`: China, else `aws`).
 * https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
 * @returns the message after `<key> = "<name>": `, or undefined
 */
export function regionProblem(name: string): string | undefined {
  const shaped = REGION_NAME.test(name);
  const partition = (Object.hasOwn(CDK_REGION_PARTITIONS, name) ? CDK_REGION_PARTITIONS[name] : undefined) ?? (shaped ? (name.includes('-gov-') ? 'aws-us-gov' : name.startsWith('cn-') ? 'aws-cn' : 'aws') : undefined);
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
  return Object.hasOwn(CDK_REGION_PARTITIONS, name) ? undefined : directionProblem(name);
}

/**
 * The directions AWS region names use (`us-east-1`, `ap-northeast-2`, `eu-central-1`, `cn-northwest-1`): the compass
 * points, their intercardinals and `central`. A region CDK's table does not know yet is taken by its shape
 * ({@link isOptInRegion}: a newer region), but a misspelt direction is no region's: `homeRegion: us-est-1` was taken as one,
 * refused only as outside allowedRegions, and the base models' images were then asked for in the registry
 * `763104351884.dkr.ecr.us-est-1.amazonaws.com` (a new user's trial, s40h).
 */
const REGION_DIRECTIONS: ReadonlySet<string> = new Set(['central', 'east', 'north', 'northeast', 'northwest', 'south', 'southeast', 'southwest', 'west']);

/**
 * Why an unknown name of the region shape is no region ({@link REGION_DIRECTIONS}), with the nearest known region of the
 * `aws` partition within two edits (nearest.ts; of regions as near, the first by name).
 */
function directionProblem(name: string): string | undefined {
  const direction = /-([a-z]+)-\d$/.exec(name)?.[1] ?? '';
  if (REGION_DIRECTIONS.has(direction)) return undefined;
  const near = nearest(name, Object.keys(CDK_REGION_PARTITIONS).filter((r) => CDK_REGION_PARTITIONS[r] === 'aws').sort((a, b) => a.localeCompare(b)), { maxEdits: 2 });
  return `is not an AWS region name: "${direction}" is no direction of one (${[...REGION_DIRECTIONS].join(', ')})${near ? `; did you mean ${near}?` : ''}`;
}
