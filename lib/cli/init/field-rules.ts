import { PLACEHOLDER_TOKENS } from '../../config/placeholders.js';
import { DEFAULT_CONFIG } from '../../config/default-config.js';
import { PlatformConfigSchema, PROVIDER_SECRET_NAME, PROVIDER_SECRET_NAME_MESSAGE } from '../../config/schema.js';
import { accountEmailTemplateProblems } from '../../tenant-account-email.js';

/**
 * The rules `tessera init` checks each value against as it is parsed or typed: the config schema's
 * own (lib/config/schema.ts) for account ids, organization and root ids, regions, Availability
 * Zones and tier names, plus the refusal of the embedded default's placeholders, which a config file
 * may not leave in force. Each `parse…` returns the value in its config form or throws
 * {@link InvalidValue} with a message that completes "<flag> "<value>": …".
 */
export class InvalidValue extends Error {
  /** Each problem of the value, each completing "<flag> "<value>": …" (one, or several found at once: parseAccountEmail). */
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[]) {
    const all = typeof problems === 'string' ? [problems] : problems;
    super(all.join('; '));
    this.name = 'InvalidValue';
    this.problems = all;
  }
}

const shape = PlatformConfigSchema.shape;

/** Placeholders of the embedded default: values that may belong to someone else. */
const PLACEHOLDER_ACCOUNTS = new Set([
  DEFAULT_CONFIG.organization.managementAccountId, DEFAULT_CONFIG.platformAccountId, DEFAULT_CONFIG.workloadAccountId,
]);

function schemaCheck(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ message: string }> } } }, value: string, message?: string): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidValue(message ?? result.error?.issues[0]?.message ?? 'is not valid');
}

/** A 12-digit AWS account id, not one of the embedded default's placeholders (111111111111…). */
export function parseAccountId(raw: string): string {
  const value = raw.trim();
  schemaCheck(shape.platformAccountId, value, 'must be a 12-digit AWS account id such as 123456789012');
  if (PLACEHOLDER_ACCOUNTS.has(value)) throw new InvalidValue('is a placeholder of the embedded default: give your own account id');
  return value;
}

/** An AWS Organizations id (`o-` and 10-32 lower-case letters or digits), not the default's o-exampleorg1. */
export function parseOrganizationId(raw: string): string {
  const value = raw.trim();
  schemaCheck(shape.organization.shape.organizationId, value, 'must be an AWS Organizations id such as o-a1b2c3d4e5 (aws organizations describe-organization shows it)');
  if (value === DEFAULT_CONFIG.organization.organizationId) throw new InvalidValue('is the embedded default\'s placeholder: give your organization\'s id');
  return value;
}

/** An organization root id (`r-` and 4-32 lower-case letters or digits), not the default's r-ex01. */
export function parseRootId(raw: string): string {
  const value = raw.trim();
  schemaCheck(shape.organization.shape.rootId, value, 'must be an organization root id such as r-ab12 (aws organizations list-roots shows it)');
  if (value === DEFAULT_CONFIG.organization.rootId) throw new InvalidValue('is the embedded default\'s placeholder: give your organization root\'s id');
  return value;
}

/**
 * `organization.accountEmail`: the root email template of the account tenants' AWS accounts, with `{tenantId}` (the
 * schema's rule: lib/tenant-account-email.ts), on a domain of the engineer's, not the embedded default's example domain.
 * @throws InvalidValue with every problem of the value at once (a missing `{tenantId}` and the placeholder domain, say):
 *   until session 50 it named the first, and the next run the next
 */
export function parseAccountEmail(raw: string): string {
  const value = raw.trim();
  const problems = accountEmailTemplateProblems(value);
  const token = PLACEHOLDER_TOKENS.find((t) => value.includes(t));
  if (token) problems.push(`is on the embedded default's placeholder domain (${token}): give an address of your platform team's own domain, e.g. aws+tessera-{tenantId}@platform.acme.com`);
  if (problems.length) throw new InvalidValue(problems);
  return value;
}

/** An AWS region name such as us-east-1 (the schema's rule). */
export function parseRegion(raw: string): string {
  const value = raw.trim();
  schemaCheck(shape.homeRegion, value);
  return value;
}

/** Comma-separated items, trimmed, empty ones dropped. */
export function splitList(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function firstRepeat(values: readonly string[]): string | undefined {
  return values.find((v, i) => values.indexOf(v) !== i);
}

/**
 * A comma-separated list of regions that includes `homeRegion` (the schema requires it).
 * @throws InvalidValue naming the bad region, a repeat, or the missing home region
 */
export function parseAllowedRegions(raw: string, homeRegion: string | undefined): string[] {
  const regions = splitList(raw);
  if (regions.length === 0) throw new InvalidValue('must name at least one region, e.g. us-east-1,us-west-2');
  for (const r of regions) {
    try {
      parseRegion(r);
    } catch (e) {
      throw new InvalidValue(`"${r}" ${(e as Error).message}`);
    }
  }
  const repeat = firstRepeat(regions);
  if (repeat) throw new InvalidValue(`repeats ${repeat}: list each region once`);
  if (homeRegion && !regions.includes(homeRegion)) throw new InvalidValue(`must include the home region ${homeRegion}: add it to the list`);
  return regions;
}

/** The zones `init` writes for a region nobody named: `<region>a`, `<region>b`, `<region>c` (the config's documented default). */
export function defaultZones(region: string): string[] {
  return ['a', 'b', 'c'].map((letter) => `${region}${letter}`);
}

/**
 * The Availability Zone names of one region, comma-separated: each the region followed by one
 * letter (schema rule), no repeats; the home region needs at least `platformNetwork.maxAzs` of the
 * embedded default (the platform VPC spans that many).
 */
export function parseZones(raw: string, region: string, homeRegion: string | undefined): string[] {
  const zones = splitList(raw);
  if (zones.length === 0) throw new InvalidValue(`must name at least one zone of ${region}, e.g. ${defaultZones(region).join(',')}`);
  const zoneSchema = shape.availabilityZones.unwrap().valueType.element;
  for (const zone of zones) {
    try {
      schemaCheck(zoneSchema, zone);
    } catch (e) {
      throw new InvalidValue(`"${zone}" ${(e as Error).message}`);
    }
    if (!zone.startsWith(region) || zone.length !== region.length + 1) throw new InvalidValue(`"${zone}" is not a zone of ${region}: write ${region} followed by the zone letter, e.g. ${region}a`);
  }
  const repeat = firstRepeat(zones);
  if (repeat) throw new InvalidValue(`repeats ${repeat}: list each zone once`);
  const needed = DEFAULT_CONFIG.platformNetwork.maxAzs;
  if (region === homeRegion && zones.length < needed) {
    throw new InvalidValue(`lists ${zones.length} zone(s) of the home region, but the platform VPC spans ${needed} (platformNetwork.maxAzs): list at least ${needed}`);
  }
  return zones;
}

/**
 * One `--availability-zones` value, `<region>=<zone>,<zone>...`, split into region and raw zones
 * (the zones are checked by {@link parseZones} once the regions are known).
 */
export function splitZonesFlag(raw: string): { region: string; zones: string } {
  const eq = raw.indexOf('=');
  if (eq < 0) throw new InvalidValue('must be <region>=<zone>,<zone>..., e.g. us-east-1=us-east-1a,us-east-1b,us-east-1c');
  return { region: parseRegion(raw.slice(0, eq)), zones: raw.slice(eq + 1) };
}

/** The embedded default's tier names, in their order: starter, professional, enterprise. */
export const DEFAULT_TIERS: readonly string[] = Object.keys(DEFAULT_CONFIG.tiers);

/**
 * The default tiers to keep, comma-separated: each a valid tier name (schema rule) and one of
 * {@link DEFAULT_TIERS}; at least one; returned in the default's order.
 */
export function parseTiers(raw: string): string[] {
  const tiers = splitList(raw);
  if (tiers.length === 0) throw new InvalidValue(`must keep at least one of the default tiers: ${DEFAULT_TIERS.join(', ')}`);
  for (const tier of tiers) {
    try {
      schemaCheck(shape.tiers.keyType, tier);
    } catch (e) {
      throw new InvalidValue(`"${tier}" ${(e as Error).message}`);
    }
    if (!DEFAULT_TIERS.includes(tier)) {
      throw new InvalidValue(`"${tier}" is not a default tier: keep some of ${DEFAULT_TIERS.join(', ')} (add a tier of your own under tiers in the written file)`);
    }
  }
  const repeat = firstRepeat(tiers);
  if (repeat) throw new InvalidValue(`repeats ${repeat}: name each tier once`);
  return DEFAULT_TIERS.filter((t) => tiers.includes(t));
}

/**
 * An S3 bucket name for the base-model weights (`s3://name` and `s3://name/` are accepted too).
 * Rules from the S3 User Guide, "General purpose bucket naming rules": 3-63 characters of a-z, 0-9,
 * `.` and `-`, starting and ending with a letter or digit, no `..`, not an IP address, not starting
 * with `xn--`, `sthree-` or `amzn-s3-demo-`, not ending with `-s3alias`, `--ol-s3`, `.mrap` or `--x-s3`.
 * The default's placeholder bucket (tessera-base-models-222222222222) is refused.
 */
export function parseBucketName(raw: string): string {
  const value = raw.trim().replace(/^s3:\/\//, '').replace(/\/$/, '');
  if (value.includes('/')) throw new InvalidValue('must be a bucket name such as tessera-base-models-123456789012, without a prefix (each model gets <bucket>/<model id>/)');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) || value.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(value)
    || /^(xn--|sthree-|amzn-s3-demo-)/.test(value) || /(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(value)) {
    throw new InvalidValue('must be an S3 bucket name: 3-63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit (S3 bucket naming rules)');
  }
  if (value === baseModelsBucketOf(DEFAULT_CONFIG.platformAccountId)) throw new InvalidValue('is the embedded default\'s placeholder bucket: name a bucket in your platform account');
  return value;
}

/** The default weights bucket: `tessera-base-models-<platform account id>`. */
export function baseModelsBucketOf(platformAccountId: string): string {
  return `tessera-base-models-${platformAccountId}`;
}

/** The providers whose API key secret `init` can name (those the embedded default gives one). */
export const SECRET_PROVIDERS = ['openai', 'huggingface'] as const;
export type SecretProvider = (typeof SECRET_PROVIDERS)[number];

/**
 * A provider's API key secret: a Secrets Manager secret name under `tessera/providers/` (letters, digits and
 * /_+=.@-, at most 512 in all), the config schema's rule for `gateway.providers.<provider>.apiKeySecretId`
 * (lib/config/schema.ts PROVIDER_SECRET_NAME: the router's ProviderKeys grant reads only those), so `init` never
 * writes a config synth refuses.
 * @throws InvalidValue for the embedded default's placeholder account, or a name (or ARN) outside the prefix.
 */
export function parseSecretId(raw: string): string {
  const value = raw.trim();
  const token = PLACEHOLDER_TOKENS.find((t) => value.includes(t));
  if (token) throw new InvalidValue(`contains the embedded default's placeholder ${token}: name your own secret (its ARN holds your platform account id)`);
  if (!PROVIDER_SECRET_NAME.test(value)) throw new InvalidValue(PROVIDER_SECRET_NAME_MESSAGE);
  return value;
}

/** One `--provider-secret` value, `<provider>=<secret name>`. */
export function parseProviderSecretFlag(raw: string): { provider: SecretProvider; secretId: string } {
  const eq = raw.indexOf('=');
  const provider = raw.slice(0, Math.max(eq, 0)).trim();
  if (eq < 0 || !(SECRET_PROVIDERS as readonly string[]).includes(provider)) {
    throw new InvalidValue(`must be <provider>=<secret name> with provider ${SECRET_PROVIDERS.join(' or ')}, e.g. openai=tessera/providers/openai`);
  }
  return { provider: provider as SecretProvider, secretId: parseSecretId(raw.slice(eq + 1)) };
}
