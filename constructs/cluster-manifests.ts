import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import type { KubernetesObject } from '../lib/cluster-autoscaler.js';
import { inlineCodeProblem } from '../lib/lambda-inline-code.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';

/** The handler's source (lambdas/cluster-manifests/apply_manifests.py), inlined into the template as `Code.ZipFile`. */
export const APPLY_MANIFESTS_SOURCE = readFileSync(join(import.meta.dirname, '..', 'lambdas', 'cluster-manifests', 'apply_manifests.py'), 'utf8');


/**
 * The handler's timeout. apply_manifests.py keeps its last 10 s to answer CloudFormation (an alarm ends whatever runs then, so a slow
 * API cannot keep it from answering); before that each request gets 20 s a read, and one the API refuses for now (401 or 403 until a
 * new access entry takes effect, 409, 429, 5xx, a network error) is sent again every 5 s while 20 s are left for it.
 */
export const APPLY_MANIFESTS_TIMEOUT = Duration.minutes(5);

/** How long CloudFormation waits for the handler's answer: its timeout and 5 minutes more. */
export const CLUSTER_MANIFESTS_SERVICE_TIMEOUT = APPLY_MANIFESTS_TIMEOUT.plus(Duration.minutes(5));

export interface ClusterManifestsProps {
  /** The cluster (its name, endpoint, CA and cluster security group are read). */
  readonly cluster: eks.ICluster;
  /** The cluster's VPC. */
  readonly vpc: ec2.IVpc;
  /** Private subnets the handler runs in (where the cluster's private endpoint is reached). */
  readonly subnets: ec2.SubnetSelection;
  /** The objects to apply, in order (deleted in reverse); only the kinds of apply_manifests.py's table. */
  readonly manifests: KubernetesObject[];
  /** Name of the handler's log group (under a prefix `encryptionKey` lets CloudWatch Logs use). */
  readonly logGroupName: string;
  /** Encrypts the handler's log group. */
  readonly encryptionKey: kms.IKey;
  /** What must exist while the objects do (created before, deleted after them): e.g. the S3 gateway endpoint cfnresponse uses. */
  readonly dependsOn?: IDependable[];
}

/**
 * Kubernetes objects on an EKS cluster through CloudFormation without a kubectl provider: a custom resource whose handler is a
 * Python Lambda with inline code (CloudFormation `Code.ZipFile`, so no asset: the template deploys in any Region of any account)
 * that server-side applies each object with the Kubernetes API itself (lambdas/cluster-manifests/apply_manifests.py).
 *
 * - The handler runs in the cluster's private subnets with a security group of its own, which the cluster security group admits
 *   on 443 (the private endpoint's network interfaces carry that group); it trusts only the cluster's CA.
 * - It authenticates as its role with an EKS access entry mapped to AmazonEKSClusterAdminPolicy at **cluster** scope: the objects
 *   include cluster-scoped ones (ClusterRole, ClusterRoleBinding), which a namespace-scoped entry cannot create, and binding a
 *   ClusterRole needs every permission it grants (Kubernetes RBAC's escalation check), which only cluster admin holds.
 * - Its role may write its own log group only and manage its network interfaces (the AWS managed
 *   AWSLambdaVPCAccessExecutionRole's EC2 actions, scoped to this account's network interfaces and subnets and the handler's
 *   security group; only the two Describe actions, which take no resource, on `*`); the token is a presigned STS
 *   GetCallerIdentity, which needs no permission.
 * - The custom resource waits for the access entry and the security group rule, so a delete removes the objects before them.
 */
export class ClusterManifests extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly accessEntry: eks.CfnAccessEntry;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterManifestsProps) {
    super(scope, id);
    // CloudFormation's rule for inline code: the zip of it at most 4 MB (lib/lambda-inline-code.ts).
    const tooLarge = inlineCodeProblem(APPLY_MANIFESTS_SOURCE, 'lambdas/cluster-manifests/apply_manifests.py');
    if (tooLarge) throw new Error(tooLarge);
    const stack = Stack.of(this);
    const { cluster } = props;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      // Kept as the tenant's other log groups (RetainExceptOnCreate in a tenant stack; lib/failover-retained-resources.ts lists it).
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Applies the platform's Kubernetes objects to EKS cluster ${cluster.clusterName}`,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Cluster manifests handler: HTTPS out (the cluster endpoint, S3 for the CloudFormation response)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: the cluster endpoint and the S3 gateway endpoint (no internet route from the private subnets)');
    const securityGroupArn = stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: securityGroup.securityGroupId });
    const eniArns = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    const accountEc2Arns = stack.formatArn({ service: 'ec2', resource: '*', resourceName: '*' });
    // The log group's streams by its name: its Arn attribute ends in `:*` (`…:log-group:<name>:*`), so `<Arn>:log-stream:*`
    // named no stream (`…:<name>:*:log-stream:*`) and the handler could not write its logs.
    const ownStreams = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${props.logGroupName}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Cluster manifests handler: its own log group, its VPC network interfaces',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ sid: 'OwnLogGroup', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [ownStreams] }),
        // The AWSLambdaVPCAccessExecutionRole's EC2 actions, each on what it can be scoped to (Service Authorization Reference).
        new iam.PolicyStatement({
          sid: 'CreateNetworkInterfaces', actions: ['ec2:CreateNetworkInterface'],
          resources: [eniArns, stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: '*' }), securityGroupArn],
        }),
        // DeleteNetworkInterface on `network-interface/*` alone can make Lambda refuse the VPC configuration: the Lambda
        // developer guide ("Giving Lambda functions access to resources in an Amazon VPC") asks for a unique resource id
        // or all of them, `arn:aws:ec2:<region>:<account>:*/*` (hashicorp/terraform-provider-aws#20698 hit the former).
        // network-interface/* beside it, a part of it: the policy evaluator of the isolation check (@cloud-copilot/iam-simulate)
        // takes IAM's "no wildcard in the resource type" literally and matches no interface with `*/*` alone.
        new iam.PolicyStatement({ sid: 'ManageNetworkInterfaces', actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], resources: [accountEc2Arns, eniArns] }),
        new iam.PolicyStatement({ sid: 'DescribeTakesNoResource', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
      ],
    });
    acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets take no resource (Service Authorization Reference): * is the only resource they accept.');
    acknowledge(policy, [wildcardResourceFinding(this, eniArns), wildcardResourceFinding(this, accountEc2Arns), wildcardResourceFinding(this, stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: '*' }))],
      'Lambda creates and deletes the function\'s network interfaces (ids unknown before) in the subnets of its VPC configuration, in this account and Region only (deleting them on every resource id of the account and Region, as the Lambda developer guide asks); the security group is named.');
    acknowledge(policy, [wildcardResourceFinding(this, ownStreams)],
      'Log streams of the handler\'s own log group: Lambda names a stream per execution environment.');

    const admitted = new ec2.CfnSecurityGroupIngress(this, 'ClusterAdmitsHandler', {
      groupId: cluster.clusterSecurityGroupId,
      sourceSecurityGroupId: securityGroup.securityGroupId,
      ipProtocol: 'tcp', fromPort: 443, toPort: 443,
      description: 'The cluster manifests handler to the Kubernetes API',
    });

    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.PYTHON_3_13,
      handler: 'index.handler',
      code: lambda.Code.fromInline(APPLY_MANIFESTS_SOURCE),
      role: this.role,
      timeout: APPLY_MANIFESTS_TIMEOUT,
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      logGroup,
      // The token's presigned URL names the Region's STS endpoint, never the global one (whose tokens opt-in Regions refuse).
      environment: { AWS_STS_REGIONAL_ENDPOINTS: 'regional' },
      description: `Applies Kubernetes objects to EKS cluster ${cluster.clusterName} (CloudFormation custom resource)`,
    });
    this.function.node.addDependency(policy);
    const fn = this.function.node.defaultChild as lambda.CfnFunction;
    acknowledge(fn, ['AwsSolutions::AwsSolutions-L1'],
      'python3.13 is a supported Lambda runtime with CloudFormation\'s cfnresponse module for ZipFile code; the blueprint deploys in any allowed Region of a tenant account, where a newer Python runtime may not be offered yet. The handler uses only the standard library and botocore.');
    acknowledge(fn, ['HIPAA.Security::HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency'],
      'Invoked only by CloudFormation during stack operations, once per create, update or delete; reserved concurrency would only throttle deployments.');
    acknowledge(fn, ['HIPAA.Security::HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ'],
      'A CloudFormation custom resource handler: every failure is reported to CloudFormation as FAILED and fails the stack operation, so there is no asynchronous event for a DLQ to keep.');

    this.accessEntry = new eks.CfnAccessEntry(this, 'AccessEntry', {
      clusterName: cluster.clusterName,
      principalArn: this.role.roleArn,
      type: 'STANDARD',
      accessPolicies: [{
        policyArn: `arn:${stack.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: 'cluster' },
      }],
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::ClusterManifests',
      // CloudFormation's wait for an answer (ServiceTimeout, @default 3,600 s): the handler answers within its own timeout; one that
      // never answers (a failed start, which Lambda retries twice, within a minute or two) fails the operation in minutes, not an hour.
      serviceTimeout: CLUSTER_MANIFESTS_SERVICE_TIMEOUT,
      properties: {
        ClusterName: cluster.clusterName,
        Region: stack.region,
        Endpoint: cluster.clusterEndpoint,
        CertificateAuthorityData: cluster.clusterCertificateAuthorityData,
        // One JSON string: CloudFormation passes every scalar of a custom resource's properties as a string (replicas: "1").
        Manifests: stack.toJsonString(props.manifests),
      },
    });
    this.resource.node.addDependency(this.accessEntry, admitted, ...(props.dependsOn ?? []));
  }
}
