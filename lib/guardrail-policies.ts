/**
 * Service control policy documents for Tessera-managed OUs. Pure data so that tests can check
 * contents and the 5,120-character SCP size limit without synthesizing.
 */

import { ACCOUNT_CUSTOMIZATIONS_ROLE_NAME, SERVICE_ROLE_PATH } from './tenant-naming.js';

export interface GuardrailInput {
  readonly allowedRegions: string[];
  /** The lifecycle's role in member accounts (Organizations creates it in vended accounts). */
  readonly provisioningRoleName: string;
  readonly breakGlassRoleName: string;
  /** CloudFormation service role of tenant stacks in each member account (the account baseline creates it). */
  readonly blueprintExecutionRoleName: string;
}

/** Actions of global services (or global endpoints) exempted from the region deny; after AWS's example SCP. */
export const GLOBAL_SERVICE_ACTIONS = [
  'a4b:*', 'acm:*', 'aws-marketplace-management:*', 'aws-marketplace:*', 'aws-portal:*', 'budgets:*', 'ce:*',
  'chime:*', 'cloudfront:*', 'config:*', 'cur:*', 'directconnect:*', 'ec2:DescribeRegions',
  'ec2:DescribeTransitGateways', 'ec2:DescribeVpnGateways', 'fms:*', 'globalaccelerator:*', 'health:*', 'iam:*',
  'importexport:*', 'kms:*', 'networkmanager:*', 'organizations:*', 'pricing:*', 'route53:*',
  'route53domains:*', 's3:GetAccountPublic*', 's3:ListAllMyBuckets', 's3:PutAccountPublic*', 'shield:*', 'sts:*',
  'support:*', 'trustedadvisor:*', 'waf-regional:*', 'waf:*', 'wafv2:*', 'wellarchitected:*', 'account:*', 'sso:*',
];

const CLOUDTRAIL_TAMPERING = [
  'cloudtrail:StopLogging', 'cloudtrail:DeleteTrail', 'cloudtrail:UpdateTrail', 'cloudtrail:PutEventSelectors',
  'cloudtrail:PutInsightSelectors', 'cloudtrail:DeleteEventDataStore', 'cloudtrail:UpdateEventDataStore',
  'cloudtrail:StopEventDataStoreIngestion',
];

const ROLE_MUTATIONS = [
  'iam:CreateRole', 'iam:AttachRolePolicy', 'iam:DeleteRole', 'iam:DeleteRolePermissionsBoundary', 'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:TagRole', 'iam:UntagRole',
];

/** Changing what a Tessera customer-managed policy grants. */
const POLICY_MUTATIONS = ['iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion'];

/** Stack operations on Tessera stacks (tenant stacks and the account baseline). */
const STACK_MUTATIONS = [
  'cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:CreateChangeSet',
  'cloudformation:ExecuteChangeSet', 'cloudformation:ContinueUpdateRollback', 'cloudformation:RollbackStack', 'cloudformation:CancelUpdateStack',
  'cloudformation:SetStackPolicy', 'cloudformation:UpdateTerminationProtection',
];

export type PolicyDocument = { Version: '2012-10-17'; Statement: Array<Record<string, unknown>> };

const provisioningRole = (input: Pick<GuardrailInput, 'provisioningRoleName'>) => `arn:aws:iam::*:role/${input.provisioningRoleName}`;
const executionRole = (input: Pick<GuardrailInput, 'blueprintExecutionRoleName'>) => `arn:aws:iam::*:role/${input.blueprintExecutionRoleName}`;
/** CloudFormation's service role of account customization stacks (the account baseline creates it in an account tier's tenant account). */
const customizationsRole = `arn:aws:iam::*:role/${ACCOUNT_CUSTOMIZATIONS_ROLE_NAME}`;
/** Sessions of the AWS service roles a blueprint creates (EKS, flow logs, RDS monitoring, Backup): on one IAM path, named after their stack. */
const serviceRoles = `arn:aws:iam::*:role${SERVICE_ROLE_PATH}tessera-*`;
/** The principals that deploy and administer Tessera resources in a member account. */
const deployers = (input: Pick<GuardrailInput, 'provisioningRoleName' | 'blueprintExecutionRoleName'>) => [provisioningRole(input), executionRole(input)];

/** Attached to every Tessera OU: the rules no tenant account may break. */
export function guardrailPolicy(input: GuardrailInput): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'DenyLeavingOrganization', Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' },
      { Sid: 'DenyCloudTrailTampering', Effect: 'Deny', Action: CLOUDTRAIL_TAMPERING, Resource: '*' },
      {
        Sid: 'DenyOutsideAllowedRegions',
        Effect: 'Deny',
        NotAction: GLOBAL_SERVICE_ACTIONS,
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:RequestedRegion': input.allowedRegions } },
      },
      { Sid: 'DenyRootUser', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:root' } } },
      {
        Sid: 'ProtectTesseraRoles',
        Effect: 'Deny',
        Action: ROLE_MUTATIONS,
        Resource: [provisioningRole(input), executionRole(input), `arn:aws:iam::*:role/${input.breakGlassRoleName}`, 'arn:aws:iam::*:role/tessera-*', 'arn:aws:iam::*:role/tessera/*'],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': deployers(input) } },
      },
      {
        // The tenant stacks' policies and the execution role's own (named after the role).
        Sid: 'ProtectTesseraPolicies',
        Effect: 'Deny',
        Action: POLICY_MUTATIONS,
        Resource: ['arn:aws:iam::*:policy/tessera-*', `arn:aws:iam::*:policy/${input.blueprintExecutionRoleName}-*`],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': deployers(input) } },
      },
      {
        // Only the provisioning role may hand the execution role (or the customizations role) to CloudFormation or change a
        // Tessera stack: otherwise anyone able to drive CloudFormation in the account could deploy
        // any template as the principal every tenant key and bucket policy admits.
        Sid: 'ProtectBlueprintExecution',
        Effect: 'Deny',
        Action: 'iam:PassRole',
        Resource: [executionRole(input), customizationsRole],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': provisioningRole(input) } },
      },
      {
        Sid: 'ProtectTesseraStacks',
        Effect: 'Deny',
        Action: STACK_MUTATIONS,
        Resource: 'arn:aws:cloudformation:*:*:stack/tessera-*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': provisioningRole(input) } },
      },
      {
        Sid: 'ProtectTenantKeys',
        Effect: 'Deny',
        Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy'],
        Resource: '*',
        Condition: {
          Null: { 'aws:ResourceTag/tessera:tenant-id': 'false' },
          ArnNotLike: { 'aws:PrincipalArn': deployers(input) },
          Bool: { 'aws:ViaAWSService': 'false' },
        },
      },
    ],
  };
}

/**
 * Attached to a vended account until its tenant is ACTIVE, and to the Quarantine and Suspended OUs:
 * nothing happens there but the platform's deployment. Admitted are the provisioning role, the
 * blueprint execution role (CloudFormation acts as it), the account customizations role (CloudFormation acts as it for
 * the customization stacks, deployed before the tenant is ACTIVE; its permissions boundary keeps it off Tessera's
 * resources) and the AWS service roles the blueprint
 * creates on the service-role path: SCPs apply to service roles (not to service-linked roles), and
 * EKS, VPC flow logs, RDS Enhanced Monitoring and AWS Backup act through them while the stack is
 * being created. Tenant roles, break-glass and anyone else stay shut out.
 * Source: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
 * ("SCPs don't affect service-linked roles").
 */
export function quarantinePolicy(input: Pick<GuardrailInput, 'provisioningRoleName' | 'blueprintExecutionRoleName'>): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyAllButDeployment',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [...deployers(input), customizationsRole, serviceRoles] } },
      },
    ],
  };
}

/** AWS's limit on the size of one SCP document. */
export const SCP_MAX_CHARACTERS = 5120;
