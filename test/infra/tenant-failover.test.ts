import { App, Stage } from 'aws-cdk-lib';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { failoverTemplateGlob } from '../../lib/cli/tenants-failover-command.js';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import { disasterRecoveryOf } from '../../lib/config/disaster-recovery.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { TenantFailoverStack } from '../../lib/tenant-failover-stack.js';
import { TENANT_STACK_OUTPUTS, TenantStack } from '../../lib/tenant-stack.js';
import { blueprintFileName, failoverBlueprintStackId } from '../../lib/tessera-app.js';
import { DR_SERVICE_ROLE_PURPOSES, TENANT_ROLE_PURPOSES } from '../../lib/tenant-naming.js';
import { failoverRetainedResources } from '../../lib/failover-retained-resources.js';
import { buildApp, configWith, newApp, template } from '../support/synth.js';
import { tempDir } from '../support/temp-dirs.js';
import { condition, parameterValues } from '../integration/support/template-conditions.js';

/**
 * Issue 17, the failover runbook's rebuild step: a DR tier gets a failover variant of its blueprint
 * (lib/tenant-failover-stack.ts) that imports the tenant's global IAM roles instead of creating them.
 * One app: professional (shared compute, training) and enterprise (dedicated cluster) with DR in
 * us-west-2, the platform's own DR in us-west-2 too; starter keeps `none`.
 */
const DR = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } as const;
const DR_TIERS = ['professional', 'enterprise'] as const;
const config = configWith({ tiers: { professional: { disasterRecovery: DR }, enterprise: { disasterRecovery: DR } }, platformDisasterRecovery: { region: 'us-west-2' } });

interface Report { pluginReports: Array<{ pluginName: string; violations: unknown[]; suppressedViolations?: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }> }
let built: ReturnType<typeof buildApp>;
let assemblyDir: string;
let report: Report;
const variant = (tier: string) => template(built.failoverBlueprints[tier]).toJSON() as any;
const plain = (tier: string) => template(built.blueprints[tier]).toJSON() as any;
const resources = (t: any, type: string) => Object.entries<any>(t.Resources).filter(([, r]) => r.Type === type);
const joined = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const RESTORED_PARAMETERS = ['RestoredDbiResourceId', 'RestoredDatabaseEndpoint', 'RestoredDatabaseCredentialsArn'];
const tenantName = (suffix: string) => joined('tessera-', { Ref: 'TenantId' }, suffix);

beforeAll(() => {
  // GIVEN the config with two DR tiers, WHEN the app is built (buildTesseraApp synthesizes its Blueprints stage, as `cdk synth` writes it)
  built = buildApp(config);
  assemblyDir = built.blueprintStage.synth().directory;
  // and the failover variants alone in a Blueprints stage with the compliance packs, synthesized (the validation report)
  const app = newApp();
  const stage = new Stage(app, 'Blueprints');
  applyCompliancePacks(stage);
  for (const tier of DR_TIERS) {
    new TenantFailoverStack(stage, failoverBlueprintStackId(tier), { tierName: tier, tier: config.tiers[tier], disasterRecovery: disasterRecoveryOf(config.tiers[tier])!, config, blueprintVersion: '0.0.0-test' });
  }
  report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'));
}, 120_000);

describe('the failover variant of a DR tier\'s blueprint', () => {
  it('is built for the DR tiers only, and is not published in the blueprint catalog', () => {
    expect(Object.keys(built.failoverBlueprints).sort()).toEqual([...DR_TIERS].sort());
    expect(built.failoverBlueprints.starter).toBeUndefined();
    // the catalog the lifecycle deploys from: tier, namespace and DR blueprints, never the failover variant
    const catalog = Object.keys(built.blueprintTemplates);
    expect(catalog).toEqual(expect.arrayContaining(DR_TIERS.map((t) => blueprintFileName(t, 'dr'))));
    expect(catalog.some((f) => /failover/i.test(f))).toBe(false);
    expect(JSON.stringify(Object.values(built.blueprintTemplates))).not.toContain('failover variant');
  });

  it('writes its template to cdk.out under the file name the failover plan globs, and only that file matches', () => {
    // cdk.out/assembly-Blueprints/ holds the stage's templates, as the runbook's --template-file names them
    expect(assemblyDir.endsWith('assembly-Blueprints')).toBe(true);
    const files = readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json'));
    for (const tier of [...DR_TIERS, 'starter']) {
      const glob = new RegExp(`^${failoverTemplateGlob(tier).replace(/\./g, '\\.').replace(/\?/g, '[A-F0-9]')}$`);
      const expected = tier === 'starter' ? [] : [`${built.failoverBlueprints[tier].artifactId}.template.json`];
      expect(files.filter((f) => glob.test(f)), tier).toEqual(expected);
    }
    expect(built.failoverBlueprints.professional.node.id).toBe(failoverBlueprintStackId('professional'));
  });

  it('creates no IAM role, policy or profile with an account-wide name: every RoleName/PolicyName/ManagedPolicyName/InstanceProfileName has the region or is absent', () => {
    for (const tier of DR_TIERS) {
      const t = variant(tier);
      const named = Object.entries<any>(t.Resources).filter(([, r]) => r.Type.startsWith('AWS::IAM::'));
      expect(named.length, tier).toBeGreaterThan(0);
      for (const [id, r] of named) {
        for (const key of ['RoleName', 'PolicyName', 'ManagedPolicyName', 'InstanceProfileName', 'GroupName', 'UserName']) {
          const value = r.Properties?.[key];
          if (value === undefined) continue;
          const text = JSON.stringify(value);
          expect(text.includes('"AWS::Region"') || text.includes(DR.region), `${tier} ${id}.${key} = ${text}`).toBe(true);
        }
      }
      // none of the tenant's roles, none of the DR service roles is created again
      const roleNames = resources(t, 'AWS::IAM::Role').map(([, r]) => r.Properties.RoleName);
      expect(roleNames.filter((n) => n !== undefined), tier).toEqual([]);
      const text = JSON.stringify(resources(t, 'AWS::IAM::Role'));
      for (const purpose of [...TENANT_ROLE_PURPOSES, ...DR_SERVICE_ROLE_PURPOSES]) expect(text).not.toContain(`"-${purpose}"`);
      // ...whereas the tier blueprint creates them (the defect this variant answers)
      const plainNames = resources(plain(tier), 'AWS::IAM::Role').map(([, r]) => JSON.stringify(r.Properties.RoleName)).filter((n) => n !== undefined);
      expect(plainNames).toEqual(expect.arrayContaining([JSON.stringify(tenantName('-admin')), JSON.stringify(tenantName('-break-glass')), JSON.stringify(tenantName('-dr-replication'))]));
    }
  });

  it('attaches its own customer-managed policies to the imported roles, by name, and grants them the DR-region resources of this stack', () => {
    const t = variant('enterprise');
    const policyFor = (idPart: string) => {
      const found = resources(t, 'AWS::IAM::ManagedPolicy').filter(([id]) => new RegExp(`^${idPart}[0-9A-F]{8}$`).test(id));
      expect(found.length, idPart).toBe(1);
      return found[0][1].Properties;
    };
    expect(policyFor('AccessWorkload').Roles).toEqual([tenantName('-workload')]);
    expect(policyFor('AccessAdmin').Roles).toEqual([tenantName('-admin')]);
    expect(policyFor('AccessTraining').Roles).toEqual([tenantName('-training')]);
    expect(policyFor('AccessTrainingLauncher').Roles).toEqual([tenantName('-training-launcher')]);
    expect(policyFor('AccessTrainingFiles').Roles).toEqual([tenantName('-training-files')]);
    expect(JSON.stringify(policyFor('AccessTrainingFiles').PolicyDocument)).toContain('StorageBucket');
    expect(policyFor('AccessTrainingInvoker').Roles).toEqual([tenantName('-model-invoker')]);
    expect(policyFor('AccessBreakGlass').Roles).toEqual([tenantName('-break-glass')]);
    // the grants name this stack's resources (its bucket, its cluster), never a home-region ARN
    const admin = JSON.stringify(policyFor('AccessAdmin').PolicyDocument);
    expect(admin).toContain('StorageBucket');
    expect(admin).toContain('ComputeCluster');
    // nothing of the home region, but the base models' container images (the config's image URIs, AWS's registry in us-east-1)
    for (const [id, r] of Object.entries<any>(t.Resources)) {
      const text = JSON.stringify(r).replace(/:ecr:us-east-1:763104351884:repository\//g, '');
      expect(text.includes(config.homeRegion), id).toBe(false);
    }
    // every managed policy's name is left to CloudFormation (stack name, logical id, random suffix): it never replaces the home stack's
    for (const [id, r] of resources(t, 'AWS::IAM::ManagedPolicy')) expect(r.Properties.ManagedPolicyName, id).toBeUndefined();
    // no inline policy on an imported role: AWS::IAM::Policy would carry a PolicyName of its own
    expect(resources(t, 'AWS::IAM::Policy')).toEqual([]);
    expect(resources(t, 'AWS::IAM::RolePolicy')).toEqual([]);
  });

  it('lets the admin and break-glass roles read the replica: the DR bucket, decrypted with the DR key through S3 of the DR region only', () => {
    const t = variant('professional');
    const [[, policy]] = resources(t, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('FailoverAccess'));
    expect(policy.Properties.Roles).toEqual([tenantName('-admin'), tenantName('-break-glass')]);
    const bucket = joined('arn:', { Ref: 'AWS::Partition' }, ':s3:::tessera-', { Ref: 'TenantId' }, '-dr-', { Ref: 'AWS::AccountId' }, '-us-west-2');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Sid: 'ListReplica', Effect: 'Allow', Action: ['s3:ListBucket', 's3:ListBucketVersions'], Resource: bucket },
      { Sid: 'ReadReplicaObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: joined('arn:', { Ref: 'AWS::Partition' }, ':s3:::tessera-', { Ref: 'TenantId' }, '-dr-', { Ref: 'AWS::AccountId' }, '-us-west-2/*') },
      {
        Sid: 'DecryptReplicaWithDrKeyThroughS3', Effect: 'Allow', Action: 'kms:Decrypt',
        Resource: joined('arn:', { Ref: 'AWS::Partition' }, ':kms:us-west-2:', { Ref: 'AWS::AccountId' }, ':key/*'),
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' }, 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': joined('alias/tessera-', { Ref: 'TenantId' }, '-dr') } },
      },
    ]);
  });

  it('has no DR of its own (no replication, no copy rule, no restore test) and creates only regional resources beside the tier blueprint\'s', () => {
    for (const tier of DR_TIERS) {
      const t = variant(tier);
      const p = plain(tier);
      for (const [, bucket] of resources(t, 'AWS::S3::Bucket')) expect(bucket.Properties.ReplicationConfiguration).toBeUndefined();
      expect(resources(t, 'AWS::Backup::RestoreTestingPlan')).toEqual([]);
      for (const [, plan] of resources(t, 'AWS::Backup::BackupPlan')) for (const rule of plan.Properties.BackupPlan.BackupPlanRule) expect(rule.CopyActions).toBeUndefined();
      // what differs from the tier blueprint: its roles and DR resources go, the replica grant comes
      const removed = Object.keys(p.Resources).filter((id) => !t.Resources[id]);
      const added = Object.keys(t.Resources).filter((id) => !p.Resources[id]);
      // the replica grant, the two grants on the restored database and its backup selection with the backup role's
      // grant on it (conditional: see 'after the restore' below)
      expect(added.map((id) => `${t.Resources[id].Type} ${id.replace(/[0-9A-F]{8}$/, '')}`).sort()).toEqual([
        'AWS::Backup::BackupSelection RestoredDatabaseBackupSelection',
        ...['FailoverAccessReadReplica', 'RestoredDatabaseAccessAdmin', 'RestoredDatabaseAccessWorkload', 'RestoredDatabaseBackupPolicy'].map((id) => `AWS::IAM::ManagedPolicy ${id}`),
      ]);
      expect(removed.every((id) => /^(Roles|DrReplication|RestoreTesting|RestoreEvents)/.test(id)), removed.join(' ')).toBe(true);
      // the same parameters and outputs as the tier blueprint (the runbook's deploy and later steps read the same names),
      // but BackupScheduleMinute (the DR copies' start minute: no copies here), and the three the runbook passes after the restore
      expect(Object.keys(p.Parameters)).toContain('BackupScheduleMinute');
      expect(Object.keys(t.Parameters).sort()).toEqual([...Object.keys(p.Parameters).filter((k) => k !== 'BackupScheduleMinute'), ...RESTORED_PARAMETERS].sort());
      expect(Object.keys(t.Outputs).sort()).toEqual(Object.keys(p.Outputs).sort());
      for (const o of Object.keys(t.Outputs)) expect(TENANT_STACK_OUTPUTS).toContain(o);
      // the database the runbook restores beside: same identifier, subnet group and security group construct ids
      for (const id of ['DatabaseInstance02E622FB', 'DatabaseSubnetGroup7D60F180', 'DatabaseSecurityGroup5C91FDCB']) expect(t.Resources[id]?.Type, id).toBe(p.Resources[id].Type);
      expect(t.Resources.DatabaseInstance02E622FB.Properties.DBInstanceIdentifier).toEqual({ 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }]] });
      // its events go to the platform bus where the runbook redeploys the platform (platformDisasterRecovery.region)
      const targets = JSON.stringify(resources(t, 'AWS::Events::Rule').map(([, r]) => r.Properties.Targets));
      expect(targets).toContain(':events:us-west-2:');
    }
  });

  it('refuses a deployment outside the tier\'s DR region (template rule)', () => {
    const rule = variant('professional').Rules.DeployedInDrRegion;
    expect(rule.Assertions[0].Assert).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-west-2'] });
    expect(rule.Assertions[0].AssertDescription).toMatch(/DR region us-west-2 only/);
  });
});

describe('what the failover blueprint keeps when stack tessera-<id> is deleted', () => {
  /** A template name (a string, or Fn::Join of strings and Ref TenantId) with the tenant id acme. */
  const resolved = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    const parts = (v as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join']?.[1];
    return parts?.map((p) => (typeof p === 'string' ? p : (p as { Ref?: string }).Ref === 'TenantId' ? 'acme' : '<unresolved>')).join('');
  };
  const NAME_PROPERTIES = ['LogGroupName', 'VectorBucketName', 'BackupVaultName', 'QueueName'];

  it('is named, each of it, in the way on of the rebuilt tenant\'s refusals (lib/failover-retained-resources.ts)', () => {
    const listed = failoverRetainedResources('acme', 'us-west-2');
    const names = listed.map((r) => `${r.kind} ${r.name}`);
    for (const tier of DR_TIERS) {
      // GIVEN every resource the variant retains (DeletionPolicy Retain, RetainExceptOnCreate) or snapshots when deleted
      const kept = Object.entries<any>(variant(tier).Resources).filter(([, r]) => ['Retain', 'RetainExceptOnCreate', 'Snapshot'].includes(r.DeletionPolicy));
      expect(kept.length, tier).toBeGreaterThan(5);
      for (const [id, r] of kept) {
        const prop = NAME_PROPERTIES.find((k) => r.Properties?.[k] !== undefined);
        const name = prop ? resolved(r.Properties[prop]) : undefined;
        // THEN a fixed name is listed as it is; what CloudFormation names is listed by its kind and logical id or source
        const expected = name ?? {
          'AWS::S3::Bucket': id.startsWith('StorageAccessLogsBucket') ? 'S3 bucket StorageAccessLogsBucket…' : id.startsWith('StorageBucket') ? 'S3 bucket StorageBucket…' : `an S3 bucket ${id}`,
          'AWS::KMS::Key': 'KMS key alias/tessera/acme',
          'AWS::RDS::DBInstance': `DB snapshot taken of DB instance ${resolved(r.Properties.DBInstanceIdentifier)}`,
          'AWS::ElastiCache::ReplicationGroup': 'ElastiCache snapshot taken of the stack\'s cache replication group',
        }[r.Type as string] ?? `${r.Type} ${id}`;
        expect(names.some((n) => n.includes(expected)), `${tier}: ${id} (${r.Type}) as "${expected}" in ${JSON.stringify(names)}`).toBe(true);
      }
    }
  });
});

describe('after the restore: the failover blueprint redeployed with the restored instance', () => {
  const RESTORED_ID = 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const restoredValues = (t: any) => parameterValues(t, {
    TenantId: 'acme', VpcCidr: '10.80.0.0/20', RestoredDbiResourceId: RESTORED_ID,
    RestoredDatabaseEndpoint: 'tessera-acme-restored.abcdefghij.us-west-2.rds.amazonaws.com', RestoredDatabaseCredentialsArn: 'arn:aws:secretsmanager:us-west-2:210987654321:secret:rds!db-1234-abcdef',
  });
  const dbUser = (user: string) => joined('arn:', { Ref: 'AWS::Partition' }, ':rds-db:us-west-2:', { Ref: 'AWS::AccountId' }, ':dbuser:', { Ref: 'RestoredDbiResourceId' }, `/${user}`);
  const restoredPolicy = (t: any, role: string) => {
    const found = resources(t, 'AWS::IAM::ManagedPolicy').filter(([id]) => new RegExp(`^RestoredDatabaseAccess${role}[0-9A-F]{8}$`).test(id));
    expect(found.length, role).toBe(1);
    return found[0][1];
  };

  it('takes the restored instance\'s DbiResourceId, endpoint and secret as parameters, empty by default, all three or none', () => {
    for (const tier of DR_TIERS) {
      const t = variant(tier);
      for (const name of RESTORED_PARAMETERS) expect(t.Parameters[name], `${tier} ${name}`).toMatchObject({ Type: 'String', Default: '' });
      // each accepts empty and its AWS shape only
      const accepts = (name: string, value: string) => new RegExp(t.Parameters[name].AllowedPattern).test(value);
      expect(accepts('RestoredDbiResourceId', '')).toBe(true);
      expect(accepts('RestoredDbiResourceId', RESTORED_ID)).toBe(true);
      expect(accepts('RestoredDbiResourceId', 'tessera-acme-restored')).toBe(false);
      expect(accepts('RestoredDbiResourceId', '*')).toBe(false);
      expect(accepts('RestoredDatabaseEndpoint', 'tessera-acme-restored.abcdefghij.us-west-2.rds.amazonaws.com')).toBe(true);
      expect(accepts('RestoredDatabaseEndpoint', 'not a host')).toBe(false);
      expect(accepts('RestoredDatabaseCredentialsArn', 'arn:aws:secretsmanager:us-west-2:210987654321:secret:rds!db-1234-abcdef')).toBe(true);
      expect(accepts('RestoredDatabaseCredentialsArn', 'arn:aws:secretsmanager:us-west-2:210987654321:secret:other-tenant')).toBe(false);
      // the condition: on once the resource id is given
      expect(t.Conditions.RestoredDatabase).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'RestoredDbiResourceId' }, ''] }] });
      expect(condition(t, 'RestoredDatabase', parameterValues(t, { TenantId: 'acme', VpcCidr: '10.80.0.0/20' }))).toBe(false);
      expect(condition(t, 'RestoredDatabase', restoredValues(t))).toBe(true);
      // a rule refuses some without the others
      const empty = (name: string) => ({ 'Fn::Equals': [{ Ref: name }, ''] });
      expect(t.Rules.RestoredDatabaseParametersTogether.Assertions).toEqual([{
        Assert: { 'Fn::Or': [{ 'Fn::And': RESTORED_PARAMETERS.map(empty) }, { 'Fn::And': RESTORED_PARAMETERS.map((n) => ({ 'Fn::Not': [empty(n)] })) }] },
        AssertDescription: expect.stringMatching(/go together: all three \(after the restore\) or none/),
      }]);
    }
  });

  it('grants the workload rds-db:connect as tenant_app and the admin as tenant_admin on exactly that resource id in the DR region, under the condition', () => {
    for (const tier of DR_TIERS) {
      const t = variant(tier);
      const workload = restoredPolicy(t, 'Workload');
      const admin = restoredPolicy(t, 'Admin');
      expect(workload.Condition).toBe('RestoredDatabase');
      expect(admin.Condition).toBe('RestoredDatabase');
      expect(workload.Properties.Roles).toEqual([tenantName('-workload')]);
      expect(admin.Properties.Roles).toEqual([tenantName('-admin')]);
      expect(workload.Properties.PolicyDocument.Statement).toEqual([{
        Sid: 'RestoredDatabaseIamAuth', Effect: 'Allow', Action: 'rds-db:connect', Resource: dbUser('tenant_app'),
        // the tier blueprint's workload condition: the session carries the tenant's namespace tag
        Condition: { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': joined('tenant-', { Ref: 'TenantId' }) } },
      }]);
      expect(admin.Properties.PolicyDocument.Statement).toEqual([{ Sid: 'RestoredDatabaseIamAuth', Effect: 'Allow', Action: 'rds-db:connect', Resource: dbUser('tenant_admin') }]);
      // the same users the tier blueprint grants on its own instance
      const home = JSON.stringify(resources(t, 'AWS::IAM::ManagedPolicy').filter(([id]) => /^Access(Workload|Admin)[0-9A-F]{8}$/.test(id)));
      expect(home).toContain('/tenant_app');
      expect(home).toContain('/tenant_admin');
      // no secret, no key, no wildcard: every statement naming the restored instance is these two, and both carry the condition
      for (const [id, r] of Object.entries<any>(t.Resources)) {
        if (JSON.stringify(r).includes('RestoredDbiResourceId')) expect(r.Condition, id).toBe('RestoredDatabase');
      }
      const conditional = Object.entries<any>(t.Resources).filter(([, r]) => r.Condition === 'RestoredDatabase').map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
      expect(conditional.sort()).toEqual(['RestoredDatabaseAccessAdmin', 'RestoredDatabaseAccessWorkload', 'RestoredDatabaseBackupPolicy', 'RestoredDatabaseBackupSelection']);
      expect(JSON.stringify([workload, admin])).not.toMatch(/secretsmanager|kms:|dbuser:\*|"\*"/);
    }
  });

  it('with the parameter, the grants name exactly that resource id and user; without it, the template creates no such grant', () => {
    const t = variant('professional');
    const given = restoredValues(t);
    const resolve = (v: any): any => {
      if (Array.isArray(v)) return v.map(resolve);
      if (!v || typeof v !== 'object') return v;
      if ('Ref' in v) return { 'AWS::Partition': 'aws', 'AWS::AccountId': '210987654321' }[v.Ref as string] ?? given[v.Ref];
      if ('Fn::Join' in v) return resolve(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    };
    const granted = (values: Record<string, string>) => Object.values<any>(t.Resources)
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && (!r.Condition || condition(t, r.Condition, values)))
      .flatMap((r) => r.Properties.PolicyDocument.Statement.filter((s: any) => s.Sid === 'RestoredDatabaseIamAuth').map((s: any) => resolve(s.Resource)));
    expect(granted(given).sort()).toEqual([`arn:aws:rds-db:us-west-2:210987654321:dbuser:${RESTORED_ID}/tenant_admin`, `arn:aws:rds-db:us-west-2:210987654321:dbuser:${RESTORED_ID}/tenant_app`]);
    expect(granted(parameterValues(t, { TenantId: 'acme', VpcCidr: '10.80.0.0/20' }))).toEqual([]);
  });

  it('puts the restored instance (the live data) in the rebuilt stack\'s backup plan under the condition, backed up as the home backup role the DR key admits', () => {
    for (const tier of DR_TIERS) {
      const t = variant(tier);
      const [[, selection], ...others] = resources(t, 'AWS::Backup::BackupSelection').filter(([id]) => id.startsWith('RestoredDatabaseBackupSelection'));
      expect(others).toEqual([]);
      expect(selection.Condition).toBe('RestoredDatabase');
      const restoredArn = joined('arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':db:tessera-', { Ref: 'TenantId' }, '-restored');
      const [[planId]] = resources(t, 'AWS::Backup::BackupPlan').filter(([id]) => id.startsWith('DatabaseBackupPlan'));
      expect(selection.Properties).toEqual({
        BackupPlanId: { 'Fn::GetAtt': [planId, 'BackupPlanId'] },
        BackupSelection: {
          SelectionName: 'RestoredDatabase',
          IamRoleArn: joined('arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/tessera/service-role/tessera-', { Ref: 'TenantId' }, '-database-backup'),
          Resources: [restoredArn],
        },
      });
      // the empty instance's own selection is unchanged and unconditional
      const own = resources(t, 'AWS::Backup::BackupSelection').filter(([id]) => !id.startsWith('RestoredDatabase'));
      expect(own).toHaveLength(1);
      expect(own[0][1].Condition).toBeUndefined();
      // the role may snapshot that instance (and its new snapshots, this tenant's tag only) into the rebuilt vault, nothing wider
      const [[, policy]] = resources(t, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('RestoredDatabaseBackupPolicy'));
      expect(policy.Condition).toBe('RestoredDatabase');
      expect(policy.Properties.Roles).toEqual([tenantName('-database-backup')]);
      const [[vaultId]] = resources(t, 'AWS::Backup::BackupVault');
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Sid: 'TheRestoredDatabase', Effect: 'Allow', Action: ['rds:CreateDBSnapshot', 'rds:DescribeDBInstances', 'rds:ListTagsForResource'], Resource: restoredArn },
        {
          Sid: 'NewSnapshotsOfTheRestoredDatabase', Effect: 'Allow', Action: 'rds:CreateDBSnapshot',
          Resource: joined('arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':snapshot:awsbackup:job-*'),
          Condition: { StringEqualsIfExists: { 'aws:RequestTag/tessera:tenant-id': { Ref: 'TenantId' } } },
        },
        { Sid: 'TheRebuiltVault', Effect: 'Allow', Action: ['backup:CopyIntoBackupVault', 'backup:DescribeBackupVault'], Resource: { 'Fn::GetAtt': [vaultId, 'BackupVaultArn'] } },
      ]);
      // off without the restored instance: the first deploy has no such selection
      expect(condition(t, 'RestoredDatabase', parameterValues(t, { TenantId: 'acme', VpcCidr: '10.80.0.0/20' }))).toBe(false);
    }
    // the tier blueprint has none of it
    expect(resources(plain('enterprise'), 'AWS::Backup::BackupSelection').map(([id]) => id).some((id) => id.startsWith('RestoredDatabase'))).toBe(false);
  });

  it('switches the Database outputs to the restored instance under the condition, and keeps them on its own instance otherwise', () => {
    const t = variant('enterprise');
    const ifRestored = (name: string) => t.Outputs[name].Value['Fn::If'];
    expect(ifRestored('DatabaseInstanceId')).toEqual(['RestoredDatabase', tenantName('-restored'), { Ref: 'DatabaseInstance02E622FB' }]);
    expect(ifRestored('DatabaseEndpoint')).toEqual(['RestoredDatabase', { Ref: 'RestoredDatabaseEndpoint' }, { 'Fn::GetAtt': ['DatabaseInstance02E622FB', 'Endpoint.Address'] }]);
    expect(ifRestored('DatabaseResourceId')).toEqual(['RestoredDatabase', { Ref: 'RestoredDbiResourceId' }, { 'Fn::GetAtt': ['DatabaseInstance02E622FB', 'DbiResourceId'] }]);
    expect(ifRestored('DatabaseSecretArn')).toEqual(['RestoredDatabase', { Ref: 'RestoredDatabaseCredentialsArn' }, { 'Fn::GetAtt': ['DatabaseInstance02E622FB', 'MasterUserSecret.SecretArn'] }]);
    // the port is the snapshot's: unchanged
    expect(t.Outputs.DatabasePort.Value).toBe(plain('enterprise').Outputs.DatabasePort.Value);
    // the tier blueprint has none of it
    const p = plain('enterprise');
    for (const name of RESTORED_PARAMETERS) expect(p.Parameters[name]).toBeUndefined();
    expect(p.Conditions.RestoredDatabase).toBeUndefined();
    expect(p.Outputs.DatabaseEndpoint.Value).toEqual({ 'Fn::GetAtt': ['DatabaseInstance02E622FB', 'Endpoint.Address'] });
  });
});

describe('the tier blueprints stay as they were', () => {
  it('keeps every tier blueprint the same with or without the failover variants beside it (DR tiers too), and a tier without DR as the default config builds it', () => {
    // GIVEN each tier's blueprint alone in a stage (no failover variant built), for this config and the default one
    const alone = (cfg: typeof config) => {
      const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
      const stage = new Stage(app, 'Blueprints');
      const stacks = Object.fromEntries(Object.entries(cfg.tiers).map(([tier, t]) => [tier, new TenantStack(stage, `TesseraTenant-${tier}`, { tierName: tier, tier: t, config: cfg, blueprintVersion: '0.0.0-test' })]));
      return Object.fromEntries(Object.entries(stacks).map(([tier, stack]) => [tier, template(stack).toJSON()]));
    };
    const withoutVariants = alone(config);
    // THEN the app's blueprints are the same templates
    for (const tier of Object.keys(config.tiers)) expect(plain(tier), tier).toEqual(withoutVariants[tier]);
    expect(disasterRecoveryOf(config.tiers.starter)).toBeUndefined();
    expect(plain('starter')).toEqual(alone(configWith()).starter);
  });
});

describe('compliance', () => {
  it('has zero unacknowledged findings with the failover variants', () => {
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });

  it('acknowledges the replica grant\'s wildcards on that policy only (the DR bucket\'s objects, the DR key by alias)', () => {
    const acknowledged = report.pluginReports.flatMap((r) => r.suppressedViolations ?? [])
      .flatMap((s) => s.violatingConstructs.map((v) => ({ rule: s.ruleName, path: v.constructPath })))
      .filter((s) => s.path.includes('/FailoverAccess/'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(a.rule).toMatch(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:(s3|kms):/);
      expect(a.path).toMatch(/^Blueprints\/TesseraTenantFailover-(professional|enterprise)\/FailoverAccess\/ReadReplica\//);
    }
  });
});
