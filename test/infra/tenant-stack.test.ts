import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TENANT_STACK_OUTPUTS } from '../../lib/tenant-stack.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';
import { NO_RESOURCE_TYPE_ACTIONS } from '../support/iam-actions.js';
import { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';

let built: DefaultAppTemplates;
beforeAll(() => {
  // The default app (buildApp()), built and synthesized once per state of the sources (test/support/default-app.ts).
  built = defaultAppTemplates();
});

const t = (tier: string): Template => built.blueprints[tier];
const schemas = new ProviderSchemas();
const zoneCount = (tier: string) => ({ starter: 2, professional: 2, enterprise: 3 } as Record<string, number>)[tier];

/** The construct paths of the taggable CfnResources (`TagManager.isTaggable`) at or under construct path `root`. */
function taggableResources(root: string): string[] {
  return built.taggableResourcePaths.filter((path) => path.startsWith(`${root}/`));
}

function tagsOf(resource: { Properties?: { Tags?: unknown } }): Record<string, unknown> {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags)) return Object.fromEntries(tags.map((x: { Key: string; Value: unknown }) => [x.Key, x.Value]));
  return (tags as Record<string, unknown>) ?? {};
}

describe.each(['starter', 'professional', 'enterprise'])('TenantStack %s', (tier) => {
  it('is parameterised by tenant id and VPC range, with no bootstrap parameter and no assets', () => {
    const template = t(tier);
    const gpu = tier === 'enterprise' ? ['GpuNodesMinSize', 'GpuNodesDesiredSize'] : [];
    expect(Object.keys(template.toJSON().Parameters)).toEqual(['TenantId', 'VpcCidr', 'AvailabilityZones', ...gpu, 'DatabaseDeletionProtection']);
    // The VPC's zones: a parameter CloudFormation checks (zones of the region), chosen by the lifecycle; never Fn::GetAZs.
    template.hasParameter('AvailabilityZones', { Type: 'List<AWS::EC2::AvailabilityZone::Name>' });
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::GetAZs');
    const zonesOfSubnets = Object.values(template.findResources('AWS::EC2::Subnet')).map((subnet) => subnet.Properties.AvailabilityZone);
    for (const zone of zonesOfSubnets) expect(zone).toEqual({ 'Fn::Select': [expect.any(Number), { Ref: 'AvailabilityZones' }] });
    // element i for the i-th subnet of each group: the tier's maxAzs of them
    expect([...new Set(zonesOfSubnets.map((z) => z['Fn::Select'][0]))].sort()).toEqual(Array.from({ length: zoneCount(tier) }, (_, i) => i));
    // Deletion protection: on by default, off only while the onboarding first creates the stack (a failed create must roll the database back).
    template.hasParameter('DatabaseDeletionProtection', { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'] });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: { 'Fn::If': ['ProtectDatabase', true, false] } });
    template.hasParameter('TenantId', { AllowedPattern: Match.stringLikeRegexp('a-z0-9-') });
    // No Lambda but a dedicated cluster's manifests handler, whose code is inline (Code.ZipFile: no asset, any Region).
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.map((f) => Object.keys(f.Properties.Code))).toEqual(tier === 'enterprise' ? [['ZipFile']] : []);
    template.resourceCountIs('AWS::CloudFormation::CustomResource', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/cdk-hnb659fds|AssetParameters|BootstrapVersion/);
  });

  it('tags every taggable resource with the tenant id and the tier', () => {
    const resources = t(tier).toJSON().Resources as Record<string, { Properties?: { Tags?: unknown } }>;
    const taggable = taggableResources(built.stackPaths.blueprints[tier]);
    expect(taggable.length).toBeGreaterThan(20);
    for (const path of taggable) {
      const tags = tagsOf(resources[built.logicalIdAt(path)]);
      expect(tags['tessera:tenant-id'], path).toEqual({ Ref: 'TenantId' });
      expect(tags['tessera:tier'], path).toBe(tier);
    }
  });

  it('tags every resource whose type CloudFormation can tag (provider schema), the plain CfnResources Tags.of passes by included', () => {
    // GIVEN each resource of the blueprint whose provider schema (cfn-lint's) says it takes tags, and in which property
    const resources = t(tier).toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    const tagged = Object.entries(resources).flatMap(([id, r]) => {
      const tagging = schemas.get(r.Type)?.tagging;
      return tagging?.taggable ? [{ id, type: r.Type, tags: r.Properties?.[(tagging.tagProperty ?? '/properties/Tags').split('/').pop()!] }] : [];
    });
    expect(tagged.length).toBeGreaterThan(20);
    // THEN every one carries the tenant id and the tier (AWS Backup's vault and plan under their own tag properties)
    for (const { id, type, tags } of tagged) {
      const map = tagsOf({ Properties: { Tags: tags } });
      expect({ id, type, tenant: map['tessera:tenant-id'], tier: map['tessera:tier'] }).toEqual({ id, type, tenant: { Ref: 'TenantId' }, tier });
    }
  });

  it('keeps the data stores: key, buckets and logs retained except when their own create rolls back; database and cache snapshotted', () => {
    const template = t(tier);
    for (const type of ['AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::Backup::BackupVault']) {
      const all = Object.values(template.findResources(type));
      expect(all.length, type).toBeGreaterThan(0);
      for (const r of all) expect(r.DeletionPolicy, type).toBe('RetainExceptOnCreate');
    }
    // Nothing is left on plain Retain: a rolled-back first create would leave it behind and block the re-run.
    expect(Object.values(template.toJSON().Resources).filter((r: any) => r.DeletionPolicy === 'Retain')).toEqual([]);
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot' });
  });

  it('outputs what the workflow records', () => {
    const outputs = Object.keys(t(tier).toJSON().Outputs);
    for (const name of ['KeyArn', 'BucketName', 'DatabaseEndpoint', 'DatabaseSecretArn', 'CacheEndpoint', 'AdminRoleArn', 'BreakGlassRoleArn', 'DefaultSecurityGroupId', 'BlueprintVersion']) {
      expect(outputs).toContain(name);
    }
    expect(outputs.every((o) => (TENANT_STACK_OUTPUTS as readonly string[]).includes(o))).toBe(true);
  });

  it('grants no IAM statement with "*" actions, and "*" resources only to actions that have no resource type', () => {
    const policies = [...Object.values(t(tier).findResources('AWS::IAM::ManagedPolicy')), ...Object.values(t(tier).findResources('AWS::IAM::Policy'))];
    for (const p of policies) {
      for (const s of (p as any).Properties.PolicyDocument.Statement) {
        expect([s.Action].flat()).not.toContain('*');
        if ([s.Resource].flat().includes('*')) expect([s.Action].flat().filter((a: string) => !NO_RESOURCE_TYPE_ACTIONS.has(a))).toEqual([]);
      }
    }
  });
});

describe('TenantStack sizing by tier', () => {
  it('starter: single-AZ database and cache, no NAT, no dedicated cluster, workload role bridged from the shared cluster', () => {
    const starter = t('starter');
    starter.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, DBInstanceClass: 'db.t4g.medium', BackupRetentionPeriod: 7 });
    starter.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 1, MultiAZEnabled: false });
    starter.resourceCountIs('AWS::EC2::NatGateway', 0);
    starter.resourceCountIs('AWS::EKS::Cluster', 0);
    starter.hasResourceProperties('AWS::IAM::Role', {
      RoleName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-workload']] },
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { AWS: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::222222222222:root'])]) }) },
        Condition: Match.objectLike({ StringEquals: { 'aws:RequestTag/kubernetes-namespace': { 'Fn::Join': ['', ['tenant-', { Ref: 'TenantId' }]] } } }),
      })] },
    });
  });

  it('professional: Multi-AZ database and cache with failover, NAT egress', () => {
    const pro = t('professional');
    pro.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true, BackupRetentionPeriod: 14 });
    pro.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 2, MultiAZEnabled: true, AutomaticFailoverEnabled: true });
    pro.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('the cache logs are vended log groups under /aws/vendedlogs/tessera/<id>/cache/ (out of the account\'s 5,120-character Logs resource policy), admitted by the tenant key', () => {
    for (const tier of ['starter', 'professional', 'enterprise']) {
      const template = t(tier);
      const cacheLogs = ['engine-log', 'slow-log'].map((type) => ({ 'Fn::Join': ['', ['/aws/vendedlogs/tessera/', { Ref: 'TenantId' }, `/cache/${type}`]] }));
      for (const name of cacheLogs) template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: name, KmsKeyId: Match.anyValue() });
      const names = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => JSON.stringify(g.Properties.LogGroupName));
      expect(names.filter((n) => n.includes('cache')), tier).toHaveLength(2);
      // the key's statement for CloudWatch Logs admits the vended prefix
      const [key] = Object.values(template.findResources('AWS::KMS::Key')) as any[];
      const logsStatement = key.Properties.KeyPolicy.Statement.find((s: { Sid?: string }) => s.Sid === 'CloudWatchLogsEncryptsTenantLogGroups');
      expect(JSON.stringify(logsStatement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']), tier).toContain(':log-group:/aws/vendedlogs/tessera/');
    }
  });

  it('enterprise: dedicated private cluster with a GPU node group, Pod Identity for the workload role', () => {
    const ent = t('enterprise');
    ent.hasResourceProperties('AWS::EKS::Cluster', { ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false }) });
    ent.hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'BOTTLEROCKET_x86_64_NVIDIA', InstanceTypes: ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'], DiskSize: 200, ScalingConfig: { MinSize: { Ref: 'GpuNodesMinSize' }, MaxSize: 5, DesiredSize: { Ref: 'GpuNodesDesiredSize' } } });
    ent.hasParameter('GpuNodesMinSize', { Type: 'Number', Default: 1, MinValue: 0, MaxValue: 5 });
    ent.hasParameter('GpuNodesDesiredSize', { Type: 'Number', Default: 1, MinValue: 0, MaxValue: 5 });
    ent.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ServiceAccount: 'workload', Namespace: { 'Fn::Join': ['', ['tenant-', { Ref: 'TenantId' }]] } });
    ent.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true, BackupRetentionPeriod: 35 });
  });

  it('every workload permission requires the tenant namespace session tag', () => {
    for (const tier of ['starter', 'enterprise']) {
      const policies = Object.values(t(tier).findResources('AWS::IAM::ManagedPolicy')).map((p: any) => p.Properties);
      const workload = policies.find((p) => JSON.stringify(p.Roles).includes('RolesWorkload'));
      for (const s of workload.PolicyDocument.Statement) {
        expect(s.Condition, s.Sid).toEqual({ StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': { 'Fn::Join': ['', ['tenant-', { Ref: 'TenantId' }]] } } });
      }
    }
  });

  it('puts every AWS service role on the service-role path (the quarantine SCP admits only those), and no tenant role', () => {
    for (const tier of ['starter', 'professional', 'enterprise']) {
      const roles = Object.entries(t(tier).findResources('AWS::IAM::Role')) as Array<[string, any]>;
      for (const [id, role] of roles) {
        const services = role.Properties.AssumeRolePolicyDocument.Statement.map((st: any) => st.Principal?.Service).filter(Boolean);
        const awsServiceRole = services.length > 0 && !services.includes('pods.eks.amazonaws.com') && !services.includes('sagemaker.amazonaws.com');
        expect(role.Properties.Path, `${tier} ${id}`).toBe(awsServiceRole ? '/tessera/service-role/' : undefined);
      }
    }
  });

  it('uses Valkey RBAC the way ElastiCache allows: redis-engine group and users, the switched-off default user password-less', () => {
    const users = Object.values(t('starter').findResources('AWS::ElastiCache::User')) as any[];
    expect(users.map((u) => u.Properties.Engine)).toEqual(['redis', 'redis']);
    t('starter').hasResourceProperties('AWS::ElastiCache::UserGroup', { Engine: 'redis' });
    t('starter').hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { Engine: 'valkey' });
  });

  it('overwrites conflicts when it installs managed add-ons over the self-managed ones of a new cluster', () => {
    const addons = Object.values(t('enterprise').findResources('AWS::EKS::Addon')) as any[];
    expect(addons.length).toBe(2);
    for (const a of addons) expect(a.Properties.ResolveConflicts, a.Properties.AddonName).toBe('OVERWRITE');
  });

  it('gives a resource the same logical id in every tier, so a tier change updates it in place instead of replacing it', () => {
    const ids = (tier: string) => {
      const resources = t(tier).toJSON().Resources as Record<string, { Metadata?: Record<string, string> }>;
      return new Map(Object.entries(resources).map(([id, r]) => [r.Metadata?.['aws:cdk:path']?.split('/').slice(2).join('/') ?? id, id]));
    };
    const [starter, professional] = [ids('starter'), ids('professional')];
    const shared = [...starter.keys()].filter((path) => professional.has(path));
    expect(shared.length).toBeGreaterThan(40);
    for (const path of shared) expect(professional.get(path), path).toBe(starter.get(path));
    // A logical id built from another construct's path would carry the stack's (tier's) name.
    for (const tier of ['starter', 'professional', 'enterprise']) {
      expect(Object.keys(t(tier).toJSON().Resources).filter((id) => /Tessera|starter|professional|enterprise/i.test(id)), tier).toEqual([]);
    }
    t('enterprise').hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5438, ToPort: 5438, SourceSecurityGroupId: Match.anyValue() });
  });

  it('the key trusts the tenant roles by name and is created after them', () => {
    const ent = t('enterprise').toJSON();
    const [keyId, key] = Object.entries(ent.Resources).find(([, r]: any) => r.Type === 'AWS::KMS::Key') as [string, any];
    const roleIds = Object.entries(ent.Resources).filter(([id, r]: any) => r.Type === 'AWS::IAM::Role' && id.startsWith('Roles')).map(([id]) => id);
    expect(roleIds.length).toBe(8); // workload, admin, training, training launcher, training files, model invoker, vector store, break-glass
    expect(key.DependsOn).toEqual(expect.arrayContaining(roleIds));
    expect(keyId).toMatch(/^Key/);
  });
});

describe('training role and base-model weights', () => {
  it('lets the training role list each base model\'s weight prefix (an S3Prefix channel is listed before it is read), and nothing else of the bucket', () => {
    // GIVEN the professional tier (training enabled) and the default base models
    const statements = Object.values(t('professional').findResources('AWS::IAM::ManagedPolicy'))
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown }> } } }).Properties.PolicyDocument.Statement);
    // THEN
    expect(statements.filter((s) => s.Sid?.startsWith('ListBaseModelWeights'))).toEqual([{
      Sid: 'ListBaseModelWeights0', Effect: 'Allow', Action: 's3:ListBucket',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::tessera-base-models-222222222222']] },
      Condition: { StringLike: { 's3:prefix': ['llama-3.1-8b-instruct/*'] } }, // the tier's base models only
    }]);
  });
});
