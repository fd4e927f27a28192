import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { buildApp } from '../support/synth.js';
import { configWith } from '../support/config-with.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * The account customizations role (constructs/account-customizations-role.ts) in the account baseline: created only when
 * the lifecycle passes the tier's policies, trusted by CloudFormation of the account only, with the team's managed
 * policies under a permissions boundary that keeps Tessera's resources out of reach. The boundary is evaluated as the
 * role's cap: an action the boundary does not allow is one the role cannot take, whatever its managed policies grant.
 */
const ACCOUNT = '333333333333';
const baseline = buildApp(configWith()).blueprintTemplates['account-baseline.template.json'] as { Parameters: Record<string, any>; Conditions: Record<string, any>; Resources: Record<string, any> };
const byType = (type: string) => Object.entries(baseline.Resources).filter(([, r]) => r.Type === type);
const [roleId, role] = byType('AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === 'tessera-account-customizations')!;
const [boundaryId, boundary] = byType('AWS::IAM::ManagedPolicy').find(([, r]) => r.Properties.ManagedPolicyName === 'tessera-account-customizations-boundary')!;
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': ACCOUNT, 'AWS::Region': 'us-east-1' };
const boundaryPolicy = resolveIntrinsics(boundary.Properties.PolicyDocument, pseudo) as PolicyJson;
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/tessera-account-customizations-boundary`;

/** Whether the boundary lets the role take `action` on `resource` (with `context`). */
const within = async (action: string, resource: string, context: Record<string, string | string[]> = {}) => (await evaluate({
  principalArn: `arn:aws:iam::${ACCOUNT}:role/tessera-account-customizations`, action, resource, resourceAccount: ACCOUNT, context,
  identityPolicies: [{ name: 'boundary', policy: boundaryPolicy }], scps: [],
  // A KMS key admits IAM policies only through its key policy: the default one that lets the account's IAM policies decide.
  ...(action.startsWith('kms:') ? { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] } } : {}),
})).allowed;

describe('account baseline: the account customizations role', () => {
  it('is created only when the lifecycle passes managed policy ARNs (AccountCustomizationsPolicyArns, empty by default), and carries them', () => {
    expect(baseline.Parameters.AccountCustomizationsPolicyArns).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    expect(role.Condition).toBeDefined();
    expect(boundary.Condition).toBe(role.Condition);
    expect(baseline.Conditions[role.Condition]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'AccountCustomizationsPolicyArns' }] }, ''] }] });
    expect(role.Properties.ManagedPolicyArns).toEqual({ Ref: 'AccountCustomizationsPolicyArns' });
    expect(role.Properties.PermissionsBoundary).toEqual({ Ref: boundaryId });
    expect(roleId).toMatch(/^AccountCustomizationsRole/);
    expect(role.Properties.Policies).toBeUndefined();
    // IAM's 6,144 characters of a managed policy, as synthesized (the boundary's ARN still an Fn::Join)
    expect(JSON.stringify(boundary.Properties.PolicyDocument).replace(/\s/g, '').length).toBeLessThan(6144);
  });

  it('is trusted by CloudFormation of its own account only (aws:SourceAccount)', () => {
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    }]);
  });

  it('lets it create what a platform team deploys: GuardDuty, Security Hub, Config, SNS, Budgets, its own keys and buckets, tooling roles under the same boundary', async () => {
    expect(await within('guardduty:CreateDetector', '*')).toBe(true);
    expect(await within('securityhub:EnableSecurityHub', `arn:aws:securityhub:us-east-1:${ACCOUNT}:hub/default`)).toBe(true);
    expect(await within('config:PutConfigurationRecorder', '*')).toBe(true);
    expect(await within('sns:CreateTopic', `arn:aws:sns:us-east-1:${ACCOUNT}:platform-security-alerts`)).toBe(true);
    expect(await within('budgets:ModifyBudget', `arn:aws:budgets::${ACCOUNT}:budget/monthly`)).toBe(true);
    expect(await within('s3:CreateBucket', 'arn:aws:s3:::platform-logs-333333333333')).toBe(true);
    expect(await within('kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'aws:ResourceTag/tessera:tenant-id': 'acme', 'aws:ResourceTag/tessera:component': 'account-customization' })).toBe(true);
    expect(await within('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`, { 'iam:PermissionsBoundary': BOUNDARY_ARN })).toBe(true);
    expect(await within('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`, { 'iam:PassedToService': 'config.amazonaws.com' })).toBe(true);
  });

  it('keeps Tessera\'s own resources out of reach: roles and policies, stacks, the tenant key, buckets, vector bucket, database, cache, cluster, vault, logs, secrets', async () => {
    const denied: Array<[string, string, Record<string, string>?]> = [
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/TesseraBlueprintExecution`],
      ['iam:AttachRolePolicy', `arn:aws:iam::${ACCOUNT}:role/TesseraBlueprintExecution`],
      ['sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/tessera-acme-admin`],
      ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${ACCOUNT}:role/tessera/service-role/tessera-acme-flow-logs`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/TesseraProvisioning`],
      ['iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/TesseraBlueprintExecution-KeysLogsAndBuckets`],
      ['iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/tessera-account-customizations-boundary`],
      ['cloudformation:DeleteStack', `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/tessera-acme/1`],
      ['kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'aws:ResourceTag/tessera:tenant-id': 'acme' }],
      ['kms:ScheduleKeyDeletion', `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'aws:ResourceTag/tessera:tenant-id': 'acme' }],
      ['s3:GetObject', 'arn:aws:s3:::tessera-acme-data-1a2b3c/prompts/1.json'],
      ['s3:PutBucketPolicy', 'arn:aws:s3:::tessera-acme-data-1a2b3c'],
      ['s3vectors:DeleteVectorBucket', `arn:aws:s3vectors:us-east-1:${ACCOUNT}:bucket/tessera-acme-vectors`],
      ['rds:DeleteDBInstance', `arn:aws:rds:us-east-1:${ACCOUNT}:db:tessera-acme`],
      ['elasticache:DeleteReplicationGroup', `arn:aws:elasticache:us-east-1:${ACCOUNT}:replicationgroup:tessera-acme`],
      ['eks:DeleteCluster', `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/tessera-acme`],
      ['backup:DeleteBackupVault', `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:tessera-acme-database`],
      ['logs:DeleteLogGroup', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/tessera/acme/gateway`],
      ['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-1234-AbCdEf`],
      ['organizations:LeaveOrganization', '*'],
      ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/tooling`],
    ];
    for (const [action, resource, context] of denied) expect(await within(action, resource, context), `${action} ${resource}`).toBe(false);
  });

  it('keeps the infrastructure budget\'s topic out of reach (the forwarder confirms and trusts tessera-<tenant>-infrastructure-budget topics), in any region', async () => {
    const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:tessera-acme-infrastructure-budget`;
    for (const action of ['sns:Subscribe', 'sns:SetTopicAttributes', 'sns:AddPermission', 'sns:Publish', 'sns:DeleteTopic']) expect(await within(action, topic), action).toBe(false);
    // A topic of the tenant's name in another region, without the tenant key: a raw-delivery subscription to the platform's queue.
    expect(await within('sns:CreateTopic', `arn:aws:sns:eu-west-1:${ACCOUNT}:tessera-acme-infrastructure-budget`)).toBe(false);
    expect(await within('sns:Subscribe', `arn:aws:sns:eu-west-1:${ACCOUNT}:tessera-acme-infrastructure-budget`)).toBe(false);
    expect(await within('sns:CreateTopic', `arn:aws:sns:us-east-1:${ACCOUNT}:platform-security-alerts`)).toBe(true);
  });

  it('lets no role or user it makes escape the boundary: none created without it, none has it removed', async () => {
    expect(await within('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Unbounded`)).toBe(false);
    expect(await within('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Unbounded`, { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/Other` })).toBe(false);
    expect(await within('iam:PutRolePermissionsBoundary', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`, { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/AdministratorAccess' })).toBe(false);
    expect(await within('iam:DeleteRolePermissionsBoundary', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`)).toBe(false);
    expect(await within('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/tooling`)).toBe(false);
  });
});
