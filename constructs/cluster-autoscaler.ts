import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import {
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, clusterAutoscalerCommand, clusterAutoscalerImage, clusterAutoscalerStatements,
} from '../lib/cluster-autoscaler.js';
import { POD_IDENTITY_SERVICE } from '../lib/shared-cluster-parameters.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';

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
}

/**
 * ECR repository prefix of the pull through cache rule for registry.k8s.io: the cluster's VPC has no internet route, so its nodes
 * pull the autoscaler's image from ECR (through the VPC's ECR endpoints), which fetches it from registry.k8s.io on first pull
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
 * - its ServiceAccount, RBAC (the autoscaler's Helm chart's ClusterRole and Role, CLUSTER_RULES below), Deployment,
 *   PodDisruptionBudget, through the cluster's kubectl provider.
 */
export class ClusterAutoscaler extends Construct {
  readonly role: iam.Role;
  /** The autoscaler's least-privilege policy (lib/cluster-autoscaler.ts clusterAutoscalerStatements). */
  readonly policy: iam.ManagedPolicy;
  readonly manifest: eks.KubernetesManifest;

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
      path: SERVICE_ROLE_PATH,
      description: `Cluster Autoscaler of EKS cluster ${clusterName} (kube-system/${name}, EKS Pod Identity)`,
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal(POD_IDENTITY_SERVICE).withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnEquals: { 'aws:SourceArn': clusterArn },
      })),
    });
    const statements = clusterAutoscalerStatements({ partition: stack.partition, region: stack.region, account: stack.account, clusterName });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Cluster Autoscaler of EKS cluster ${clusterName}: scales only its node groups`,
      roles: [this.role],
      statements: statements.map((s) => iam.PolicyStatement.fromJson(s)),
    });
    const [scale, , describeNodegroups] = statements;
    acknowledge(this.policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'The Cluster Autoscaler\'s Describe actions (autoscaling:Describe*, ec2:DescribeImages, ec2:DescribeInstanceTypes, ec2:DescribeLaunchTemplateVersions, ec2:GetInstanceTypesFromInstanceRequirements) take no resource: the Service Authorization Reference lists no resource type for them, so * is the only resource they accept.');
    acknowledge(this.policy, [scale.Resource as string, describeNodegroups.Resource as string].map((arn) => wildcardResourceFinding(this, arn)),
      'SetDesiredCapacity and TerminateInstanceInAutoScalingGroup only on Auto Scaling groups tagged k8s.io/cluster-autoscaler/<this cluster> = owned (EKS tags its managed node groups\' groups so; their names are generated); eks:DescribeNodegroup on this cluster\'s node groups only (their names and ids are generated).');

    // The cluster's token, not the literal name: the association is created after the cluster.
    new eks.CfnPodIdentityAssociation(this, 'PodIdentity', { clusterName: cluster.clusterName, namespace, serviceAccount: name, roleArn: this.role.roleArn });

    const labels = { 'app.kubernetes.io/name': name };
    const metadata = { name, namespace, labels };
    this.manifest = new eks.KubernetesManifest(this, 'Manifest', {
      cluster,
      overwrite: true,
      manifest: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: CLUSTER_RULES },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: NAMESPACE_RULES },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata,
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }],
        },
        {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata,
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: name,
                // As the autoscaler's example: it is what brings capacity back, so it is not preempted for a workload.
                priorityClassName: 'system-cluster-critical',
                // On the system nodes (never the tainted GPU nodes, which it would keep from scaling down).
                nodeSelector: props.nodeSelector,
                securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [{
                  name,
                  image,
                  command: clusterAutoscalerCommand(clusterName),
                  env: [{ name: 'AWS_REGION', value: stack.region }],
                  resources: { requests: { cpu: '100m', memory: '600Mi' }, limits: { memory: '600Mi' } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                }],
              },
            },
          },
        },
        // The chart's default (podDisruptionBudget.maxUnavailable: 1): a drain (a node group version update, a system node's
        // scale-down) may move the one replica, which is rescheduled on another system node; 0 would hold every such drain.
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
      ],
    });
  }
}

/**
 * The autoscaler's cluster-wide RBAC (its Helm chart's ClusterRole, plus VolumeAttachments, which its scheduler framework lists,
 * and the Dynamic Resource Allocation objects: from autoscaler 1.35 `--enable-dynamic-resource-allocation` is on and cannot be
 * turned off, so it lists and watches DeviceClasses, ResourceSlices and ResourceClaims (`resource.k8s.io`) whatever the cluster
 * runs; without the rule it logs `resourceslices.resource.k8s.io is forbidden` and stops scaling, kubernetes/autoscaler
 * issue 9244, fixed in the chart and the AWS example manifest by pull request 9487).
 */
const CLUSTER_RULES = [
  { apiGroups: [''], resources: ['events', 'endpoints'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['update'] },
  { apiGroups: [''], resources: ['endpoints'], resourceNames: ['cluster-autoscaler'], verbs: ['get', 'update'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['watch', 'list', 'get', 'update'] },
  { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['batch', 'extensions'], resources: ['jobs'], verbs: ['get', 'list', 'patch', 'watch'] },
  { apiGroups: ['extensions'], resources: ['replicasets', 'daemonsets'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['watch', 'list'] },
  { apiGroups: ['apps'], resources: ['daemonsets', 'replicasets', 'statefulsets'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities', 'volumeattachments'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: ['resource.k8s.io'], resources: ['deviceclasses', 'resourceslices', 'resourceclaims'], verbs: ['watch', 'list', 'get'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['cluster-autoscaler'], verbs: ['get', 'update'] },
];

/** Its kube-system RBAC: its status ConfigMap (and the priority expander's, unused with least-waste, left out). */
const NAMESPACE_RULES = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'list', 'watch'] },
  { apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-autoscaler-status'], verbs: ['delete', 'get', 'update', 'watch'] },
];
