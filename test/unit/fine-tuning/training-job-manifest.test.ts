import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { trainingJobManifest } from '../../../lib/training-job-manifest.js';

const input = { tenantId: 'acme', name: 'support-v2', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/trainer:1.0', bucket: 'tessera-acme-data', trainingFile: 'training-data/support.jsonl', gpus: 2, cpu: 14, memoryGiB: 56, maxRuntimeHours: 12 };

describe('EKS training Job template', () => {
  it('tolerates the GPU taint, asks for whole GPUs, runs in the tenant namespace as the Pod Identity service account, non-root', () => {
    const job = trainingJobManifest(input) as any;
    expect(job.metadata).toMatchObject({ name: 'support-v2', namespace: 'tenant-acme' });
    const pod = job.spec.template.spec;
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(pod.nodeSelector).toEqual({ 'tessera.io/accelerator': 'nvidia' });
    expect(pod.serviceAccountName).toBe('workload');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].resources).toEqual({ requests: { 'nvidia.com/gpu': '2', cpu: '14', memory: '56Gi' }, limits: { 'nvidia.com/gpu': '2', cpu: '14', memory: '56Gi' } });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([{ name: 'TRAINING_DATA_S3_URI', value: 's3://tessera-acme-data/training-data/support.jsonl' }, { name: 'OUTPUT_S3_URI', value: 's3://tessera-acme-data/models/support-v2/' }]));
    expect(job.spec.activeDeadlineSeconds).toBe(43_200);
  });

  it.each([
    [{ trainingFile: 'models/x' }, /trainingFile "models\/x" must be a key under training-data\//],
    [{ trainingFile: 'training-data/../models/x' }, /must be a key under training-data\//],
    [{ gpus: 0 }, /gpus 0 must be a whole number from 1 to 8/],
    [{ name: 'Bad_Name' }, /name "Bad_Name" must be a DNS label/],
    [{ maxRuntimeHours: 0 }, /maxRuntimeHours 0 must be a positive number of hours/],
  ])('refuses %j', (bad, message) => expect(() => trainingJobManifest({ ...input, ...bad })).toThrow(message));

  it('is printed as one YAML stream by `tessera fine-tuning job-manifest`, after the namespace and service account it runs in', () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const out = execFileSync(process.execPath, ['bin/tessera.mjs', 'fine-tuning', 'job-manifest', '--tenant', 'acme', '--name', 'support-v2', '--image', input.image, '--bucket', input.bucket, '--training-file', input.trainingFile, '--gpus', '2'], { cwd: root, encoding: 'utf8' });
    const [namespace, serviceAccount, job, ...rest] = parseAllDocuments(out).map((d) => d.toJS());
    expect(rest).toEqual([]);
    expect(namespace).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-acme' } });
    expect(serviceAccount).toMatchObject({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'workload', namespace: 'tenant-acme' } });
    expect(job).toMatchObject({ kind: 'Job', metadata: { namespace: 'tenant-acme' }, spec: { template: { spec: { serviceAccountName: 'workload' } } } });
  });
});
