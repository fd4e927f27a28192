import type { PlatformConfig } from './schema.js';

/**
 * The Availability Zones the config pins for `region` (`availabilityZones[region]`), or
 * `undefined` when it pins none; then VPCs take the first `maxAzs` zones `Fn::GetAZs` returns at
 * deploy time, which works in every region (zone letters differ: ap-northeast-1 has a, c and d).
 */
export function configuredZones(config: Pick<PlatformConfig, 'availabilityZones'>, region: string): string[] | undefined {
  const zones = config.availabilityZones?.[region];
  return zones ? [...zones] : undefined;
}

/**
 * What a stack synthesized with an account and region answers for `Stack.availabilityZones`:
 * the configured zones, else stand-ins `<region>a`, `<region>b`, `<region>c` that no template
 * uses (the VPCs then select from `Fn::GetAZs`). Either way CDK performs no lookup, so synth
 * with real account ids needs no credentials and no cdk.context.json.
 */
export function stackZones(config: Pick<PlatformConfig, 'availabilityZones'>, region: string): string[] {
  return configuredZones(config, region) ?? ['a', 'b', 'c'].map((letter) => `${region}${letter}`);
}
