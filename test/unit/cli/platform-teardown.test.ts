import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import { platformCommand, type HealthIo } from '../../../lib/cli/platform-command.js';
import type { ReadClient, TeardownIo, TeardownPlan, TeardownService } from '../../../lib/cli/platform-teardown.js';
import { READ_ONLY_COMMAND, registryBlockers, teardownExitCode, teardownLines, TEARDOWN_STEPS } from '../../../lib/cli/platform/teardown-plan.js';
import { TenantRecord } from '../../../lib/tenant-record.js';

/**
 * `tessera platform teardown --plan` against scripted AWS answers (s32q: the teardown was a manual runbook whose step 4 used
 * `out`, a function only docs/deploying.md defines; nothing said what still stood in the way). Every client here refuses any
 * command that is not a List*, Describe*, Get* or Head* (it throws, and the test fails on it): the plan makes no write call.
 */
const NOW = Date.parse('2026-12-05T12:00:00.000Z');
const D = 86_400_000;
const at = (ms: number) => new Date(ms).toISOString();

function tenant(id: string, extra: Record<string, unknown> = {}): TenantRecord {
  return TenantRecord.parse({
    tenantId: id, name: id, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${id}.example.com`, status: 'ACTIVE', blueprintVersion: '1.4.0',
    requestId: `req-${id}-0001`, createdAt: at(NOW - 90 * D), updatedAt: at(NOW - 10 * D), ...extra,
  });
}

type Answer = (input: Record<string, unknown>) => unknown;
const sent: string[] = [];

/** A client answering `answers` by command name; any command not read-only throws (and is recorded as refused). */
function readOnlyClient(service: string, answers: Record<string, Answer>): ReadClient {
  return {
    send: async (command: object) => {
      const name = command.constructor.name;
      sent.push(`${service}:${name}`);
      if (!READ_ONLY_COMMAND.test(name)) throw new Error(`${service}: ${name} is a write: the teardown plan must not send it`);
      const answer = answers[name];
      if (!answer) throw Object.assign(new Error(`${service}: no scripted answer for ${name}`), { name: 'Unscripted' });
      return answer((command as { input: Record<string, unknown> }).input);
    },
  };
}

const notFound = (name: string, message: string) => () => { throw Object.assign(new Error(message), { name }); };
const denied = (action: string) => () => { throw Object.assign(new Error(`User: arn:aws:sts::123456789012:assumed-role/ops/x is not authorized to perform: ${action}`), { name: 'AccessDeniedException' }); };

/** An AWS estate: a platform left after tenants, with a locked bucket, a key pending deletion and a vault with recovery points. */
function estate(over: Partial<Record<TeardownService, Record<string, Answer>>> = {}): Record<TeardownService, Record<string, Answer>> {
  return {
    cloudformation: {
      ListStacksCommand: () => ({ StackSummaries: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE' }, { StackName: 'CDKToolkit', StackStatus: 'CREATE_COMPLETE' }] }),
      ListStackSetsCommand: () => ({ Summaries: [] }),
      DescribeStacksCommand: ({ StackName }) => {
        if (StackName === 'tessera-acme') return { Stacks: [{ StackName, StackStatus: 'CREATE_COMPLETE', EnableTerminationProtection: true }] };
        if (StackName === 'TesseraPlatform') return { Stacks: [{ StackName, StackStatus: 'UPDATE_COMPLETE', EnableTerminationProtection: false }] };
        return notFound('ValidationError', `Stack with id ${String(StackName)} does not exist`)();
      },
    },
    dynamodb: {
      DescribeTableCommand: ({ TableName }) => (TableName === 'tessera-tenants' ? { Table: { TableName, DeletionProtectionEnabled: true } } : notFound('ResourceNotFoundException', 'Requested resource not found')()),
    },
    s3: {
      ListBucketsCommand: () => ({ Buckets: [{ Name: 'tesseraplatform-auditbucket1a2b3c' }, { Name: 'someone-elses' }] }),
      GetBucketLocationCommand: () => ({ LocationConstraint: undefined }),
      GetObjectLockConfigurationCommand: () => ({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } } }),
      ListObjectVersionsCommand: () => ({ Versions: [{ Key: 'AWSLogs/1', VersionId: 'v1', LastModified: new Date(NOW - 10 * D) }, { Key: 'AWSLogs/2', VersionId: 'v2', LastModified: new Date(NOW - D) }], IsTruncated: false }),
      HeadObjectCommand: ({ Key }) => { expect(Key).toBe('AWSLogs/2'); return { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(NOW + 364 * D) }; },
    },
    kms: {
      ListAliasesCommand: () => ({ Aliases: [{ AliasName: 'alias/tessera/platform', TargetKeyId: 'k-platform' }, { AliasName: 'alias/aws/s3', TargetKeyId: 'k-aws' }] }),
      ListKeysCommand: () => ({ Keys: [{ KeyId: 'k-platform' }, { KeyId: 'k-aws' }, { KeyId: 'k-old' }] }),
      DescribeKeyCommand: ({ KeyId }) => ({
        KeyMetadata: KeyId === 'k-platform' ? { KeyId, KeyManager: 'CUSTOMER', KeyState: 'Enabled', Description: 'Tessera platform: registry, lifecycle events, audit trail' }
          : KeyId === 'k-old' ? { KeyId, KeyManager: 'CUSTOMER', KeyState: 'PendingDeletion', DeletionDate: new Date(NOW + 7 * D), Description: 'Tessera platform: an earlier one' }
            : { KeyId, KeyManager: 'AWS', KeyState: 'Enabled' },
      }),
    },
    backup: {
      ListBackupVaultsCommand: () => ({ BackupVaultList: [{ BackupVaultName: 'TesseraPlatformRegistryBackupVault12AB', NumberOfRecoveryPoints: 35, Locked: true, MinRetentionDays: 7, LockDate: new Date(NOW - 30 * D) }, { BackupVaultName: 'Default', NumberOfRecoveryPoints: 2 }] }),
    },
    logs: {
      DescribeLogGroupsCommand: ({ logGroupNamePrefix }) => ({ logGroups: logGroupNamePrefix === 'aws-waf-logs-tessera' ? [{ logGroupName: 'aws-waf-logs-tessera-inference' }] : [] }),
    },
    ...over,
  } as Record<TeardownService, Record<string, Answer>>;
}

const registry = [
  tenant('acme'),
  tenant('bad', { status: 'FAILED' }),
  tenant('globex', { status: 'OFFBOARDED', isolation: 'account', accountClosure: { accountId: '747048279189', state: 'QUEUED', at: at(NOW - D) }, offboarding: { keyDeletion: { state: 'WITH_ACCOUNT_CLOSURE' } } }),
  tenant('initech', {
    status: 'OFFBOARDED', offboarding: {
      keyDeletion: { state: 'QUEUED', dueAt: '2027-12-03T20:33:28.221Z' },
      export: { prefix: 'initech/2026-12-01T00:00:00Z/', versions: 12, currentObjects: 10, noncurrentVersions: 2, deleteMarkers: 0, bytes: 4096, manifestParts: 1, verifiedAt: at(NOW - 4 * D) },
    },
  }),
];

/** A read-only admin API: GET /admin/tenants answers `tenants`; anything else throws. */
function api(tenants: unknown[] | Error): AdminClient {
  return {
    call: async (method: string, path: string) => {
      sent.push(`api:${method} ${path}`);
      if (method !== 'GET') throw new Error(`${method} ${path}: the teardown plan must not write`);
      if (tenants instanceof Error) throw tenants;
      return { tenants };
    },
  } as unknown as AdminClient;
}

async function run(args: string[], aws = estate(), tenants: unknown[] | Error = registry) {
  const out: string[] = [];
  const io: TeardownIo = {
    out: (t) => out.push(t), now: () => NOW, api: () => api(tenants),
    aws: async (service) => readOnlyClient(service, aws[service]),
  };
  const program = new Command('tessera').option('--json').option('--region <region>').exitOverride();
  program.addCommand(platformCommand({} as HealthIo, io));
  process.exitCode = undefined;
  await program.parseAsync(['node', 'tessera', ...args]);
  const code = process.exitCode ?? 0;
  process.exitCode = undefined;
  return { code, stdout: out.join('\n') };
}

afterEach(() => {
  sent.length = 0;
});

describe('tessera platform teardown --plan', () => {
  it('lists each blocker in the runbook\'s order with the command that clears it and its runbook step; exit 1', async () => {
    const { code, stdout } = await run(['--region', 'us-east-1', 'platform', 'teardown', '--plan', '--profile', 'platform']);
    expect(code).toBe(1);
    const heads = stdout.split('\n').filter((l) => !l.startsWith('        '));
    expect(heads).toEqual([
      'step 1  tenant             tenant bad is FAILED: not offboarded',
      'step 1  tenant             tenant acme is ACTIVE: not offboarded',
      'step 1  tenant-stack       stack tessera-acme (us-east-1) is CREATE_COMPLETE, termination protection on',
      'step 2  account-closure    tenant globex: closure of account 747048279189 QUEUED; the daily job closes it within Organizations\' quota (10% of the member accounts per rolling 30 days, at least 10)',
      'step 2  tenant-key         tenant initech: its key is QUEUED for deletion until its last store expires; the daily job schedules it (keep the workload account\'s TesseraProvisioning until then) (until 2027-12-03T20:33:28.221Z)',
      'step 4  platform-stack     stack TesseraPlatform (us-east-1) is UPDATE_COMPLETE',
      'step 6  archive            tenant initech: offboarding keeps the export initech/2026-12-01T00:00:00Z/ in the admin archive (12 version(s), 4096 bytes, Object Lock)',
      'step 6  table              DynamoDB table tessera-tenants (us-east-1) is retained, deletion protection on',
      'step 6  bucket             bucket tesseraplatform-auditbucket1a2b3c (us-east-1) is retained with 2 object version(s)/delete marker(s), Object Lock COMPLIANCE 365 d: cannot be emptied before 2027-12-04 (until 2027-12-04T12:00:00.000Z)',
      'step 6  key                KMS key alias/tessera/platform (k-platform, us-east-1) is Enabled',
      'info    key                KMS key k-old (k-old, us-east-1) is pending deletion until 2026-12-12T12:00:00.000Z (until 2026-12-12T12:00:00.000Z)',
      'step 6  vault              Backup vault TesseraPlatformRegistryBackupVault12AB (us-east-1) holds 35 recovery point(s), vault lock on (minimum retention 7 d, immutable since 2026-11-05T12:00:00.000Z)',
      'step 6  log-group          1 Tessera log group(s) kept in us-east-1: aws-waf-logs-tessera-inference',
      expect.stringMatching(/^12 blocking, 0 not read, 1 info \(read-only; checked: registry \(GET \/admin\/tenants\), .*no DR region/),
    ]);
    expect(stdout).toContain('→ tessera tenants delete bad --yes --watch\n        see docs/upgrading-and-teardown.md#teardown-step-1-offboard-every-tenant');
    expect(stdout).toContain('→ aws cloudformation update-termination-protection --stack-name tessera-acme --no-enable-termination-protection --region us-east-1 --profile platform; ');
    expect(stdout).toContain('→ aws dynamodb update-table --table-name tessera-tenants --no-deletion-protection-enabled --region us-east-1 --profile platform; aws dynamodb delete-table --table-name tessera-tenants --region us-east-1 --profile platform');
    expect(stdout).toContain('→ wait until 2027-12-04T12:00:00.000Z; then the runbook\'s bucket loop with B=tesseraplatform-auditbucket1a2b3c');
    expect(stdout).toContain('(after 2027-12-04, the audit\'s retention): aws kms schedule-key-deletion --key-id k-platform --pending-window-in-days 30 --region us-east-1 --profile platform (7-30 days)');
    expect(stdout).toContain('→ aws backup list-recovery-points-by-backup-vault --backup-vault-name TesseraPlatformRegistryBackupVault12AB --region us-east-1 --profile platform; delete-recovery-point each once past the lock\'s minimum retention');
    // Only reads were sent (the clients throw on anything else), and the admin API was only read.
    expect(sent.filter((s) => !s.startsWith('api:') && !READ_ONLY_COMMAND.test(s.split(':')[1]!))).toEqual([]);
    expect(sent.filter((s) => s.startsWith('api:'))).toEqual(['api:GET /admin/tenants']);
  });

  it('--json: the plan with readOnly, checked, the blockers in order (each with step, kind, what, action, runbook) and the summary', async () => {
    const { code, stdout } = await run(['--json', 'platform', 'teardown', '--plan', '--dr-region', 'eu-west-1']);
    expect(code).toBe(1);
    const plan = JSON.parse(stdout) as TeardownPlan;
    expect(Object.keys(plan)).toEqual(['checkedAt', 'readOnly', 'checked', 'blockers', 'summary']);
    expect(plan.readOnly).toBe(true);
    expect(plan.checkedAt).toBe(at(NOW));
    expect(plan.summary).toEqual({ blocks: 15, unread: 0, info: 2 });
    expect(plan.blockers.map((b) => b.step)).toEqual([...plan.blockers.map((b) => b.step)].sort((a, b) => a - b));
    expect(plan.blockers[0]).toEqual({ severity: 'blocks', step: 1, kind: 'tenant', runbook: TEARDOWN_STEPS.tenant.runbook, subject: 'bad', what: 'tenant bad is FAILED: not offboarded', action: 'tessera tenants delete bad --yes --watch' });
    // The DR region is read as the home region is: its keys, vaults and log groups (the same scripted estate answers there).
    expect(plan.blockers.filter((b) => b.region === 'eu-west-1').map((b) => b.kind)).toEqual(['key', 'key', 'vault', 'log-group']);
    expect(plan.checked).toContain('stack TesseraPlatformDr (CloudFormation, eu-west-1, default credentials)');
    // Each source's region and credentials in its one parenthesis, as the stacks' (a trailing `, default credentials`
    // read as a source of its own).
    expect(plan.checked).toEqual(expect.arrayContaining(['DynamoDB tables (us-east-1, default credentials)', 'S3 buckets tesseraplatform… and tessera-… (default credentials)', 'KMS keys (eu-west-1, default credentials)', 'CloudWatch log groups (us-east-1, default credentials)']));
    expect(plan.checked.filter((c) => /\), /.test(c))).toEqual([]);
  });

  it('a source denied is an unread line naming it and the error, first; the others are still read; exit 2', async () => {
    const { code, stdout } = await run(['platform', 'teardown', '--plan'], estate({ kms: { ListAliasesCommand: denied('kms:ListAliases'), ListKeysCommand: denied('kms:ListKeys') } }));
    expect(code).toBe(2);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('unread  source             KMS keys (us-east-1, default credentials): not read: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ops/x is not authorized to perform: kms:ListAliases');
    expect(stdout).toContain('step 6  vault ');
    expect(lines.at(-1)).toMatch(/^11 blocking, 1 not read, 0 info .*: the plan is incomplete$/);
  });

  it('no credentials for the admin API: the registry unread, exit 2 (never a silent skip)', async () => {
    const { code, stdout } = await run(['platform', 'teardown', '--plan'], estate(), new Error('Could not load credentials from any providers'));
    expect(code).toBe(2);
    expect(stdout.split('\n')[0]).toBe('unread  source             the registry (GET /admin/tenants): tenants not offboarded, their keys, account closures and archives: not read: Could not load credentials from any providers');
  });

  it('nothing left: exit 0, "nothing stands in the way"', async () => {
    const none = estate({
      cloudformation: { ListStacksCommand: () => ({ StackSummaries: [] }), ListStackSetsCommand: () => ({ Summaries: [] }), DescribeStacksCommand: notFound('ValidationError', 'Stack with id X does not exist') },
      dynamodb: { DescribeTableCommand: notFound('ResourceNotFoundException', 'Requested resource not found') },
      s3: { ListBucketsCommand: () => ({ Buckets: [] }) }, kms: { ListAliasesCommand: () => ({ Aliases: [] }), ListKeysCommand: () => ({ Keys: [] }) },
      backup: { ListBackupVaultsCommand: () => ({ BackupVaultList: [] }) }, logs: { DescribeLogGroupsCommand: () => ({ logGroups: [] }) },
    });
    const { code, stdout } = await run(['platform', 'teardown', '--plan'], none, [tenant('gone', { status: 'OFFBOARDED', offboarding: { keyDeletion: { state: 'SCHEDULED', deletionDate: at(NOW - D) } } })]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^0 blocking, 0 not read, 0 info \(read-only; .*\): nothing stands in the way$/);
  });

  it('without --plan it refuses (exit 2): the command only plans', async () => {
    await expect(run(['platform', 'teardown'])).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('needs --plan') });
    expect(sent).toEqual([]);
  });

  it('a client that refuses writes would fail the plan: the test clients throw on any non-read command', async () => {
    const client = readOnlyClient('s3', {});
    class DeleteBucketCommand { input = {}; }
    await expect(client.send(new DeleteBucketCommand())).rejects.toThrow('s3: DeleteBucketCommand is a write: the teardown plan must not send it');
  });
});

describe('the registry\'s blockers', () => {
  it('tenants by status (FAILED first, OFFBOARDING under a running operation watched), keys QUEUED or HELD, closures, archives; SCHEDULED keys and CLOSED closures are not blockers', () => {
    const found = registryBlockers([
      tenant('zed', { status: 'SUSPENDED' }),
      tenant('going', { status: 'OFFBOARDING', lease: { kind: 'offboard', requestId: 'r-going', executionArn: 'arn:aws:states:us-east-1:1:execution:x:r', acquiredAt: at(NOW - D), previousStatus: 'ACTIVE' } }),
      tenant('held', { status: 'OFFBOARDED', offboarding: { keyDeletion: { state: 'HELD' }, retainedStores: [{ store: 'bucket', id: 'b', disposition: 'review', holdsKey: true }] } }),
      tenant('closed', { status: 'OFFBOARDED', accountClosure: { accountId: '111122223333', state: 'CLOSED', at: at(NOW) }, offboarding: { keyDeletion: { state: 'SCHEDULED' } } }),
      tenant('stuck', { status: 'OFFBOARDED', accountClosure: { accountId: '444455556666', state: 'NEEDS_OPERATOR', attempts: 5, error: 'ConstraintViolationException', at: at(NOW) } }),
    ], NOW, { platform: 'platform', management: 'management' });
    expect(found.map((b) => [b.kind, b.subject, b.action])).toEqual([
      ['tenant', 'zed', 'tessera tenants delete zed --yes --watch'],
      ['tenant', 'going', 'tessera tenants watch going'],
      ['tenant-key', 'held', 'tessera tenants show held (its retained stores): remove or give an expiry to what holds the key, or close the workload account'],
      ['archive', 'held', 'tessera tenants show held (What offboarding keeps)'],
      ['account-closure', 'stuck', 'fix the cause, then aws organizations close-account --account-id 444455556666 --profile management'],
    ]);
    expect(found[3]!.what).toBe('tenant held: offboarding keeps 1 retained store(s): 1 has no expiry (bucket)');
    expect(teardownExitCode(found)).toBe(1);
    expect(teardownLines([], ['x']).at(-1)).toBe('0 blocking, 0 not read, 0 info (read-only; checked: x): nothing stands in the way');
  });
});

describe('the registry\'s actions name the profiles the plan read with', () => {
  const stuck = tenant('stuck', {
    status: 'OFFBOARDED', accountClosure: { accountId: '444455556666', state: 'NEEDS_OPERATOR', attempts: 5, at: at(NOW) },
    offboarding: { keyDeletion: { state: 'SCHEDULED' }, databaseSnapshot: { instance: 'tessera-stuck', snapshotId: 'tessera-stuck-final-1', archiveSnapshotId: 'tessera-stuck-final-1-archive', archivedAt: at(NOW) } },
  });
  it('given profiles: each line its account\'s (--management-profile for Organizations, --profile for the archived snapshot)', () => {
    const actions = registryBlockers([stuck], NOW, { platform: 'plat-admin', management: 'org-admin' }).map((b) => b.action);
    expect(actions).toEqual([
      'fix the cause, then aws organizations close-account --account-id 444455556666 --profile org-admin',
      'tessera tenants show stuck (What offboarding keeps); aws rds delete-db-snapshot --db-snapshot-identifier tessera-stuck-final-1-archive --profile plat-admin',
    ]);
  });
  it('none given (the default credentials, as the plan read with them): no --profile, where it named profiles "management" and "platform" the machine may not have', () => {
    const actions = registryBlockers([stuck], NOW).map((b) => b.action);
    expect(actions.filter((a) => a?.includes('--profile'))).toEqual([]);
    expect(actions[1]).toBe('tessera tenants show stuck (What offboarding keeps); aws rds delete-db-snapshot --db-snapshot-identifier tessera-stuck-final-1-archive');
  });
});

describe('what offboarding keeps, in words', () => {
  const store = (kind: string, keptUntil?: string) => ({ store: kind, id: `${kind}-${keptUntil ?? 'open'}`, disposition: keptUntil ? 'expires' : 'review', holdsKey: true, ...(keptUntil ? { keptUntil } : {}) });
  const mixed = [store('log-group', '2027-06-01T00:00:00.000Z'), store('backup-recovery-point', '2027-12-07T10:00:00.000Z'), store('bucket'), store('log-group'), store('key')];

  it('says which stores expire (by the last day) and which have none; no date to wait for while one has none (it read "2 without expiry (until …)")', () => {
    const [line] = registryBlockers([tenant('initech', { status: 'OFFBOARDED', offboarding: { keyDeletion: { state: 'HELD' }, retainedStores: mixed } })], NOW).filter((b) => b.kind === 'archive');
    expect(line!.what).toBe('tenant initech: offboarding keeps 4 retained store(s): 2 expire by 2027-12-07 (log-group, backup-recovery-point), 2 have no expiry (bucket, log-group)');
    expect(line!.until).toBeUndefined();
    const [dated] = registryBlockers([tenant('initech', { status: 'OFFBOARDED', offboarding: { keyDeletion: { state: 'QUEUED' }, retainedStores: mixed.slice(0, 2) } })], NOW).filter((b) => b.kind === 'archive');
    expect(dated!.what).toBe('tenant initech: offboarding keeps 2 retained store(s): 2 expire by 2027-12-07 (log-group, backup-recovery-point)');
    expect(dated!.until).toBe('2027-12-07T10:00:00.000Z');
  });

  it('a CLOSED account\'s stores go with the account: info, not a blocker; a closure still QUEUED says they go with it', () => {
    const closed = registryBlockers([tenant('globex', {
      status: 'OFFBOARDED', isolation: 'account', accountClosure: { accountId: '747048279189', state: 'CLOSED', at: at(NOW - D) },
      offboarding: { keyDeletion: { state: 'WITH_ACCOUNT_CLOSURE' }, retainedStores: mixed },
    })], NOW);
    expect(closed.map((b) => [b.severity, b.kind])).toEqual([['info', 'account-closure']]);
    expect(closed[0]!.what).toBe('tenant globex: its 4 retained store(s): 2 expire by 2027-12-07 (log-group, backup-recovery-point), 2 have no expiry (bucket, log-group) stayed in account 747048279189, CLOSED: AWS deletes what remains in a closed account 90 days after its closure (CloseAccount); not the platform\'s to delete, nothing waits on them');
    expect(closed[0]!.action).toContain('cdk destroy TesseraOrganization (step 5) fails on that OU until then');
    expect(teardownExitCode(closed)).toBe(0);
    const queued = registryBlockers([tenant('globex', {
      status: 'OFFBOARDED', isolation: 'account', accountClosure: { accountId: '747048279189', state: 'QUEUED', at: at(NOW - D) },
      offboarding: { keyDeletion: { state: 'WITH_ACCOUNT_CLOSURE' }, retainedStores: mixed.slice(2) },
    })], NOW);
    expect(queued.map((b) => [b.severity, b.kind])).toEqual([['blocks', 'account-closure']]);
    expect(queued[0]!.what).toMatch(/; its 2 retained store\(s\): 2 have no expiry \(bucket, log-group\) go with the account$/);
  });
});

describe('the teardown runbook (docs/upgrading-and-teardown.md)', () => {
  const doc = readFileSync(new URL('../../../docs/upgrading-and-teardown.md', import.meta.url), 'utf8');
  const teardown = doc.slice(doc.indexOf('\n## Teardown'));

  it('has the section each blocker kind links to (#anchor of a heading)', () => {
    const slug = (h: string) => h.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
    const anchors = [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1]!));
    const linked = [...new Set(Object.values(TEARDOWN_STEPS).map((s) => s.runbook.split('#')[1]!))];
    expect(linked.filter((a) => !anchors.includes(a))).toEqual([]);
  });

  it('calls no shell function it does not define (s32q: step 4 read B=$(out AuditBucketName), `out` being the deploy guide\'s)', () => {
    const blocks = [...teardown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
    const defined = [...blocks.matchAll(/^\s*([a-z_][a-z0-9_]*)\(\)\s*\{/gm)].map((m) => m[1]!);
    const called = [...blocks.matchAll(/\$\(\s*([a-z_][a-z0-9_-]*)\b/g)].map((m) => m[1]!);
    expect(called.filter((c) => !['aws', 'npx', 'jq'].includes(c) && !defined.includes(c))).toEqual([]);
    expect(teardown).toContain('tessera platform teardown --plan');
  });
});
