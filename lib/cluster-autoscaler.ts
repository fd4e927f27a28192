/**
 * The Kubernetes Cluster Autoscaler as Tessera's clusters would run it: its image for a cluster's Kubernetes minor version, its
 * command line, and its IAM policy. Pure values (no construct): what an installer on a cluster (a manifest through the cluster's
 * kubectl provider) and its Pod Identity role are built from.
 *
 * Sources:
 * - the autoscaler's AWS cloud-provider README (kubernetes/autoscaler, `cluster-autoscaler/cloudprovider/aws/README.md`):
 *   auto-discovery by the ASG tags `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster-name>`, which EKS
 *   puts on every managed node group's Auto Scaling group; scale from zero of a managed node group through
 *   `eks:DescribeNodegroup` (its labels and taints; the instance type's CPU, memory and `nvidia.com/gpu` come from the
 *   autoscaler's own EC2 instance-type table), supported since autoscaler 1.24, so by every image below;
 * - the EKS Best Practices Guide, "Cluster Autoscaler": "the version of the Cluster Autoscaler must match the Kubernetes version
 *   of the cluster"; the IAM policy below (write actions conditioned on the cluster's ownership tag, Describe actions on `*`).
 */

/**
 * Image tag of the autoscaler per Kubernetes minor version (`registry.k8s.io/autoscaling/cluster-autoscaler:<tag>`): each minor
 * release of the autoscaler is built and tested against the same Kubernetes minor. Keys: the minors the config offers
 * (lib/config/schema.ts `kubernetesVersion`); adding a minor there without a tag here fails synth
 * ({@link clusterAutoscalerImage}).
 */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Readonly<Record<string, string>> = {
  '1.33': 'v1.33.0',
  '1.34': 'v1.34.0',
  '1.35': 'v1.35.0',
};

/** The autoscaler's repository on the Kubernetes project's registry. */
export const CLUSTER_AUTOSCALER_REPOSITORY = 'registry.k8s.io/autoscaling/cluster-autoscaler';

/**
 * The label that tells the autoscaler's AWS provider a node is a GPU node (its `GPULabel`; only the key is read): it then
 * counts a new node whose NVIDIA device plugin has not yet advertised `nvidia.com/gpu` as coming, instead of growing the
 * group again for the same Pending pod (the autoscaler's AWS README, GPU node groups). Put on the GPU group of a cluster
 * that runs the autoscaler.
 */
export const CLUSTER_AUTOSCALER_GPU_LABEL: Readonly<Record<string, string>> = { 'k8s.amazonaws.com/accelerator': 'nvidia' };

/** Where the autoscaler runs: the platform's own in kube-system, never a tenant namespace. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'cluster-autoscaler' } as const;

/**
 * The autoscaler image for a cluster's Kubernetes minor version.
 *
 * @param kubernetesVersion the cluster's minor version, e.g. `1.34`
 * @param key the config key it came from (`sharedCluster.kubernetesVersion`, `tiers.<t>.compute.kubernetesVersion`), named in the error
 * @param repository registry and repository to pull from @default {@link CLUSTER_AUTOSCALER_REPOSITORY}
 * @returns `<repository>:<tag>`
 * @throws Error naming the key and the value when no autoscaler tag is known for that minor
 */
export function clusterAutoscalerImage(kubernetesVersion: string, key: string, repository: string = CLUSTER_AUTOSCALER_REPOSITORY): string {
  const tag = CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetesVersion];
  if (!tag) {
    throw new Error(`${key} = ${kubernetesVersion}: no Cluster Autoscaler image is known for Kubernetes ${kubernetesVersion} `
      + `(known: ${Object.keys(CLUSTER_AUTOSCALER_IMAGE_TAGS).join(', ')}); the autoscaler's minor must match the cluster's: `
      + 'add its tag to CLUSTER_AUTOSCALER_IMAGE_TAGS (lib/cluster-autoscaler.ts)');
  }
  return `${repository}:${tag}`;
}

/**
 * The autoscaler's command line on an EKS cluster.
 *
 * - `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>`: the tags EKS
 *   puts on each managed node group's Auto Scaling group, so every group of this cluster, and no other's, is found.
 * - `--balance-similar-node-groups`: groups of the same shape (labels, resources) in several zones are grown evenly.
 * - `--expander=least-waste`: of the groups that fit a pending pod, the one left with the least idle CPU and memory. In a
 *   Tessera cluster a GPU pod fits only the GPU group (its taint) and a CPU pod only the system group, so the choice only
 *   matters when several groups fit; `random` (the default) would then grow an arbitrary one, `priority` needs a ConfigMap of
 *   its own to keep.
 * - `--skip-nodes-with-system-pods` is left at its default (true): the GPU nodes carry only DaemonSet pods of kube-system
 *   (VPC CNI, kube-proxy, Pod Identity agent), which the flag does not count, so they still scale down; the system nodes,
 *   with CoreDNS and the autoscaler itself, are not emptied under them.
 *
 * @param clusterName the EKS cluster's name (the pod's AWS SDK takes its Region from `AWS_REGION`, which the installer sets)
 * @returns the container's `command`
 */
export function clusterAutoscalerCommand(clusterName: string): string[] {
  return [
    './cluster-autoscaler',
    '--cloud-provider=aws',
    `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${clusterName}`,
    '--balance-similar-node-groups',
    '--expander=least-waste',
    '--v=4',
    '--stderrthreshold=info',
  ];
}

/** An IAM policy statement as JSON (`iam.PolicyStatement.fromJson` takes it). */
export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

/** Describe actions of the autoscaler: none of them takes a resource (Service Authorization Reference), so `Resource: *`. */
export const CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations',
  'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstanceTypes',
  'ec2:DescribeLaunchTemplateVersions', 'ec2:GetInstanceTypesFromInstanceRequirements',
] as const;

/**
 * The autoscaler's least-privilege policy (EKS Best Practices Guide, "Cluster Autoscaler", IAM policy):
 * - `SetDesiredCapacity` and `TerminateInstanceInAutoScalingGroup` only on Auto Scaling groups tagged
 *   `k8s.io/cluster-autoscaler/<cluster>` = `owned` (EKS's tag on this cluster's managed node groups' groups);
 * - the Describe actions, which take no resource, on `*`;
 * - `eks:DescribeNodegroup` on this cluster's node groups only (scale from zero: the group's labels and taints).
 *
 * A cluster whose name is known only at deploy time (a dedicated tier's `tessera-<TenantId>`) cannot key a condition on it
 * (a condition key is a literal in the template, never a parameter): its groups are then the ones EKS tagged
 * `eks:cluster-name` = the cluster and `k8s.io/cluster-autoscaler/enabled` = `true`, the tags EKS puts on each managed node
 * group's Auto Scaling group beside `k8s.io/cluster-autoscaler/<cluster>` = `owned` (the same groups).
 *
 * @param scope partition, Region and account of the cluster, its name, and whether that name is a token (@default false)
 */
export function clusterAutoscalerStatements(scope: { partition: string; region: string; account: string; clusterName: string; clusterNameIsToken?: boolean }): PolicyStatementJson[] {
  const { partition, region, account, clusterName } = scope;
  return [
    {
      Sid: 'ScaleOnlyThisClustersNodeGroups',
      Effect: 'Allow',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/*`,
      Condition: { StringEquals: scope.clusterNameIsToken
        ? { 'aws:ResourceTag/eks:cluster-name': clusterName, 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true' }
        : { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: 'owned' } },
    },
    { Sid: 'DescribeTakesNoResource', Effect: 'Allow', Action: [...CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS], Resource: '*' },
    {
      Sid: 'DescribeThisClustersNodeGroups',
      Effect: 'Allow',
      Action: ['eks:DescribeNodegroup'],
      Resource: `arn:${partition}:eks:${region}:${account}:nodegroup/${clusterName}/*/*`,
    },
  ];
}

/** A Kubernetes object as JSON (what a manifest lists). */
export type KubernetesObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

/**
 * The autoscaler's Kubernetes objects on one cluster, in the order they are applied: its ServiceAccount, RBAC (the autoscaler's Helm
 * chart's ClusterRole and Role, {@link CLUSTER_RULES} and {@link NAMESPACE_RULES}, with their bindings), Deployment and
 * PodDisruptionBudget, all in kube-system. The one source of both installers: the shared cluster's (its kubectl provider,
 * constructs/cluster-autoscaler.ts) and a dedicated cluster's (constructs/cluster-manifests.ts).
 *
 * @param options.clusterName the EKS cluster's name (auto-discovery of its node groups, {@link clusterAutoscalerCommand})
 * @param options.image the image, from {@link clusterAutoscalerImage}
 * @param options.region the cluster's Region (the pod's `AWS_REGION`; a token is fine)
 * @param options.nodeSelector labels of the nodes it runs on (the system nodes), e.g. `{ 'tessera.io/pool': 'system' }`
 */
export function clusterAutoscalerManifests(options: { clusterName: string; image: string; region: string; nodeSelector: Record<string, string> }): KubernetesObject[] {
  const { namespace, name } = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
  const labels = { 'app.kubernetes.io/name': name };
  const metadata = { name, namespace, labels };
  return [
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
            nodeSelector: options.nodeSelector,
            securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name,
              image: options.image,
              command: clusterAutoscalerCommand(options.clusterName),
              env: [{ name: 'AWS_REGION', value: options.region }],
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
  ];
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
