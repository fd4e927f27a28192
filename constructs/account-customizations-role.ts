import { Aws, CfnCondition, CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import {
  ACCOUNT_CUSTOMIZATIONS_BOUNDARY_NAME, ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER, ACCOUNT_CUSTOMIZATIONS_ROLE_NAME, SERVICE_ROLE_PATH, TENANT_ID_TAG,
} from '../lib/tenant-naming.js';

export interface AccountCustomizationsRoleProps {
  /** `config.roles.blueprintExecutionRoleName`: the role, and its policies `<name>-*`, the boundary keeps out of reach. */
  readonly blueprintExecutionRoleName: string;
  /** `config.roles.provisioningRoleName`: the lifecycle's role in the account. */
  readonly provisioningRoleName: string;
  /** `config.roles.breakGlassRoleName`. */
  readonly breakGlassRoleName: string;
}

/** `tessera:component` of a customization stack (lambdas/lifecycle/customizations.ts CUSTOMIZATION_COMPONENT), which its resources inherit. */
const CUSTOMIZATION_COMPONENT = 'account-customization';

/** Role changes the boundary denies on Tessera's roles (the guardrail SCP's ProtectTesseraRoles, plus passing and assuming them). */
const ROLE_ACTIONS = [
  'iam:AttachRolePolicy', 'iam:CreateRole', 'iam:DeleteRole', 'iam:DeleteRolePermissionsBoundary', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary', 'iam:PutRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateAssumeRolePolicy', 'iam:UpdateRole',
  'iam:UpdateRoleDescription', 'iam:PassRole', 'sts:AssumeRole', 'sts:TagSession',
];

/** Never within the boundary: the organization, the account's settings, long-term IAM credentials. */
const OUT_OF_BOUNDS = [
  'organizations:*', 'account:*', 'iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:CreateLoginProfile', 'iam:UpdateLoginProfile',
  'iam:CreateServiceSpecificCredential', 'iam:UploadSSHPublicKey', 'iam:CreateSAMLProvider', 'iam:CreateOpenIDConnectProvider',
];

/** Changes of what a customer-managed policy grants. */
const POLICY_ACTIONS = ['iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:TagPolicy', 'iam:UntagPolicy'];

/** Stack operations (the guardrail SCP's ProtectTesseraStacks, here also where that SCP is not attached). */
const STACK_ACTIONS = [
  'cloudformation:CancelUpdateStack', 'cloudformation:ContinueUpdateRollback', 'cloudformation:CreateChangeSet', 'cloudformation:CreateStack',
  'cloudformation:DeleteChangeSet', 'cloudformation:DeleteStack', 'cloudformation:ExecuteChangeSet', 'cloudformation:RollbackStack',
  'cloudformation:SetStackPolicy', 'cloudformation:TagResource', 'cloudformation:UntagResource', 'cloudformation:UpdateStack',
  'cloudformation:UpdateTerminationProtection',
];

// Denies name any partition and account (a boundary acts in its own account only): plain strings keep the policy within
// IAM's 6,144 characters. Only the boundary's own ARN, which iam:PermissionsBoundary is compared with, is exact.
const anyRegion = (service: string, resource: string) => `arn:*:${service}:*:*:${resource}`;
const iamArn = (resource: string) => `arn:*:iam::*:${resource}`;

/**
 * Services whose resources in a tenant account Tessera's blueprints tag `tessera:tenant-id` (the tenant stack's and DR
 * stack's tags; the fine-tuning SageMaker jobs, models and endpoints the gateway tags). Denied on any resource that
 * carries that tag and is not a customization's own (`tessera:component` account-customization): KMS (the tenant
 * key, `kms:CreateGrant` among its actions), EC2 (the VPC, subnets, route tables, security groups, VPC endpoints and
 * their policies, flow logs, NAT gateways: and so no instance or interface in Tessera's subnets), AWS Backup (the
 * backup plan and restore testing plan, whose ARNs carry an id, not a name; the recovery points, tagged by the plan),
 * SageMaker, and the services also denied by name below. `aws:ResourceTag` is tested only where the service gives it;
 * the named denies cover the rest.
 */
const TAGGED_SERVICES = ['kms:*', 'ec2:*', 'backup:*', 'sagemaker:*', 'events:*', 'sqs:*', 'cloudwatch:*', 'lambda:*', 'ssm:*'];

/**
 * S3 access points, Object Lambda access points and Multi-Region Access Points: IAM names no bucket when one is created
 * or given a policy (their actions take the access point alone; no condition key names the bucket), and requests through
 * one are authorized against the access point's ARN, not the bucket's. So none at all: an access point on a Tessera
 * bucket would reach tenant data past DenyTesseraBuckets.
 */
const ACCESS_POINT_ACTIONS = ['s3:CreateAccessPoint*', 's3:PutAccessPoint*', 's3:CreateMultiRegionAccessPoint', 's3:PutMultiRegionAccessPointPolicy'];

/**
 * The statements of the permissions boundary: everything the role's managed policies grant, except Tessera's own
 * resources of the account, in any region. The guardrail SCP (lib/guardrail-policies.ts) already denies every
 * principal but Tessera's deployers role and policy changes on `tessera-*` and stack operations on `tessera-*` stacks,
 * and three key actions on tenant-tagged keys; it does not cover the tenant's data stores, the rest of the tenant key,
 * passing or assuming Tessera's roles, and it is attached to Tessera's OUs only. The boundary says it all again at the role.
 */
function boundaryStatements(props: AccountCustomizationsRoleProps, boundaryArn: string): iam.PolicyStatement[] {
  const tesseraRoles = [
    iamArn('role/tessera-*'), iamArn(`role${SERVICE_ROLE_PATH.split('/').slice(0, 2).join('/')}/*`), iamArn(`role/${props.blueprintExecutionRoleName}`),
    iamArn(`role/${props.provisioningRoleName}`), iamArn(`role/${props.breakGlassRoleName}`),
  ];
  const deny = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) => new iam.PolicyStatement({ sid, effect: iam.Effect.DENY, actions, resources, conditions });
  return [
    // A boundary grants nothing itself: the role may do what its managed policies (the platform team's choice) grant, less what
    // is denied below and the account-level actions no per-account baseline needs (NotAction: never organizations or account
    // settings, never long-term IAM credentials).
    new iam.PolicyStatement({ sid: 'AsMuchAsTheManagedPoliciesGrant', notActions: OUT_OF_BOUNDS, resources: ['*'] }),
    deny('DenyTesseraRoles', ROLE_ACTIONS, tesseraRoles),
    deny('DenyTesseraPolicies', POLICY_ACTIONS, [iamArn('policy/tessera-*'), iamArn(`policy/${props.blueprintExecutionRoleName}-*`)]),
    // A role or user it makes carries this boundary, which it cannot drop: else it could create an unbounded role and pass it to a service.
    deny('DenyPrincipalsWithoutThisBoundary', ['iam:CreateRole', 'iam:PutRolePermissionsBoundary', 'iam:CreateUser', 'iam:PutUserPermissionsBoundary'], ['*'],
      { StringNotEquals: { 'iam:PermissionsBoundary': boundaryArn } }),
    deny('DenyDroppingTheBoundary', ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'], ['*']),
    deny('DenyTesseraStacks', STACK_ACTIONS, [anyRegion('cloudformation', 'stack/tessera-*')]),
    // Tenant keys and the rest of the tenant's tagged resources carry tessera:tenant-id (the tenant stack's tags); a customization's own
    // carry it too, with tessera:component account-customization.
    deny('DenyTenantTaggedResources', TAGGED_SERVICES, ['*'], {
      Null: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: 'false' },
      StringNotEquals: { 'aws:ResourceTag/tessera:component': CUSTOMIZATION_COMPONENT },
    }),
    deny('DenyTenantKeyAliases', ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'], [anyRegion('kms', 'alias/tessera/*'), anyRegion('kms', 'alias/tessera-*')]),
    // Tenant buckets, DR buckets and the vector bucket are tessera-*; S3 bucket ARNs name no account or region.
    deny('DenyTesseraBuckets', ['s3:*'], ['arn:*:s3:::tessera-*', 'arn:*:s3:::tessera-*/*']),
    deny('DenyAccessPoints', ACCESS_POINT_ACTIONS, ['*']),
    // S3 Access Grants: no location or grant whose scope is a Tessera bucket.
    deny('DenyTesseraBucketGrants', ['s3:CreateAccessGrantsLocation', 's3:UpdateAccessGrantsLocation'], ['*'], { StringLike: { 's3:AccessGrantsLocationScope': 's3://tessera-*' } }),
    deny('DenyTesseraBucketGrant', ['s3:CreateAccessGrant'], ['*'], { StringLike: { 's3:AccessGrantScope': 's3://tessera-*' } }),
    deny('DenyTesseraVectorBuckets', ['s3vectors:*'], [anyRegion('s3vectors', 'bucket/tessera-*'), anyRegion('s3vectors', 'bucket/tessera-*/*')]),
    deny('DenyTesseraDatabase', ['rds:*'], [
      anyRegion('rds', 'db:tessera-*'), anyRegion('rds', 'snapshot:tessera-*'), anyRegion('rds', 'pg:tessera-*'), anyRegion('rds', 'subgrp:tessera-*'),
    ]),
    deny('DenyTesseraCache', ['elasticache:*'], [
      anyRegion('elasticache', 'replicationgroup:tessera-*'), anyRegion('elasticache', 'cluster:tessera-*'), anyRegion('elasticache', 'user:tessera-*'),
      anyRegion('elasticache', 'usergroup:tessera-*'), anyRegion('elasticache', 'subnetgroup:tessera-*'), anyRegion('elasticache', 'snapshot:tessera-*'),
    ]),
    deny('DenyTesseraClusters', ['eks:*'], [anyRegion('eks', 'cluster/tessera-*'), anyRegion('eks', '*/tessera-*/*')]),
    // The clusters' managed node groups: EKS names their Auto Scaling groups eks-<node group>-<id> and tags them, and the nodes
    // they launch, eks:cluster-name (not tessera:tenant-id), so scaling the group to 0 or terminating a GPU node goes by that tag.
    deny('DenyTesseraClusterNodes', ['autoscaling:*', 'ec2:*'], ['*'], { StringLike: { 'aws:ResourceTag/eks:cluster-name': 'tessera-*' } }),
    // The database's vault tessera-<tenant>-database (DR: tessera-<tenant>-dr) and restore testing plan tessera_<tenant>_database (its ARN ends -<id>).
    deny('DenyTesseraBackups', ['backup:*'], [anyRegion('backup', 'backup-vault:tessera-*'), anyRegion('backup', 'restore-testing-plan:tessera_*')]),
    deny('DenyTesseraLogGroups', ['logs:*'], [anyRegion('logs', 'log-group:/tessera/*'), anyRegion('logs', 'log-group:/aws/vendedlogs/tessera/*'),
      anyRegion('logs', 'log-group:/aws/eks/tessera-*'), anyRegion('logs', 'log-group:/aws/rds/instance/tessera-*')]),
    deny('DenyTenantSecrets', ['secretsmanager:*'], [anyRegion('secretsmanager', 'secret:tessera/*'), anyRegion('secretsmanager', 'secret:rds!*')]),
    // The infrastructure budget's topic tessera-<tenant>-infrastructure-budget (its subscription, policy and key) and any topic of
    // that name in another region: the platform's forwarder confirms a subscription of such a topic to its queue and trusts what
    // arrives, so a raw-delivery subscription or a topic without the tenant key would forge or silence the tenant's alerts.
    deny('DenyTesseraTopics', ['sns:*'], [anyRegion('sns', 'tessera-*')]),
    // The blueprints' EventBridge rules tessera-<tenant>-{training,endpoint,restore}-events and -training-events-alarm (SageMaker
    // and AWS Backup state changes forwarded to the platform bus tessera-lifecycle, which is named too), their dead-letter queues
    // tessera-<tenant>-dlq-* and those queues' alarms Tessera-TenantDlq-<tenant>-* (with CloudFormation's names tessera-<tenant>-…
    // for the unnamed ones); the infrastructure budget tessera-<tenant>-infrastructure; Lambda functions tessera-*; Tessera's SSM
    // parameters /tessera/* (the shared cluster's and the quarantine SCP's, in the accounts that hold them).
    deny('DenyTesseraEventsAndQueues', ['events:*', 'sqs:*', 'cloudwatch:*', 'lambda:*', 'budgets:*', 'ssm:*'], [
      anyRegion('events', 'rule/tessera-*'), anyRegion('events', 'event-bus/tessera-*'), anyRegion('sqs', 'tessera-*'),
      anyRegion('cloudwatch', 'alarm:tessera-*'), anyRegion('cloudwatch', 'alarm:Tessera-*'), anyRegion('lambda', 'function:tessera-*'),
      'arn:*:budgets::*:budget/tessera-*', anyRegion('ssm', 'parameter/tessera/*'),
    ]),
  ];
}

/**
 * The CloudFormation service role of the account customization stacks (`tessera-<tenant>-custom-<name>`) in an account
 * tier's tenant account: `tessera-account-customizations`, trusted by cloudformation.amazonaws.com of this account only
 * (`aws:SourceAccount`), with the managed policies the tier names (`tiers.<tier>.accountCustomizationsRole`, passed by
 * the lifecycle as the account baseline's `AccountCustomizationsPolicyArns` parameter) under the permissions boundary
 * `tessera-account-customizations-boundary`, which denies Tessera's own resources whatever they grant: its roles and
 * policies (the execution role's among them), its stacks, tenant keys, buckets, vector bucket, database, cache, cluster,
 * and its managed node groups (Auto Scaling groups and nodes tagged eks:cluster-name tessera-*), vaults and restore testing plan, log groups, secrets, SNS topics (`tessera-*`: the infrastructure budget's), EventBridge
 * rules and bus, SQS queues, alarms, Lambda functions, budget and SSM parameters; every resource tagged `tessera:tenant-id`
 * of the services in TAGGED_SERVICES (EC2, Backup, SageMaker among them); any S3 access point (IAM cannot name its bucket)
 * and Access Grants on Tessera buckets; and any role or user made without the same boundary. Created only when the parameter
 * is not empty (CloudFormation condition): the shared workload account, and accounts of tiers without customizations,
 * have none.
 * Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html (a boundary caps what the
 * identity policies grant; an explicit deny in it wins).
 */
export class AccountCustomizationsRole extends Construct {
  readonly role: iam.Role;
  readonly boundary: iam.ManagedPolicy;
  readonly condition: CfnCondition;
  readonly policyArns: CfnParameter;

  constructor(scope: Construct, id: string, props: AccountCustomizationsRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.policyArns = new CfnParameter(stack, ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER, {
      type: 'CommaDelimitedList',
      default: '',
      description: 'Managed policy ARNs of the account customizations role (the tenant tier\'s accountCustomizationsRole); empty: no such role',
    });
    this.condition = new CfnCondition(this, 'Wanted', { expression: Fn.conditionNot(Fn.conditionEquals(Fn.join('', this.policyArns.valueAsList), '')) });
    const boundaryArn = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:policy/${ACCOUNT_CUSTOMIZATIONS_BOUNDARY_NAME}`;
    this.boundary = new iam.ManagedPolicy(this, 'Boundary', {
      managedPolicyName: ACCOUNT_CUSTOMIZATIONS_BOUNDARY_NAME,
      description: 'Tessera: permissions boundary of the account customizations role and of the roles it creates (no Tessera resource)',
      statements: boundaryStatements(props, boundaryArn),
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: ACCOUNT_CUSTOMIZATIONS_ROLE_NAME,
      description: 'Tessera: CloudFormation service role of the account customization stacks tessera-<tenant>-custom-<name>',
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      permissionsBoundary: this.boundary,
      maxSessionDuration: Duration.hours(12),
    });
    const cfnRole = this.role.node.defaultChild as iam.CfnRole;
    cfnRole.managedPolicyArns = this.policyArns.valueAsList;
    for (const r of [cfnRole, this.boundary.node.defaultChild as iam.CfnManagedPolicy]) r.cfnOptions.condition = this.condition;
    acknowledge(this.boundary, ['CloudFormation-Validate::W2512'],
      'A permissions boundary grants nothing: NotAction here caps the customizations role at everything but organization, account-setting and long-term-credential actions, and its Deny statements take Tessera\'s own resources back out.');
    acknowledge(this.boundary, ['AwsSolutions::AwsSolutions-IAM5'],
      'A permissions boundary grants nothing: its Allow "*" only lets the customizations role keep what the managed policies the platform team chose grant; every Deny in it takes Tessera\'s own resources back out.');
    acknowledge(this.role, ['AwsSolutions::AwsSolutions-IAM4'],
      'The managed policies of the account customizations role are the platform team\'s choice for its customization stacks (tiers.<tier>.accountCustomizationsRole, AWS managed ones among them), capped by the role\'s permissions boundary.');
  }
}
