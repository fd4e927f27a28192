import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { LIFECYCLE_ROLE_PREFIX, ORGANIZATION_ACCESS_ROLE_NAME } from '../lib/lifecycle-handlers.js';
import { roleArn, TENANT_ID_TAG } from '../lib/tenant-naming.js';

export interface OrganizationAccessRoleProps {
  /** The platform account whose lifecycle functions assume this role. */
  readonly platformAccountId: string;
  /** Name of the provisioning role in member accounts (reached by chaining from here). */
  readonly provisioningRoleName: string;
  /** The organization (`config.organization.organizationId`): its accounts' provisioning roles only (aws:ResourceOrgID). */
  readonly organizationId: string;
  /**
   * The ARN of Tessera's quarantine SCP `tessera-quarantine` (its `AWS::Organizations::Policy`'s `Arn`): the one SCP the
   * lifecycle may attach to and detach from accounts.
   */
  readonly quarantineScpArn: string;
  /**
   * `config.organization.externalQuarantinePolicies`' ids: SCPs *Activate tenant* may detach from tenant accounts.
   * @default - none
   */
  readonly externalQuarantinePolicyIds?: readonly string[];
  /**
   * The opt-in regions account tiers need (lib/config/region-opt-in.ts accountTierOptInRegions): *Enable regions* may
   * enable these, and only these, in this organization's member accounts ({@link regionOptInStatements}).
   * @default - none: no Account Management grant
   */
  readonly optInRegions?: readonly string[];
  /**
   * The alternate contact types account tiers set (lib/config/alternate-contacts.ts configuredAlternateContactTypes):
   * *Set alternate contacts* may put these, and only these, in this organization's member accounts ({@link alternateContactStatements}).
   * @default - none: no such grant
   */
  readonly alternateContactTypes?: readonly string[];
}

/**
 * The management account's door for the platform: only the lifecycle functions' roles may use it,
 * for the Organizations calls of account vending and closure, and to chain into the provisioning
 * role of member accounts (which trusts the management account).
 */
export class OrganizationAccessRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OrganizationAccessRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      roleName: ORGANIZATION_ACCESS_ROLE_NAME,
      maxSessionDuration: Duration.hours(1),
      description: 'Tessera lifecycle: Organizations account vending and closure, and the way into member accounts',
      assumedBy: new iam.AccountPrincipal(props.platformAccountId).withConditions({
        ArnLike: { 'aws:PrincipalArn': roleArn(Aws.PARTITION, props.platformAccountId, `${LIFECYCLE_ROLE_PREFIX}*`) },
      }),
    });
    const provisioningRoles = roleArn(Aws.PARTITION, '*', props.provisioningRoleName);
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        ...organizationsStatements(stack.account, props.organizationId, props.quarantineScpArn, props.externalQuarantinePolicyIds),
        ...regionOptInStatements(stack.account, props.organizationId, props.optInRegions ?? []),
        ...alternateContactStatements(stack.account, props.organizationId, props.alternateContactTypes ?? []),
        ...accountTagsStatements(stack.account, props.organizationId),
        new iam.PolicyStatement({
          sid: 'IntoMemberAccounts',
          actions: ['sts:AssumeRole'],
          resources: [provisioningRoles],
          // The account part is "*" (accounts are vended at run time): only roles of this organization's accounts.
          conditions: { StringEquals: { 'aws:ResourceOrgID': props.organizationId } },
        }),
      ],
    });
    acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus, ListRoots, ListPolicies and ListAccounts have no resource type; every other Organizations action is scoped to this organization.');
    if (props.optInRegions?.length) {
      acknowledge(policy, [wildcardResourceFinding(this, memberAccountArns(stack.account, props.organizationId))],
        'Tenant accounts are created at run time: account:EnableRegion and account:GetRegionOptStatus are granted on this organization\'s member accounts only (accountInOrganization), and only for the opt-in regions the config\'s account tiers use (account:TargetRegion).');
    }
    if (props.alternateContactTypes?.length) {
      acknowledge(policy, [wildcardResourceFinding(this, memberAccountArns(stack.account, props.organizationId))],
        'Tenant accounts are created at run time: account:PutAlternateContact is granted on this organization\'s member accounts only (accountInOrganization), and only for the contact types the config\'s tiers set (account:AlternateContactTypes).');
    }
    acknowledge(policy, [...organizationResourceArns(stack.account, props.organizationId), provisioningRoles].map((arn) => wildcardResourceFinding(this, arn)), 'Accounts and OUs are addressed within this organization only (the only SCPs, tessera-quarantine and the listed external ones, by their ARNs); member accounts are created at run time, so their provisioning roles are named by pattern, limited to this organization\'s accounts (aws:ResourceOrgID).');
  }
}

/** The SSM parameter that hands tessera-quarantine's ARN to TesseraPlatform (lib/quarantine-scp-parameter.ts, where doctor reads it too). */
export { QUARANTINE_SCP_ARN_PARAMETER } from '../lib/quarantine-scp-parameter.js';

/** Every account, OU and root of one organization, as IAM resources (no SCP: those are named one by one). */
export function organizationResourceArns(managementAccountId: string, organizationId: string): string[] {
  const arn = (resource: string) => `arn:${Aws.PARTITION}:organizations::${managementAccountId}:${resource}/${organizationId}/*`;
  return [arn('account'), arn('ou'), arn('root')];
}

/**
 * Every member account of one organization as the Account Management API's resource type `accountInOrganization`:
 * `arn:${Partition}:account::${ManagementAccountId}:account/o-${OrganizationId}/${MemberAccountId}` (the config's
 * `organizationId` carries its `o-`). Source: Service Authorization Reference, AWS Account Management, resource types
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsaccountmanagement.html).
 */
export function memberAccountArns(managementAccountId: string, organizationId: string): string {
  return `arn:${Aws.PARTITION}:account::${managementAccountId}:account/${organizationId}/*`;
}

/**
 * *Enable regions*' grant (lambdas/lifecycle/enable-regions.ts), statement `EnableOptInRegions`: account:EnableRegion and
 * account:GetRegionOptStatus on this organization's member accounts (`accountInOrganization`, {@link memberAccountArns}),
 * with `account:TargetRegion` limited to `regions`, the opt-in regions the config's account tiers use. No statement when
 * `regions` is empty (the default config). The calls also need trusted access for account.amazonaws.com in the
 * organization (docs/deploying.md; `tessera doctor` checks it). Source: Service Authorization Reference, AWS Account
 * Management (actions EnableRegion, GetRegionOptStatus; condition key account:TargetRegion).
 */
export function regionOptInStatements(managementAccountId: string, organizationId: string, regions: readonly string[]): iam.PolicyStatement[] {
  if (regions.length === 0) return [];
  return [new iam.PolicyStatement({
    sid: 'EnableOptInRegions',
    actions: ['account:EnableRegion', 'account:GetRegionOptStatus'],
    resources: [memberAccountArns(managementAccountId, organizationId)],
    conditions: { StringEquals: { 'account:TargetRegion': [...regions] } },
  })];
}

/**
 * *Set alternate contacts*' grant (lambdas/lifecycle/set-alternate-contacts.ts), statement `PutAlternateContacts`:
 * account:PutAlternateContact on this organization's member accounts (`accountInOrganization`, {@link memberAccountArns}),
 * with every `account:AlternateContactTypes` value among `types`, the types the config's tiers set (so no other type can
 * be overwritten), and nothing else (no Get, no Delete). No statement when `types` is empty (the default config). The
 * call also needs trusted access for account.amazonaws.com in the organization. Source: Service Authorization Reference,
 * AWS Account Management (action PutAlternateContact; condition key account:AlternateContactTypes, ArrayOfString).
 */
export function alternateContactStatements(managementAccountId: string, organizationId: string, types: readonly string[]): iam.PolicyStatement[] {
  if (types.length === 0) return [];
  return [new iam.PolicyStatement({
    sid: 'PutAlternateContacts',
    actions: ['account:PutAlternateContact'],
    resources: [memberAccountArns(managementAccountId, organizationId)],
    conditions: { 'ForAllValues:StringEquals': { 'account:AlternateContactTypes': [...types] } },
  })];
}

/**
 * The ARN of SCP `policyId` of one organization, as IAM names it: `policy/<organization id>/service_control_policy/<policy id>`.
 * Source: Service Authorization Reference, AWS Organizations, resource type `policy`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
 */
export function scpArn(managementAccountId: string, organizationId: string, policyId: string): string {
  return `arn:${Aws.PARTITION}:organizations::${managementAccountId}:policy/${organizationId}/service_control_policy/${policyId}`;
}

/**
 * The Organizations permissions of account vending, quarantine and closure:
 * - `VendAndList`: the actions without a resource type, on `*`;
 * - `FindMoveAndCloseAccounts`: the lookups, MoveAccount, CloseAccount and TagResource on this organization's accounts,
 *   OUs and root, and no SCP;
 * - `PlaceTesseraQuarantine`: organizations:AttachPolicy and DetachPolicy of `quarantineScpArn` (tessera-quarantine)
 *   only, on this organization's accounts only: no step attaches to or detaches from an OU or the root (*Quarantine
 *   account* and the fence of a failed onboarding attach it to the tenant's account, *Activate tenant* detaches it
 *   there), and the organization's other SCPs (Control Tower's `aws-guardrails-*`, LZA's, Tessera's guardrails) stay
 *   out of reach;
 * - with `externalQuarantinePolicyIds` (`config.organization.externalQuarantinePolicies`), `DetachExternalQuarantine`:
 *   organizations:DetachPolicy of exactly those SCPs (each ARN by its id, no wildcard) from this organization's accounts.
 *
 * Why by ARN: AttachPolicy and DetachPolicy are authorized on the `policy` resource (required) and on the target
 * (`account`, `organizationalunit` or `root`, optional), and their one service condition key, `organizations:PolicyType`,
 * tells an SCP from a tag or backup policy but not one SCP from another; `aws:ResourceTag` on the policy would let
 * whoever may tag an SCP widen the grant (Service Authorization Reference, AWS Organizations:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
 * @param quarantineScpArn - tessera-quarantine's ARN: its policy resource's `Arn` in TesseraOrganization; in
 *   TesseraPlatform (platform account = management account) the value of QUARANTINE_SCP_ARN_PARAMETER
 */
export function organizationsStatements(managementAccountId: string, organizationId: string, quarantineScpArn: string, externalQuarantinePolicyIds: readonly string[] = []): iam.PolicyStatement[] {
  const accounts = `arn:${Aws.PARTITION}:organizations::${managementAccountId}:account/${organizationId}/*`;
  return [
    new iam.PolicyStatement({
      // These actions have no resource type.
      sid: 'VendAndList',
      actions: ['organizations:CreateAccount', 'organizations:DescribeCreateAccountStatus', 'organizations:ListCreateAccountStatus', 'organizations:ListRoots', 'organizations:ListPolicies', 'organizations:ListAccounts'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'FindMoveAndCloseAccounts',
      actions: [
        'organizations:ListOrganizationalUnitsForParent', 'organizations:ListPoliciesForTarget', 'organizations:ListParents', 'organizations:DescribeAccount',
        'organizations:MoveAccount', 'organizations:CloseAccount', 'organizations:TagResource',
      ],
      resources: organizationResourceArns(managementAccountId, organizationId),
    }),
    new iam.PolicyStatement({
      // Authorized on the policy (required) and on its target: tessera-quarantine, on accounts only.
      sid: 'PlaceTesseraQuarantine',
      actions: ['organizations:AttachPolicy', 'organizations:DetachPolicy'],
      resources: [quarantineScpArn, accounts],
    }),
    ...(externalQuarantinePolicyIds.length ? [new iam.PolicyStatement({
      // DetachPolicy is authorized on the policy (required) and on its target: the listed SCPs, from accounts only.
      sid: 'DetachExternalQuarantine',
      actions: ['organizations:DetachPolicy'],
      resources: [...externalQuarantinePolicyIds.map((id) => scpArn(managementAccountId, organizationId, id)), accounts],
    })] : []),
  ];
}

/**
 * The Organizations permission of *Tag account* (lambdas/lifecycle/tag-account.ts) beyond organizationsStatements' (whose
 * `FindMoveAndCloseAccounts` grants TagResource): `UntagTenantAccountTags`, organizations:UntagResource on this
 * organization's accounts that carry `tessera:tenant-id` (the accounts Tessera vended), of keys other than `tessera:*`
 * and `aws:*` (`aws:TagKeys`, with `ForAllValues` and a `Null` check so that a request naming no key does not pass): the
 * tenant's own keys a tags change drops. The tenant's account ARN is known only at run time (one role serves every
 * tenant), so the resource is this organization's accounts and the tag conditions narrow it. A statement of its own, so
 * that with the platform in the management account only *Tag account*'s role holds it. Source: Service Authorization
 * Reference, AWS Organizations (UntagResource: resource types account/ou/root/policy with `aws:ResourceTag/${TagKey}`,
 * condition key `aws:TagKeys`): https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
 */
export function accountTagsStatements(managementAccountId: string, organizationId: string): iam.PolicyStatement[] {
  const accounts = `arn:${Aws.PARTITION}:organizations::${managementAccountId}:account/${organizationId}/*`;
  return [new iam.PolicyStatement({
    // *Tag account* (tag-account.ts) removes the tenant's own tag keys a change drops: UntagResource is authorized on the
    // account (aws:ResourceTag/${TagKey}) and takes aws:TagKeys, so only accounts Tessera vended (tagged
    // tessera:tenant-id at CreateAccount), and never a key of Tessera's (tessera:*) or AWS's (aws:*).
    sid: 'UntagTenantAccountTags',
    actions: ['organizations:UntagResource'],
    resources: [accounts],
    conditions: {
      Null: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: 'false', 'aws:TagKeys': 'false' },
      'ForAllValues:StringNotLike': { 'aws:TagKeys': ['tessera:*', 'aws:*'] },
    },
  })];
}
