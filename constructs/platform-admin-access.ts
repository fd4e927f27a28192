import { Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { PLATFORM_ADMIN_POLICY_NAME } from '../lib/platform-admin-naming.js';

/** Name of the platform admins' customer-managed policy (a contract with `tessera admins create`). */
export { PLATFORM_ADMIN_POLICY_NAME };

export interface PlatformAdminAccessProps {
  /** The admin API (IAM auth): admins may invoke its `/admin/*` methods on its deployment stage. */
  readonly adminApi: apigw.RestApi;
}

/**
 * What a platform admin needs in the platform account: `execute-api:Invoke` on the admin API's
 * methods (the CLI signs its calls with SigV4) and `cloudformation:DescribeStacks` on this stack
 * (the CLIs read its outputs: `AdminApiUrl`, `TenantUserPoolId`, …). Nothing else: the admin API's
 * Lambdas act for the admin, under their own roles.
 */
export class PlatformAdminAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PlatformAdminAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const methods = props.adminApi.arnForExecuteApi('*', '/admin/*', props.adminApi.deploymentStage.stageName);
    const platformStack = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: PLATFORM_ADMIN_POLICY_NAME,
      description: 'Tessera platform admins: the admin API (SigV4) and the TesseraPlatform stack outputs',
      statements: [
        new iam.PolicyStatement({ sid: 'InvokeAdminApi', actions: ['execute-api:Invoke'], resources: [methods] }),
        new iam.PolicyStatement({ sid: 'ReadPlatformOutputs', actions: ['cloudformation:DescribeStacks'], resources: [platformStack] }),
      ],
    });
    acknowledge(this.policy, [wildcardResourceFinding(this, methods), wildcardResourceFinding(this, platformStack)],
      'The wildcards are every HTTP method and path under /admin/ of this one API and stage (the admin API\'s whole surface), and the stack id suffix of this one stack, which CloudFormation assigns.');
  }
}
