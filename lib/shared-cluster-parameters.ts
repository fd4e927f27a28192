/** SSM parameters through which the platform stack hands its shared cluster to the namespace blueprints. */
export const SHARED_CLUSTER_PARAMETERS = {
  ClusterName: '/tessera/shared-cluster/name',
  KubectlServiceToken: '/tessera/shared-cluster/kubectl-service-token',
  /** The tenants' namespace kubectl provider (constructs/namespace-kubectl-provider.ts): acts as each tenant's own kubectl role. */
  NamespaceKubectlServiceToken: '/tessera/shared-cluster/namespace-kubectl-service-token',
} as const;

/**
 * The permissions boundary of every tenant's pod-bridge role (`tessera-<tenant>-pod-bridge`, constructs/tenant-namespace.ts), a
 * managed policy of the platform stack (constructs/shared-cluster.ts) in the platform account. Named outside `tessera-*`, so that
 * no role granted `policy/tessera-*` patterns (the namespace deployer's `tessera-*-namespace-*` among them) can edit it.
 */
export const POD_BRIDGE_BOUNDARY_POLICY_NAME = 'TesseraPodBridgeBoundary';

/**
 * The service principal of EKS Pod Identity: what a pod-bridge role trusts (constructs/tenant-namespace.ts) and the only
 * service the namespace deployer may pass one to (`iam:PassedToService`, constructs/shared-cluster.ts). Source: "Create IAM
 * role with trust policy required by EKS Pod Identity" (Amazon EKS User Guide); the EMR on EKS guide's Pod Identity setup
 * gives the same value for `iam:PassedToService`.
 */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';
