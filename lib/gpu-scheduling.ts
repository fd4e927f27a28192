/** How GPU nodes are marked, shared by the node group construct and the manifests that schedule onto it. */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';
export const GPU_TAINT_VALUE = 'true';
export const GPU_LABELS = { 'tessera.io/accelerator': 'nvidia', 'nvidia.com/gpu.present': 'true' } as const;
/** The service account whose pods receive the tenant's workload role through EKS Pod Identity. */
export const WORKLOAD_SERVICE_ACCOUNT = 'workload';
