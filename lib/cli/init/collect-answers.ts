import { DEFAULT_CONFIG } from '../../config/default-config.js';
import { CliError } from '../cli-error.js';
import {
  baseModelsBucketOf, DEFAULT_TIERS, defaultZones, InvalidValue, parseAccountEmail, parseAccountId, parseAllowedRegions, parseBucketName, parseOrganizationId,
  parseProviderSecretFlag, parseRegion, parseRootId, parseSecretId, parseTiers, parseZones, SECRET_PROVIDERS, splitZonesFlag, type SecretProvider,
} from './field-rules.js';
import type { OrganizationFacts } from './organization-lookup.js';

/** The raw flag values of `tessera init` as commander hands them over (all optional). */
export interface InitFlags {
  managementAccountId?: string;
  organizationId?: string;
  rootId?: string;
  platformAccountId?: string;
  workloadAccountId?: string;
  homeRegion?: string;
  /** Comma-separated. */
  allowedRegions?: string;
  /** Each `<region>=<zone>,<zone>...`; the flag is repeatable. */
  availabilityZones?: string[];
  /** Comma-separated default tiers to keep. */
  tiers?: string;
  baseModelsBucket?: string;
  /** The account tenants' root email template, with {tenantId} (organization.accountEmail). */
  accountEmail?: string;
  /** Each `<provider>=<secret name>`; the flag is repeatable. */
  providerSecret?: string[];
}

/** Everything `tessera init` writes, validated; optional values already resolved to their defaults. */
export interface InitAnswers {
  managementAccountId: string;
  organizationId: string;
  rootId: string;
  platformAccountId: string;
  workloadAccountId: string;
  homeRegion: string;
  allowedRegions: string[];
  /** Zones of the allowed regions the engineer named (flag or answer); a region without is absent (Fn::GetAZs at deploy time). */
  availabilityZones: Record<string, string[]>;
  /** Default tiers kept, in the default's order; the others are removed. */
  tiers: string[];
  /** Bucket of the base-model weights. @default - tessera-base-models-<platform account id> */
  baseModelsBucket: string;
  /** Secrets Manager secret of each provider's API key. @default - the embedded default's names */
  providerSecrets: Record<SecretProvider, string>;
  /** `organization.accountEmail`, when a kept tier uses account isolation (else absent: no tenant gets an account). */
  accountEmail?: string;
}

/** Asks one question until `parse` accepts the answer (lib/cli/init/prompt.ts). */
export interface Asker {
  ask<T>(question: string, defaultAnswer: string | undefined, parse: (raw: string) => T): Promise<T>;
}

export interface CollectOptions {
  /** Prompts for what the flags leave out. @default - none: flags and defaults only (--yes, or stdin is not a terminal) */
  readonly asker?: Asker;
  /** Why there is no asker, for the missing-values message. @default - '--yes never prompts' */
  readonly noPromptReason?: string;
  /** The organization read with the engineer's credentials (--from-organization). @default - none */
  readonly organization?: OrganizationFacts;
}

type RequiredKey = 'managementAccountId' | 'organizationId' | 'rootId' | 'platformAccountId' | 'workloadAccountId' | 'homeRegion' | 'allowedRegions';

interface RequiredField {
  key: RequiredKey;
  flag: string;
  question: string;
  parse(raw: string, sofar: Partial<InitAnswers>): string | string[];
  defaultAnswer?(sofar: Partial<InitAnswers>): string | undefined;
}

/** The values the engineer must give, in the order they are asked. */
export const REQUIRED_FIELDS: readonly RequiredField[] = [
  { key: 'managementAccountId', flag: '--management-account-id', question: 'Management account id (the organization\'s management account)', parse: parseAccountId },
  { key: 'organizationId', flag: '--organization-id', question: 'Organization id (o-...)', parse: parseOrganizationId },
  { key: 'rootId', flag: '--root-id', question: 'Organization root id (r-...)', parse: parseRootId },
  { key: 'platformAccountId', flag: '--platform-account-id', question: 'Platform account id (runs the registry, workflows, gateway)', parse: parseAccountId },
  { key: 'workloadAccountId', flag: '--workload-account-id', question: 'Workload account id (VPC-isolated tenants live here)', parse: parseAccountId },
  {
    key: 'homeRegion', flag: '--home-region', question: 'Home region (where the platform runs)',
    parse: (raw, sofar) => {
      const region = parseRegion(raw);
      // Asked after --allowed-regions was given: the home region must be one of them (schema rule).
      if (sofar.allowedRegions && !sofar.allowedRegions.includes(region)) throw new InvalidValue(`is not one of --allowed-regions (${sofar.allowedRegions.join(',')}): choose one of them`);
      return region;
    },
  },
  {
    key: 'allowedRegions', flag: '--allowed-regions', question: 'Allowed regions, comma-separated (must include the home region)',
    parse: (raw, sofar) => parseAllowedRegions(raw, sofar.homeRegion), defaultAnswer: (sofar) => sofar.homeRegion,
  },
];

const ORG_KEYS = ['organizationId', 'rootId', 'managementAccountId'] as const;

/**
 * Resolves every value `init` writes from the flags, the organization read with --from-organization,
 * prompts (only with an `asker`) and the embedded default. Flags are all checked first, so every
 * bad flag is reported at once, before any question is asked.
 * @throws CliError (exit 2) listing each bad flag (`--flag "value": why and what to give`), and,
 *   without an asker, each required flag that is missing; or when the organization read contradicts a flag
 */
export async function collectAnswers(flags: InitFlags, options: CollectOptions = {}): Promise<InitAnswers> {
  const problems: string[] = [];
  const given: Partial<InitAnswers> = {};
  const check = <T>(flag: string, raw: string, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof InvalidValue)) throw e;
      problems.push(...e.problems.map((p) => `${flag} "${raw}": ${p}`));
      return undefined;
    }
  };
  for (const field of REQUIRED_FIELDS) {
    const raw = flags[field.key];
    if (raw === undefined) continue;
    const value = check(field.flag, raw, () => field.parse(raw, given));
    if (value !== undefined) (given as Record<string, unknown>)[field.key] = value;
  }
  for (const key of ORG_KEYS) {
    const read = options.organization?.[key];
    if (read === undefined) continue;
    const flag = REQUIRED_FIELDS.find((f) => f.key === key)!.flag;
    if (flags[key] !== undefined && given[key] !== undefined && given[key] !== read) {
      problems.push(`${flag} "${flags[key]}" differs from what --from-organization read with your credentials (${read}): leave out one of them`);
    } else if (flags[key] === undefined) {
      given[key] = read;
    }
  }
  const zoneFlags = new Map<string, string>();
  for (const raw of flags.availabilityZones ?? []) {
    const split = check('--availability-zones', raw, () => splitZonesFlag(raw));
    if (!split) continue;
    if (zoneFlags.has(split.region)) problems.push(`--availability-zones "${raw}": names ${split.region} a second time: give each region once`);
    else if (given.allowedRegions && !given.allowedRegions.includes(split.region)) {
      problems.push(`--availability-zones "${raw}": ${split.region} is not in --allowed-regions (${given.allowedRegions.join(',')}): add it there or leave its zones out`);
    } else if (check('--availability-zones', raw, () => parseZones(split.zones, split.region, given.homeRegion ?? flags.homeRegion))) {
      zoneFlags.set(split.region, split.zones);
    }
  }
  const tiers = flags.tiers === undefined ? undefined : check('--tiers', flags.tiers, () => parseTiers(flags.tiers!));
  const bucket = flags.baseModelsBucket === undefined ? undefined : check('--base-models-bucket', flags.baseModelsBucket, () => parseBucketName(flags.baseModelsBucket!));
  const accountEmail = flags.accountEmail === undefined ? undefined : check('--account-email', flags.accountEmail, () => parseAccountEmail(flags.accountEmail!));
  const secrets: Partial<Record<SecretProvider, string>> = {};
  for (const raw of flags.providerSecret ?? []) {
    const parsed = check('--provider-secret', raw, () => parseProviderSecretFlag(raw));
    if (parsed && secrets[parsed.provider] !== undefined) problems.push(`--provider-secret "${raw}": names ${parsed.provider} a second time: give each provider once`);
    else if (parsed) secrets[parsed.provider] = parsed.secretId;
  }
  const { asker } = options;
  const missing = asker ? [] : REQUIRED_FIELDS.filter((f) => given[f.key] === undefined && flags[f.key] === undefined).map((f) => f.flag);
  // Needed only while a kept tier gives its tenants accounts of their own (the default's enterprise tier does).
  if (!asker && flags.accountEmail === undefined && accountTiersOf(tiers ?? DEFAULT_TIERS).length > 0) missing.push('--account-email');
  if (missing.length > 0) {
    const orgHint = missing.some((f) => ['--management-account-id', '--organization-id', '--root-id'].includes(f)) && !options.organization
      ? ' (--from-organization reads the organization id, root id and management account id with your credentials)' : '';
    problems.push(`missing ${missing.join(', ')}: ${options.noPromptReason ?? '--yes never prompts'}, so give each as a flag${orgHint}`);
  }
  if (problems.length > 0) throw new CliError(problemList(problems));

  for (const field of REQUIRED_FIELDS) {
    if (given[field.key] !== undefined) continue;
    const value = await asker!.ask(field.question, field.defaultAnswer?.(given), (raw) => field.parse(raw, given));
    (given as Record<string, unknown>)[field.key] = value;
  }
  const answers = given as Omit<InitAnswers, 'availabilityZones' | 'tiers' | 'baseModelsBucket' | 'providerSecrets'>;
  const stray = [...zoneFlags.keys()].filter((r) => !answers.allowedRegions.includes(r));
  if (stray.length > 0) {
    throw new CliError(`--availability-zones names ${stray.join(', ')}, outside the allowed regions (${answers.allowedRegions.join(',')}): add it to the allowed regions or leave its zones out`);
  }

  // Zones are pinned only when the engineer names them: unpinned, the platform VPC takes the first
  // zones Fn::GetAZs returns at deploy time, which works in every region (letters differ: ap-northeast-1 has a, c, d).
  const availabilityZones: Record<string, string[]> = {};
  for (const region of answers.allowedRegions) {
    const raw = zoneFlags.get(region);
    const parse = (text: string) => parseZones(text, region, answers.homeRegion);
    const zones = raw !== undefined ? parseZoneFlag(region, raw, parse)
      : asker ? await asker.ask(`Availability Zones of ${region}, comma-separated, e.g. ${defaultZones(region).join(',')}`, DEPLOY_TIME_ZONES, (text) => (text === DEPLOY_TIME_ZONES ? [] : parse(text)))
        : [];
    if (zones.length > 0) availabilityZones[region] = zones;
  }
  const keptTiers = tiers ?? (asker ? await asker.ask('Default tiers to keep, comma-separated', DEFAULT_TIERS.join(','), parseTiers) : [...DEFAULT_TIERS]);
  const defaultBucket = baseModelsBucketOf(answers.platformAccountId);
  const baseModelsBucket = bucket ?? (asker ? await asker.ask('S3 bucket of the base-model weights (in the platform account)', defaultBucket, parseBucketName) : defaultBucket);
  const providerSecrets = {} as Record<SecretProvider, string>;
  for (const provider of SECRET_PROVIDERS) {
    const fallback = DEFAULT_CONFIG.gateway.providers[provider].apiKeySecretId!;
    providerSecrets[provider] = secrets[provider]
      ?? (asker ? await asker.ask(`Secrets Manager secret of the ${provider} API key`, fallback, parseSecretId) : fallback);
  }
  const accountTiers = accountTiersOf(keptTiers);
  const rootEmail = accountTiers.length === 0 ? undefined : accountEmail
    ?? await asker!.ask(`Root email of each ${accountTiers.join('/')} tenant's AWS account, an address of your platform team's with {tenantId}, e.g. aws+tessera-{tenantId}@platform.acme.com`, undefined, parseAccountEmail);
  return { ...answers, availabilityZones, tiers: keptTiers, baseModelsBucket, providerSecrets, ...(rootEmail === undefined ? {} : { accountEmail: rootEmail }) };
}

/** The default tiers of `tiers` whose tenants get AWS accounts of their own (isolation `account`). */
function accountTiersOf(tiers: readonly string[]): string[] {
  return tiers.filter((t) => DEFAULT_CONFIG.tiers[t]?.isolation === 'account');
}

/** The prompt's default answer for zones: none pinned, chosen at deploy time. */
const DEPLOY_TIME_ZONES = 'at deploy time';

/** Re-checks a region's --availability-zones once the home region is known (it may have been asked). */
function parseZoneFlag(region: string, raw: string, parse: (raw: string) => string[]): string[] {
  try {
    return parse(raw);
  } catch (e) {
    if (e instanceof InvalidValue) throw new CliError(`--availability-zones "${region}=${raw}": ${e.message}`);
    throw e;
  }
}

/** One problem as its line; several as a short list under a heading. */
function problemList(problems: readonly string[]): string {
  return problems.length === 1 ? problems[0] : `${problems.length} problems with the flags of tessera init:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}
