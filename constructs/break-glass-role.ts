import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { tenantRoleName } from '../lib/tenant-naming.js';
import { policyScopeFor } from './lambda-function.js';

export interface BreakGlassRoleProps {
  /** Role name; tenant break-glass roles trust exactly this name in the platform account. */
  readonly roleName: string;
  /** The organization (`config.organization.organizationId`): tenant break-glass roles of its accounts only (aws:ResourceOrgID). */
  readonly organizationId: string;
}

/**
 * The audited path from a platform admin to tenant data: assumable only with MFA and a
 * SourceIdentity naming the human (which CloudTrail then records in every account the session
 * reaches), and able to do one thing: assume a tenant's own break-glass role.
 */
export class BreakGlassRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BreakGlassRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Tessera break-glass: MFA and sts:SourceIdentity required; reaches tenant break-glass roles only',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.AccountPrincipal(Aws.ACCOUNT_ID).withConditions({
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
        StringLike: { 'sts:SourceIdentity': '?*' },
      }),
    });
    this.role.assumeRolePolicy?.addStatements(new iam.PolicyStatement({
      actions: ['sts:SetSourceIdentity'],
      principals: [new iam.AccountPrincipal(Aws.ACCOUNT_ID)],
      conditions: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    }));
    const tenantBreakGlass = `arn:${Aws.PARTITION}:iam::*:role/${tenantRoleName('*', 'break-glass')}`;
    const policy = new iam.ManagedPolicy(policyScopeFor(this), 'Policy', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({
        sid: 'AssumeTenantBreakGlassRoles',
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
        resources: [tenantBreakGlass],
        // The account part is "*" (tenant accounts are vended at run time): only roles of this organization's accounts.
        conditions: { StringEquals: { 'aws:ResourceOrgID': props.organizationId } },
      })],
    });
    acknowledge(policy, [`AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${tenantRoleName('*', 'break-glass')}]`],
      'Tenants live in accounts created at run time; the pattern admits only tenant break-glass roles of this organization\'s accounts (aws:ResourceOrgID), each of which trusts this role alone and demands the SourceIdentity it passes on.');
  }
}
