import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { dieAfter } from './lost-answers.js';

/**
 * A tier change onto a tier with disaster recovery, and back, through the lifecycle (aws-local-stepfunctions + moto):
 * for an account tier (enterprise with DR, `homeonly` the same without) and a VPC tier (professional with DR,
 * `residency` the same without). The move to DR deploys the DR blueprint in the DR region, then updates the primary,
 * which names the database's backup role `tessera-<id>-database-backup` (generated before: the DR key's policy admits
 * it by name). RoleName is create-only on AWS::IAM::Role, so CloudFormation replaces the role (the new one created,
 * the dependents pointed at it, the old one deleted at cleanup): moto updated it in place instead and the update failed
 * with NoSuchEntity for the new name (support/moto-python/tessera_moto_patches.py replace_renamed_roles).
 * The move back drops the name: replaced again, by a generated name; the DR stack stays RETAINED.
 *
 * The primary's Backup plan and selection are not created by moto's CloudFormation (left out of the moto stand-in):
 * the copy action into the DR vault and the selection's role are read from the tier's blueprint as synthesized.
 */
const DR_REGION = 'us-west-2';
/** `from`'s settings without DR, under another name, with a pool of its own (a tenant keeps its VPC range across a tier change). */
function withoutDr(from: 'enterprise' | 'professional', pool: string) {
  const tier = structuredClone(DEFAULT_CONFIG.tiers[from]);
  tier.network.tenantCidrPool = pool;
  return tier;
}
const drSettings = { region: DR_REGION, rpoHours: 4, rtoHours: 12 };
const local = useLocalLifecycle(configWith({
  tiers: {
    enterprise: { disasterRecovery: drSettings }, homeonly: withoutDr('enterprise', '10.112.0.0/12'),
    professional: { disasterRecovery: drSettings }, residency: withoutDr('professional', '10.128.0.0/12'),
  },
}));

type Resource = { Type: string; Properties?: Record<string, any> };

/** The tier's tenant blueprint as synthesized (before its derivation for moto), version 1.0.0. */
function synthesized(tier: string): Record<string, Resource> {
  const published = local.fixture.catalog.find((b) => b.file === `${tier}.template.json` && b.version === '1.0.0');
  if (!published) throw new Error(`no ${tier}.template.json 1.0.0 in the catalog`);
  return published.template.Resources as Record<string, Resource>;
}

async function clientsOf(tenantId: string) {
  const accountId = (await getTenant(tenantId))!.accountId!;
  const credentials = await local.fixture.as(accountId);
  return {
    accountId,
    cfn: (region: string) => new CloudFormationClient({ credentials, region }),
    iam: new IAMClient({ credentials, region: 'us-east-1' }),
    s3: new S3Client({ credentials, region: DR_REGION, forcePathStyle: true }),
    kms: new KMSClient({ credentials, region: DR_REGION }),
  };
}

/** The physical id (role name) of the primary stack's database backup role, `Database/BackupRole`. */
async function backupRoleName(tenantId: string): Promise<string> {
  const { cfn } = await clientsOf(tenantId);
  const resources = (await cfn('us-east-1').send(new ListStackResourcesCommand({ StackName: `tessera-${tenantId}` }))).StackResourceSummaries!;
  const role = resources.filter((r) => r.ResourceType === 'AWS::IAM::Role' && r.LogicalResourceId!.startsWith('DatabaseBackupRole'));
  expect(role).toHaveLength(1);
  return role[0].PhysicalResourceId!;
}

async function roleGone(iam: IAMClient, name: string): Promise<boolean> {
  return iam.send(new GetRoleCommand({ RoleName: name })).then(() => false, (e) => e instanceof NoSuchEntityException);
}

/**
 * GIVEN `tenant` onboarded on `plain` (no DR), WHEN it moves to `dr` (DR in us-west-2), THEN the change completes:
 * ACTIVE on `dr`, both stacks, the DR stores, the backup role replaced by the named one, the copy action into the DR vault.
 * Then back to `plain`: ACTIVE there, the DR stack RETAINED, the backup role generated-named again.
 */
function movesToDrAndBack(tenant: string, plain: string, dr: string) {
  it(`moves from ${plain} to ${dr} (DR in ${DR_REGION}) to the end: ACTIVE, both stacks, the DR stores, the backup role by its DR name, the copy action into the DR vault`, async () => {
    const onboarded = await local.workflows.run('onboard', onboardRequest(tenant, plain));
    expect(onboarded.error).toBeUndefined();
    const before = await backupRoleName(tenant);
    expect(before).not.toBe(`tessera-${tenant}-database-backup`);
    // WHEN
    const moved = await local.workflows.run('change', { request: { tenantId: tenant, requestId: `req-${tenant}-to-dr` }, change: { tier: dr } });
    // THEN the DR blueprint, then the primary, to the end
    expect(moved.error).toBeUndefined();
    const at = (state: string) => moved.states.indexOf(state);
    expect(at('DR blueprint ready')).toBeGreaterThan(at('Deploy DR blueprint'));
    expect(at('Deploy blueprint')).toBeGreaterThan(at('DR blueprint ready'));
    expect(at('Blueprint ready')).toBeGreaterThan(at('Deploy blueprint'));
    expect(moved.states.at(-1)).toBe('Changed');
    expect(await getTenant(tenant)).toMatchObject({
      status: 'ACTIVE', tier: dr, stackName: `tessera-${tenant}`,
      disasterRecovery: { region: DR_REGION, stackName: `tessera-${tenant}-dr`, status: 'ACTIVE', deployedWith: { tier: dr } },
    });
    const { accountId, cfn, iam, s3, kms } = await clientsOf(tenant);
    const primary = (await cfn('us-east-1').send(new DescribeStacksCommand({ StackName: `tessera-${tenant}` }))).Stacks![0];
    expect(primary.StackStatus).toBe('UPDATE_COMPLETE');
    expect(primary.Outputs).toContainEqual(expect.objectContaining({ OutputKey: 'Tier', OutputValue: dr }));
    expect((await cfn(DR_REGION).send(new DescribeStacksCommand({ StackName: `tessera-${tenant}-dr` }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
    // the DR stores in the DR region
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: `tessera-${tenant}-dr-${accountId}-${DR_REGION}` }))).LocationConstraint).toBe(DR_REGION);
    expect((await kms.send(new ListAliasesCommand({}))).Aliases!.map((a) => a.AliasName)).toContain(`alias/tessera-${tenant}-dr`);
    // the backup role replaced: the named one (service-role path) with the backup policy, the generated one deleted
    const named = `tessera-${tenant}-database-backup`;
    expect(await backupRoleName(tenant)).toBe(named);
    expect((await iam.send(new GetRoleCommand({ RoleName: named }))).Role).toMatchObject({ Path: '/tessera/service-role/', Arn: `arn:aws:iam::${accountId}:role/tessera/service-role/${named}` });
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: named }))).AttachedPolicies!;
    expect(attached.map((p) => p.PolicyName)).toEqual([expect.stringMatching(/DatabaseBackupPolicy/)]);
    expect(await roleGone(iam, before)).toBe(true);
    // the blueprint deployed: the daily rule copies into the DR vault, the selection backs up as the named role
    const template = synthesized(dr);
    const plan = Object.values(template).find((r) => r.Type === 'AWS::Backup::BackupPlan' && JSON.stringify(r).includes('"RuleName":"daily"'))!;
    const daily = plan.Properties!.BackupPlan.BackupPlanRule.find((r: { RuleName: string }) => r.RuleName === 'daily');
    expect(JSON.stringify(daily.CopyActions)).toContain(`:backup:${DR_REGION}:`);
    expect(JSON.stringify(daily.CopyActions)).toContain('backup-vault:tessera-');
    const roleId = Object.entries(template).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('DatabaseBackupRole'))![0];
    expect(JSON.stringify(template[roleId].Properties!.RoleName)).toContain('-database-backup');
    const selection = Object.values(template).find((r) => r.Type === 'AWS::Backup::BackupSelection' && r.Properties!.BackupSelection.SelectionName === 'Database')!;
    expect(selection.Properties!.BackupSelection.IamRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  it(`moves back from ${dr} to ${plain}: ACTIVE, the DR stack RETAINED, the backup role generated-named again`, async () => {
    expect((await getTenant(tenant))!.tier).toBe(dr); // where the move left it
    const back = await local.workflows.run('change', { request: { tenantId: tenant, requestId: `req-${tenant}-from-dr` }, change: { tier: plain } });
    expect(back.error).toBeUndefined();
    expect(back.states).not.toContain('Deploy DR blueprint');
    expect(await getTenant(tenant)).toMatchObject({ status: 'ACTIVE', tier: plain, disasterRecovery: { region: DR_REGION, stackName: `tessera-${tenant}-dr`, status: 'RETAINED' } });
    const { cfn, iam } = await clientsOf(tenant);
    expect((await cfn(DR_REGION).send(new DescribeStacksCommand({ StackName: `tessera-${tenant}-dr` }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
    const now = await backupRoleName(tenant);
    expect(now).toMatch(new RegExp(`^tessera-${tenant}-DatabaseBackupRole`));
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: now }))).AttachedPolicies!.map((p) => p.PolicyName)).toEqual([expect.stringMatching(/DatabaseBackupPolicy/)]);
    expect(await roleGone(iam, `tessera-${tenant}-database-backup`)).toBe(true);
  });
}

// Each pair of tests is one tenant's life: the move back starts where the move left it.
describe('an account tier: a move onto its DR twin and back', { shuffle: false }, () => movesToDrAndBack('acctmove', 'homeonly', 'enterprise'));
describe('a VPC tier: a move onto its DR twin and back', { shuffle: false }, () => movesToDrAndBack('vpcmove', 'residency', 'professional'));

describe('a move onto a DR tier whose DR-region CreateStack answer is lost', () => {
  it('records the DR stack RETAINED on what it was created with (the tenant stays on its tier, which has no DR): was DEPLOYING while it stood', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('lostmove', 'residency'))).error).toBeUndefined();
    // GIVEN Deploy DR blueprint's CreateStack went through and its Lambda then timed out (the answer lost)
    const fault = dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-lostmove-dr', cleanups: local.cleanups });
    // WHEN the tenant moves to professional (DR in us-west-2)
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:lostmove-to-dr';
    const moved = await local.workflows.run('change', { request: { tenantId: 'lostmove', requestId: 'req-lostmove-to-dr' }, change: { tier: 'professional' } }, { executionArn });
    // THEN the change failed at Deploy DR blueprint, the tenant on residency, and its standing DR stack recorded RETAINED
    expect(moved.error?.message).toMatch(/Sandbox\.Timedout/);
    expect(fault.died()).toBe(true);
    const failed = (await getTenant('lostmove'))!;
    expect(failed).toMatchObject({
      status: 'ACTIVE', tier: 'residency',
      disasterRecovery: { status: 'RETAINED', region: DR_REGION, stackName: 'tessera-lostmove-dr', deployedWith: { tier: 'professional', executionArn } },
      failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining(`DR stack tessera-lostmove-dr (${DR_REGION}) was created (CREATE_COMPLETE) before the execution ended: recorded RETAINED on tier professional`) },
    });
    expect(failed.lease).toBeUndefined();
  });
});
