import { Aws, Fn, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import { interfaceEndpointsOf, subnetGroupsOf, type EksInterfaceEndpoint, type WorkloadInterfaceEndpoint } from '../lib/vpc-layout.js';
import { ParameterizedCidr } from './parameterized-cidr.js';

export interface NetworkProps {
  /** The VPC's IPv4 range; a literal or a CloudFormation parameter. */
  readonly cidr: string;
  /** Prefix length of `cidr` (known at synth even when the address is a parameter). */
  readonly prefixLength: number;
  /**
   * Number of Availability Zones.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Zone names to place the VPC in; the first `maxAzs` are used. Either literal names (a stack with a
   * known region: the platform, when the config pins its zones), or a list token, such as the value of
   * a `List<AWS::EC2::AvailabilityZone::Name>` parameter (the tenant blueprints' `AvailabilityZones`,
   * which the lifecycle chooses per tenant: lambdas/lifecycle/availability-zones.ts); element `i` of
   * the token is the zone of the VPC's `i`th subnets.
   * @default - the first `maxAzs` zones of `Fn::GetAZs` at deploy time
   */
  readonly availabilityZones?: string[];
  /**
   * Whether workloads in the compute subnets reach the internet (one NAT gateway per AZ).
   * @default false - compute subnets are isolated and reach AWS only through VPC endpoints
   */
  readonly internetEgress?: boolean;
  /** Key that encrypts the flow-log log group. */
  readonly encryptionKey: kms.IKey;
  /** Name of the flow-log log group (must fall under the key's allowed log-group prefix). */
  readonly flowLogGroupName: string;
  /**
   * Retention of the flow logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * Add the interface endpoints workloads in the compute subnets need (STS, ECR API and Docker,
   * SageMaker API and runtime, Logs, Secrets Manager, KMS), each in every AZ of the VPC. Pass false
   * when nothing runs in the compute subnets (a tier whose pods run on the shared cluster, which has
   * endpoints of its own, and which trains nothing): the subnets then reach no AWS API but S3 and
   * DynamoDB through the gateway endpoints, and each of the 8 endpoints no longer bills per AZ-hour
   * (US$0.01 in us-east-1, https://aws.amazon.com/privatelink/pricing/).
   * @default true
   * @throws Error when false together with `eksEndpoints` (a private cluster's nodes need them)
   */
  readonly workloadEndpoints?: boolean;
  /**
   * Add the interface endpoints a private EKS cluster needs (EKS, EKS Auth, EC2, ELB, Auto Scaling).
   * @default false
   */
  readonly eksEndpoints?: boolean;
  /**
   * Strip the default security group's rules with CDK's Lambda-backed custom resource.
   * Blueprints carry no Lambda, so they pass false and the onboarding workflow revokes the rules
   * after deploy (the VPC's default security group id is a blueprint output).
   * @default true
   */
  readonly restrictDefaultSecurityGroup?: boolean;
}

/** Rules that throw on a security group whose CIDR is a CloudFormation parameter. */
const UNEVALUABLE_CIDR_RULES = [
  'AwsSolutions::AwsSolutions-EC23',
  'HIPAA.Security::HIPAA.Security-EC2RestrictedSSH',
  'HIPAA.Security::HIPAA.Security-EC2RestrictedCommonPorts',
  'NIST.800.53.R5::NIST.800.53.R5-EC2RestrictedSSH',
  'NIST.800.53.R5::NIST.800.53.R5-EC2RestrictedCommonPorts',
];

/**
 * Interface endpoints every tenant workload uses: STS for Pod Identity, ECR for images, SageMaker, logs, secrets.
 * Keyed by the names of lib/vpc-layout.ts (the construct ids), from which the config checks that the
 * compute subnets have an address for each: the key types keep the two lists equal.
 */
const WORKLOAD_ENDPOINTS: Record<WorkloadInterfaceEndpoint, ec2.InterfaceVpcEndpointAwsService> = {
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  SageMakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
};
const EKS_ENDPOINTS: Record<EksInterfaceEndpoint, ec2.InterfaceVpcEndpointAwsService> = {
  Eks: ec2.InterfaceVpcEndpointAwsService.EKS,
  EksAuth: ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
  Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
  ElasticLoadBalancing: ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
  AutoScaling: ec2.InterfaceVpcEndpointAwsService.AUTOSCALING,
};

/**
 * The zones of the VPC's subnets, one per AZ: literal names (the first `maxAzs`), element `i` of a
 * list token (a blueprint parameter), or, with neither, element `i` of `Fn::GetAZs` at deploy time
 * (the platform VPC when the config pins no zones; Fn::GetAZs orders the zones by name).
 */
/**
 * Why the subnets of a VPC given literal zone names (the platform VPC of a config that pins
 * `availabilityZones.<homeRegion>`, as `tessera init` writes one) keep them, against cfn-lint W3010
 * "Avoid hardcoding availability zones". `cdk synth` does not raise it (a template with CDKMetadata
 * skips the rule), an app synthesized without the CLI's context does (the local platform's
 * `--config`, the infra tests' snapshots): acknowledged at each subnet, with this reason.
 */
export const PINNED_ZONES_REASON = 'The platform VPC\'s zones are pinned on purpose: the config\'s availabilityZones for the home region, '
  + 'zone names of the platform account (this stack\'s only), chosen so that EKS takes them (tessera doctor\'s platform-zones line '
  + 'checks them against the zone IDs EKS refuses), where Fn::GetAZs could give one it refuses. Tenant VPCs do not use them: '
  + 'the lifecycle picks each tenant\'s zones in its own account (lambdas/lifecycle/availability-zones.ts, from DescribeInstanceTypeOfferings).';

function zonesOf(zones: string[] | undefined, maxAzs: number): string[] {
  if (zones === undefined) return Array.from({ length: maxAzs }, (_, i) => Fn.select(i, Fn.getAzs()));
  if (Token.isUnresolved(zones)) return Array.from({ length: maxAzs }, (_, i) => Fn.select(i, zones));
  return zones.slice(0, maxAzs);
}

/**
 * A VPC with `data` subnets (isolated: RDS, ElastiCache) and `compute` subnets (EKS nodes,
 * SageMaker), encrypted flow logs, gateway endpoints for S3 and DynamoDB, and the interface
 * endpoints the workloads need (none when no workload runs in the VPC: `workloadEndpoints`).
 * NAT exists only when the tier asks for internet egress.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly dataSubnets: ec2.SubnetSelection = { subnetGroupName: 'data' };
  readonly computeSubnets: ec2.SubnetSelection = { subnetGroupName: 'compute' };
  /** Attached to workloads that are not EKS nodes (SageMaker jobs and endpoints); data stores admit it. */
  readonly workloadSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    const egress = props.internetEgress ?? false;
    const workloadEndpoints = props.workloadEndpoints ?? true;
    if (!workloadEndpoints && props.eksEndpoints) {
      throw new Error('Network workloadEndpoints is false but eksEndpoints is true: the nodes of a private EKS cluster pull images (ECR) and get credentials (STS) through the workload endpoints');
    }

    // The groups lib/vpc-layout.ts counts when the config checks the compute subnets' addresses.
    const subnetConfiguration: ec2.SubnetConfiguration[] = subnetGroupsOf(egress).map((name) => ({
      data: { name, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      compute: { name, subnetType: egress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED },
      egress: { name, subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
    })[name]);

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      logGroupName: props.flowLogGroupName,
      encryptionKey: props.encryptionKey,
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Own role with a managed policy: CDK's default would be an inline policy (IAMNoInlinePolicy).
    // Confused-deputy conditions as the VPC User Guide documents them (aws:SourceAccount = the flow log's
    // owner, aws:SourceArn = the flow log): https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
    // The flow log's id is generated and the flow log names this role, so naming the id here would be a
    // CloudFormation cycle; the guide's answer for an unknown id is `vpc-flow-log/*`, which binds the role
    // to this account and region but not to this VPC's flow log. What keeps it to this tenant is its
    // policy (this tenant's flow-log group only) and iam:PassRole, which only this tenant's principals hold for it.
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:vpc-flow-log/*` },
      }),
      description: 'VPC flow logs delivery into the one flow-log log group',
    });
    new iam.ManagedPolicy(this, 'FlowLogDelivery', {
      roles: [flowLogRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [flowLogGroup.logGroupArn],
        }),
      ],
    });
    const flowLogDestination = ec2.FlowLogDestination.toCloudWatchLogs(
      flowLogGroup,
      iam.Role.fromRoleArn(this, 'FlowLogRoleRef', flowLogRole.roleArn, { mutable: false }),
    );

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: new ParameterizedCidr(props.cidr, props.prefixLength),
      availabilityZones: zonesOf(props.availabilityZones, maxAzs),
      subnetConfiguration,
      natGateways: egress ? maxAzs : 0,
      restrictDefaultSecurityGroup: props.restrictDefaultSecurityGroup ?? true,
      flowLogs: {
        all: { destination: flowLogDestination, trafficType: ec2.FlowLogTrafficType.ALL },
      },
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    if (props.availabilityZones !== undefined && !Token.isUnresolved(props.availabilityZones)) {
      for (const subnet of [...this.vpc.publicSubnets, ...this.vpc.privateSubnets, ...this.vpc.isolatedSubnets]) {
        acknowledge(subnet.node.defaultChild!, ['CloudFormation-Validate::W3010'], PINNED_ZONES_REASON);
      }
    }

    const all: Record<string, ec2.InterfaceVpcEndpointAwsService> = { ...WORKLOAD_ENDPOINTS, ...EKS_ENDPOINTS };
    const endpoints = Object.fromEntries(interfaceEndpointsOf({ workloadEndpoints, eksEndpoints: props.eksEndpoints ?? false }).map((name) => [name, all[name]]));
    if (Object.keys(endpoints).length > 0) {
      // One security group for every interface endpoint: HTTPS from the VPC's own range.
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from inside the VPC only',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), 'HTTPS to AWS APIs from inside the VPC');
      if (Token.isUnresolved(props.cidr)) {
        acknowledge(endpointSecurityGroup, UNEVALUABLE_CIDR_RULES,
          'Admits HTTPS (443) from the VPC\'s own range only; that range is a blueprint parameter (each tenant\'s VPC is allocated at onboarding), which these rules cannot evaluate.');
      }
      for (const [name, service] of Object.entries(endpoints)) {
        this.vpc.addInterfaceEndpoint(name, { service, subnets: this.computeSubnets, privateDnsEnabled: true, securityGroups: [endpointSecurityGroup], open: false });
      }
    }

    this.workloadSecurityGroup = new ec2.SecurityGroup(this, 'WorkloadSecurityGroup', {
      vpc: this.vpc,
      description: 'Tenant workloads other than EKS nodes (SageMaker jobs and endpoints)',
      allowAllOutbound: true,
    });

    for (const subnet of this.vpc.publicSubnets) {
      acknowledge(subnet.node.findChild('DefaultRoute'), ['NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', 'HIPAA.Security::HIPAA.Security-VPCNoUnrestrictedRouteToIGW'],
        `Route of the public egress subnet ${subnet.node.id}, which holds only a NAT gateway (tier asks for internet egress); no workload runs in it and public IPs are never assigned on launch.`);
    }
  }
}
