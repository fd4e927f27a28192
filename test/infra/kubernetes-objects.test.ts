import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { renderNamespaceManifests } from '../../lib/namespace-manifests.js';
import { TENANT_ID_PATTERN } from '../../lib/tenant-naming.js';
import { WORKLOAD_SERVICE_ACCOUNT } from '../../lib/gpu-scheduling.js';
import { trainingJobObjects } from '../../lib/training-job-manifest.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { eksResourceProblems } from '../support/eks-rules.js';
import { CLUSTER_SCOPED_KINDS, kubernetesObjectProblems, type KubernetesObject } from '../support/kubernetes-rules.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * Every Kubernetes object and EKS resource the real blueprints generate, as the API server and the
 * EKS API would see them at a tenant's first create (test/support/kubernetes-rules.ts,
 * eks-rules.ts): the CDK assertions and moto accept what they refuse, and a refused manifest fails
 * the kubectl handler's `kubectl apply` and rolls the namespace stack back.
 */

/** Tenant ids at both ends of TENANT_ID_PATTERN: 3 and 24 characters (names and label values grow with them). */
const TENANT_IDS = ['abc', 'a1-b2-c3-d4-e5-f6-g7-h8z'];
const MAX_LENGTH = Number(/\{1,(\d+)\}/.exec(TENANT_ID_PATTERN)![1]) + 2;

type Resource = { Type: string; Properties?: Record<string, any> };
type TemplateJson = { Parameters?: Record<string, { Type: string; Default?: unknown }>; Resources: Record<string, Resource> };

const app = defaultAppTemplates();
const templates: Array<[string, TemplateJson]> = [
  ['TesseraPlatform', app.platform.toJSON() as TemplateJson],
  // The shared cluster's Cluster Autoscaler, in a nested stack of the platform's (its objects were not checked before)
  ...(app.clusterAutoscaler ? [['TesseraPlatform/ClusterAutoscaler', app.clusterAutoscaler.toJSON()] as [string, TemplateJson]] : []),
  ...Object.entries(app.blueprints).map(([tier, t]) => [`${tier}.template.json`, t.toJSON()] as [string, TemplateJson]),
  ...Object.entries(app.namespaceBlueprints).map(([tier, t]) => [`${tier}-namespace.template.json`, t.toJSON()] as [string, TemplateJson]),
  ...Object.entries(app.drBlueprints).map(([tier, t]) => [`${tier}-dr.template.json`, t.toJSON()] as [string, TemplateJson]),
  ...Object.entries(app.failoverBlueprints).map(([tier, t]) => [`${tier}-failover`, t.toJSON()] as [string, TemplateJson]),
];

/** The values a tenant's create passes: its id, the first VPC range of its tier's pool. */
function parameterValues(tier: string | undefined, tenantId: string): Record<string, string> {
  const values: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '111111111111', 'AWS::URLSuffix': 'amazonaws.com', TenantId: tenantId, TenantAccountId: '222222222222' };
  const network = tier ? DEFAULT_CONFIG.tiers[tier]?.network : undefined;
  if (network) values.TenantVpcCidr = `${network.tenantCidrPool.split('/')[0]}/${network.tenantVpcPrefixLength}`;
  return values;
}

function tierOf(name: string): string | undefined {
  return Object.keys(DEFAULT_CONFIG.tiers).find((t) => name.startsWith(`${t}.`) || name.startsWith(`${t}-`));
}

/** Where each kind of custom resource that applies Kubernetes objects holds them: aws-eks-v2's kubectl provider, a dedicated cluster's ClusterManifests. */
const MANIFEST_PROPERTY: Record<string, string> = { 'Custom::AWSCDK-EKS-KubernetesResource': 'Manifest', 'Custom::ClusterManifests': 'Manifests' };

/** The objects of each KubernetesManifest (and ClusterManifests) of a template, with the tenant's values in. */
function manifestsOf(name: string, template: TemplateJson, tenantId: string): Array<{ logicalId: string; objects: KubernetesObject[] }> {
  return Object.entries(template.Resources)
    .filter(([, r]) => Object.hasOwn(MANIFEST_PROPERTY, r.Type))
    .map(([logicalId, r]) => {
      const manifest = resolveIntrinsics(r.Properties![MANIFEST_PROPERTY[r.Type]], parameterValues(tierOf(name), tenantId));
      if (typeof manifest !== 'string') throw new Error(`${name} ${logicalId}: Manifest does not resolve to a string: ${JSON.stringify(manifest)}`);
      return { logicalId, objects: JSON.parse(manifest) as KubernetesObject[] };
    });
}

describe('Kubernetes objects of the blueprints, as the API server validates them', () => {
  it('the tenant ids cover both ends of TENANT_ID_PATTERN', () => {
    for (const id of TENANT_IDS) expect(id).toMatch(new RegExp(TENANT_ID_PATTERN));
    expect(Math.max(...TENANT_IDS.map((id) => id.length))).toBe(MAX_LENGTH);
  });

  it.each(TENANT_IDS)('every KubernetesManifest object is valid for tenant %s (schema, names, labels, quantities, quota, limits, network policies)', (tenantId) => {
    const problems: string[] = [];
    let count = 0;
    const autoscalers = new Set<string>();
    for (const [name, template] of templates) {
      for (const { logicalId, objects } of manifestsOf(name, template, tenantId)) {
        for (const o of objects) {
          count++;
          problems.push(...kubernetesObjectProblems(o).map((p) => `${name} ${logicalId}: ${p}`));
          if (o.kind === 'Deployment' && o.metadata.name === 'cluster-autoscaler') autoscalers.add(`${name} ${template.Resources[logicalId].Type}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(0);
    // The Cluster Autoscaler's objects are among them: the shared cluster's (kubectl provider) and a dedicated cluster's (ClusterManifests)
    expect([...autoscalers].sort()).toEqual(expect.arrayContaining([
      'TesseraPlatform/ClusterAutoscaler Custom::AWSCDK-EKS-KubernetesResource', 'enterprise.template.json Custom::ClusterManifests',
    ]));
  });

  it.each(TENANT_IDS)('every EKS node group, access entry, Pod Identity association and add-on passes the EKS API rules for tenant %s', (tenantId) => {
    const problems: string[] = [];
    const types = new Set<string>();
    for (const [name, template] of templates) {
      for (const [logicalId, r] of Object.entries(template.Resources)) {
        if (!r.Type.startsWith('AWS::EKS::')) continue;
        types.add(r.Type);
        const resolved = resolveIntrinsics(r, parameterValues(tierOf(name), tenantId)) as Resource;
        problems.push(...eksResourceProblems(logicalId, resolved).map((p) => `${name} ${p}`));
      }
    }
    expect(problems).toEqual([]);
    expect([...types].sort()).toEqual(['AWS::EKS::AccessEntry', 'AWS::EKS::Addon', 'AWS::EKS::Cluster', 'AWS::EKS::Nodegroup', 'AWS::EKS::PodIdentityAssociation']);
  });

  it('each namespace blueprint fences its tenant: restricted Pod Security, quota, limits, default deny both ways, nothing outside its namespace, no RBAC', () => {
    const tenantId = TENANT_IDS.at(-1)!;
    const namespace = `tenant-${tenantId}`;
    expect(Object.keys(app.namespaceBlueprints).length).toBeGreaterThan(0);
    for (const tier of Object.keys(app.namespaceBlueprints)) {
      const objects = manifestsOf(`${tier}-namespace.template.json`, app.namespaceBlueprints[tier]!.toJSON() as TemplateJson, tenantId).flatMap((m) => m.objects);
      const ns = objects.filter((o) => o.kind === 'Namespace');
      expect(ns.map((o) => o.metadata.name)).toEqual([namespace]);
      expect(ns[0]!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
      // Cluster-scoped: only the tenant's own Namespace; everything else inside it.
      expect(objects.filter((o) => CLUSTER_SCOPED_KINDS.has(o.kind) && o.kind !== 'Namespace')).toEqual([]);
      expect(objects.filter((o) => !CLUSTER_SCOPED_KINDS.has(o.kind)).every((o) => o.metadata.namespace === namespace)).toBe(true);
      expect(objects.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io/'))).toEqual([]);
      expect(objects.filter((o) => o.kind === 'ResourceQuota')).toHaveLength(1);
      expect(objects.filter((o) => o.kind === 'LimitRange')).toHaveLength(1);
      // A default deny: every pod selected, both directions, no rule.
      expect(objects.some((o) => o.kind === 'NetworkPolicy' && JSON.stringify((o as any).spec) === JSON.stringify({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }))).toBe(true);
      // Ingress only from the namespace's own pods: no namespaceSelector or ipBlock peer.
      const ingressPeers = objects.filter((o) => o.kind === 'NetworkPolicy').flatMap((o: any) => (o.spec.ingress ?? []).flatMap((r: any) => r.from ?? [{}]));
      expect(ingressPeers.every((p: any) => p.podSelector && !p.namespaceSelector && !p.ipBlock)).toBe(true);
    }
  });
});

describe('namespace objects for the quotas the config accepts', () => {
  const input = { namespace: 'tenant-a1-b2-c3-d4-e5-f6-g7-h8z', tenantId: 'a1-b2-c3-d4-e5-f6-g7-h8z', tier: 'a'.repeat(31), tenantVpcCidr: '10.64.0.0/22', dataPorts: [5438, 6390], platformVpcCidr: '10.0.0.0/16', serviceAccount: 'workload' };

  // The schema takes any positive CPU and memory (lib/config/schema.ts compute.quota): a quota below
  // the LimitRange's container defaults (500m, 512Mi) is refused by the API server ("default value
  // 500m is greater than max value 250m") unless the defaults follow it.
  it.each([
    { cpu: 0.25, memoryGiB: 0.25, gpus: 0, pods: 1 },
    { cpu: 0.05, memoryGiB: 0.1, gpus: 0, pods: 1 },
    { cpu: 0.5, memoryGiB: 0.5, gpus: 1, pods: 10 },
    { cpu: 1.5, memoryGiB: 2.5, gpus: 0, pods: 10 },
    { cpu: 512, memoryGiB: 4096, gpus: 64, pods: 5000 },
  ])('quota %j renders objects the API server accepts', (quota) => {
    const problems = renderNamespaceManifests({ ...input, quota }).flatMap((o) => kubernetesObjectProblems(o as KubernetesObject));
    expect(problems).toEqual([]);
  });
});

describe('the training Job (tessera fine-tuning job-manifest), at the limits its CLI accepts', () => {
  const base = { tenantId: 'a1-b2-c3-d4-e5-f6-g7-h8z', name: `j${'1'.repeat(61)}z`, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1', bucket: 'tessera-a1-b2-c3-d4-e5-f6-g7-h8z-data', trainingFile: 'training-data/t.jsonl' };

  it.each([
    { gpus: 1, cpu: 0.1, memoryGiB: 1, maxRuntimeHours: 0.1 },
    { gpus: 8, cpu: 192, memoryGiB: 2048, maxRuntimeHours: 720 },
    { gpus: 2, cpu: 7.5, memoryGiB: 28.5, maxRuntimeHours: 0.123 },
    { gpus: 2, cpu: 7, memoryGiB: 28, maxRuntimeHours: 1.0001 },
  ])('%j renders a Job the API server accepts', (sizes) => {
    expect(trainingJobObjects({ ...base, ...sizes }).flatMap((o) => kubernetesObjectProblems(o as KubernetesObject))).toEqual([]);
  });

  // The dedicated-cluster blueprint creates the Pod Identity association for (tenant-<id>, workload)
  // but, without a kubectl provider, neither the namespace nor the service account: the stream
  // creates both before the Job, or kubectl apply is refused (namespace not found).
  it('creates the namespace and the service account the Job and the blueprint\'s Pod Identity association name, before the Job', () => {
    const objects = trainingJobObjects({ ...base, gpus: 1, cpu: 7, memoryGiB: 28, maxRuntimeHours: 1 }) as KubernetesObject[];
    const enterprise = app.blueprints.enterprise!.toJSON() as TemplateJson;
    const association = resolveIntrinsics(Object.values(enterprise.Resources).find((r) => r.Type === 'AWS::EKS::PodIdentityAssociation'), parameterValues('enterprise', base.tenantId)) as Resource;
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      `Namespace//${association.Properties!.Namespace}`,
      `ServiceAccount/${association.Properties!.Namespace}/${association.Properties!.ServiceAccount}`,
      `Job/${association.Properties!.Namespace}/${base.name}`,
    ]);
    expect((objects[2] as any).spec.template.spec.serviceAccountName).toBe(WORKLOAD_SERVICE_ACCOUNT);
  });
});
