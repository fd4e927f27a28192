// `tessera platform teardown --plan`: what stands between a platform and its removal, in the order the teardown runbook
// (docs/upgrading-and-teardown.md#teardown) acts. Read-only: every AWS call it makes is a List*, Describe*, Get* or Head*
// (READ_ONLY_COMMAND), and the admin API is only read (GET /admin/tenants); nothing is written, scheduled or changed.
import type { RetainedStore, TenantRecord } from '../../tenant-record.js';
import { printable } from '../../printable.js';

/** How a line counts: `blocks` (something must be done or waited out; exit 1), `unread` (a source not read; exit 2), `info`. */
export type TeardownSeverity = 'blocks' | 'unread' | 'info';

/** The kinds of blocker, each with the runbook step that clears it (TEARDOWN_STEPS). */
export type TeardownKind =
  | 'tenant' | 'tenant-key' | 'account-closure' | 'archive'
  | 'tenant-stack' | 'stack-set' | 'workload-stack' | 'platform-stack' | 'organization-stack'
  | 'table' | 'bucket' | 'key' | 'vault' | 'log-group' | 'source';

const RUNBOOK = 'docs/upgrading-and-teardown.md';

/**
 * Each kind's place in the runbook: its step number (the order of the plan) and the section of docs/upgrading-and-teardown.md
 * that says what to do. Steps 1-5 are the runbook's numbered steps; 6 is "What stays after cdk destroy".
 */
export const TEARDOWN_STEPS: Record<Exclude<TeardownKind, 'source'>, { step: number; runbook: string }> = {
  'tenant': { step: 1, runbook: `${RUNBOOK}#teardown-step-1-offboard-every-tenant` },
  'tenant-stack': { step: 1, runbook: `${RUNBOOK}#teardown-step-1-offboard-every-tenant` },
  'tenant-key': { step: 2, runbook: `${RUNBOOK}#teardown-step-2-wait-for-tenant-keys-and-account-closures` },
  'account-closure': { step: 2, runbook: `${RUNBOOK}#teardown-step-2-wait-for-tenant-keys-and-account-closures` },
  'stack-set': { step: 3, runbook: `${RUNBOOK}#teardown-step-3-the-workload-accounts-stacks` },
  'workload-stack': { step: 3, runbook: `${RUNBOOK}#teardown-step-3-the-workload-accounts-stacks` },
  'platform-stack': { step: 4, runbook: `${RUNBOOK}#teardown-step-4-the-platform-stacks` },
  'organization-stack': { step: 5, runbook: `${RUNBOOK}#teardown-step-5-the-organization` },
  'archive': { step: 6, runbook: `${RUNBOOK}#what-stays-after-cdk-destroy` },
  'table': { step: 6, runbook: `${RUNBOOK}#what-stays-after-cdk-destroy` },
  'bucket': { step: 6, runbook: `${RUNBOOK}#object-lock-the-audit-bucket-and-the-admin-archive-cannot-be-emptied-early` },
  'key': { step: 6, runbook: `${RUNBOOK}#what-stays-after-cdk-destroy` },
  'vault': { step: 6, runbook: `${RUNBOOK}#what-stays-after-cdk-destroy` },
  'log-group': { step: 6, runbook: `${RUNBOOK}#what-stays-after-cdk-destroy` },
};

/** One line of the plan. */
export interface TeardownBlocker {
  readonly severity: TeardownSeverity;
  /** The runbook step that clears it (1-6; 0 for a source not read, printed first). */
  readonly step: number;
  readonly kind: TeardownKind;
  /** The tenant, stack, table, bucket, key, vault or log group. */
  readonly subject?: string;
  /** The region it is in, when one. */
  readonly region?: string;
  /** What stands in the way, one line. */
  readonly what: string;
  /** The earliest moment it can clear by itself or be removed (ISO 8601), when known: a retention date, a key's deletion date. */
  readonly until?: string;
  /** The command or console action that clears it. */
  readonly action?: string;
  /** The runbook section (docs/upgrading-and-teardown.md#…). */
  readonly runbook?: string;
}

/** The reads the plan makes are these only: any other AWS command is refused by the tests' clients (and never sent). */
export const READ_ONLY_COMMAND = /^(List|Describe|Get|Head)[A-Za-z]*Command$/;

/** The seven DynamoDB tables of TesseraPlatform, each retained with deletion protection on (the runbook's table loop). */
export const PLATFORM_TABLES = [
  'tessera-tenants', 'tessera-lifecycle-control', 'tessera-usage', 'tessera-fine-tuning-jobs',
  'tessera-gateway-api-keys', 'tessera-gateway-responses', 'tessera-gateway-cors-origins',
] as const;

/** Log-group name prefixes of what Tessera creates (Lambda, API access, WAF, workflows, trail, tenant and cache logs). */
export const LOG_GROUP_PREFIXES = [
  '/aws/lambda/TesseraPlatform', '/aws/lambda/tessera-', '/aws/vendedlogs/states/tessera-', '/aws/vendedlogs/tessera/', 'aws-waf-logs-tessera', '/tessera/', 'TesseraPlatform',
] as const;

/** Whether a bucket is one Tessera made: CloudFormation names the platform's `tesseraplatform…`; the DR replica and tenant buckets are `tessera-…`. */
export const isTesseraBucket = (name: string) => /^tessera(platform|-)/.test(name);

const with_ = (kind: Exclude<TeardownKind, 'source'>) => TEARDOWN_STEPS[kind];
const pf = (profile?: string) => (profile ? ` --profile ${profile}` : '');
const first = (s: string) => s.split('\n')[0]!.slice(0, 300);

/**
 * The registry's part (GET /admin/tenants): each tenant not OFFBOARDED (step 1, `tessera tenants delete`; one OFFBOARDING
 * under a running operation is followed with `tessera tenants watch`), then for the offboarded: a tenant key `QUEUED` or
 * `HELD` (step 2: the runbook goes on only once none is; QUEUED until its `dueAt`), an account closure not `CLOSED`
 * (step 2: Organizations closes at most 10% of the member accounts per rolling 30 days, at least 10, docs/tenant-lifecycle.md
 * "Account closures"), and what the offboarding archived and still keeps (the export in the admin archive, the final
 * snapshot's archived copy, stores whose `keptUntil` is ahead or that have no expiry: storesSaid; `until` the last expiry
 * only when every store has one). An account-mode tenant's stores are in its own account and go with its closure: named
 * on the closure's line while it waits; once `CLOSED`, an `info` line (AWS deletes what remains in a closed account 90
 * days after its closure: CloseAccount; not the platform's to delete). Ordered by status, then tenant.
 * @param now epoch ms, to tell a kept store's date passed from one ahead
 * @param profiles the profiles the plan reads with, named on the actions' AWS CLI lines as the stacks' and stores' are:
 *   `platform` (the archived snapshot), `management` (Organizations' account closures)
 *   @default - none: the lines name no `--profile` (the default credentials, as the plan read with them)
 */
export function registryBlockers(tenants: readonly TenantRecord[], now: number, profiles: { platform?: string; management?: string } = {}): TeardownBlocker[] {
  const out: TeardownBlocker[] = [];
  const rank = ['FAILED', 'PROVISIONING', 'UPDATING', 'ACTIVE', 'SUSPENDED', 'OFFBOARDING'];
  const live = tenants.filter((t) => t.status !== 'OFFBOARDED')
    .sort((a, b) => (rank.indexOf(a.status) - rank.indexOf(b.status)) || a.tenantId.localeCompare(b.tenantId));
  for (const t of live) {
    const running = t.status === 'OFFBOARDING' && t.lease;
    out.push({
      severity: 'blocks', kind: 'tenant', ...with_('tenant'), subject: t.tenantId,
      what: `tenant ${t.tenantId} is ${t.status}${running ? ` (its offboarding ${t.lease!.requestId} is running)` : ''}: not offboarded`,
      action: running ? `tessera tenants watch ${t.tenantId}` : `tessera tenants delete ${t.tenantId} --yes --watch`,
    });
  }
  const gone = tenants.filter((t) => t.status === 'OFFBOARDED').sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  for (const t of gone) {
    const k = t.offboarding?.keyDeletion;
    if (k && (k.state === 'QUEUED' || k.state === 'HELD')) {
      out.push({
        severity: 'blocks', kind: 'tenant-key', ...with_('tenant-key'), subject: t.tenantId,
        what: k.state === 'QUEUED'
          ? `tenant ${t.tenantId}: its key is QUEUED for deletion until its last store expires; the daily job schedules it (keep the workload account's TesseraProvisioning until then)`
          : `tenant ${t.tenantId}: its key is HELD by a store without expiry; the daily job never schedules it`,
        ...(k.dueAt ? { until: k.dueAt } : {}),
        action: k.state === 'QUEUED' ? `wait until then; tessera tenants show ${t.tenantId}` : `tessera tenants show ${t.tenantId} (its retained stores): remove or give an expiry to what holds the key, or close the workload account`,
      });
    }
    for (const [region, dr] of t.offboarding?.drKeyDeletion ? [[t.offboarding.drKeyDeletion.region, t.offboarding.drKeyDeletion] as const] : []) {
      if (dr.state !== 'QUEUED' && dr.state !== 'HELD') continue;
      out.push({
        severity: 'blocks', kind: 'tenant-key', ...with_('tenant-key'), subject: t.tenantId, region,
        what: `tenant ${t.tenantId}: its DR key in ${region} is ${dr.state}`, ...(dr.dueAt ? { until: dr.dueAt } : {}),
        action: `tessera tenants show ${t.tenantId}`,
      });
    }
    const c = t.accountClosure;
    const o = t.offboarding;
    const stores = (o?.retainedStores ?? []).filter((s) => s.store !== 'key' && !s.removedAt && (!s.keptUntil || Date.parse(s.keptUntil) > now));
    // Account mode: the retained stores are in the tenant's own account and go with its closure (not the platform's to delete).
    const inAccount = t.isolation === 'account' && c ? stores : [];
    if (c && c.state !== 'CLOSED') {
      const going = inAccount.length ? `; its ${storesSaid(inAccount)} go with the account` : '';
      out.push({
        severity: 'blocks', kind: 'account-closure', ...with_('account-closure'), subject: t.tenantId,
        what: c.state === 'NEEDS_OPERATOR'
          ? `tenant ${t.tenantId}: closure of account ${c.accountId} set aside after ${c.attempts ?? 0} attempt(s)${c.error ? `: ${first(c.error)}` : ''}${going}`
          : `tenant ${t.tenantId}: closure of account ${c.accountId} QUEUED${c.error ? ` (last try: ${first(c.error)})` : ''}; the daily job closes it within Organizations' quota (10% of the member accounts per rolling 30 days, at least 10)${going}`,
        action: c.state === 'NEEDS_OPERATOR'
          ? `fix the cause, then aws organizations close-account --account-id ${c.accountId}${pf(profiles.management)}`
          : `wait for the daily closure run; aws organizations describe-account --account-id ${c.accountId} --query Account.State${pf(profiles.management)}`,
      });
    } else if (c && inAccount.length) {
      out.push({
        severity: 'info', kind: 'account-closure', ...with_('account-closure'), subject: t.tenantId,
        what: `tenant ${t.tenantId}: its ${storesSaid(inAccount)} stayed in account ${c.accountId}, CLOSED: AWS deletes what remains in a closed account 90 days after its closure (CloseAccount); not the platform's to delete, nothing waits on them`,
        action: `nothing for its stores; the closed account stays SUSPENDED in its OU until AWS removes it, so cdk destroy TesseraOrganization (step 5) fails on that OU until then: aws organizations describe-account --account-id ${c.accountId} --query Account.State${pf(profiles.management)}`,
      });
    }
    const kept: string[] = [];
    let until: string | undefined;
    if (o?.export) kept.push(`the export ${o.export.prefix} in the admin archive (${o.export.versions} version(s), ${o.export.bytes} bytes, Object Lock)`);
    if (o?.databaseSnapshot) kept.push(`the final snapshot's archived copy ${o.databaseSnapshot.archiveSnapshotId}`);
    const here = stores.filter((s) => !inAccount.includes(s));
    if (here.length) {
      kept.push(storesSaid(here));
      // A date to wait for only when every store has one: a store without expiry never clears by itself.
      if (here.every((s) => s.keptUntil)) until = here.map((s) => s.keptUntil!).sort().at(-1);
    }
    if (kept.length) {
      out.push({
        severity: 'blocks', kind: 'archive', ...with_('archive'), subject: t.tenantId,
        what: `tenant ${t.tenantId}: offboarding keeps ${kept.join('; ')}`, ...(until ? { until } : {}),
        action: `tessera tenants show ${t.tenantId} (What offboarding keeps)${o?.databaseSnapshot ? `; aws rds delete-db-snapshot --db-snapshot-identifier ${o.databaseSnapshot.archiveSnapshotId}${pf(profiles.platform)}` : ''}`,
      });
    }
  }
  return out;
}

/**
 * Retained stores in words: how many, then those with an expiry (their kinds, the last expiry's day) and those without
 * (their kinds): `8 retained store(s): 2 expire by 2027-12-07 (log-group), 6 have no expiry (bucket, db-snapshot)`.
 * @param stores stores still kept (their `keptUntil` ahead, or none)
 */
export function storesSaid(stores: readonly RetainedStore[]): string {
  const kinds = (of: readonly RetainedStore[]) => [...new Set(of.map((s) => s.store))].join(', ');
  const dated = stores.filter((s) => s.keptUntil);
  const open = stores.filter((s) => !s.keptUntil);
  const parts = [
    ...(dated.length ? [`${dated.length} expire${dated.length === 1 ? 's' : ''} by ${dated.map((s) => s.keptUntil!).sort().at(-1)!.slice(0, 10)} (${kinds(dated)})`] : []),
    ...(open.length ? [`${open.length} ha${open.length === 1 ? 's' : 've'} no expiry (${kinds(open)})`] : []),
  ];
  return `${stores.length} retained store(s): ${parts.join(', ')}`;
}

/** What DescribeStacks says of one stack, as the plan reads it. */
export interface StackState { name: string; status: string; terminationProtection: boolean; region: string }

/**
 * A stack that exists (not DELETE_COMPLETE): the platform's (step 4: `cdk destroy`), the organization's (step 5), the
 * workload account's two (step 3: the account baseline is created with termination protection) and tenant stacks
 * `tessera-<id>…` (step 1: their tenant's offboarding deletes them). Termination protection is named with its lift.
 */
export function stackBlocker(kind: 'platform-stack' | 'organization-stack' | 'workload-stack' | 'tenant-stack', s: StackState, profile?: string): TeardownBlocker {
  const lift = s.terminationProtection ? `aws cloudformation update-termination-protection --stack-name ${s.name} --no-enable-termination-protection --region ${s.region}${pf(profile)}; ` : '';
  const remove = kind === 'platform-stack' || kind === 'organization-stack'
    ? `npx cdk destroy ${s.name} -c tessera:configFile=tessera.config.yaml --profile management`
    : kind === 'tenant-stack' ? `tessera tenants delete <its tenant> --yes --watch (or aws cloudformation delete-stack --stack-name ${s.name} --region ${s.region}${pf(profile)})`
      : `aws cloudformation delete-stack --stack-name ${s.name} --region ${s.region}${pf(profile)}`;
  return {
    severity: 'blocks', kind, ...with_(kind), subject: s.name, region: s.region,
    what: `stack ${s.name} (${s.region}) is ${s.status}${s.terminationProtection ? ', termination protection on' : ''}`,
    action: `${lift}${remove}`,
  };
}

/** A StackSet named `tessera…` still ACTIVE (step 3): its instances first, then the set. */
export function stackSetBlocker(name: string, region: string, profile?: string): TeardownBlocker {
  return {
    severity: 'blocks', kind: 'stack-set', ...with_('stack-set'), subject: name, region,
    what: `StackSet ${name} (${region}) is ACTIVE`,
    action: `aws cloudformation list-stack-instances --stack-set-name ${name} --region ${region}${pf(profile)}; delete-stack-instances (--no-retain-stacks) for each, then delete-stack-set`,
  };
}

/** A platform table still there (step 6): deletion protection lifted first when on. */
export function tableBlocker(name: string, region: string, deletionProtection: boolean, profile?: string): TeardownBlocker {
  return {
    severity: 'blocks', kind: 'table', ...with_('table'), subject: name, region,
    what: `DynamoDB table ${name} (${region}) is retained${deletionProtection ? ', deletion protection on' : ''}`,
    action: `${deletionProtection ? `aws dynamodb update-table --table-name ${name} --no-deletion-protection-enabled --region ${region}${pf(profile)}; ` : ''}aws dynamodb delete-table --table-name ${name} --region ${region}${pf(profile)}`,
  };
}

/** What the plan read of a bucket. */
export interface BucketState {
  name: string;
  region: string;
  /** Object versions and delete markers (counted up to the listing's cap). */
  versions: number;
  capped: boolean;
  /** Object Lock: its default mode and days, when the bucket has Object Lock enabled. */
  objectLock?: { mode?: string; days?: number; years?: number };
  /** The latest retain-until date the plan found (ISO 8601): the newest version's RetainUntilDate, or its LastModified plus the default retention. */
  retainUntil?: string;
}

/**
 * A Tessera bucket still there (step 6): empty → delete it; objects without Object Lock → the runbook's bucket loop; with
 * Object Lock, the earliest day it can be emptied (`until`: the latest retention found). Compliance mode: no one, the root
 * user included, deletes a locked version or shortens its retention before that day (AWS: "Using S3 Object Lock").
 * @param now epoch ms: a retention already passed says so
 */
export function bucketBlocker(b: BucketState, now: number, profile?: string): TeardownBlocker {
  const count = `${b.versions}${b.capped ? '+' : ''} object version(s)/delete marker(s)`;
  const lock = b.objectLock ? `Object Lock ${b.objectLock.mode ?? 'enabled'}${b.objectLock.days ? ` ${b.objectLock.days} d` : b.objectLock.years ? ` ${b.objectLock.years} y` : ''}` : '';
  const future = b.retainUntil && Date.parse(b.retainUntil) > now;
  const what = b.versions === 0
    ? `bucket ${b.name} (${b.region}) is retained, empty${lock ? `, ${lock}` : ''}`
    : `bucket ${b.name} (${b.region}) is retained with ${count}${lock ? `, ${lock}${b.retainUntil ? `: ${future ? 'cannot be emptied before' : 'retention passed on'} ${b.retainUntil.slice(0, 10)}` : ''}` : ''}`;
  return {
    severity: 'blocks', kind: 'bucket', ...with_('bucket'), subject: b.name, region: b.region, what,
    ...(b.retainUntil ? { until: b.retainUntil } : {}),
    action: b.versions === 0 ? `aws s3api delete-bucket --bucket ${b.name} --region ${b.region}${pf(profile)}`
      : future ? `wait until ${b.retainUntil}; then the runbook's bucket loop with B=${b.name}, then aws s3api delete-bucket --bucket ${b.name}`
        : `the runbook's bucket loop with B=${b.name} (every version and delete marker), then aws s3api delete-bucket --bucket ${b.name} --region ${b.region}${pf(profile)}`,
  };
}

/** What the plan read of a customer managed key. */
export interface KeyState { keyId: string; aliases: string[]; state: string; region: string; deletionDate?: string; description?: string }

/**
 * A Tessera KMS key (step 6). `PendingDeletion`: `info`, KMS deletes it at `deletionDate` (the window is 7-30 days;
 * CancelKeyDeletion until then), unless the audit's retention outlasts it (`blocks`: the locked objects would become
 * unreadable without becoming deletable; cancel). Any other state: `blocks`, schedule its deletion once nothing under it must
 * stay readable (the platform key: after the last Object Lock retention of the audit and archive buckets).
 * @param latestRetention the latest retain-until of the buckets (ISO 8601), when any
 */
export function keyBlocker(k: KeyState, profile?: string, latestRetention?: string): TeardownBlocker {
  const name = k.aliases[0] ?? k.keyId;
  if (k.state === 'PendingDeletion') {
    const early = latestRetention && k.deletionDate && k.deletionDate < latestRetention && k.aliases.some((a) => a.startsWith('alias/tessera/platform'));
    return {
      severity: early ? 'blocks' : 'info', kind: 'key', ...with_('key'), subject: name, region: k.region,
      what: `KMS key ${name} (${k.keyId}, ${k.region}) is pending deletion${k.deletionDate ? ` until ${k.deletionDate}` : ''}${early ? `, before the audit's Object Lock retention ends (${latestRetention}): those objects would stay, unreadable` : ''}`,
      ...(k.deletionDate ? { until: k.deletionDate } : {}),
      action: early ? `aws kms cancel-key-deletion --key-id ${k.keyId} --region ${k.region}${pf(profile)}` : `nothing: KMS deletes it then (aws kms cancel-key-deletion --key-id ${k.keyId} to keep it)`,
    };
  }
  return {
    severity: 'blocks', kind: 'key', ...with_('key'), subject: name, region: k.region,
    what: `KMS key ${name} (${k.keyId}, ${k.region}) is ${k.state}`,
    action: `once nothing under it must stay readable${latestRetention && k.aliases.some((a) => a.startsWith('alias/tessera/platform')) ? ` (after ${latestRetention.slice(0, 10)}, the audit's retention)` : ''}: aws kms schedule-key-deletion --key-id ${k.keyId} --pending-window-in-days 30 --region ${k.region}${pf(profile)} (7-30 days)`,
  };
}

/** What ListBackupVaults says of a vault. */
export interface VaultState { name: string; region: string; recoveryPoints: number; locked: boolean; minRetentionDays?: number; lockDate?: string }

/**
 * A Tessera Backup vault (step 6): a vault is deleted only when empty; a locked vault's recovery points cannot be deleted
 * before their `MinRetentionDays` (and a compliance lock past its `LockDate` cannot be removed: AWS Backup Vault Lock).
 */
export function vaultBlocker(v: VaultState, profile?: string): TeardownBlocker {
  const lock = v.locked ? `, vault lock on${v.minRetentionDays !== undefined ? ` (minimum retention ${v.minRetentionDays} d${v.lockDate ? `, immutable since ${v.lockDate}` : ''})` : ''}` : '';
  return {
    severity: 'blocks', kind: 'vault', ...with_('vault'), subject: v.name, region: v.region,
    what: `Backup vault ${v.name} (${v.region}) holds ${v.recoveryPoints} recovery point(s)${lock}`,
    action: v.recoveryPoints
      ? `aws backup list-recovery-points-by-backup-vault --backup-vault-name ${v.name} --region ${v.region}${pf(profile)}; delete-recovery-point each${v.locked ? ' once past the lock\'s minimum retention' : ''} (or wait for their expiry), then aws backup delete-backup-vault --backup-vault-name ${v.name}`
      : `aws backup delete-backup-vault --backup-vault-name ${v.name} --region ${v.region}${pf(profile)}`,
  };
}

/** The log groups kept (step 6), one line per region: how many, the first names. */
export function logGroupBlocker(names: readonly string[], region: string, profile?: string): TeardownBlocker {
  return {
    severity: 'blocks', kind: 'log-group', ...with_('log-group'), subject: `${names.length} log group(s)`, region,
    what: `${names.length} Tessera log group(s) kept in ${region}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`,
    action: `aws logs delete-log-group --log-group-name <name> --region ${region}${pf(profile)}, for each once its events are not needed (retention expires events, not groups)`,
  };
}

/** A source that could not be read (no credentials, AccessDenied, an API the endpoint lacks): an `unread` line, never a silent skip. */
export function unreadSource(what: string, error: unknown, action?: string): TeardownBlocker {
  const e = error as { name?: string; message?: string };
  const message = error instanceof Error || (e && typeof e.message === 'string') ? `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}` : String(error);
  return { severity: 'unread', step: 0, kind: 'source', what: `${what}: not read: ${first(message)}`, ...(action ? { action } : {}) };
}

/** The plan ordered as the runbook acts: unread sources first, then step by step (stable within a step). */
export function orderPlan(blockers: readonly TeardownBlocker[]): TeardownBlocker[] {
  return blockers.map((b, i) => [b, i] as const).sort(([a, i], [b, j]) => a.step - b.step || i - j).map(([b]) => b);
}

/** 2 when a source was not read, else 1 when anything blocks, else 0. */
export const teardownExitCode = (blockers: readonly TeardownBlocker[]): 0 | 1 | 2 =>
  blockers.some((b) => b.severity === 'unread') ? 2 : blockers.some((b) => b.severity === 'blocks') ? 1 : 0;

/** The plan for a terminal: `step N  kind  what (until …)`, `→ action`, `  see runbook`, then a summary line. */
export function teardownLines(blockers: readonly TeardownBlocker[], checked: readonly string[]): string[] {
  const lines = orderPlan(blockers).map((b) => {
    const head = `${b.severity === 'unread' ? 'unread' : b.severity === 'info' ? 'info  ' : `step ${b.step}`}  ${b.kind.padEnd(18)} ${printable(b.what)}${b.until ? ` (until ${printable(b.until)})` : ''}`;
    return `${head}${b.action ? `\n        → ${printable(b.action)}` : ''}${b.runbook ? `\n        see ${b.runbook}` : ''}`;
  });
  const n = { blocks: 0, unread: 0, info: 0 };
  for (const b of blockers) n[b.severity]++;
  lines.push(`${n.blocks} blocking, ${n.unread} not read, ${n.info} info (read-only; checked: ${checked.join(', ')})${n.unread ? ': the plan is incomplete' : n.blocks ? '' : ': nothing stands in the way'}`);
  return lines;
}
