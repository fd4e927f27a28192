import { Aws, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import {
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, clusterAutoscalerImage, clusterAutoscalerManifests, clusterAutoscalerStatements,
} from '../lib/cluster-autoscaler.js';
import { POD_IDENTITY_SERVICE } from '../lib/shared-cluster-parameters.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import { ClusterManifests, type ClusterManifestsProps } from './cluster-manifests.js';

export interface ClusterAutoscalerProps {
  /** The cluster, with its kubectl provider (the manifest is applied through it). */
  readonly cluster: eks.Cluster;
  /** The cluster's name as a literal (it keys the IAM condition `aws:ResourceTag/k8s.io/cluster-autoscaler/<name>`). */
  readonly clusterName: string;
  /** The cluster's Kubernetes minor version: picks the autoscaler image ({@link clusterAutoscalerImage}). */
  readonly kubernetesVersion: string;
  /** The config key of that version, named when no image is known for it (`sharedCluster.kubernetesVersion`). */
  readonly kubernetesVersionKey: string;
  /** Node labels of the nodes the autoscaler runs on (the system nodes), e.g. `{ 'tessera.io/pool': 'system' }`. */
  readonly nodeSelector: Record<string, string>;
  /**
   * Apply the manifests with a {@link ClusterManifests} custom resource (inline Lambda code, no asset) instead of the cluster's
   * kubectl provider: for a cluster without one (a dedicated tier's, whose blueprint carries no Lambda asset).
   * @default - through the cluster's kubectl provider
   */
  readonly withoutKubectl?: Omit<ClusterManifestsProps, 'cluster' | 'manifests'>;
  /**
   * Whether the autoscaler's role goes on the service-role path (which the quarantine SCP admits). Not in a tenant's account:
   * the tenant's admin role is cluster admin of its dedicated cluster and could run a pod as `kube-system/cluster-autoscaler`,
   * so the role is a tenant role there, fenced by the quarantine like the tenant's workload role.
   * @default true
   */
  readonly serviceRolePath?: boolean;
}

/**
 * ECR repository prefix of the pull through cache rule for registry.k8s.io: the platform VPC has no internet route (a tenant VPC's
 * compute subnets reach it through NAT gateways), so the nodes pull the autoscaler's image from ECR (through the VPC's ECR
 * endpoints), which fetches it from registry.k8s.io on first pull
 * (ECR User Guide, "Sync an upstream registry with an Amazon ECR private registry"; `registry.k8s.io` is a supported upstream).
 */
export const K8S_REGISTRY_CACHE_PREFIX = 'tessera-registry-k8s';

/**
 * The Kubernetes Cluster Autoscaler of one cluster, in kube-system (the platform's, no tenant namespace's), on the system nodes:
 * - its image (matched to the cluster's Kubernetes minor, lib/cluster-autoscaler.ts) pulled through ECR: a pull through cache rule
 *   for registry.k8s.io and the repository it caches into, created here so the nodes need no `ecr:CreateRepository` (ECR User
 *   Guide, "IAM permissions required to sync an upstream registry": CreateRepository "is required if the repository storing the
 *   cached images doesn't already exist"); the node role's AmazonEC2ContainerRegistryPullOnly carries
 *   `ecr:BatchImportUpstreamImage`;
 * - its AWS identity through EKS Pod Identity (as the cluster's other in-cluster identities): a role trusted by
 *   pods.eks.amazonaws.com for this cluster only, with the autoscaler's least-privilege policy;
 * - its ServiceAccount, RBAC (the autoscaler's Helm chart's ClusterRole and Role), Deployment, PodDisruptionBudget
 *   (lib/cluster-autoscaler.ts clusterAutoscalerManifests), through the cluster's kubectl provider (the shared cluster) or, on a
 *   cluster without one (a dedicated tier's), a {@link ClusterManifests} custom resource.
 */
export class ClusterAutoscaler extends Construct {
  readonly role: iam.Role;
  /** The autoscaler's least-privilege policy (lib/cluster-autoscaler.ts clusterAutoscalerStatements). */
  readonly policy: iam.ManagedPolicy;
  /** What applies the manifests: the kubectl provider's manifest, or the custom resource of {@link ClusterAutoscalerProps.withoutKubectl}. */
  readonly manifest: eks.KubernetesManifest | ClusterManifests;

  constructor(scope: Construct, id: string, props: ClusterAutoscalerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { cluster } = props;
    const { clusterName } = props;
    const { namespace, name } = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;

    const cacheRule = new ecr.CfnPullThroughCacheRule(this, 'RegistryK8sCache', {
      ecrRepositoryPrefix: K8S_REGISTRY_CACHE_PREFIX,
      upstreamRegistry: 'k8s',
      upstreamRegistryUrl: 'registry.k8s.io',
    });
    const repository = new ecr.Repository(this, 'ImageCache', {
      repositoryName: `${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler`,
      // Mutable: "the repository's image tags stay mutable" is what keeps a pull through cache in sync (ECR User Guide).
      imageTagMutability: ecr.TagMutability.MUTABLE,
      removalPolicy: RemovalPolicy.DESTROY,
      emptyOnDelete: true,
    });
    repository.node.addDependency(cacheRule);
    const registry = `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler`;
    const image = clusterAutoscalerImage(props.kubernetesVersion, props.kubernetesVersionKey, registry);

    const clusterArn = stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName });
    this.role = new iam.Role(this, 'Role', {
      path: props.serviceRolePath === false ? undefined : SERVICE_ROLE_PATH,
      description: `Cluster Autoscaler of EKS cluster ${clusterName} (kube-system/${name}, EKS Pod Identity)`,
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal(POD_IDENTITY_SERVICE).withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnEquals: { 'aws:SourceArn': clusterArn },
      })),
    });
    const statements = clusterAutoscalerStatements({
      partition: stack.partition, region: stack.region, account: stack.account, clusterName, clusterNameIsToken: Token.isUnresolved(clusterName),
    });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Cluster Autoscaler of EKS cluster ${clusterName}: scales only its node groups`,
      roles: [this.role],
      statements: statements.map((s) => iam.PolicyStatement.fromJson(s)),
    });
    const [scale, , describeNodegroups] = statements;
    acknowledge(this.policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'The Cluster Autoscaler\'s Describe actions (autoscaling:Describe*, ec2:DescribeImages, ec2:DescribeInstanceTypes, ec2:DescribeLaunchTemplateVersions, ec2:GetInstanceTypesFromInstanceRequirements) take no resource: the Service Authorization Reference lists no resource type for them, so * is the only resource they accept.');
    acknowledge(this.policy, [scale.Resource as string, describeNodegroups.Resource as string].map((arn) => wildcardResourceFinding(this, arn)),
      'SetDesiredCapacity and TerminateInstanceInAutoScalingGroup only on Auto Scaling groups EKS tagged as this cluster\'s (k8s.io/cluster-autoscaler/<this cluster> = owned, or eks:cluster-name = <this cluster> where the name is a parameter; EKS tags its managed node groups\' groups so; their names are generated); eks:DescribeNodegroup on this cluster\'s node groups only (their names and ids are generated).');

    // The cluster's token, not the literal name: the association is created after the cluster.
    const podIdentity = new eks.CfnPodIdentityAssociation(this, 'PodIdentity', { clusterName: cluster.clusterName, namespace, serviceAccount: name, roleArn: this.role.roleArn });

    const manifests = clusterAutoscalerManifests({ clusterName, image, region: stack.region, nodeSelector: props.nodeSelector });
    // Applied after (and deleted before) the association and the repository, whichever applies it: EKS Pod Identity sets a
    // pod's credentials when the pod is created, from the associations that exist then (a pod created first runs without
    // them until it is recreated: with none on the shared cluster, whose node metadata is closed to pods, with the node
    // role's, which may not scale, elsewhere); the nodes pull the image into the repository, which they may not create
    // (AmazonEC2ContainerRegistryPullOnly has no ecr:CreateRepository).
    if (props.withoutKubectl) {
      this.manifest = new ClusterManifests(this, 'Manifests', {
        ...props.withoutKubectl, cluster, manifests, dependsOn: [...(props.withoutKubectl.dependsOn ?? []), podIdentity, repository],
      });
    } else {
      this.manifest = new eks.KubernetesManifest(this, 'Manifest', { cluster, overwrite: true, manifest: manifests });
      this.manifest.node.addDependency(podIdentity, repository);
    }
  }
}

