import { CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, ListAliasesCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketLocationCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTenant, updateTenant } from '../../lambdas/shared/registry.js';
import { cidrClaimsOf, releasedCidrs } from '../../lambdas/shared/control-table.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { configWith } from '../support/config-with.js';
import { rewrite } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * Disaster recovery through the lifecycle (aws-local-stepfunctions + moto): a tier with a DR region
 * gets its DR blueprint in that region before the primary; an upgrade updates the DR stack first; a
 * move to a tier without DR keeps the DR stack (RETAINED); offboarding deletes the primary, then the
 * DR stack, and inventories the DR stores it retains. One moto, one tenant: one onboarding, two
 * changes, one offboarding.
 * The DR blueprint is the real one (lib/tenant-dr-stack.ts) derived for moto, whose CloudFormation
 * creates no Backup vault and no bucket policy: those are left out of the moto stand-in (the vault's name is the contract's).
 */
const DR_REGION = 'us-west-2';
/** professional's settings under another name, with a pool of its own (pools must be disjoint; a tenant keeps its VPC range across a tier change). */
function residencyTier() {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.professional);
  tier.network.tenantCidrPool = '10.112.0.0/12';
  return tier;
}
// professional with DR, and `residency`: the same tier without (a move between them changes nothing else, which moto's stack updates need).
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } }, residency: residencyTier() } }));

const tenant = 'dracme';
let accountId: string;
let onboardStates: string[];
let deletions: string[];

beforeAll(async () => {
  // The real DR blueprint (lib/tenant-dr-stack.ts), derived for moto and published like the others.
  const published = local.fixture.catalog.find((b) => b.file === 'professional-dr.template.json' && b.version === '1.0.0');
  // moto's CloudFormation creates neither the vault nor the bucket policies: the stand-in has the key, its alias and the buckets.
  expect(published?.report.removed).toContainEqual(expect.stringMatching(/\(AWS::Backup::BackupVault\)$/));
  expect(published!.report.removed.every((r) => /\((AWS::Backup::BackupVault|AWS::S3::BucketPolicy)\)$/.test(r))).toBe(true);
  const run = await local.workflows.run('onboard', onboardRequest(tenant, 'professional'));
  expect(run.error).toBeUndefined();
  onboardStates = run.states;
  accountId = (await getTenant(tenant))!.accountId!;
});

const cfnIn = async (region: string) => new CloudFormationClient({ credentials: await local.fixture.as(accountId), region });
const stackStatus = async (name: string, region: string) => {
  try {
    return (await (await cfnIn(region)).send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].StackStatus;
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return 'ABSENT';
    throw e;
  }
};

// One tenant's life, step by step: each test starts where the one before left the tenant (upgraded,
// moved off the DR tier, a failed move back, offboarded). `shuffle: false` keeps that order under
// `--sequence.shuffle`, which otherwise ran the offboarding before the move and failed three of them.
describe('a tenant of a tier with disaster recovery', { shuffle: false }, () => {
  it('is onboarded with its DR blueprint deployed in the DR region first, then the primary', async () => {
    const dr = onboardStates.indexOf('Deploy DR blueprint');
    expect(dr).toBeGreaterThan(onboardStates.indexOf('Deploy account baseline'));
    expect(onboardStates.indexOf('DR blueprint ready')).toBeGreaterThan(dr);
    expect(onboardStates.indexOf('Deploy blueprint')).toBeGreaterThan(onboardStates.indexOf('DR blueprint ready'));
    // the DR stack is in the DR region, not the home region; the primary in the home region
    expect(await stackStatus('tessera-dracme-dr', DR_REGION)).toBe('CREATE_COMPLETE');
    expect(await stackStatus('tessera-dracme-dr', 'us-east-1')).toBe('ABSENT');
    expect(await stackStatus('tessera-dracme', 'us-east-1')).toBe('UPDATE_COMPLETE');
    const drStack = (await (await cfnIn(DR_REGION)).send(new DescribeStacksCommand({ StackName: 'tessera-dracme-dr' }))).Stacks![0];
    expect(drStack.Parameters).toEqual([{ ParameterKey: 'TenantId', ParameterValue: tenant }]);
    expect(drStack.Tags).toEqual(expect.arrayContaining([{ Key: 'tessera:tenant-id', Value: tenant }, { Key: 'tessera:request-id', Value: 'req-dracme-0001' }]));
    expect(drStack.EnableTerminationProtection).toBe(true);
    expect(drStack.RoleARN).toBe(`arn:aws:iam::${accountId}:role/${local.config.roles.blueprintExecutionRoleName}`);
    // its resources by the contract's names, in the DR region
    const s3 = new S3Client({ credentials: await local.fixture.as(accountId), region: DR_REGION, forcePathStyle: true });
    const bucket = `tessera-dracme-dr-${accountId}-${DR_REGION}`;
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint).toBe(DR_REGION);
    const aliases = (await new KMSClient({ credentials: await local.fixture.as(accountId), region: DR_REGION }).send(new ListAliasesCommand({}))).Aliases!.map((a) => a.AliasName);
    expect(aliases).toContain('alias/tessera-dracme-dr');
    // and the registry records it
    const record = await getTenant(tenant);
    expect(record).toMatchObject({ status: 'ACTIVE', disasterRecovery: { region: DR_REGION, stackName: 'tessera-dracme-dr', status: 'ACTIVE' } });
  });

  it('upgrades the DR stack before the primary, and keeps it (RETAINED) when the tenant moves to a tier without DR', async () => {
    // GIVEN an upgrade whose primary change set is refused (it would replace the database) after the DR stack went to 2.0.0
    const undo = rewrite('replace-database', 'DescribeChangeSetCommand', (out, input) => {
      if (input.StackName !== `tessera-${tenant}`) return;
      out.Changes = [...(out.Changes ?? []), { Type: 'Resource', ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'Database', PhysicalResourceId: 'db-1', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'True',
        Details: [{ Target: { Attribute: 'Properties', Name: 'DBInstanceIdentifier', RequiresRecreation: 'Always' } }],
      } }];
    });
    const refused = await local.workflows.run('change', { request: { tenantId: tenant, requestId: 'req-dracme-change-0' }, change: { blueprintVersion: '2.0.0' } });
    undo();
    // THEN the tenant stays on 1.0.0, and the registry says its DR stack went ahead (DR stacks go first), as the stack's tag does
    expect(refused.error).toBeDefined();
    const afterRefusal = (await getTenant(tenant))!;
    expect(afterRefusal).toMatchObject({
      status: 'ACTIVE', blueprintVersion: '1.0.0',
      disasterRecovery: { stackName: 'tessera-dracme-dr', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: expect.any(String) } },
      failure: { step: 'Deploy blueprint', reason: expect.stringContaining('DR stack tessera-dracme-dr (us-west-2) was already deployed by this execution with tier professional, version 2.0.0') },
    });
    expect((await (await cfnIn(DR_REGION)).send(new DescribeStacksCommand({ StackName: 'tessera-dracme-dr' }))).Stacks![0].Tags).toContainEqual({ Key: 'tessera:blueprint-version', Value: '2.0.0' });
    // WHEN the tenant's blueprint goes to 2.0.0 (its tier still has DR)
    const upgrade = await local.workflows.run('change', { request: { tenantId: tenant, requestId: 'req-dracme-change-1' }, change: { blueprintVersion: '2.0.0' } });
    // THEN the DR blueprint is updated first (through its change set), then the primary
    expect(upgrade.error).toBeUndefined();
    expect(upgrade.states.indexOf('Deploy DR blueprint')).toBeGreaterThan(upgrade.states.indexOf('Account baseline ready'));
    expect(upgrade.states.indexOf('Deploy blueprint')).toBeGreaterThan(upgrade.states.indexOf('DR blueprint ready'));
    const drStack = (await (await cfnIn(DR_REGION)).send(new DescribeStacksCommand({ StackName: 'tessera-dracme-dr' }))).Stacks![0];
    expect(drStack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(drStack.Tags).toContainEqual({ Key: 'tessera:blueprint-version', Value: '2.0.0' });
    expect(await getTenant(tenant)).toMatchObject({ blueprintVersion: '2.0.0', disasterRecovery: { status: 'ACTIVE' } });
    // WHEN it moves to residency (disasterRecovery none)
    const away = await local.workflows.run('change', { request: { tenantId: tenant, requestId: 'req-dracme-change-2' }, change: { tier: 'residency', blueprintVersion: '2.0.0' } });
    // THEN its DR stack is left in place (its data with it) and recorded RETAINED
    expect(away.error).toBeUndefined();
    expect(away.states).not.toContain('Deploy DR blueprint');
    expect(await getTenant(tenant)).toMatchObject({ status: 'ACTIVE', tier: 'residency', disasterRecovery: { region: DR_REGION, stackName: 'tessera-dracme-dr', status: 'RETAINED' } });
    expect(await stackStatus('tessera-dracme-dr', DR_REGION)).toBe('UPDATE_COMPLETE');
  });

  it('keeps the DR stack RETAINED when a move back to the DR tier fails after the DR stack was deployed: the tenant stays on a tier without DR', async () => {
    // GIVEN the move's primary change set is refused (it would replace the database), after the DR stack went to professional
    const undo = rewrite('replace-database-on-move', 'DescribeChangeSetCommand', (out, input) => {
      if (input.StackName !== `tessera-${tenant}`) return;
      out.Changes = [...(out.Changes ?? []), { Type: 'Resource', ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'Database', PhysicalResourceId: 'db-1', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'True',
        Details: [{ Target: { Attribute: 'Properties', Name: 'DBInstanceIdentifier', RequiresRecreation: 'Always' } }],
      } }];
    });
    const before = (await getTenant(tenant))!.disasterRecovery!;
    const back = await local.workflows.run('change', { request: { tenantId: tenant, requestId: 'req-dracme-change-3' }, change: { tier: 'professional', blueprintVersion: '2.0.0' } });
    undo();
    // THEN the DR stack was deployed (it goes first) and the primary was not: the tenant is still on residency, whose primary
    // replicates nothing into the DR stack, so the registry must not say ACTIVE (deployed, the tenant's tier has DR)
    expect(back.error?.message).toMatch(/ChangeRefused/);
    expect(back.states).toContain('DR blueprint ready');
    const after = (await getTenant(tenant))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'residency', failure: { step: 'Deploy blueprint' } });
    expect(after.disasterRecovery).toMatchObject({ region: DR_REGION, stackName: 'tessera-dracme-dr', status: 'RETAINED', replicationStoppedAt: before.replicationStoppedAt, deployedWith: { tier: 'professional' } });
  });

  it('is offboarded (on a tier without DR now): the primary stacks go, then the DR stack found through the registry; the DR bucket is retained and inventoried', async () => {
    deletions = [];
    const { vpcCidr } = (await getTenant(tenant))!;
    // The tenant's range, claimed and recorded while a stack is still being deleted (the DR stack the last)
    const heldWhileDeleting: boolean[] = [];
    local.workflows.wrap = (name, handler) => (name === 'delete-tenant-stacks'
      ? async (event) => {
        const out = await handler(event) as { stack?: string };
        if (out.stack && deletions.at(-1) !== out.stack) deletions.push(out.stack);
        if (out.stack) heldWhileDeleting.push((await cidrClaimsOf(tenant)).includes(vpcCidr!) && (await getTenant(tenant))!.vpcCidr === vpcCidr);
        return out;
      }
      : handler);
    // WHEN
    const run = await local.workflows.run('offboard', { request: { tenantId: tenant, requestId: 'req-dracme-offboard' } });
    // THEN
    expect(run.error).toBeUndefined();
    expect(deletions).toEqual(['tessera-dracme-namespace', 'tessera-dracme', 'tessera-dracme-dr']);
    expect(await stackStatus('tessera-dracme-dr', DR_REGION)).toBe('ABSENT');
    expect(await stackStatus('tessera-dracme', 'us-east-1')).toBe('ABSENT');
    const record = await getTenant(tenant);
    expect(record).toMatchObject({ status: 'OFFBOARDED', disasterRecovery: { region: DR_REGION, stackName: 'tessera-dracme-dr', status: 'REMOVED', stackId: expect.stringContaining(`:${DR_REGION}:`) } });
    // its VPC range went back only once the DR stack was gone too, to the pool of professional, the tier it came from
    expect(heldWhileDeleting.length).toBeGreaterThanOrEqual(3);
    expect(heldWhileDeleting.every(Boolean)).toBe(true);
    expect(record!.offboarding?.network).toMatchObject({ vpcCidr });
    expect(await cidrClaimsOf(tenant)).toEqual([]);
    expect([await releasedCidrs('professional'), await releasedCidrs('residency')]).toEqual([[vpcCidr], []]);
    // retained in the DR region, and in the inventory with its region
    const bucket = `tessera-dracme-dr-${accountId}-${DR_REGION}`;
    await new S3Client({ credentials: await local.fixture.as(accountId), region: DR_REGION, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: bucket }));
    const stores = record!.offboarding!.retainedStores!;
    // The tenant left its DR tier (RETAINED) before: the primary replicated no more into the DR bucket, so what was deleted
    // at home since is still current there and not in the export (which reads the tenant bucket): no `archived` replica.
    expect(stores.find((s) => s.id === bucket)).toMatchObject({ disposition: 'review', note: expect.stringContaining(`DR region ${DR_REGION}: not a replica of the tenant bucket since `) });
    // since the move (recorded when the DR stack became RETAINED), which the note names
    const retainedSince = record!.disasterRecovery!.replicationStoppedAt!;
    expect(Date.parse(retainedSince)).not.toBeNaN();
    expect(stores.find((s) => s.id === bucket)!.note).toBe(`DR region ${DR_REGION}: not a replica of the tenant bucket since ${retainedSince} (the tenant moved to a tier without DR, and the primary stopped replicating into it): objects deleted from the tenant bucket since stay current here, and the export, which reads the tenant bucket, does not have them; under the DR key, which it holds until an operator decides`);
    // That bucket, under the DR key without expiry, holds the DR key: the DR key is held, its entry naming it, and not
    // scheduled (it said `review` whatever held it, and nothing ever scheduled it, nor recorded what became of it)
    expect(stores).toEqual(expect.arrayContaining([
      expect.objectContaining({ store: 'bucket', id: bucket, drRegion: DR_REGION, holdsKey: true, note: expect.stringContaining(`DR region ${DR_REGION}`) }),
      expect.objectContaining({ store: 'key', drRegion: DR_REGION, holdsKey: false, disposition: 'review', note: expect.stringContaining(`held by 1 store(s) under it without expiry (bucket ${bucket})`) }),
    ]));
    const drKey = stores.find((s) => s.store === 'key' && s.drRegion)!;
    expect(drKey.keyArn).toMatch(new RegExp(`^arn:aws:kms:${DR_REGION}:${accountId}:key/`));
    expect(record!.offboarding!.drKeyDeletion).toEqual({ state: 'HELD', keyArn: drKey.keyArn, region: DR_REGION });
    const kms = new KMSClient({ credentials: await local.fixture.as(accountId), region: DR_REGION });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: drKey.keyArn }))).KeyMetadata!.KeyState).toBe('Enabled');
  });

  it('a tenant offboarded from its DR tier: its DR bucket is a replica of the export and the DR vault holds nothing under the DR key, so the DR key is scheduled for deletion in the DR region', async () => {
    // GIVEN a tenant on the DR tier (moto's CloudFormation creates no Backup vault: no recovery point holds the DR key)
    const other = 'drnow';
    expect((await local.workflows.run('onboard', onboardRequest(other, 'professional'))).error).toBeUndefined();
    // WHEN it is offboarded
    const off = await local.workflows.run('offboard', { request: { tenantId: other, requestId: 'req-drnow-offboard' } });
    // THEN its DR key is scheduled in the DR region (it was left `review` and never scheduled), as the entry and the record say
    expect(off.error).toBeUndefined();
    const record = (await getTenant(other))!;
    const stores = record.offboarding!.retainedStores!;
    expect(stores.find((s) => s.id === `tessera-${other}-dr-${record.accountId}-${DR_REGION}`)).toMatchObject({ disposition: 'archived', holdsKey: false, drRegion: DR_REGION });
    const drKey = stores.find((s) => s.store === 'key' && s.drRegion)!;
    expect(drKey).toMatchObject({ disposition: 'scheduled', note: expect.stringContaining('schedules its deletion now') });
    expect(record.offboarding!.drKeyDeletion).toMatchObject({ state: 'SCHEDULED', keyArn: drKey.keyArn, region: DR_REGION, deletionDate: expect.any(String) });
    const kms = new KMSClient({ credentials: await local.fixture.as(record.accountId!), region: DR_REGION });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: drKey.keyArn }))).KeyMetadata!;
    expect(described.KeyState).toBe('PendingDeletion');
    expect(described.DeletionDate!.toISOString()).toBe(record.offboarding!.drKeyDeletion!.deletionDate);
  });

  it('a tenant rebuilt in its DR region by the failover runbook is refused at Check rebuilt stack, before Begin offboarding takes the lease and before anything changes, its range kept; once the rebuilt stack is removed, the offboarding run again ends and gives the range back', async () => {
    // GIVEN a tenant on the DR tier, rebuilt in its DR region: the runbook's stack tessera-<id> there with its VpcCidr
    // (a stand-in of the failover blueprint: its VPC, on the tenant's range)
    const rebuilt = 'drreb';
    expect((await local.workflows.run('onboard', onboardRequest(rebuilt, 'professional'))).error).toBeUndefined();
    const { accountId: account, vpcCidr } = (await getTenant(rebuilt))!;
    const cfnDr = new CloudFormationClient({ credentials: await local.fixture.as(account!), region: DR_REGION });
    await cfnDr.send(new CreateStackCommand({
      StackName: `tessera-${rebuilt}`, Parameters: [{ ParameterKey: 'VpcCidr', ParameterValue: vpcCidr! }],
      TemplateBody: JSON.stringify({ Parameters: { VpcCidr: { Type: 'String' } }, Resources: { Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: { Ref: 'VpcCidr' } } } } }),
    }));
    // WHEN it is offboarded through the lifecycle
    const stopped = await local.workflows.run('offboard', { request: { tenantId: rebuilt, requestId: `req-${rebuilt}-offboard` } });
    // THEN it stops at its first step, Check rebuilt stack, naming the rebuilt stack: started without the admin API's lease,
    // nothing is written but the record's lastRefusal (the tenant ACTIVE and served, no lease); no stack deleted, the range still claimed
    expect(stopped.error).toMatchObject({ error: 'TenantRebuiltInDrRegion', cause: expect.stringContaining(`stack tessera-${rebuilt} in ${DR_REGION} is CREATE_COMPLETE`) });
    expect(stopped.states).toContain('Check rebuilt stack');
    expect(stopped.states).not.toContain('Begin offboarding');
    expect(stopped.states).not.toContain('Revoke tenant identities');
    const mid = (await getTenant(rebuilt))!;
    expect(mid).toMatchObject({ status: 'ACTIVE', vpcCidr });
    expect(mid.lease).toBeUndefined();
    expect(mid.offboarding).toBeUndefined();
    // what was refused and why, in the registry as on the bus (s36b: before, on the bus only)
    expect(mid.lastRefusal).toEqual({ kind: 'offboard', requestId: `req-${rebuilt}-offboard`, executionArn: expect.any(String), step: 'Check rebuilt stack', reason: expect.stringMatching(new RegExp(`^TenantRebuiltInDrRegion: .*stack tessera-${rebuilt} in ${DR_REGION} is CREATE_COMPLETE`)), at: expect.any(String) });
    expect(await stackStatus(`tessera-${rebuilt}`, 'us-east-1')).not.toBe('ABSENT');
    expect(await stackStatus(`tessera-${rebuilt}-dr`, DR_REGION)).not.toBe('ABSENT');
    expect(await cidrClaimsOf(rebuilt)).toEqual([vpcCidr]);
    expect(await releasedCidrs('professional')).not.toContain(vpcCidr);
    // WHEN an operator removes the rebuilt stack, then runs the offboarding again (tessera tenants retry)
    await cfnDr.send(new DeleteStackCommand({ StackName: `tessera-${rebuilt}` }));
    expect(await stackStatus(`tessera-${rebuilt}`, DR_REGION)).toBe('ABSENT');
    const again = await local.workflows.run('offboard', { request: { tenantId: rebuilt, requestId: `req-${rebuilt}-offboard-2` } });
    // THEN every stack is gone and the range is back in professional's pool
    expect(again.error).toBeUndefined();
    const done = (await getTenant(rebuilt))!;
    expect(done).toMatchObject({ status: 'OFFBOARDED', offboarding: { network: { vpcCidr } } });
    expect(await stackStatus(`tessera-${rebuilt}`, 'us-east-1')).toBe('ABSENT');
    expect(await cidrClaimsOf(rebuilt)).toEqual([]);
    expect(await releasedCidrs('professional')).toContain(vpcCidr);
  });
});

describe('a DR record written before replicationStoppedAt existed', { shuffle: false }, () => {
  it('a tenant that left its DR tier under the old code (RETAINED, no replicationStoppedAt) is offboarded: its DR bucket is for review, not an archived replica', async () => {
    // GIVEN a tenant moved from professional (DR) to residency, its record then rewritten as the code before
    // 3bb0aeb wrote it: the DR stack RETAINED, without replicationStoppedAt
    const old = 'drold';
    expect((await local.workflows.run('onboard', onboardRequest(old, 'professional'))).error).toBeUndefined();
    expect((await local.workflows.run('change', { request: { tenantId: old, requestId: 'req-drold-change' }, change: { tier: 'residency' } })).error).toBeUndefined();
    const { replicationStoppedAt, ...written } = (await getTenant(old))!.disasterRecovery!;
    expect([written.status, typeof replicationStoppedAt]).toEqual(['RETAINED', 'string']);
    await updateTenant(old, { disasterRecovery: written });
    expect((await getTenant(old))!.disasterRecovery!.replicationStoppedAt).toBeUndefined();
    // WHEN it is offboarded by the new code
    const off = await local.workflows.run('offboard', { request: { tenantId: old, requestId: 'req-drold-offboard' } });
    // THEN the DR bucket, which the primary stopped replicating into when the tenant left its DR tier (when, the record
    // does not say), holds what was deleted at home since: review, not an archived replica
    expect(off.error).toBeUndefined();
    const accountOf = (await getTenant(old))!.accountId!;
    const bucket = (await getTenant(old))!.offboarding!.retainedStores!.find((s) => s.id === `tessera-${old}-dr-${accountOf}-${DR_REGION}`);
    expect(bucket).toMatchObject({ disposition: 'review', holdsKey: true, drRegion: DR_REGION });
    expect(bucket!.note).toBe(`DR region ${DR_REGION}: not a replica of the tenant bucket since the tenant moved to tier residency, which has no DR (when is not recorded: the move was recorded before replicationStoppedAt existed), and the primary stopped replicating into it: objects deleted from the tenant bucket since stay current here, and the export, which reads the tenant bucket, does not have them; under the DR key, which it holds until an operator decides`);
  });
});
