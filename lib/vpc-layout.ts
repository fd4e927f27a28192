/**
 * The address plan of a Tessera VPC (a tenant's, or the shared cluster's), without CDK: what
 * constructs/network.ts and constructs/parameterized-cidr.ts build, and what the config schema
 * checks at synth, from the same lists and the same arithmetic.
 */

/** Subnet groups, one subnet of each per Availability Zone (constructs/network.ts). */
export type SubnetGroup = 'data' | 'compute' | 'egress';

/** `data` (RDS, ElastiCache) and `compute` (EKS, SageMaker); `egress` (NAT gateways) only with internet egress. */
export function subnetGroupsOf(internetEgress: boolean): SubnetGroup[] {
  return internetEgress ? ['data', 'compute', 'egress'] : ['data', 'compute'];
}

/**
 * Prefix length of every subnet of a `/vpcPrefix` VPC split into `subnetCount` equal slices (the
 * next power of two: 9 subnets take a sixteenth each), as constructs/parameterized-cidr.ts does.
 */
export function subnetPrefixLength(vpcPrefix: number, subnetCount: number): number {
  return vpcPrefix + Math.ceil(Math.log2(Math.max(subnetCount, 2)));
}

/** The smallest subnet AWS allows is a /28. Source: https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html */
export const SMALLEST_SUBNET_PREFIX = 28;

/**
 * Addresses AWS reserves in every subnet: the network address, the VPC router, DNS, one for future
 * use, and the broadcast address. Source: https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
 */
export const RESERVED_ADDRESSES_PER_SUBNET = 5;

/** Addresses a `/prefix` subnet leaves for network interfaces. */
export function usableAddresses(prefix: number): number {
  return 2 ** (32 - prefix) - RESERVED_ADDRESSES_PER_SUBNET;
}

/**
 * Interface endpoints for the workloads of the compute subnets (STS for Pod Identity, ECR for
 * images, SageMaker, Logs, Secrets Manager, KMS); constructs/network.ts maps each name to its
 * service, and the names are the endpoints' construct ids.
 */
export const WORKLOAD_INTERFACE_ENDPOINTS = ['Sts', 'EcrApi', 'EcrDocker', 'SageMakerApi', 'SageMakerRuntime', 'Logs', 'SecretsManager', 'Kms'] as const;
/** Interface endpoints a private EKS cluster needs (EKS, EKS Auth, EC2, ELB, Auto Scaling). */
export const EKS_INTERFACE_ENDPOINTS = ['Eks', 'EksAuth', 'Ec2', 'ElasticLoadBalancing', 'AutoScaling'] as const;
export type WorkloadInterfaceEndpoint = (typeof WORKLOAD_INTERFACE_ENDPOINTS)[number];
export type EksInterfaceEndpoint = (typeof EKS_INTERFACE_ENDPOINTS)[number];

/** Which interface endpoint sets a VPC gets (constructs/network.ts `workloadEndpoints`, `eksEndpoints`). */
export interface VpcEndpointChoice {
  readonly workloadEndpoints: boolean;
  readonly eksEndpoints: boolean;
}

/**
 * The endpoints of a tenant's VPC. The workload endpoints serve what runs in the tenant's compute
 * subnets: a dedicated cluster's nodes and pods, SageMaker training jobs and endpoints. A
 * shared-compute tier that trains nothing runs nothing there (its pods run on the shared cluster,
 * whose VPC has the endpoints; the namespace's NetworkPolicy reaches only the data ports of this
 * VPC), so it pays for none.
 */
export function tierVpcEndpoints(tier: { compute: { mode: string }; training: { enabled: boolean } }): VpcEndpointChoice {
  return { workloadEndpoints: tier.compute.mode === 'dedicated' || tier.training.enabled, eksEndpoints: tier.compute.mode === 'dedicated' };
}

/** The shared cluster's VPC: a private cluster, so both sets (constructs/shared-cluster.ts). */
export const SHARED_CLUSTER_VPC_ENDPOINTS: VpcEndpointChoice = { workloadEndpoints: true, eksEndpoints: true };

/**
 * The interface endpoints a VPC gets. Each has one network interface, so one address, in every
 * compute subnet. Source: AWS PrivateLink guide, "Access an AWS service using an interface VPC
 * endpoint" (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html:
 * an endpoint network interface in each subnet you enable).
 */
export function interfaceEndpointsOf(choice: VpcEndpointChoice): string[] {
  return [...(choice.workloadEndpoints ? WORKLOAD_INTERFACE_ENDPOINTS : []), ...(choice.eksEndpoints ? EKS_INTERFACE_ENDPOINTS : [])];
}

/**
 * Addresses the EKS control plane needs in each of its subnets (the compute subnets): "The subnets
 * must each have at least six IP addresses for use by Amazon EKS" (it creates 2-4 network
 * interfaces there, and new ones beside the old during a version upgrade). Source: Amazon EKS User
 * Guide, "View Amazon EKS networking requirements for VPC and subnets"
 * (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export const EKS_CONTROL_PLANE_ADDRESSES = 6;

/**
 * Addresses left in each compute subnet for the workloads themselves, once the endpoints and the
 * EKS control plane have theirs: room for one node. With the VPC CNI's defaults a node holds a
 * whole network interface's addresses from the moment it starts (its primary address and a warm
 * pool of secondary addresses for pods, WARM_ENI_TARGET=1): 15 on the xlarge sizes the default
 * tiers run (EC2 User Guide, "Maximum IP addresses per network interface"), so 16. A SageMaker
 * training job or endpoint instance takes one network interface, so 16 is also room for a few of
 * them. This is a floor that refuses a subnet where nothing can start, not a capacity plan: size
 * tenantVpcPrefixLength for the nodes and pods a tenant will run.
 */
export const WORKLOAD_HEADROOM_ADDRESSES = 16;

/** What a compute subnet must hold, and what it has. */
export interface ComputeSubnetBudget {
  readonly subnetCount: number;
  readonly subnetPrefix: number;
  readonly usable: number;
  readonly endpoints: number;
  readonly eksAddresses: number;
  readonly headroom: number;
  readonly needed: number;
}

/**
 * The address budget of a VPC's compute subnets, or undefined when they hold no interface
 * endpoint (nothing of the platform's runs there; the split itself is checked by
 * constructs/parameterized-cidr.ts).
 */
export function computeSubnetBudget(vpcPrefix: number, maxAzs: number, internetEgress: boolean, choice: VpcEndpointChoice): ComputeSubnetBudget | undefined {
  const endpoints = interfaceEndpointsOf(choice).length;
  if (endpoints === 0) return undefined;
  const subnetCount = subnetGroupsOf(internetEgress).length * maxAzs;
  const subnetPrefix = subnetPrefixLength(vpcPrefix, subnetCount);
  const eksAddresses = choice.eksEndpoints ? EKS_CONTROL_PLANE_ADDRESSES : 0;
  return {
    subnetCount, subnetPrefix, usable: usableAddresses(subnetPrefix), endpoints, eksAddresses,
    headroom: WORKLOAD_HEADROOM_ADDRESSES, needed: endpoints + eksAddresses + WORKLOAD_HEADROOM_ADDRESSES,
  };
}

/**
 * Why a `/vpcPrefix` VPC's compute subnets are too small for what the blueprint puts there, or
 * undefined when they are large enough; names the largest prefix length that fits.
 */
export function computeSubnetProblem(vpcPrefix: number, maxAzs: number, internetEgress: boolean, choice: VpcEndpointChoice): string | undefined {
  const budget = computeSubnetBudget(vpcPrefix, maxAzs, internetEgress, choice);
  if (!budget || (budget.subnetPrefix <= SMALLEST_SUBNET_PREFIX && budget.usable >= budget.needed)) return undefined;
  let fits = vpcPrefix;
  while (fits > 0 && computeSubnetBudget(fits, maxAzs, internetEgress, choice)!.usable < budget.needed) fits--;
  const groups = subnetGroupsOf(internetEgress).join(', ');
  const parts = [
    `${budget.endpoints} interface endpoint network interfaces (one per endpoint per subnet)`,
    ...(budget.eksAddresses ? [`${budget.eksAddresses} for the EKS control plane (EKS requires at least 6 per cluster subnet)`] : []),
    `${budget.headroom} for nodes and jobs (one node with the VPC CNI's warm addresses)`,
  ];
  const split = `a /${vpcPrefix} VPC split into ${budget.subnetCount} subnets (${groups} in each of ${maxAzs} AZs) has /${budget.subnetPrefix} subnets`;
  const have = budget.subnetPrefix > SMALLEST_SUBNET_PREFIX
    ? `${split}, smaller than the /${SMALLEST_SUBNET_PREFIX} AWS allows`
    : `${split} with ${budget.usable} usable addresses each (AWS reserves ${RESERVED_ADDRESSES_PER_SUBNET} per subnet)`;
  return `${have}, but each compute subnet needs ${budget.needed}: ${parts.join(' + ')}; use a prefix length of /${fits} or less (a larger VPC), or fewer AZs`;
}

/**
 * Zone IDs where Amazon EKS cannot place a cluster: CreateCluster with a subnet in one of them fails
 * with UnsupportedAvailabilityZoneException. Zone *names* map to zone IDs differently in each account,
 * so the check is by ID (DescribeAvailabilityZones' ZoneId). Source: EKS User Guide, "View Amazon EKS
 * networking requirements for VPC and subnets", subnet requirements
 * (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets):
 * use1-az3 (us-east-1), usw1-az2 (us-west-1), cac1-az3 (ca-central-1). The lifecycle leaves them out of a
 * dedicated-cluster tenant's VPC (lambdas/lifecycle/availability-zones.ts), and so does the failover runbook.
 */
export const EKS_UNSUPPORTED_ZONE_IDS: readonly string[] = ['use1-az3', 'usw1-az2', 'cac1-az3'];
