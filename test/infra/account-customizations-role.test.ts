import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * The account customizations role (constructs/account-customizations-role.ts) in the account baseline: created only when
 * the lifecycle passes the tier's policies, trusted by CloudFormation of the account only, with the team's managed
 * policies under a permissions boundary that keeps Tessera's resources out of reach. The boundary is evaluated as the
 * role's cap: an action the boundary does not allow is one the role cannot take, whatever its managed policies grant.
 */
const ACCOUNT = '333333333333';
// The blueprint catalog of buildApp() (the default config), as its snapshot holds it (test/support/default-app.ts).
const baseline = defaultAppTemplates().blueprintCatalog['account-baseline.template.json'] as { Parameters: Record<string, any>; Conditions: Record<string, any>; Resources: Record<string, any> };
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

  describe('the rest of what the tenant stack makes in the account (constructs/account-customizations-role.ts, session 35)', () => {
    const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const TENANT = { 'aws:ResourceTag/tessera:tenant-id': 'acme', 'aws:ResourceTag/tessera:tier': 'enterprise' };
    const OWN = { 'aws:ResourceTag/tessera:tenant-id': 'acme', 'aws:ResourceTag/tessera:component': 'account-customization' };
    // Each: an action a customization stack (or a role it makes, under the same boundary) could take to read tenant data or
    // change Tessera's controls, on the resource's ARN as the blueprints name it (lib/tenant-stack.ts, lib/tenant-naming.ts).
    const denied: Array<[string, string, Record<string, string>?]> = [
      // An S3 access point on the tenant bucket: IAM names the access point, not the bucket, so every one is refused.
      ['s3:CreateAccessPoint', `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/reader`],
      ['s3:PutAccessPointPolicy', `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/reader`],
      ['s3:CreateAccessPointForObjectLambda', `arn:aws:s3-object-lambda:us-east-1:${ACCOUNT}:accesspoint/reader`],
      ['s3:PutAccessPointPolicyForObjectLambda', `arn:aws:s3-object-lambda:us-east-1:${ACCOUNT}:accesspoint/reader`],
      ['s3:PutAccessPointConfigurationForObjectLambda', `arn:aws:s3-object-lambda:us-east-1:${ACCOUNT}:accesspoint/reader`],
      ['s3:CreateMultiRegionAccessPoint', `arn:aws:s3::${ACCOUNT}:accesspoint/reader.mrap`],
      ['s3:PutMultiRegionAccessPointPolicy', `arn:aws:s3::${ACCOUNT}:accesspoint/reader.mrap`],
      ['s3:CreateAccessGrantsLocation', `arn:aws:s3:us-east-1:${ACCOUNT}:access-grants/default/location/1`, { 's3:AccessGrantsLocationScope': 's3://tessera-acme-storagebucket5cb7c8ea-1a2b3c/*' }],
      ['s3:CreateAccessGrant', `arn:aws:s3:us-east-1:${ACCOUNT}:access-grants/default/grant/1`, { 's3:AccessGrantScope': 's3://tessera-acme-storagebucket5cb7c8ea-1a2b3c/prompts/*' }],
      // The access logs bucket: CloudFormation names it after the stack, lower-cased.
      ['s3:GetObject', 'arn:aws:s3:::tessera-acme-storageaccesslogsbucket06e03aa1-9z8y7x/tenant-bucket/2026-12-05'],
      // EventBridge: the forwarding rules, their targets, the platform bus.
      ['events:DisableRule', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-acme-training-events`],
      ['events:PutRule', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-acme-endpoint-events`],
      ['events:RemoveTargets', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-acme-training-events-alarm`],
      ['events:PutTargets', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-acme-restore-events`],
      ['events:PutEvents', 'arn:aws:events:us-east-1:222222222222:event-bus/tessera-lifecycle'],
      // SQS: the rules' dead-letter queues (and the platform's queues, tessera-*).
      ['sqs:PurgeQueue', `arn:aws:sqs:us-east-1:${ACCOUNT}:tessera-acme-dlq-training-events`],
      ['sqs:ReceiveMessage', `arn:aws:sqs:us-east-1:${ACCOUNT}:tessera-acme-dlq-restore-events`],
      ['sqs:SetQueueAttributes', `arn:aws:sqs:us-east-1:${ACCOUNT}:tessera-acme-dlq-training-events`],
      ['sqs:SendMessage', 'arn:aws:sqs:us-east-1:222222222222:tessera-infrastructure-budget-alerts'],
      // CloudWatch: the dead-letter queues' alarms (one named Tessera-TenantDlq-<tenant>-…, one named by CloudFormation).
      ['cloudwatch:DisableAlarmActions', `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:Tessera-TenantDlq-acme-restore-events`],
      ['cloudwatch:DeleteAlarms', `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:tessera-acme-TrainingEventsDeadLetterAlarm8FD213ED-AbC123`],
      // The infrastructure budget: a higher limit or no notification silences the alerts.
      ['budgets:ModifyBudget', `arn:aws:budgets::${ACCOUNT}:budget/tessera-acme-infrastructure`],
      // SSM parameters of Tessera's namespace; Lambda functions named tessera-*.
      ['ssm:PutParameter', `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/tessera/shared-cluster/kubectl-service-token`],
      ['lambda:UpdateFunctionCode', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:tessera-acme-Handler-AbC123`],
      // AWS Backup: the restore testing plan by name, the backup plan and recovery points by their tags.
      ['backup:UpdateRestoreTestingPlan', `arn:aws:backup:us-east-1:${ACCOUNT}:restore-testing-plan:tessera_acme_database-1a2b3c4d`],
      ['backup:DeleteBackupPlan', `arn:aws:backup:us-east-1:${ACCOUNT}:backup-plan:8f81a8b9-0c2d-4e5f-9a1b-2c3d4e5f6a7b`, TENANT],
      ['backup:StartRestoreJob', `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-1a2b3c4d`, TENANT],
      ['backup:DeleteRecoveryPoint', `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-1a2b3c4d`, TENANT],
      // KMS: a grant on the tenant key (what an RDS restore of a backup snapshot needs), and the key's other actions.
      ['kms:CreateGrant', KEY, TENANT],
      ['kms:TagResource', KEY, TENANT],
      // iam:PassRole of Tessera's roles, those CloudFormation names (tessera-<tenant>-<id>-…) and the service roles among them.
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/tessera-acme-TrainingEventsRoleE4A38465-AbC123`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/tessera/service-role/tessera-acme-database-backup`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/tessera-acme-training`],
      // EC2: the tenant VPC's security groups, endpoints (their policies), flow logs, subnets (no instance in them).
      ['ec2:AuthorizeSecurityGroupIngress', `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0123456789abcdef0`, TENANT],
      ['ec2:ModifyVpcEndpoint', `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc-endpoint/vpce-0123456789abcdef0`, TENANT],
      ['ec2:DeleteFlowLogs', `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc-flow-log/fl-0123456789abcdef0`, TENANT],
      ['ec2:RunInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/subnet-0123456789abcdef0`, TENANT],
      ['ec2:DeleteTags', `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-0123456789abcdef0`, TENANT],
      // EKS managed node groups: their Auto Scaling group and nodes carry eks:cluster-name, not tessera:tenant-id.
      ['autoscaling:UpdateAutoScalingGroup', `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:1a2b3c4d-1a2b-3c4d-5e6f-1a2b3c4d5e6f:autoScalingGroupName/eks-GpuNodes-1a2b3c4d`, { 'aws:ResourceTag/eks:cluster-name': 'tessera-acme' }],
      ['ec2:TerminateInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`, { 'aws:ResourceTag/eks:cluster-name': 'tessera-acme' }],
      // SageMaker: the tenant's fine-tuned models and endpoints (the gateway tags them tessera:tenant-id).
      ['sagemaker:InvokeEndpoint', `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/acme-ft-1a2b3c`, TENANT],
      ['sagemaker:DeleteEndpoint', `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/acme-ft-1a2b3c`, TENANT],
    ];
    // What a customization still does: its own resources, named its own way or tagged as a customization's.
    const allowed: Array<[string, string, Record<string, string>?]> = [
      ['events:PutRule', `arn:aws:events:us-east-1:${ACCOUNT}:rule/platform-guardduty-findings`],
      ['events:PutTargets', `arn:aws:events:us-east-1:${ACCOUNT}:rule/platform-guardduty-findings`, OWN],
      ['sqs:CreateQueue', `arn:aws:sqs:us-east-1:${ACCOUNT}:platform-findings`],
      ['cloudwatch:PutMetricAlarm', `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:platform-root-login`],
      ['budgets:ModifyBudget', `arn:aws:budgets::${ACCOUNT}:budget/platform-monthly`],
      ['ssm:PutParameter', `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/platform/log-bucket`],
      ['lambda:CreateFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:platform-remediation`],
      ['backup:CreateBackupPlan', `arn:aws:backup:us-east-1:${ACCOUNT}:backup-plan:*`],
      ['ec2:CreateVpc', `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/*`],
      ['autoscaling:UpdateAutoScalingGroup', `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:1a2b3c4d-1a2b-3c4d-5e6f-1a2b3c4d5e6f:autoScalingGroupName/eks-Tools-1a2b3c4d`, { 'aws:ResourceTag/eks:cluster-name': 'platform-tools' }],
      ['ec2:AuthorizeSecurityGroupIngress', `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0fedcba9876543210`, OWN],
      ['kms:CreateGrant', `arn:aws:kms:us-east-1:${ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab`],
      ['kms:CreateKey', '*'],
      ['s3:PutBucketPolicy', 'arn:aws:s3:::platform-logs-333333333333'],
    ];

    it('keeps them out of reach: access points, EventBridge rules and bus, queues, alarms, budget, parameters, functions, backups, grants, roles, the VPC, SageMaker', async () => {
      const tally = { denied: 0, allowed: 0 };
      for (const [action, resource, context] of denied) {
        expect(await within(action, resource, context), `${action} ${resource}`).toBe(false);
        tally.denied++;
      }
      for (const [action, resource, context] of allowed) {
        expect(await within(action, resource, context), `${action} ${resource}`).toBe(true);
        tally.allowed++;
      }
      console.log(`account customizations boundary: ${tally.denied} attempts on Tessera's resources denied, ${tally.allowed} on the customization's own allowed`);
    });

    it('covers every rule, queue, alarm, topic, budget, restore testing plan and function an account tier\'s blueprint names, by the name it synthesizes', async () => {
      // GIVEN the enterprise (account) tier with disaster recovery (restore testing, its events rule) and an infrastructure budget
      // (the blueprint catalog of buildApp() of that config, from its snapshot: test/support/default-app.ts)
      const built = (await appTemplates({
        tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 }, infrastructureBudget: { monthlyLimitUsd: 1000, subscriberEmails: ['finops@platform.example'] } } },
        platformDisasterRecovery: { region: 'us-west-2' },
      })).blueprintCatalog['enterprise.template.json'] as { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };
      // WHEN each named (or CloudFormation-named: <stack>-<logical id>-<suffix>) resource is put to the boundary with an action that
      // would silence or redirect it
      const attempts: Record<string, [string, (name: string) => string, (p: Record<string, any>) => unknown]> = {
        'AWS::Events::Rule': ['events:PutTargets', (n) => `arn:aws:events:us-east-1:${ACCOUNT}:rule/${n}`, (p) => p.Name],
        'AWS::SQS::Queue': ['sqs:PurgeQueue', (n) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${n}`, (p) => p.QueueName],
        'AWS::CloudWatch::Alarm': ['cloudwatch:DisableAlarmActions', (n) => `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${n}`, (p) => p.AlarmName],
        'AWS::SNS::Topic': ['sns:Subscribe', (n) => `arn:aws:sns:us-east-1:${ACCOUNT}:${n}`, (p) => p.TopicName],
        'AWS::Budgets::Budget': ['budgets:ModifyBudget', (n) => `arn:aws:budgets::${ACCOUNT}:budget/${n}`, (p) => p.Budget.BudgetName],
        'AWS::Backup::RestoreTestingPlan': ['backup:UpdateRestoreTestingPlan', (n) => `arn:aws:backup:us-east-1:${ACCOUNT}:restore-testing-plan:${n}-1a2b3c4d`, (p) => p.RestoreTestingPlanName],
        'AWS::Lambda::Function': ['lambda:UpdateFunctionCode', (n) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${n}`, (p) => p.FunctionName],
      };
      const tried: string[] = [];
      for (const [logicalId, r] of Object.entries(built.Resources)) {
        const attempt = attempts[r.Type];
        if (!attempt) continue;
        const [action, arn, nameOf] = attempt;
        // tenant "acme": the restore testing plan's name is tessera_<id with _ for ->_database (Fn::Split, which resolveIntrinsics keeps)
        const named = nameOf(JSON.parse(JSON.stringify(r.Properties ?? {}).replaceAll('{"Fn::Split":["-",{"Ref":"TenantId"}]}', '["acme"]')));
        const name = named === undefined ? `tessera-acme-${logicalId}-AbC123` : resolveIntrinsics(named, { ...pseudo, TenantId: 'acme' });
        expect(typeof name, `${r.Type} ${logicalId}`).toBe('string');
        // THEN each is denied
        expect(await within(action, arn(name as string), {}), `${action} ${arn(name as string)}`).toBe(false);
        tried.push(`${r.Type} ${name}`);
      }
      expect(tried.length).toBeGreaterThanOrEqual(10);
      expect(tried).toEqual(expect.arrayContaining([
        'AWS::Events::Rule tessera-acme-restore-events', 'AWS::SQS::Queue tessera-acme-dlq-training-events', 'AWS::CloudWatch::Alarm Tessera-TenantDlq-acme-restore-events',
        expect.stringMatching(/^AWS::Budgets::Budget tessera-acme-infrastructure-[0-9a-f]{8}$/), 'AWS::Backup::RestoreTestingPlan tessera_acme_database',
      ]));
    });
  });

  it('lets no role or user it makes escape the boundary: none created without it, none has it removed', async () => {
    expect(await within('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Unbounded`)).toBe(false);
    expect(await within('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Unbounded`, { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/Other` })).toBe(false);
    expect(await within('iam:PutRolePermissionsBoundary', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`, { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/AdministratorAccess' })).toBe(false);
    expect(await within('iam:DeleteRolePermissionsBoundary', `arn:aws:iam::${ACCOUNT}:role/SecurityAudit`)).toBe(false);
    expect(await within('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/tooling`)).toBe(false);
  });
});
