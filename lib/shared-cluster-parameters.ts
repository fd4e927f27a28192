/** SSM parameters through which the platform stack hands its shared cluster to the namespace blueprints. */
export const SHARED_CLUSTER_PARAMETERS = {
  ClusterName: '/tessera/shared-cluster/name',
  KubectlServiceToken: '/tessera/shared-cluster/kubectl-service-token',
} as const;
