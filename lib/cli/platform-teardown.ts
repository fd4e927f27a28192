import type { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { loadConfigReport } from '../config/load-config.js';
import type { TenantRecord } from '../tenant-record.js';
import type { AdminClient } from './admin-client.js';
import { adminTarget } from './admin-target.js';
import { allTenants } from './all-tenants.js';
import {
  bucketBlocker, isTesseraBucket, keyBlocker, LOG_GROUP_PREFIXES, logGroupBlocker, orderPlan, PLATFORM_TABLES, registryBlockers, stackBlocker,
  stackSetBlocker, tableBlocker, unreadSource, vaultBlocker, type BucketState, type StackState, type TeardownBlocker,
} from './platform/teardown-plan.js';

/** The AWS services the plan reads. */
export type TeardownService = 'cloudformation' | 's3' | 'kms' | 'dynamodb' | 'backup' | 'logs';

/** A client as the plan uses it: `send` of an AWS SDK v3 command (only List*, Describe*, Get* and Head* ones are sent). */
export interface ReadClient {
  send(command: object): Promise<any>;
}

/** The clock, the clients and the output of `tessera platform teardown --plan`; tests replace them. */
export interface TeardownIo {
  out(text: string): void;
  /** Now, epoch ms. */
  now(): number;
  /** A client of `service` in `region` with the credentials of `profile` (undefined: the default chain). */
  aws(service: TeardownService, region: string, profile: string | undefined): Promise<ReadClient>;
  /** The admin API client (adminTarget: `--api-url` or TESSERA_API_URL). @throws CliError (2) when none is set */
  api(cmd: Command): AdminClient;
}

const CLIENTS: Record<TeardownService, () => Promise<new (c: object) => ReadClient>> = {
  cloudformation: async () => (await import('@aws-sdk/client-cloudformation')).CloudFormationClient,
  s3: async () => (await import('@aws-sdk/client-s3')).S3Client,
  kms: async () => (await import('@aws-sdk/client-kms')).KMSClient,
  dynamodb: async () => (await import('@aws-sdk/client-dynamodb')).DynamoDBClient,
  backup: async () => (await import('@aws-sdk/client-backup')).BackupClient,
  logs: async () => (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient,
};

export const teardownProcessIo: TeardownIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  now: () => Date.now(),
  aws: async (service, region, profile) => {
    const Client = await CLIENTS[service]();
    return new Client({ region, ...(profile ? { profile } : {}), ...(service === 's3' ? { followRegionRedirects: true, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } });
  },
  api: (cmd) => adminTarget(cmd).api,
};

/** The options of `tessera platform teardown --plan`, with the program's globals. */
export interface TeardownOptions {
  plan?: boolean; json?: boolean; region?: string; profile?: string; workloadProfile?: string; managementProfile?: string;
  drRegion?: string; config?: string; maxVersions?: string;
}

/** What `tessera platform teardown --plan --json` prints. */
export interface TeardownPlan {
  /** When it was read (ISO 8601). */
  checkedAt: string;
  /** Always true: the plan made no write call. */
  readOnly: true;
  /** The sources read (or tried), with their region and profile. */
  checked: string[];
  /** In the runbook's order: unread sources (step 0) first, then steps 1-6. */
  blockers: TeardownBlocker[];
  summary: { blocks: number; unread: number; info: number };
}

const errName = (e: unknown) => (e as { name?: string })?.name ?? '';
const errMessage = (e: unknown) => String((e as { message?: string })?.message ?? e);
/** CloudFormation's answer for a stack that does not exist: `ValidationError`, "Stack with id X does not exist". */
const noStack = (e: unknown) => errName(e) === 'ValidationError' && /does not exist/.test(errMessage(e));

/**
 * Reads what stands between the platform and its removal, one source at a time (each that cannot be read is an `unread` line
 * naming it and its error; the others are still read), and returns the plan in the order the runbook acts. Sources: the
 * registry (GET /admin/tenants), CloudFormation (the platform's, DR, organization and workload stacks, tenant stacks
 * `tessera-…`, StackSets `tessera…`), DynamoDB (PLATFORM_TABLES), S3 (buckets `tesseraplatform…`, `tessera-…`: Object Lock
 * and its latest retention), KMS (customer keys whose alias starts `alias/tessera` or whose description starts `Tessera`),
 * AWS Backup (vaults `tessera…`: recovery points and vault lock) and CloudWatch Logs (LOG_GROUP_PREFIXES), in the home
 * region and, with `--dr-region` or a config's `platformDisasterRecovery`, the DR region. Only read calls are made.
 * @throws CliError (2) when no admin API URL is set; ConfigError (2) for an invalid `--config`
 */
export async function platformTeardownPlan(o: TeardownOptions, cmd: Command, io: TeardownIo = teardownProcessIo): Promise<TeardownPlan> {
  const now = io.now();
  const api = io.api(cmd);
  let drRegion = o.drRegion;
  if (!drRegion && o.config) {
    const dr = loadConfigReport({ file: o.config }).config.platformDisasterRecovery;
    if (dr !== 'none') drRegion = dr.region;
  }
  const home = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const platformProfile = o.profile;
  const workloadProfile = o.workloadProfile ?? o.profile;
  const managementProfile = o.managementProfile ?? o.profile;
  const regions = drRegion && drRegion !== home ? [home, drRegion] : [home];
  const maxVersions = o.maxVersions ? Number(o.maxVersions) : 100_000;
  const blockers: TeardownBlocker[] = [];
  const checked: string[] = [];
  const cred = (p: string | undefined) => (p ? `profile ${p}` : 'default credentials');

  // 1-2. The registry.
  checked.push('registry (GET /admin/tenants)');
  let tenants: TenantRecord[] | undefined;
  try {
    tenants = await allTenants(api, {});
    blockers.push(...registryBlockers(tenants, now, { platform: platformProfile, management: managementProfile }));
  } catch (e) {
    blockers.push(unreadSource('the registry (GET /admin/tenants): tenants not offboarded, their keys, account closures and archives', e, 'the admin API URL (TESSERA_API_URL) and the platform-admin credentials (--profile)'));
  }

  // 3-5. Stacks and StackSets.
  const describe = async (client: ReadClient, name: string, region: string): Promise<StackState | undefined> => {
    const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
    try {
      const s = (await client.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
      if (!s || s.StackStatus === 'DELETE_COMPLETE') return undefined;
      return { name: s.StackName ?? name, status: s.StackStatus, terminationProtection: Boolean(s.EnableTerminationProtection), region };
    } catch (e) {
      if (noStack(e)) return undefined;
      throw e;
    }
  };
  const stacks = async (label: string, profile: string | undefined, region: string, fn: (cf: ReadClient) => Promise<void>) => {
    checked.push(`${label} (CloudFormation, ${region}, ${cred(profile)})`);
    try {
      await fn(await io.aws('cloudformation', region, profile));
    } catch (e) {
      blockers.push(unreadSource(`${label} (CloudFormation, ${region}, ${cred(profile)})`, e));
    }
  };
  await stacks('tenant stacks, StackSets and the workload account\'s stacks', workloadProfile, home, async (cf) => {
    const { ListStacksCommand, ListStackSetsCommand } = await import('@aws-sdk/client-cloudformation');
    const live = ['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_FAILED', 'ROLLBACK_COMPLETE', 'DELETE_IN_PROGRESS', 'DELETE_FAILED',
      'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED',
      'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_IN_PROGRESS',
      'IMPORT_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_COMPLETE'] as const;
    let token: string | undefined;
    do {
      const page = await cf.send(new ListStacksCommand({ StackStatusFilter: [...live], NextToken: token }));
      for (const s of page.StackSummaries ?? []) {
        if (!/^tessera-/.test(s.StackName) || s.StackName === 'tessera-account-baseline' || s.ParentId) continue;
        const full = await describe(cf, s.StackName, home);
        if (full) blockers.push(stackBlocker('tenant-stack', full, workloadProfile));
      }
      token = page.NextToken;
    } while (token);
    token = undefined;
    do {
      const page = await cf.send(new ListStackSetsCommand({ Status: 'ACTIVE', NextToken: token }));
      for (const s of page.Summaries ?? []) if (/^tessera/i.test(s.StackSetName ?? '')) blockers.push(stackSetBlocker(s.StackSetName, home, workloadProfile));
      token = page.NextToken;
    } while (token);
    for (const name of ['tessera-account-baseline', 'TesseraWorkloadProvisioning']) {
      const s = await describe(cf, name, home);
      if (s) blockers.push(stackBlocker('workload-stack', s, workloadProfile));
    }
  });
  for (const [name, region] of [['TesseraPlatform', home], ...(drRegion ? [['TesseraPlatformDr', drRegion]] : [])] as const) {
    await stacks(`stack ${name}`, platformProfile, region, async (cf) => {
      const s = await describe(cf, name, region);
      if (s) blockers.push(stackBlocker('platform-stack', s, platformProfile));
    });
  }
  await stacks('stack TesseraOrganization', managementProfile, home, async (cf) => {
    const s = await describe(cf, 'TesseraOrganization', home);
    if (s) blockers.push(stackBlocker('organization-stack', s, managementProfile));
  });

  // 6. What stays after cdk destroy (platform account).
  const pp = platformProfile;
  // One source of the platform account: `KMS keys (us-east-1, default credentials)`, the region and credentials in one
  // parenthesis as the stacks' lines have them (was `KMS keys (us-east-1), default credentials`, read as a source of its own).
  const source = async (label: string, where: string | undefined, fn: () => Promise<void>) => {
    const named = `${label} (${where ? `${where}, ` : ''}${cred(platformProfile)})`;
    checked.push(named);
    try {
      await fn();
    } catch (e) {
      blockers.push(unreadSource(named, e));
    }
  };
  await source('DynamoDB tables', home, async () => {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await io.aws('dynamodb', home, platformProfile);
    for (const name of PLATFORM_TABLES) {
      try {
        const t = (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table;
        if (t) blockers.push(tableBlocker(name, home, Boolean(t.DeletionProtectionEnabled), pp));
      } catch (e) {
        if (errName(e) !== 'ResourceNotFoundException') throw e;
      }
    }
  });
  let latestRetention: string | undefined;
  await source('S3 buckets tesseraplatform… and tessera-…', undefined, async () => {
    const s3m = await import('@aws-sdk/client-s3');
    const s3 = await io.aws('s3', home, platformProfile);
    const names = ((await s3.send(new s3m.ListBucketsCommand({}))).Buckets ?? []).map((b: { Name?: string }) => b.Name ?? '').filter(isTesseraBucket).sort();
    for (const name of names) {
      const where = (await s3.send(new s3m.GetBucketLocationCommand({ Bucket: name }))).LocationConstraint || 'us-east-1';
      const b: BucketState = { name, region: where, versions: 0, capped: false };
      try {
        const c = (await s3.send(new s3m.GetObjectLockConfigurationCommand({ Bucket: name }))).ObjectLockConfiguration;
        if (c?.ObjectLockEnabled === 'Enabled') {
          const r = c.Rule?.DefaultRetention;
          b.objectLock = { ...(r?.Mode ? { mode: r.Mode } : {}), ...(r?.Days ? { days: r.Days } : {}), ...(r?.Years ? { years: r.Years } : {}) };
        }
      } catch (e) {
        if (errName(e) !== 'ObjectLockConfigurationNotFoundError') throw e;
      }
      let newest: { Key: string; VersionId?: string; LastModified: Date } | undefined;
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const page = await s3.send(new s3m.ListObjectVersionsCommand({ Bucket: name, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
        const versions = (page.Versions ?? []) as { Key: string; VersionId?: string; LastModified: Date }[];
        b.versions += versions.length + (page.DeleteMarkers ?? []).length;
        for (const v of versions) if (!newest || v.LastModified > newest.LastModified) newest = v;
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
        if (keyMarker && b.versions >= maxVersions) {
          b.capped = true;
          keyMarker = undefined;
        }
      } while (keyMarker);
      if (b.objectLock && newest) {
        // HeadObject's x-amz-object-lock-retain-until-date (returned with s3:GetObjectRetention): the same date as
        // GetObjectRetention's, in a header (moto 5.2's GetObjectRetention answer is XML the SDK cannot parse).
        const head = await s3.send(new s3m.HeadObjectCommand({ Bucket: name, Key: newest.Key, ...(newest.VersionId && newest.VersionId !== 'null' ? { VersionId: newest.VersionId } : {}) }));
        const until = head.ObjectLockRetainUntilDate ? new Date(head.ObjectLockRetainUntilDate).toISOString() : undefined;
        const days = b.objectLock.days ?? (b.objectLock.years ? b.objectLock.years * 365 : undefined);
        const byDefault = days ? new Date(newest.LastModified.getTime() + days * 86_400_000).toISOString() : undefined;
        b.retainUntil = [until, byDefault].filter((d): d is string => Boolean(d)).sort().at(-1);
        if (b.retainUntil && (!latestRetention || b.retainUntil > latestRetention)) latestRetention = b.retainUntil;
      }
      blockers.push(bucketBlocker(b, now, pp));
    }
  });
  for (const region of regions) {
    await source('KMS keys', region, async () => {
      const kms = await import('@aws-sdk/client-kms');
      const client = await io.aws('kms', region, platformProfile);
      const aliases = new Map<string, string[]>();
      let marker: string | undefined;
      do {
        const page = await client.send(new kms.ListAliasesCommand({ Marker: marker }));
        for (const a of page.Aliases ?? []) if (a.TargetKeyId && /^alias\/tessera/.test(a.AliasName ?? '')) aliases.set(a.TargetKeyId, [...(aliases.get(a.TargetKeyId) ?? []), a.AliasName]);
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
      do {
        const page = await client.send(new kms.ListKeysCommand({ Marker: marker }));
        for (const k of page.Keys ?? []) {
          const m = (await client.send(new kms.DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
          if (!m || m.KeyManager !== 'CUSTOMER' || m.KeyState === 'PendingReplicaDeletion') continue;
          const named = aliases.get(m.KeyId) ?? [];
          if (!named.length && !/^tessera/i.test(m.Description ?? '')) continue;
          blockers.push(keyBlocker({ keyId: m.KeyId, aliases: named.sort(), state: m.KeyState, region, ...(m.DeletionDate ? { deletionDate: new Date(m.DeletionDate).toISOString() } : {}) }, pp, latestRetention));
        }
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
    });
    await source('Backup vaults', region, async () => {
      const { ListBackupVaultsCommand } = await import('@aws-sdk/client-backup');
      const client = await io.aws('backup', region, platformProfile);
      let token: string | undefined;
      do {
        const page = await client.send(new ListBackupVaultsCommand({ NextToken: token }));
        for (const v of page.BackupVaultList ?? []) {
          if (!/^tessera/i.test(v.BackupVaultName ?? '')) continue;
          blockers.push(vaultBlocker({
            name: v.BackupVaultName, region, recoveryPoints: Number(v.NumberOfRecoveryPoints ?? 0), locked: Boolean(v.Locked),
            ...(v.MinRetentionDays !== undefined ? { minRetentionDays: Number(v.MinRetentionDays) } : {}), ...(v.LockDate ? { lockDate: new Date(v.LockDate).toISOString() } : {}),
          }, pp));
        }
        token = page.NextToken;
      } while (token);
    });
    await source('CloudWatch log groups', region, async () => {
      const { DescribeLogGroupsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
      const client = await io.aws('logs', region, platformProfile);
      const names = new Set<string>();
      for (const prefix of LOG_GROUP_PREFIXES) {
        let token: string | undefined;
        do {
          const page = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, nextToken: token }));
          for (const g of page.logGroups ?? []) if (g.logGroupName) names.add(g.logGroupName);
          token = page.nextToken;
        } while (token);
      }
      if (names.size) blockers.push(logGroupBlocker([...names].sort(), region, pp));
    });
  }
  if (!drRegion) checked.push('no DR region (--dr-region, or --config with platformDisasterRecovery)');

  const ordered = orderPlan(blockers);
  const summary = { blocks: 0, unread: 0, info: 0 };
  for (const b of ordered) summary[b.severity]++;
  return { checkedAt: new Date(now).toISOString(), readOnly: true, checked, blockers: ordered, summary };
}
