import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import { DEFAULT_CONFIG } from '../../config/default-config.js';
import { describePlaceholders, type PlaceholderFinding } from '../../config/placeholders.js';
import type { PlatformConfig } from '../../config/schema.js';
import { accountAccess } from './account-access.js';
import { accountQuotaChecks } from './account-quota-checks.js';
import { describeAwsError, firstLine, isConnectionError, isCredentialsError, missingProfileOf } from '../aws-errors.js';
import { baseModelChecks } from './base-model-checks.js';
import { bedrockChecks } from './bedrock-checks.js';
import { bootstrapChecks } from './bootstrap-checks.js';
import { controlTowerChecks } from './control-tower-checks.js';
import { costAllocationTagChecks } from './cost-allocation-tag-checks.js';
import { awsClientFactory, type AwsClients, type ClientFactory } from './clients.js';
import { gpuQuotaChecks } from './gpu-quota-checks.js';
import { lambdaConcurrencyChecks } from './lambda-concurrency-checks.js';
import { modelShutdownChecks } from './model-shutdown-checks.js';
import { nodeTypeOfferChecks } from './node-type-offer-checks.js';
import { platformAdminChecks, userPoolChecks } from './identity-checks.js';
import { organizationChecks, trustedAccessChecks } from './organization-checks.js';
import { organizationTrailChecks } from './organization-trail-checks.js';
import { auditDataEventsChecks } from './audit-data-events-checks.js';
import { providerSecretChecks } from './provider-secret-checks.js';
import { quarantineScpChecks } from './quarantine-scp-checks.js';
import { rootAccessChecks } from './root-access-checks.js';
import { provisioningRoleChecks } from './provisioning-role-checks.js';
import { DoctorStopped, result } from './results.js';
import { sesChecks } from './ses-checks.js';
import { deployedUserPoolEmailChecks } from './deployed-user-pool-email-checks.js';
import { userPoolEmailChecks } from './user-pool-email-checks.js';
import { storeOfferChecks } from './store-offer-checks.js';
import { platformZoneChecks } from './zone-checks.js';
import { regionOptInChecks } from './region-opt-in-checks.js';
import { sharedClusterVersionChecks } from './cluster-version-checks.js';
import { namespaceDeployerChecks } from './namespace-deployer-checks.js';
import type { CheckGroup, CheckResult, DoctorContext, DoctorReport } from './types.js';

/** Every check group, in report order (docs/deploying.md "`tessera doctor`" lists them). */
export const CHECK_GROUPS: ReadonlyArray<{ readonly name: string; readonly run: CheckGroup }> = [
  { name: 'organization', run: organizationChecks },
  { name: 'trusted-access', run: trustedAccessChecks },
  { name: 'control-tower', run: controlTowerChecks },
  { name: 'quarantine-scp-arn', run: quarantineScpChecks },
  // After the landing zone's lines: the organization trail it may run is one the check finds.
  // then whether Tessera's own trail records the data events of audit.dataEvents
  { name: 'organization-trail', run: async (ctx) => [...await organizationTrailChecks(ctx), ...await auditDataEventsChecks(ctx)] },
  { name: 'centralized-root-access', run: rootAccessChecks },
  { name: 'organization-accounts', run: accountQuotaChecks },
  { name: 'region-enabled', run: regionOptInChecks },
  { name: 'cdk-bootstrap', run: bootstrapChecks },
  { name: 'provisioning-role', run: provisioningRoleChecks },
  { name: 'provider-secrets', run: providerSecretChecks },
  { name: 'bedrock', run: bedrockChecks },
  { name: 'model-shutdown', run: modelShutdownChecks },
  { name: 'base-models', run: baseModelChecks },
  { name: 'gpu-quotas', run: gpuQuotaChecks },
  { name: 'lambda-concurrency', run: lambdaConcurrencyChecks },
  { name: 'platform-zones', run: platformZoneChecks },
  { name: 'store-offers', run: storeOfferChecks },
  { name: 'node-type-offers', run: nodeTypeOfferChecks },
  { name: 'shared-cluster-version', run: sharedClusterVersionChecks },
  { name: 'namespace-deployers', run: namespaceDeployerChecks },
  { name: 'cognito', run: userPoolChecks },
  // the config's sender, then whether the deployed pool sends through it
  { name: 'cognito-email', run: async (ctx) => [...await userPoolEmailChecks(ctx), ...await deployedUserPoolEmailChecks(ctx)] },
  { name: 'platform-admins', run: platformAdminChecks },
  { name: 'budget-alert-mail', run: sesChecks },
  { name: 'cost-allocation-tag', run: costAllocationTagChecks },
];

/**
 * The groups that make no AWS call (they judge the config alone, against embedded tables): reported whatever the AWS
 * checks do, when the credentials or the endpoint stop doctor and while the config keeps placeholder ids, as the
 * preflight and `tessera platform health` report them offline. `model-shutdown`: OpenAI's announced shutdown dates.
 */
export const OFFLINE_GROUPS: ReadonlySet<string> = new Set(['model-shutdown']);

export interface DoctorOptions {
  /** The loaded platform config. */
  readonly config: PlatformConfig;
  /** The file it came from; absent means the embedded default (reported: its placeholder ids cannot pass). */
  readonly configFile?: string;
  /**
   * The embedded default's placeholders still in force in `configFile` (loadConfigReport's
   * `placeholders`): synth refuses the file while any remains (`refusePlaceholders`), so the config
   * line fails naming each key and value. @default - none
   */
  readonly placeholders?: readonly PlaceholderFinding[];
  /** Region of every call. @default - config.homeRegion */
  readonly region?: string;
  /** Named profile of the engineer's credentials. @default - the default provider chain */
  readonly profile?: string;
  /** Account id → named profile used to read that account instead of its CDK lookup role. @default - none */
  readonly accountProfiles?: Readonly<Record<string, string>>;
  /** Region of the IAM Identity Center instance. @default - `region` */
  readonly identityCenterRegion?: string;
  /** Builds the SDK clients. @default - awsClientFactory() */
  readonly factory?: ClientFactory;
  /** The day date-based checks judge from (`model-shutdown`: OpenAI's shutdown dates). @default - the clock's */
  readonly today?: Date;
  /** Groups to run. @default - CHECK_GROUPS */
  readonly groups?: ReadonlyArray<{ readonly name: string; readonly run: CheckGroup }>;
}

/** Placeholder ids of the embedded default that a real estate cannot have. */
function placeholderIds(config: PlatformConfig): string[] {
  const d = DEFAULT_CONFIG;
  const pairs: Array<[string, string, string]> = [
    ['organization.managementAccountId', config.organization.managementAccountId, d.organization.managementAccountId],
    ['organization.organizationId', config.organization.organizationId, d.organization.organizationId],
    ['organization.rootId', config.organization.rootId, d.organization.rootId],
    ['platformAccountId', config.platformAccountId, d.platformAccountId],
    ['workloadAccountId', config.workloadAccountId, d.workloadAccountId],
  ];
  return pairs.filter(([, v, p]) => v === p).map(([k, v]) => `${k} ${v}`);
}

/**
 * Runs every check group with read-only calls and returns the report. Groups run concurrently;
 * lines keep the group order. A group that throws becomes one `fail` line naming the error.
 * While the config keeps a placeholder id of the embedded default (no `--config`, or a file that
 * did not set them), only the config and credentials lines are reported: those accounts may
 * belong to someone else, so doctor makes no call into them.
 * @throws DoctorStopped (a CliError, exit 1) when the engineer's credentials cannot be resolved or the endpoint
 *   cannot be reached (sts:GetCallerIdentity), since no check could run
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { config } = options;
  const region = options.region ?? config.homeRegion;
  const factory = options.factory ?? awsClientFactory();
  const credentials = options.profile ? fromIni({ profile: options.profile }) : undefined;
  const callers = new Map<string, AwsClients>();
  const callerIn = (r: string) => {
    if (!callers.has(r)) callers.set(r, factory(credentials, r));
    return callers.get(r)!;
  };
  const caller = callerIn(region);
  const management = config.organization.managementAccountId;
  const contextOf = (callerAccount: string): DoctorContext => ({
    config, region, callerAccount, caller, callerIn, identityCenterRegion: options.identityCenterRegion, today: options.today,
    clientsIn: accountAccess({
      factory, region, callerAccount, caller, managementAccount: management, accountProfiles: options.accountProfiles,
      fallbackRoles: { [config.workloadAccountId]: [config.roles.provisioningRoleName] },
    }),
  });
  const allGroups = options.groups ?? CHECK_GROUPS;
  const offlineGroups = allGroups.filter((g) => OFFLINE_GROUPS.has(g.name));
  const placeholders = placeholderIds(config);
  const configLine = configCheck(options, placeholders);
  let identity: { Account?: string; Arn?: string };
  try {
    identity = await caller.sts.send(new GetCallerIdentityCommand({}));
  } catch (e) {
    // The checks that need no AWS still run, and their lines go out with the stop (doctor-command.ts prints them).
    const stopped = await stopFor(e, options.profile, region);
    // The Config line needs no AWS either: a newcomer offline still learns whether the file would pass.
    stopped.offline.push(configLine, ...(await runGroups(offlineGroups, contextOf(''))));
    throw stopped;
  }
  const callerAccount = identity.Account ?? '';
  const ctx = contextOf(callerAccount);

  const head: CheckResult[] = [configLine];
  head.push(callerAccount === management
    ? result('credentials', 'Credentials', 'pass', `${identity.Arn} (management account)`, { account: callerAccount })
    : result('credentials', 'Credentials', 'fail', `${identity.Arn} is in account ${callerAccount}, not the management account ${management}`, {
      account: callerAccount, fix: `use credentials of the management account ${management}: --profile <its profile> (the other accounts are read through their CDK lookup roles)`,
    }));

  // `cdk deploy` and the lifecycle put the platform in homeRegion: checks of another Region answer for a deploy that will not happen there.
  if (options.region && options.region !== config.homeRegion && !placeholders.length) {
    head.push(result('region', 'Region', 'warn', `--region ${options.region} is not the config's homeRegion ${config.homeRegion}: the platform, its secrets and the shared cluster deploy in ${config.homeRegion}, and the checks below read ${options.region}`, {
      fix: `leave out --region to check ${config.homeRegion}, or set homeRegion: ${options.region} in the config if that is where the platform goes`, region: options.region,
    }));
  }
  // Placeholder account ids may belong to someone: doctor assumes no role there and reads nothing of theirs (the offline checks still run).
  const groups = placeholders.length ? offlineGroups : allGroups;
  const checks = [...head, ...(await runGroups(groups, ctx))];
  return { checks, summary: summarize(checks) };
}

/**
 * The Config line, judged from the config alone (no AWS call): a fail without `--config` (the embedded default's
 * placeholder ids) or while the file keeps a placeholder id or another placeholder synth refuses, else a pass naming
 * the file. Printed first in a report, and after the stop's line when sts:GetCallerIdentity fails.
 */
function configCheck(options: DoctorOptions, placeholders: readonly string[]): CheckResult {
  if (!options.configFile) {
    return result('config', 'Config', 'fail', `embedded default config: its placeholder ids (${placeholders.join(', ')}) cannot pass; doctor read only who the credentials are (sts:GetCallerIdentity, the Credentials line) and made no call into these accounts (the offline checks below ran)`, { fix: 'write your config (npx tessera init) and run npx tessera doctor --config tessera.config.yaml' });
  }
  const refused = options.placeholders ?? [];
  return placeholders.length
    ? result('config', 'Config', 'fail', `${options.configFile} keeps placeholder ids of the embedded default: ${placeholders.join(', ')}; doctor read only who the credentials are (sts:GetCallerIdentity, the Credentials line) and made no call into these accounts (the offline checks below ran)`, { fix: `set them in ${options.configFile}` })
    : refused.length
      // Synth refuses the file (loadConfigReport with refusePlaceholders): not a pass, though its accounts are real and the checks run.
      ? result('config', 'Config', 'fail', `${options.configFile} keeps placeholders of the embedded default, which synth refuses: ${refused.map((f) => `${f.path} ${JSON.stringify(f.value)}`).join(', ')}`, { fix: describePlaceholders(refused, options.configFile).join('; ') })
      : result('config', 'Config', 'pass', options.configFile);
}

/**
 * Why doctor stops when sts:GetCallerIdentity fails: no credentials (exit 1; a --profile this machine lacks, exit 2),
 * an endpoint it cannot reach, or credentials STS refused (exit 1); one line on stderr (the message), with --json the
 * line as the report (doctor-command.ts), the offline checks' lines added by the caller.
 */
async function stopFor(e: unknown, profile: string | undefined, region: string): Promise<DoctorStopped> {
  if (isCredentialsError(e)) {
    const missing = await missingProfileOf(profile);
    if (missing) return new DoctorStopped(result('credentials', 'Credentials', 'fail', missing, { fix: `pass --profile with a profile of the management account`, region }), 2, missing);
    return new DoctorStopped(result('credentials', 'Credentials', 'fail', `no AWS credentials${profile ? ` for profile ${profile}` : ''} (${firstLine(e)})`, {
      fix: 'sign in to the management account (aws sso login --profile <profile>) and pass --profile <profile>, or set AWS_PROFILE', region,
    }), 1);
  }
  if (isConnectionError(e)) {
    const detail = describeAwsError('sts:GetCallerIdentity', e);
    return new DoctorStopped(result('endpoint', 'Endpoint', 'fail', detail, { fix: 'check the network, proxy and AWS_ENDPOINT_URL, then run doctor again', region }), 1, detail);
  }
  return new DoctorStopped(result('credentials', 'Credentials', 'fail', describeAwsError('sts:GetCallerIdentity', e), { fix: `check the credentials${profile ? ` of profile ${profile}` : ''}`, region }), 1);
}

/** Runs `groups` concurrently, their lines in group order; a group that throws becomes one `fail` line naming the error. */
async function runGroups(groups: ReadonlyArray<{ readonly name: string; readonly run: CheckGroup }>, ctx: DoctorContext): Promise<CheckResult[]> {
  const lines = await Promise.all(groups.map(async (g) => {
    try {
      return await g.run(ctx);
    } catch (e) {
      return [result(g.name, g.name, 'fail', `doctor could not run this check: ${firstLine(e)}`, { fix: 'rerun; if it persists, report it with --json output' })];
    }
  }));
  return lines.flat();
}

/** Counts of each status. */
export function summarize(checks: readonly CheckResult[]): DoctorReport['summary'] {
  return {
    pass: checks.filter((c) => c.status === 'pass').length,
    fail: checks.filter((c) => c.status === 'fail').length,
    warn: checks.filter((c) => c.status === 'warn').length,
  };
}
