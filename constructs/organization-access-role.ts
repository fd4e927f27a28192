import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { LIFECYCLE_ROLE_PREFIX, ORGANIZATION_ACCESS_ROLE_NAME } from '../lib/lifecycle-handlers.js';
import { roleArn } from '../lib/tenant-naming.js';

export interface OrganizationAccessRoleProps {
  /** The platform account whose lifecycle functions assume this role. */
  readonly platformAccountId: string;
  /** Name of the provisioning role in member accounts (reached by chaining from here). */
  readonly provisioningRoleName: string;
  readonly organizationId: string;
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
    const orgArn = (resource: string) => `arn:${Aws.PARTITION}:organizations::${stack.account}:${resource}/${props.organizationId}/*`;
    const organizationResources = [
      orgArn('account'), orgArn('ou'), orgArn('root'), `arn:${Aws.PARTITION}:organizations::${stack.account}:policy/${props.organizationId}/service_control_policy/*`,
    ];
    const provisioningRoles = roleArn(Aws.PARTITION, '*', props.provisioningRoleName);
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadOrganization',
          actions: ['organizations:ListRoots', 'organizations:ListOrganizationalUnitsForParent', 'organizations:ListPolicies', 'organizations:ListPoliciesForTarget', 'organizations:ListParents', 'organizations:ListAccounts', 'organizations:DescribeCreateAccountStatus', 'organizations:DescribeAccount'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({ sid: 'VendAccounts', actions: ['organizations:CreateAccount', 'organizations:TagResource'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'PlaceQuarantineAndCloseAccounts',
          actions: ['organizations:AttachPolicy', 'organizations:DetachPolicy', 'organizations:MoveAccount', 'organizations:CloseAccount'],
          resources: organizationResources,
        }),
        new iam.PolicyStatement({
          sid: 'IntoMemberAccounts',
          actions: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
          resources: [provisioningRoles],
        }),
      ],
    });
    acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'The Organizations List/Describe actions and CreateAccount have no resource type; CreateAccount is also limited by the organization itself and by the five-at-a-time cap of the lifecycle.');
    acknowledge(policy, [...organizationResources, provisioningRoles].map((arn) => wildcardResourceFinding(this, arn)), 'Accounts, OUs and the quarantine SCP are addressed within this organization only; member accounts are created at run time, so their provisioning roles are named by pattern.');
  }
}
