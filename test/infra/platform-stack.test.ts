import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { LIFECYCLE_HANDLERS } from '../../lib/lifecycle-handlers.js';
import { authorizerCacheTtlSeconds } from '../../constructs/inference-api.js';

let platform: Template;
/** The platform's NamespaceKubectl nested stack (the tenants' namespace kubectl provider). */
let namespaceKubectl: Template;
beforeAll(() => {
  platform = defaultAppTemplates().platform;
  namespaceKubectl = defaultAppTemplates().namespaceKubectl!;
});

describe('PlatformStack', () => {
  it('keeps the tenant registry: PITR, deletion protection, retained, platform KMS key, indexes for status and tier', () => {
    platform.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: Match.objectLike({
        TableName: 'tessera-tenants',
        KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }],
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        Replicas: [Match.objectLike({
          PointInTimeRecoverySpecification: Match.objectLike({ PointInTimeRecoveryEnabled: true }),
          DeletionProtectionEnabled: true,
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] } },
        })],
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'by-status' }), Match.objectLike({ IndexName: 'by-tier' })],
      }),
      DeletionPolicy: 'Retain',
    });
    platform.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: Match.objectLike({ Resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^RegistryTable'), 'Arn'] }] }),
    });
  });

  it('has a lifecycle event bus encrypted with the platform key, with an archive', () => {
    platform.hasResourceProperties('AWS::Events::EventBus', { Name: 'tessera-lifecycle', KmsKeyIdentifier: Match.anyValue() });
    platform.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 365, EventPattern: { source: ['tessera.lifecycle'] } });
  });

  it('encrypts the lifecycle archive with the bus\'s platform key, which lets EventBridge use it for that bus only', () => {
    const [[busId, bus]] = Object.entries(platform.findResources('AWS::Events::EventBus', { Properties: { Name: 'tessera-lifecycle' } })) as Array<[string, any]>;
    const [archive] = Object.values(platform.findResources('AWS::Events::Archive', { Properties: { EventPattern: { source: ['tessera.lifecycle'] } } })) as any[];
    // the same key as the bus, not "" (an AWS owned key)
    expect(archive.Properties.KmsKeyIdentifier).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] });
    expect(archive.Properties.KmsKeyIdentifier).toEqual(bus.Properties.KmsKeyIdentifier);
    const keyId = archive.Properties.KmsKeyIdentifier['Fn::GetAtt'][0];
    const statements = platform.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as any[];
    const events = statements.filter((s) => s.Principal?.Service === 'events.amazonaws.com');
    const use = events.find((s) => s.Sid === 'EventBridgeEncryptsLifecycleArchive');
    expect([use.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*']);
    // the bus's ARN from its name (the bus names the key: a Fn::GetAtt here would be a cycle)
    expect(use.Condition).toEqual({ StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': expect.stringMatching(/^arn:aws:events:[a-z0-9-]+:\d{12}:event-bus\/tessera-lifecycle$/) } });
    expect(archive.Properties.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(events.find((s) => s.Sid === 'EventBridgeDescribesKeyForLifecycleArchive')?.Action).toBe('kms:DescribeKey');
  });

  it('has an audit bucket with Object Lock in compliance mode, versioning, KMS and access logs', () => {
    platform.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })] },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'audit-bucket/' }),
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('removes the parts of offboarding exports a dead Lambda left unfinished in the Object Lock archive after a week', () => {
    platform.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'tenant-archive/' }),
      LifecycleConfiguration: { Rules: [{ Id: 'abort-incomplete-exports', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }] },
    });
  });

  it('records CloudTrail with log file validation into the audit bucket, to encrypted CloudWatch Logs', () => {
    platform.hasResourceProperties('AWS::CloudTrail::Trail', {
      EnableLogFileValidation: true, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, IsOrganizationTrail: false,
      KMSKeyId: Match.anyValue(), CloudWatchLogsLogGroupArn: Match.anyValue(),
    });
  });

  it('makes the trail an organization trail when the platform is deployed in the management account', async () => {
    const t = (await appTemplates({ platformAccountId: '111111111111' })).platform;
    t.hasResourceProperties('AWS::CloudTrail::Trail', { IsOrganizationTrail: true });
  }, 240_000);

  // audit.organizationTrail from the member platform account: the trail CloudTrail's delegated administrator creates,
  // owned by the management account (111111111111 in the default config), which the bucket and key policies name.
  it('makes the member platform account\'s trail an organization trail with audit.organizationTrail, its ARN the management account\'s (cdk-nag clean)', async () => {
    const t = (await appTemplates({ audit: { organizationTrail: true } })).platform;
    t.hasResourceProperties('AWS::CloudTrail::Trail', { IsOrganizationTrail: true, TrailName: 'tessera-organization-audit' });
    const trailArn = expect.stringMatching(/^arn:aws:cloudtrail:[a-z0-9-]+:111111111111:trail\/tessera-organization-audit$/);
    const bucket = (Object.values(t.findResources('AWS::S3::BucketPolicy')) as any[]).flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    expect(bucket.find((x) => x.Sid === 'CloudTrailWritesOrganizationLogs')).toMatchObject({ Condition: { StringEquals: { 'aws:SourceArn': trailArn } } });
    const key = (Object.values(t.findResources('AWS::KMS::Key')) as any[]).flatMap((k) => k.Properties.KeyPolicy.Statement as any[]);
    expect(key.find((x) => x.Sid === 'CloudTrailEncryptsOrganizationTrailLogs')).toMatchObject({ Condition: { StringEquals: { 'aws:SourceArn': trailArn } } });
  }, 240_000);

  // audit.dataEvents: the platform stack's trail gets advanced event selectors (lib/config/audit-data-events.ts); without
  // the key, the trail is as before (CloudTrail's default selectors: every management event, no data event).
  it('records the data events of audit.dataEvents on the organization trail: tenant buckets by name prefix, the Batch API\'s files and the offboarding archive by ARN, Lambda Invoke (cdk-nag clean)', async () => {
    const trailOf = (t: Template) => (Object.values(t.findResources('AWS::CloudTrail::Trail')) as any[])[0].Properties;
    expect(trailOf(platform).AdvancedEventSelectors).toBeUndefined();
    const t = (await appTemplates({ audit: { organizationTrail: true, dataEvents: { s3Objects: 'tenant-data', lambdaInvoke: true } } })).platform;
    const trail = trailOf(t);
    expect(trail).toMatchObject({ IsOrganizationTrail: true, TrailName: 'tessera-organization-audit' });
    expect(trail.EventSelectors).toBeUndefined();
    expect(trail.AdvancedEventSelectors.map((s: any) => s.Name)).toEqual(['Tessera: management events, read and write', 'Tessera: S3 object events of tenant data buckets', 'Tessera: Lambda Invoke events']);
    const arn = trail.AdvancedEventSelectors[1].FieldSelectors.find((f: any) => f.Field === 'resources.ARN');
    expect(arn.NotStartsWith).toEqual(['arn:aws:s3:::tessera-audit-replica-']);
    const arns = arn.StartsWith;
    const bucketId = (prefix: string) => Object.keys(t.findResources('AWS::S3::Bucket')).find((id) => id.startsWith(prefix));
    expect(arns).toEqual([
      'arn:aws:s3:::tessera-',
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId('InferenceBatchesFiles'), 'Arn'] }, '/']] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId('LifecycleArchiveBucket'), 'Arn'] }, '/']] },
    ]);
  }, 240_000);

  it('publishes the blueprints readable by the organization and denied to anyone else', () => {
    const policies = Object.values(platform.findResources('AWS::S3::BucketPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement as any[]);
    const catalog = policies.find((s) => s.some((x) => x.Sid === 'OrganizationReadsBlueprints'))!;
    expect(catalog.find((x) => x.Sid === 'OrganizationReadsBlueprints')).toMatchObject({
      Effect: 'Allow', Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-exampleorg1' } },
    });
    expect(catalog.find((x) => x.Sid === 'DenyReadsOutsideOrganization')).toMatchObject({
      Effect: 'Deny', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-exampleorg1' } },
    });
    platform.hasResourceProperties('Custom::CDKBucketDeployment', { DestinationBucketKeyPrefix: 'blueprints/0.0.0-test/', Prune: false, RetainOnDelete: true });
  });

  it('runs the shared cluster with a tainted GPU node group and hands it to the namespace blueprints', () => {
    platform.hasResourceProperties('AWS::EKS::Cluster', { Name: 'tessera-shared', ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false }) });
    platform.hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'BOTTLEROCKET_x86_64_NVIDIA', Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }], LaunchTemplate: Match.objectLike({ Id: Match.anyValue() }) });
    // its 200 GiB are the launch template's data volume (test/isolation/shared-cluster-node-metadata.test.ts)
    platform.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 200 }) })] }) });
    for (const name of ['/tessera/shared-cluster/name', '/tessera/shared-cluster/kubectl-service-token']) {
      platform.hasResourceProperties('AWS::SSM::Parameter', { Name: name });
    }
    // The namespace kubectl provider's token beside it, in its nested stack.
    namespaceKubectl.hasResourceProperties('AWS::SSM::Parameter', { Name: '/tessera/shared-cluster/namespace-kubectl-service-token' });
  });

  it('puts the tenants\' kubectl provider and the kubectl layer in the NamespaceKubectl nested stack, TesseraPlatform keeping the cluster\'s own provider', () => {
    const nested = namespaceKubectl.toJSON() as { Resources: Record<string, any>; Outputs: Record<string, any> };
    const resources = platform.toJSON().Resources as Record<string, any>;
    // Nothing of it in TesseraPlatform: no role of that name, no function running aws-eks (v1)'s handler, no layer.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'TesseraNamespaceKubectlHandler')).toEqual([]);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::LayerVersion' && /kubectl/i.test(JSON.stringify(r.Properties.Description ?? '')))).toEqual([]);
    expect(Object.values(nested.Resources).map((r) => r.Type).sort()).toEqual([
      'AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::Lambda::Function',
      'AWS::Lambda::LayerVersion', 'AWS::Lambda::LayerVersion', 'AWS::Logs::LogGroup', 'AWS::Logs::LogGroup', 'AWS::SSM::Parameter',
    ]);
    // The cluster's own (cluster-admin) kubectl handler runs with the layer the nested stack outputs.
    const [stackId] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::CloudFormation::Stack' && id.startsWith('NamespaceKubectlNestedStack'))!;
    const layerOutput = Object.keys(nested.Outputs).find((o) => o.includes('KubectlLayer'))!;
    const sharedHandler = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.includes('KubectlProviderHandler'))![1];
    expect(sharedHandler.Properties.Layers).toContainEqual({ 'Fn::GetAtt': [stackId, `Outputs.${layerOutput}`] });
    // Behind the guard that holds a tenant namespace stack's manifest to its own objects (test/infra/shared-kubectl-guard.test.ts).
    expect(sharedHandler.Properties).toMatchObject({ Handler: 'tenant_manifest_guard.handler', Description: expect.stringContaining('a tenant namespace stack only its own Namespace') });
    // The namespace deployers may invoke the nested stack's provider (its output), as the lifecycle is told.
    const tokenOutput = Object.keys(nested.Outputs).find((o) => o.includes('Providerframework'))!;
    expect(JSON.stringify(resources)).toContain(JSON.stringify({ 'Fn::GetAtt': [stackId, `Outputs.${tokenOutput}`] }));
  });

  it('runs the tenants\' kubectl handler as a role with no Kubernetes identity of its own, which may assume only tenants\' kubectl roles', () => {
    const resources = namespaceKubectl.toJSON().Resources as Record<string, any>;
    const [roleId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'TesseraNamespaceKubectlHandler')!;
    // No access entry names it (the shared provider's handler role has one: AmazonEKSClusterAdminPolicy, cluster scope): none
    // in its own stack, and none in TesseraPlatform names the nested stack (which outputs no role).
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::EKS::AccessEntry')).toEqual([]);
    const entries = Object.values(platform.toJSON().Resources as Record<string, any>).filter((r) => r.Type === 'AWS::EKS::AccessEntry');
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(JSON.stringify(entry.Properties.PrincipalArn)).not.toMatch(/NamespaceKubectl|TesseraNamespaceKubectlHandler/);
    const policies = Object.values(resources).filter((r) => (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') && JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    expect(statements.map((st) => [st.Action].flat()).flat().sort()).toEqual(['eks:DescribeCluster', 'sts:AssumeRole']);
    expect(JSON.stringify(statements.find((st) => st.Action === 'sts:AssumeRole')!.Resource)).toMatch(/:role\/tessera-\*-namespace-kubectl"/);
    // Its function runs aws-eks (v1)'s kubectl handler, the one that assumes the custom resource's RoleArn.
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role ?? '').includes(roleId))!;
    // Behind the guard that holds RoleArn to the sending stack's tenant's kubectl role (test/unit/namespace-kubectl-guard.test.ts).
    expect(fn.Properties).toMatchObject({ Handler: 'tenant_role_guard.handler', Description: expect.stringContaining('assumes RoleArn') });
  });

  it('installs no NVIDIA device plugin chart: its GPU nodes run Bottlerocket NVIDIA, which ships the plugin', () => {
    // (an AL2023 NVIDIA shared cluster is refused by the config: test/unit/config.test.ts)
    platform.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
  });

  it('has no shared cluster when no tier uses shared compute', async () => {
    const built = await appTemplates({ tiers: { starter: null, professional: null }, defaultTier: 'enterprise' });
    built.platform.resourceCountIs('AWS::EKS::Cluster', 0);
    // nor the namespace kubectl provider's nested stack
    expect(built.namespaceKubectl).toBeUndefined();
    expect(Object.keys(built.platform.findResources('AWS::CloudFormation::Stack')).filter((id) => id.startsWith('NamespaceKubectl'))).toEqual([]);
  }, 240_000);

  it('lets member accounts\' provisioning roles copy final snapshots under the archive key through RDS only, never decrypt', () => {
    const [key] = Object.values(platform.findResources('AWS::KMS::Key')) as any[];
    const outside = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Principal?.AWS === '*');
    expect(outside.map((s: any) => s.Sid).sort()).toEqual(['ProvisioningRolesCopySnapshotsIntoArchive', 'ProvisioningRolesGrantRdsOnArchive']);
    for (const s of outside) {
      expect(s.Condition.StringEquals).toEqual({ 'aws:PrincipalOrgID': 'o-exampleorg1', 'kms:ViaService': { 'Fn::Join': ['', ['rds.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } });
      expect(s.Condition.ArnLike).toEqual({ 'aws:PrincipalArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/TesseraProvisioning']] } });
      expect([s.Action].flat().filter((a: string) => /Decrypt/.test(a))).toEqual([]);
    }
  });

  it('requires MFA and a SourceIdentity to assume the platform break-glass role', () => {
    platform.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'TesseraBreakGlass',
      AssumeRolePolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: 'sts:AssumeRole',
        Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, StringLike: { 'sts:SourceIdentity': '?*' } },
      })]) },
    });
  });
});

describe('PlatformStack lifecycle', () => {
  it('runs every lifecycle step as a Node.js 24 arm64 Lambda with tracing, reserved concurrency and its own role', () => {
    const fns = Object.values(platform.findResources('AWS::Lambda::Function', { Properties: { Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Lifecycle'), 'Arn'] } } })) as any[];
    // every handler but enable-regions, which only a config with an account tier in an opt-in region deploys, and
    // erase-pooled-gateway-data, which only offboarding.erasePooledGatewayData does (expire-pooled-gateway-data only
    // without it), deploy-customizations, which only a tier with accountCustomizations does, delete-default-vpcs,
    // which only a tier with deleteDefaultVpcs does, enable-ebs-encryption, which only a tier with
    // ebsEncryptionByDefault does, set-alternate-contacts, which only a tier with alternateContacts does, and
    // set-s3-public-access-block, which only a tier with s3PublicAccessBlock does: deployedLifecycleHandlers
    expect(fns.length).toBe(LIFECYCLE_HANDLERS.length - 7);
    for (const f of fns) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, ReservedConcurrentExecutions: 10 });
    }
    const roleNames = Object.values(platform.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName).filter((n) => typeof n === 'string' && n.startsWith('tessera-lifecycle-'));
    expect(roleNames).toHaveLength(LIFECYCLE_HANDLERS.length - 7);
    expect(roleNames).not.toContain('tessera-lifecycle-enable-regions');
    expect(roleNames).not.toContain('tessera-lifecycle-delete-default-vpcs');
    expect(roleNames).not.toContain('tessera-lifecycle-enable-ebs-encryption');
    expect(roleNames).not.toContain('tessera-lifecycle-set-alternate-contacts');
    expect(roleNames).not.toContain('tessera-lifecycle-set-s3-public-access-block');
    expect(roleNames).not.toContain('tessera-lifecycle-erase-pooled-gateway-data');
    expect(roleNames).toContain('tessera-lifecycle-expire-pooled-gateway-data');
  });

  it('logs every state machine at level ALL with X-Ray', () => {
    const machines = Object.values(platform.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(machines.map((m) => m.Properties.StateMachineName).sort()).toEqual(['tessera-change', 'tessera-drift', 'tessera-offboard', 'tessera-onboard', 'tessera-status', 'tessera-upgrade']);
    for (const m of machines) {
      expect(m.Properties).toMatchObject({ StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true } });
    }
  });

  it('starts an onboarding from a Tenant Onboarding Requested event, with the event detail as the request', () => {
    defaultAppTemplates().platformWithEventRules.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['tessera.lifecycle'], 'detail-type': ['Tenant Onboarding Requested'] },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^LifecycleWorkflowsOnboard') }, InputPath: '$.detail' })],
    });
  });

  it('serves the admin API with IAM auth on every method', () => {
    const methods = Object.values(platform.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: Match.stringLikeRegexp('^AdminApi') } } })) as any[];
    // One method per resource (lib/admin-routes.ts adminApiMethods), ANY for the 6 with several routes: tenants (GET, POST);
    // {id} (GET, PATCH, DELETE); suspend, resume, retry, execution; gateway (PUT, PATCH); and issue 15's keys (GET, POST), {keyId}
    // DELETE, rotate POST; users (GET, POST), {userId} DELETE, disable POST, role PUT; usage GET; issue 17's drift GET of a
    // tenant, /admin/drift (GET, POST: a drift check now); GET /admin/tiers; POST /admin/upgrades, GET /admin/upgrades/{upgradeId}.
    // GET /admin/tenants/{id}/requests/{requestId} (tessera requests show, gap review s32).
    // 28 routes, 21 methods (the 24 routes before the upgrades took 24 before ANY).
    expect(methods.length).toBe(21);
    expect(methods.filter((m) => m.Properties.HttpMethod === 'ANY')).toHaveLength(6);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('ends the operation of a lifecycle execution that stopped while holding its tenant\'s lease', () => {
    defaultAppTemplates().platformWithEventRules.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ prefix: Match.anyValue() }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('endstoppedexecution'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 } })],
    });
  });

  it('keeps its EventBridge rules and their invoke permissions in the EventRules nested stack (TesseraPlatform\'s room), their targets the platform\'s', () => {
    // GIVEN the default app
    const app = defaultAppTemplates();
    // THEN TesseraPlatform has no rule and no rule's invoke permission (the APIs' permissions stay beside their APIs)
    expect(Object.keys(platform.findResources('AWS::Events::Rule'))).toEqual([]);
    const permissions = Object.values(platform.findResources('AWS::Lambda::Permission')) as Array<{ Properties: { Principal: string } }>;
    expect(permissions.filter((p) => p.Properties.Principal === 'events.amazonaws.com')).toEqual([]);
    // the nested stack has the lifecycle's seven (s38m: the daily dead-lease sweep), fine-tuning's, and a permission for each Lambda target
    const rules = Object.values(app.eventRules.findResources('AWS::Events::Rule')) as Array<{ Properties: { Targets: Array<{ Arn: unknown }> } }>;
    expect(rules).toHaveLength(8);
    const lambdaTargets = Object.values(app.platformWithEventRules.findResources('AWS::Events::Rule')).flatMap((r: any) => r.Properties.Targets as Array<{ Arn: any }>)
      .filter((t) => typeof t.Arn?.['Fn::GetAtt']?.[0] === 'string' && /Function/.test(t.Arn['Fn::GetAtt'][0]));
    const nestedPermissions = Object.values(app.eventRules.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } }));
    expect(nestedPermissions).toHaveLength(lambdaTargets.length);
    expect(lambdaTargets.length).toBe(6);
    // s38m: Step Functions' status-change events are best effort; a daily sweep ends the leases of executions whose event was missed
    const sweep = rules.find((r: any) => /without a status-change event reaching the rule/.test(r.Properties.Description)) as any;
    expect(sweep.Properties).toMatchObject({ ScheduleExpression: 'cron(30 5 * * ? *)', Targets: [{ Input: JSON.stringify({ sweep: true }), RetryPolicy: { MaximumRetryAttempts: 2 } }] });
    // and each rule's target, read with the nested stack's parameters replaced, is a resource of TesseraPlatform
    const platformIds = new Set(Object.keys(platform.toJSON().Resources as object));
    for (const t of lambdaTargets) expect(platformIds.has(t.Arn['Fn::GetAtt'][0])).toBe(true);
  });

  it('trusts the organization access role from the lifecycle roles only', () => {
    const org = defaultAppTemplates().organization;
    org.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'TesseraOrganizationAccess',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: { ArnLike: { 'aws:PrincipalArn': Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::222222222222:role/tessera-lifecycle-*']) ]) }) } } })] },
    });
  });
});

describe('PlatformStack inference API', () => {
  it('routes /v1 through a JWT authorizer to a streaming router', () => {
    const all = Object.values(platform.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: Match.stringLikeRegexp('^InferenceApi') } } })) as any[];
    // Preflights (OPTIONS) go to the router without the authorizer: test/infra/inference-api.test.ts.
    const methods = all.filter((m) => m.Properties.Integration.ResponseTransferMode === 'STREAM' && m.Properties.HttpMethod !== 'OPTIONS');
    // The router's routes take one greedy ANY /v1/{proxy+} (lib/inference-api-methods.ts), but where another Lambda
    // shares or needs a resource: GET /v1/models and GET /v1/models/{proxy+} (DELETE is the fine-tuning Lambda's),
    // ANY /v1/tenant/{proxy+} (the keys) beside the tenant-users function's ANY /v1/tenant/users, POST .../disable and
    // PUT .../role. Was one method per resource and route: 17, for the same routes.
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['ANY', 'ANY', 'ANY', 'GET', 'GET', 'POST', 'PUT']);
    // The fine-tuning API: same authorizer and usage key, its own Lambda, answered whole.
    const fineTuning = all.filter((m) => m.Properties.Integration.ResponseTransferMode !== 'STREAM' && m.Properties.HttpMethod !== 'OPTIONS');
    // Jobs: GET, POST /jobs, GET /jobs/{id}, POST cancel, pause and resume (refused: a training job cannot pause), GET events; files: GET, POST /files, GET, DELETE /files/{proxy+};
    // DELETE /v1/models/{proxy+} (a fine-tuned model); uploads: POST /uploads, POST /uploads/{proxy+} (parts, complete, cancel).
    expect(fineTuning.map((m) => m.Properties.HttpMethod).sort()).toEqual(['DELETE', 'DELETE', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST']);
    // Its ten resources (six of jobs, two of files, two of uploads) answer their own preflights (the fine-tuning Lambda reads the origin index), without authorizer or key.
    const fineTuningPreflights = all.filter((m) => m.Properties.Integration.ResponseTransferMode !== 'STREAM' && m.Properties.HttpMethod === 'OPTIONS');
    expect(fineTuningPreflights).toHaveLength(10);
    for (const m of fineTuningPreflights) {
      expect(m.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false, Integration: { Type: 'AWS_PROXY' } });
      expect(JSON.stringify(m.Properties.Integration.Uri)).toMatch(/FineTuningApiFunction/);
    }
    const queries = Object.values(defaultAppTemplates().platformWithPolicies.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement.filter((st: any) => st.Sid === 'CorsOriginIndex').map((st: any) => ({ roles: JSON.stringify(p.Properties.Roles), st })));
    expect(queries.map((q) => q.roles).join(' ')).toMatch(/FineTuningApi/);
    for (const q of queries) expect(q.st).toMatchObject({ Action: 'dynamodb:Query', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^InferenceCorsOrigins|CorsOrigins/), 'Arn'] } });
    for (const m of fineTuning) expect(m.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY' } });
    for (const m of methods) {
      expect(m.Properties.AuthorizationType).toBe('CUSTOM');
      expect(m.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' });
    }
    // Within the 60 s key revocation window with the authorizer Lambda's own cache (test/infra/tenant-identity.test.ts).
    platform.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: authorizerCacheTtlSeconds() });
    for (const m of methods) expect(m.Properties.ApiKeyRequired).toBe(true);
    platform.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'tessera-inference', ApiKeySourceType: 'AUTHORIZER' });
  });

  it('has one usage plan per tier with the tier\'s rate and daily quota', () => {
    platform.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: 'tessera-starter', Throttle: { RateLimit: 2, BurstLimit: 17 }, Quota: { Limit: 10_000, Period: 'DAY' } });
    platform.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: 'tessera-enterprise', Throttle: { RateLimit: 17, BurstLimit: 167 }, Quota: { Limit: 100_000, Period: 'DAY' } });
  });

  it('puts the API behind WAF (managed rules, per-IP rate), with logs', () => {
    platform.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'REGIONAL', Rules: Match.arrayWith([Match.objectLike({ Name: 'per-ip-rate' })]) });
    platform.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    platform.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { RedactedFields: [{ SingleHeader: { Name: 'authorization' } }] });
  });

  it('keeps counters in an encrypted, retained usage table, and issues tenant tokens from an MFA-required user pool', () => {
    platform.hasResource('AWS::DynamoDB::GlobalTable', { Properties: Match.objectLike({ TableName: 'tessera-usage', TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }), DeletionPolicy: 'Retain' });
    platform.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', Schema: Match.arrayWith([Match.objectLike({ Name: 'tenant_id', Mutable: false })]) });
  });
});
