import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateStackCommand, type Parameter } from '@aws-sdk/client-cloudformation';
import { GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { CreateDBSnapshotCommand, DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, RestoreDBInstanceFromDBSnapshotCommand } from '@aws-sdk/client-rds';
import { App, Stage } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import { disasterRecoveryOf } from '../../lib/config/disaster-recovery.js';
import { TenantFailoverStack } from '../../lib/tenant-failover-stack.js';
import { TenantStack } from '../../lib/tenant-stack.js';
import { blueprintStackId, failoverBlueprintStackId } from '../../lib/tessera-app.js';
import { configWith, template } from '../support/synth.js';
import { tempDir } from '../support/temp-dirs.js';
import { takenIamNames } from './failover-iam-names.js';
import { attributesRead, deriveMotoBlueprint, type CfnTemplate } from './support/derive-moto-blueprint.js';
import { motoCloudFormation } from './support/moto-cloudformation.js';
import { templateForMoto } from './support/moto-template.js';
import { condition, parameterValues } from './support/template-conditions.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The failover runbook's rebuild step (issue 17) on moto: one account, the tenant's tier blueprint
 * deployed in its home region (us-east-1) as `tessera-acme`, then the rebuild in the DR region
 * (us-west-2). IAM is global: moto's IAM backend is one per account, as AWS's, and refuses a second
 * role of the same name with EntityAlreadyExists, as AWS does (checked below, not assumed). Its
 * CloudFormation server, though, answers a whole blueprint that hits the name with an HTTP 500 page
 * and leaves a stack it cannot describe; so the plain blueprint's refusal is asserted through the
 * names it would create (failover-iam-names.ts: every fixed IAM name of the template that exists),
 * and the failover variant (lib/tenant-failover-stack.ts), which imports the roles by name and names
 * none, is created in moto. The templates are the real
 * ones, derived for moto as the lifecycle tests derive them (support/derive-moto-blueprint.ts).
 * moto evaluates no template Rule, so the variant's region rule is asserted in
 * test/infra/tenant-failover.test.ts.
 */
const HOME = 'us-east-1';
const DR_REGION = 'us-west-2';
const TIER = 'professional';
const TENANT = 'acme';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** moto's default account. */
const ACCOUNT = '123456789012';
const parameters = { TenantId: TENANT, VpcCidr: '10.80.0.0/20', DatabaseDeletionProtection: 'false' };
/** The VPC's zones in `region` (the blueprint's AvailabilityZones: zone names are per region; the runbook passes the DR region's). */
const zonesIn = (region: string) => ({ AvailabilityZones: `${region}a,${region}b` });
/** The tier's tenant roles (professional: shared compute, training; the vector-store role in every tier). */
const TENANT_ROLES = ['workload', 'admin', 'training', 'training-launcher', 'training-files', 'model-invoker', 'vector-store', 'break-glass'].map((p) => `tessera-${TENANT}-${p}`);

let moto: MotoServer;
let plain: CfnTemplate;
let failover: CfnTemplate;

const cfn = (region: string) => new CloudFormationClient({ endpoint: moto.endpoint, region, credentials });
const iam = () => new IAMClient({ endpoint: moto.endpoint, region: HOME, credentials });
const forMoto = (t: CfnTemplate, values: Record<string, string> = parameters) =>
  JSON.stringify(templateForMoto(deriveMotoBlueprint(decided(t, values), motoCloudFormation(attributesRead(t))).template, values));
/**
 * `t` with its resource conditions decided for one stack operation, as CloudFormation decides them: a resource whose
 * condition is false is left out. moto 5.2.5 keeps such a resource in its map at create and, when an update turns the
 * condition on, neither adds nor creates it (moto/cloudformation/parsing.py build_resource_diff: it is in the old
 * template already); CloudFormation creates it. The failover blueprint's restored-database grants are such resources.
 */
function decided(t: CfnTemplate, values: Record<string, string>): CfnTemplate {
  const all = parameterValues(t, values);
  return { ...t, Resources: Object.fromEntries(Object.entries(t.Resources).filter(([, r]) => {
    const name = (r as { Condition?: string }).Condition;
    return !name || condition(t, name, all);
  })) };
}
const createInput = (body: string, region: string) => ({
  StackName: `tessera-${TENANT}`, TemplateBody: body, Capabilities: ['CAPABILITY_NAMED_IAM' as const],
  Parameters: Object.entries({ ...parameters, ...zonesIn(region) }).map(([ParameterKey, ParameterValue]): Parameter => ({ ParameterKey, ParameterValue })),
});
const create = (region: string, body: string) => cfn(region).send(new CreateStackCommand(createInput(body, region)));
const status = async (region: string) => {
  try {
    return (await cfn(region).send(new DescribeStacksCommand({ StackName: `tessera-${TENANT}` }))).Stacks![0].StackStatus;
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return 'ABSENT';
    throw e;
  }
};
const attached = async (role: string) => (await iam().send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies!.map((p) => p.PolicyArn!).sort();
const managedPoliciesOf = async (region: string) => (await cfn(region).send(new ListStackResourcesCommand({ StackName: `tessera-${TENANT}` }))).StackResourceSummaries!
  .filter((r) => r.ResourceType === 'AWS::IAM::ManagedPolicy').map((r) => ({ logicalId: r.LogicalResourceId!, arn: r.PhysicalResourceId! }));

const stackOutputs = async (region: string): Promise<Record<string, string>> =>
  Object.fromEntries((await cfn(region).send(new DescribeStacksCommand({ StackName: `tessera-${TENANT}` }))).Stacks![0].Outputs!.map((o) => [o.OutputKey!, o.OutputValue!]));

let homePolicies: Record<string, string[]>;
let homeTrusts: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  // GIVEN the professional tier with DR in us-west-2: its blueprint and its failover variant, synthesized (no other stack)
  const config = configWith({ tiers: { [TIER]: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } } } });
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
  const stage = new Stage(app, 'Blueprints');
  const props = { tierName: TIER, tier: config.tiers[TIER], config, blueprintVersion: '1.0.0' };
  const tierStack = new TenantStack(stage, blueprintStackId(TIER), props);
  const failoverStack = new TenantFailoverStack(stage, failoverBlueprintStackId(TIER), { ...props, disasterRecovery: disasterRecoveryOf(config.tiers[TIER])! });
  plain = template(tierStack).toJSON() as CfnTemplate;
  failover = template(failoverStack).toJSON() as CfnTemplate;
  // and the tenant's tier blueprint standing in its home region
  await create(HOME, forMoto(plain));
  expect(await status(HOME)).toBe('CREATE_COMPLETE');
  homePolicies = Object.fromEntries(await Promise.all(TENANT_ROLES.map(async (r) => [r, await attached(r)] as const)));
  homeTrusts = Object.fromEntries(await Promise.all(TENANT_ROLES.map(async (r) => [r, (await iam().send(new GetRoleCommand({ RoleName: r }))).Role!.AssumeRolePolicyDocument!] as const)));
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

describe('rebuilding a tenant in its DR region while the home stack owns its roles', () => {
  it('moto refuses a second IAM role of the same name in the account, from any region, as AWS does (EntityAlreadyExists)', async () => {
    const roles = (await iam().send(new ListRolesCommand({}))).Roles!.map((r) => r.RoleName);
    expect(roles).toEqual(expect.arrayContaining(TENANT_ROLES));
    // IAM is one per account: the role is the same seen from the DR region's endpoint
    const fromDr = new IAMClient({ endpoint: moto.endpoint, region: DR_REGION, credentials });
    expect((await fromDr.send(new GetRoleCommand({ RoleName: `tessera-${TENANT}-admin` }))).Role!.Arn).toBe(`arn:aws:iam::${ACCOUNT}:role/tessera-${TENANT}-admin`);
    // a stack of the admin role alone, in the DR region: refused
    const adminRoleOnly = { Parameters: { TenantId: { Type: 'String' } }, Resources: { Admin: plain.Resources.RolesAdmin645D9445 } };
    await expect(cfn(DR_REGION).send(new CreateStackCommand({
      StackName: 'duplicate-role', TemplateBody: JSON.stringify(adminRoleOnly), Capabilities: ['CAPABILITY_NAMED_IAM'], Parameters: [{ ParameterKey: 'TenantId', ParameterValue: TENANT }],
    })))
      .rejects.toThrow(/Role with name tessera-acme-admin already exists/);
  });

  it('fails to create the plain tier blueprint in the DR region, naming the roles that already exist', async () => {
    // WHEN the runbook's old step 5 runs: the tier blueprint as stack tessera-acme in us-west-2
    // THEN IAM's account-wide names refuse it: every tenant role and DR service role it names exists (the home stack's)
    const taken = await takenIamNames(plain, parameters, iam(), { account: ACCOUNT, region: DR_REGION });
    expect(taken.map((t) => `${t.type} ${t.name}`).sort()).toEqual(
      [...TENANT_ROLES, ...['dr-replication', 'database-backup', 'restore-testing'].map((p) => `tessera-${TENANT}-${p}`)].map((n) => `AWS::IAM::Role ${n}`).sort());
    // (moto's CloudFormation is not asked: its IAM refuses the name, checked above, but as a server it answers a create of the
    // whole blueprint that hits it with an HTTP 500 page and leaves a stack of that name that DescribeStacks cannot read)
    // the home roles are untouched
    for (const r of TENANT_ROLES) expect(await attached(r), r).toEqual(homePolicies[r]);
  });

  it('creates the failover variant in the DR region: regional resources, no role of its own for the tenant, its policies on the home roles beside theirs', async () => {
    // GIVEN a template that names no IAM resource of its own
    expect(await takenIamNames(failover, parameters, iam(), { account: ACCOUNT, region: DR_REGION })).toEqual([]);
    // WHEN the runbook's step 5 deploys the failover blueprint as stack tessera-acme in us-west-2
    await create(DR_REGION, forMoto(failover));
    // THEN
    expect(await status(DR_REGION)).toBe('CREATE_COMPLETE');
    const resources = (await cfn(DR_REGION).send(new ListStackResourcesCommand({ StackName: `tessera-${TENANT}` }))).StackResourceSummaries!;
    const roles = resources.filter((r) => r.ResourceType === 'AWS::IAM::Role').map((r) => r.PhysicalResourceId!);
    for (const r of roles) expect(TENANT_ROLES).not.toContain(r);
    expect(resources.map((r) => r.ResourceType)).toEqual(expect.arrayContaining(['AWS::EC2::VPC', 'AWS::RDS::DBSubnetGroup', 'AWS::KMS::Key', 'AWS::S3::Bucket']));
    // the variant's policies, attached to the imported roles by name; each role keeps every policy of the home stack
    const variantPolicies = await managedPoliciesOf(DR_REGION);
    const homeStackPolicies = await managedPoliciesOf(HOME);
    const byId = (id: string) => variantPolicies.filter((p) => new RegExp(`^${id}[0-9A-F]{8}$`).test(p.logicalId)).map((p) => p.arn);
    const expected: Record<string, string[]> = {
      [`tessera-${TENANT}-workload`]: byId('AccessWorkload'),
      [`tessera-${TENANT}-admin`]: [...byId('AccessAdmin'), ...byId('FailoverAccessReadReplica')],
      [`tessera-${TENANT}-training`]: byId('AccessTraining'),
      [`tessera-${TENANT}-training-launcher`]: byId('AccessTrainingLauncher'),
      [`tessera-${TENANT}-training-files`]: byId('AccessTrainingFiles'),
      [`tessera-${TENANT}-model-invoker`]: byId('AccessTrainingInvoker'),
      // The DR region's vector bucket (empty: S3 Vectors does not replicate), its indexes through the imported role.
      [`tessera-${TENANT}-vector-store`]: byId('VectorsVectorStorePolicy'),
      [`tessera-${TENANT}-break-glass`]: [...byId('AccessBreakGlass'), ...byId('FailoverAccessReadReplica')],
    };
    for (const r of TENANT_ROLES) {
      expect(expected[r].length, r).toBeGreaterThan(0);
      expect(await attached(r), r).toEqual([...homePolicies[r], ...expected[r]].sort());
      // none of the variant's policies replaced one of the home stack's: different policies, different names
      for (const arn of expected[r]) expect(homeStackPolicies.map((p) => p.arn)).not.toContain(arn);
      // and the trust is the home stack's, unchanged
      expect((await iam().send(new GetRoleCommand({ RoleName: r }))).Role!.AssumeRolePolicyDocument, r).toBe(homeTrusts[r]);
    }
    // the outputs the runbook reads name the imported roles and the DR region's stores
    const outputs = Object.fromEntries((await cfn(DR_REGION).send(new DescribeStacksCommand({ StackName: `tessera-${TENANT}` }))).Stacks![0].Outputs!.map((o) => [o.OutputKey, o.OutputValue]));
    expect(outputs.AdminRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/tessera-${TENANT}-admin`);
    expect(outputs.BreakGlassRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/tessera-${TENANT}-break-glass`);
    expect(outputs.KeyArn).toMatch(new RegExp(`^arn:aws:kms:us-west-2:${ACCOUNT}:key/`));
    // the home stack stands as it was
    expect(await status(HOME)).toBe('CREATE_COMPLETE');
  });

  it('after the restore, the redeploy with the restored instance\'s DbiResourceId grants the workload and admin roles IAM database authentication on it, and the outputs name it', async () => {
    // GIVEN the rebuilt stack of the previous test (first deploy: no restored-database grant yet)
    expect((await managedPoliciesOf(DR_REGION)).filter((p) => p.logicalId.startsWith('RestoredDatabaseAccess'))).toEqual([]);
    // and the database restored beside it as tessera-acme-restored. moto has no AWS Backup restore job (StartRestoreJob);
    // an AWS Backup restore of an RDS recovery point is RestoreDBInstanceFromDBSnapshot, which moto has: from a snapshot of
    // the rebuilt instance, standing in for the DR vault's copy
    const rds = new RDSClient({ endpoint: moto.endpoint, region: DR_REGION, credentials });
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: `tessera-${TENANT}`, DBSnapshotIdentifier: 'awsbackup-copyjob-stand-in' }));
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: `tessera-${TENANT}-restored`, DBSnapshotIdentifier: 'awsbackup-copyjob-stand-in' }));
    const outputsBefore = await stackOutputs(DR_REGION);
    // WHEN the runbook turns on IAM authentication and the managed master secret under the rebuilt stack's key, and reads the instance
    await rds.send(new ModifyDBInstanceCommand({
      DBInstanceIdentifier: `tessera-${TENANT}-restored`, EnableIAMDatabaseAuthentication: true, ManageMasterUserPassword: true, MasterUserSecretKmsKeyId: outputsBefore.KeyArn, ApplyImmediately: true,
    }));
    const instance = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: `tessera-${TENANT}-restored` }))).DBInstances![0];
    expect(instance.IAMDatabaseAuthenticationEnabled).toBe(true);
    const restored = { RestoredDbiResourceId: instance.DbiResourceId!, RestoredDatabaseEndpoint: instance.Endpoint!.Address!, RestoredDatabaseCredentialsArn: instance.MasterUserSecret!.SecretArn! };
    // every value fits the parameter's pattern, as CloudFormation would check it (moto does not)
    for (const [name, value] of Object.entries(restored)) expect(new RegExp((failover.Parameters as any)[name].AllowedPattern).test(value), `${name}=${value}`).toBe(true);
    // the grant must not name the empty instance's resource id (moto gives every instance the same DbiResourceId, so the
    // stack's own instance is read from the stack, whose attribute the harness stands in: the two must differ here)
    expect(restored.RestoredDbiResourceId).not.toBe(outputsBefore.DatabaseResourceId);
    // and redeploys the failover blueprint with it
    const withRestored = { ...parameters, ...restored };
    await cfn(DR_REGION).send(new UpdateStackCommand({
      StackName: `tessera-${TENANT}`, TemplateBody: forMoto(failover, withRestored),
      Capabilities: ['CAPABILITY_IAM'], Parameters: Object.entries({ ...withRestored, ...zonesIn(DR_REGION) }).map(([ParameterKey, ParameterValue]): Parameter => ({ ParameterKey, ParameterValue })),
    }));
    // THEN
    expect(await status(DR_REGION)).toBe('UPDATE_COMPLETE');
    const added = (await managedPoliciesOf(DR_REGION)).filter((p) => p.logicalId.startsWith('RestoredDatabaseAccess'));
    expect(added.map((p) => p.logicalId.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['RestoredDatabaseAccessAdmin', 'RestoredDatabaseAccessWorkload']);
    const documentOf = async (arn: string) => {
      const version = (await iam().send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.DefaultVersionId!;
      const doc = (await iam().send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version }))).PolicyVersion!.Document!;
      return JSON.parse(decodeURIComponent(doc));
    };
    const grants: Record<string, { role: string; user: string }> = {
      RestoredDatabaseAccessWorkload: { role: `tessera-${TENANT}-workload`, user: 'tenant_app' },
      RestoredDatabaseAccessAdmin: { role: `tessera-${TENANT}-admin`, user: 'tenant_admin' },
    };
    for (const p of added) {
      const { role, user } = grants[p.logicalId.replace(/[0-9A-F]{8}$/, '')];
      // attached to the imported role, beside what it had
      expect(await attached(role), role).toContain(p.arn);
      // exactly the restored instance's resource id and the tenant's user, in the DR region
      const [statement] = (await documentOf(p.arn)).Statement;
      expect(statement.Action).toBe('rds-db:connect');
      expect(statement.Resource).toBe(`arn:aws:rds-db:${DR_REGION}:${ACCOUNT}:dbuser:${restored.RestoredDbiResourceId}/${user}`);
    }
    // the outputs name the restored instance now
    const outputs = await stackOutputs(DR_REGION);
    expect(outputs).toMatchObject({
      DatabaseInstanceId: `tessera-${TENANT}-restored`, DatabaseResourceId: restored.RestoredDbiResourceId,
      DatabaseEndpoint: restored.RestoredDatabaseEndpoint, DatabaseSecretArn: restored.RestoredDatabaseCredentialsArn,
    });
    // nothing else changed: the stack's own instance, key and bucket stay
    for (const name of ['KeyArn', 'BucketName', 'VpcId']) expect(outputs[name], name).toBe(outputsBefore[name]);
  });
});
