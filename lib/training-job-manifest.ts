import { GPU_LABELS, GPU_TAINT_KEY, GPU_TAINT_VALUE, WORKLOAD_SERVICE_ACCOUNT } from './gpu-scheduling.js';
import { MODEL_ARTIFACTS_PREFIX, TRAINING_DATA_PREFIX } from './fine-tuning.js';
import type { KubernetesObject } from './namespace-manifests.js';
import { tenantNamespace } from './tenant-naming.js';

export interface TrainingJobManifestInput {
  readonly tenantId: string;
  /** Job name (DNS label). */
  readonly name: string;
  /** Training container image (the tenant's, or a platform base image). */
  readonly image: string;
  /** Tenant bucket (stack output BucketName). */
  readonly bucket: string;
  /** Key under `training-data/` of the tenant bucket. */
  readonly trainingFile: string;
  readonly gpus: number;
  readonly cpu: number;
  readonly memoryGiB: number;
  /** Kubernetes stops the job after this long (activeDeadlineSeconds, rounded to whole seconds, at least 1). */
  readonly maxRuntimeHours: number;
  readonly hyperparameters?: Record<string, string | number>;
}

/**
 * The EKS path of fine-tuning, for tenants of a dedicated cluster training on their own GPU node
 * group: a Kubernetes Job in the tenant namespace that tolerates the GPU taint, asks for whole
 * GPUs, runs as the `workload` service account (EKS Pod Identity: the tenant's workload role, which
 * reads and writes only the tenant's bucket with the tenant's key) and as a non-root user.
 * Rendered by `tessera fine-tuning job-manifest` after the namespace and service account ({@link trainingJobObjects}).
 */
export function trainingJobManifest(input: TrainingJobManifestInput): KubernetesObject {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(input.name)) throw new Error(`name "${input.name}" must be a DNS label (a-z, 0-9, -, at most 63 characters)`);
  if (!input.trainingFile.startsWith(TRAINING_DATA_PREFIX) || input.trainingFile.split('/').includes('..')) {
    throw new Error(`trainingFile "${input.trainingFile}" must be a key under ${TRAINING_DATA_PREFIX} of the tenant bucket`);
  }
  if (!Number.isInteger(input.gpus) || input.gpus < 1 || input.gpus > 8) throw new Error(`gpus ${input.gpus} must be a whole number from 1 to 8`);
  if (!(input.maxRuntimeHours > 0) || !Number.isFinite(input.maxRuntimeHours)) throw new Error(`maxRuntimeHours ${input.maxRuntimeHours} must be a positive number of hours`);
  const labels = { 'app.kubernetes.io/managed-by': 'tessera', 'tessera.io/tenant': input.tenantId, 'tessera.io/fine-tuning-job': input.name };
  const resources = { 'nvidia.com/gpu': String(input.gpus), cpu: String(input.cpu), memory: `${input.memoryGiB}Gi` };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.name, namespace: tenantNamespace(input.tenantId), labels },
    spec: {
      backoffLimit: 2,
      // Whole seconds: the API server decodes activeDeadlineSeconds as an int64 and refuses 442.8 (0.123 h).
      activeDeadlineSeconds: Math.max(1, Math.round(input.maxRuntimeHours * 3600)),
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: WORKLOAD_SERVICE_ACCOUNT,
          restartPolicy: 'Never',
          nodeSelector: { 'tessera.io/accelerator': GPU_LABELS['tessera.io/accelerator'] },
          tolerations: [{ key: GPU_TAINT_KEY, operator: 'Equal', value: GPU_TAINT_VALUE, effect: 'NoSchedule' }],
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'train',
            image: input.image,
            env: [
              { name: 'TRAINING_DATA_S3_URI', value: `s3://${input.bucket}/${input.trainingFile}` },
              { name: 'OUTPUT_S3_URI', value: `s3://${input.bucket}/${MODEL_ARTIFACTS_PREFIX}${input.name}/` },
              ...Object.entries(input.hyperparameters ?? {}).map(([k, v]) => ({ name: `HP_${k.toUpperCase()}`, value: String(v) })),
            ],
            resources: { requests: resources, limits: resources },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'shm', mountPath: '/dev/shm' }],
          }],
          volumes: [
            { name: 'scratch', emptyDir: { sizeLimit: '150Gi' } },
            // PyTorch data loaders share tensors through /dev/shm; the container default is 64 MiB.
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: `${Math.max(1, Math.floor(input.memoryGiB / 4))}Gi` } },
          ],
        },
      },
    },
  };
}

/**
 * What `kubectl apply -f -` needs on the tenant's dedicated cluster for the Job to run, in apply
 * order: the tenant namespace `tenant-<id>` and its `workload` service account (the pair the tier
 * blueprint's Pod Identity association names: lib/tenant-stack.ts WorkloadPodIdentity), then the
 * Job ({@link trainingJobManifest}). The dedicated-cluster blueprint has no kubectl provider, so
 * nothing else creates the two: without them the apply of the Job alone is refused
 * (`namespaces "tenant-<id>" not found`), and in a namespace without the service account the Job
 * controller's pods are (`serviceaccount "workload" not found`). Applying them again changes nothing.
 * Rendered by `tessera fine-tuning job-manifest` as one YAML stream.
 * @throws Error as {@link trainingJobManifest}
 */
export function trainingJobObjects(input: TrainingJobManifestInput): KubernetesObject[] {
  const job = trainingJobManifest(input);
  const namespace = tenantNamespace(input.tenantId);
  const labels = { 'app.kubernetes.io/managed-by': 'tessera', 'tessera.io/tenant': input.tenantId };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: WORKLOAD_SERVICE_ACCOUNT, namespace, labels } },
    job,
  ];
}
