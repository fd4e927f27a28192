import { Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsCliLayer } from 'aws-cdk-lib/lambda-layer-awscli';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeployTimeFunction, wildcardResourceFinding } from '../lib/compliance.js';
import { NAMESPACE_KUBECTL_HANDLER_ROLE_NAME, namespaceKubectlRoleName } from '../lib/namespace-kubectl.js';
import { guardedKubectlHandlerCode, V1_KUBECTL_HANDLER } from './guarded-kubectl-handler.js';

/**
 * The guard in front of aws-eks (v1)'s kubectl handler ({@link V1_KUBECTL_HANDLER}): `tenant_role_guard.handler` refuses a
 * request whose `RoleArn` is not the kubectl role of the tenant whose namespace stack (the request's `StackId`) sent it
 * (lambdas/namespace-kubectl/tenant_role_guard.py).
 */
const TENANT_ROLE_GUARD = 'tenant_role_guard';
/** The handler function's `Handler`: the guard's entry point (module `tenant_role_guard`, function `handler`). */
export const NAMESPACE_KUBECTL_HANDLER_ENTRY = `${TENANT_ROLE_GUARD}.handler`;

export interface NamespaceKubectlProviderProps {
  /** Name of the shared cluster (its ARN bounds `eks:DescribeCluster`). */
  readonly clusterName: string;
  readonly vpc: ec2.IVpc;
  /** Subnets reaching the cluster's private endpoint (the kubectl provider's). */
  readonly subnets: ec2.ISubnet[];
  /** The cluster security group (what the API endpoint admits). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The kubectl layer the shared cluster's provider uses. */
  readonly kubectlLayer: lambda.ILayerVersion;
}

/**
 * The kubectl provider of the tenants' namespaced objects: aws-eks (v1)'s kubectl handler behind a custom-resource
 * provider, in the shared cluster's subnets. Its role, {@link NAMESPACE_KUBECTL_HANDLER_ROLE_NAME}, has no access entry (no
 * Kubernetes identity of its own): it may only assume `tessera-*-namespace-kubectl` roles of this account, each one tenant's,
 * mapped to `AmazonEKSEditPolicy` in that tenant's namespace (lib/namespace-kubectl.ts). A namespace blueprint's
 * `Custom::AWSCDK-EKS-KubernetesResource` names its tenant's role as `RoleArn`; a request naming another tenant's kubectl role,
 * or sent by a stack that is no `tessera-<tenant>-namespace`, fails in the guard before the handler runs
 * ({@link NAMESPACE_KUBECTL_HANDLER_ENTRY}: the role must be the sending stack's tenant's), one naming any other role fails at
 * `sts:AssumeRole`.
 */
export class NamespaceKubectlProvider extends Construct {
  /** The provider framework's function ARN: what a namespace blueprint's custom resource names as `ServiceToken`. */
  readonly serviceToken: string;
  /** The handler's execution role: the principal every tenant's kubectl role trusts. */
  readonly handlerRole: iam.Role;

  constructor(scope: Construct, id: string, props: NamespaceKubectlProviderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.handlerRole = new iam.Role(this, 'HandlerRole', {
      roleName: NAMESPACE_KUBECTL_HANDLER_ROLE_NAME,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Kubectl handler of the tenant namespaces: assumes each tenant\'s namespace-scoped kubectl role, no Kubernetes identity of its own',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
    });
    const tenantRoles = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: namespaceKubectlRoleName('*') });
    const policy = new iam.ManagedPolicy(this, 'HandlerPolicy', {
      roles: [this.handlerRole],
      statements: [
        new iam.PolicyStatement({ sid: 'AssumeTenantKubectlRolesOnly', actions: ['sts:AssumeRole'], resources: [tenantRoles] }),
        // `aws eks update-kubeconfig` reads the cluster's endpoint and certificate (the only EKS call the handler makes).
        new iam.PolicyStatement({ sid: 'DescribeTheSharedCluster', actions: ['eks:DescribeCluster'], resources: [stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: props.clusterName })] }),
      ],
    });
    acknowledge(policy, [wildcardResourceFinding(this, tenantRoles)],
      'One kubectl role per tenant, created by its namespace stack: the pattern admits only tessera-<tenant>-namespace-kubectl roles of this account, each trusting this role alone and mapped to AmazonEKSEditPolicy in its own namespace only.');
    acknowledge(this.handlerRole, ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]'],
      'The AWS-managed execution policy of a Lambda function in a VPC (its ENIs and its logs), as aws-eks gives its own kubectl handler.');

    const handler = new lambda.Function(this, 'Handler', {
      code: guardedKubectlHandlerCode(V1_KUBECTL_HANDLER, TENANT_ROLE_GUARD),
      handler: NAMESPACE_KUBECTL_HANDLER_ENTRY,
      runtime: lambda.Runtime.determineLatestPythonRuntime(this),
      description: 'onEvent handler of the tenant namespaces kubectl provider (aws-eks kubectl handler: assumes RoleArn, only the sending stack tenant kubectl role)',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: { AWS_STS_REGIONAL_ENDPOINTS: 'regional' },
      role: this.handlerRole,
      layers: [new AwsCliLayer(this, 'AwsCliLayer'), props.kubectlLayer],
      vpc: props.vpc,
      vpcSubnets: { subnets: props.subnets },
      securityGroups: [props.securityGroup],
    });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: handler, vpc: props.vpc, vpcSubnets: { subnets: props.subnets }, securityGroups: [props.securityGroup] });
    this.serviceToken = provider.serviceToken;

    acknowledgeDeployTimeFunction(handler, { purpose: 'The tenant namespaces kubectl handler (aws-cdk-lib aws-eks kubectl-handler)' });
    const handlerLogicalId = stack.getLogicalId(handler.node.defaultChild as lambda.CfnFunction);
    acknowledgeDeployTimeFunction(provider.node.findChild('framework-onEvent'), {
      purpose: 'The tenant namespaces kubectl provider framework (aws-cdk-lib custom-resources)',
      managedPolicyFindings: [
        'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      ],
      wildcards: {
        findings: [`AwsSolutions::AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`],
        reason: 'it invokes the one kubectl handler function, any of its versions (the ARN suffix), and nothing else.',
      },
    });
  }
}
