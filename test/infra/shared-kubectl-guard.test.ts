/**
 * The shared cluster's (cluster-admin) kubectl provider's guard (lambdas/namespace-kubectl/tenant_manifest_guard.py), run by
 * Python: a request from a tenant namespace stack (`StackId`, CloudFormation's) reaches aws-eks-v2's kubectl handler only when
 * its manifest is that tenant's own Namespace, ResourceQuota and LimitRange (and the ServiceAccount and NetworkPolicies the
 * manifest held through blueprint 0.9.0), in its namespace. Without it, tenant `acme`'s namespace template could apply or
 * delete, as cluster admin, `acme-2`'s namespace or any cluster-scoped object. The positive controls are the manifests the
 * blueprints synthesize (this checkout's namespace blueprints, and the `Objects` manifest as blueprint 0.9.0 made it),
 * resolved with the tenant's id as CloudFormation would. The handler module is a stand-in `index` that records the call.
 */
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, it } from 'vitest';
import { stackName } from '../../lambdas/lifecycle/blueprints.js';
import { renderNamespaceManifests } from '../../lib/namespace-manifests.js';
import { tenantNamespace } from '../../lib/tenant-naming.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { kubectlGuardOutcomes } from '../support/kubectl-guard-outcomes.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';
import { newStack, template } from '../support/synth.js';

const ACCOUNT = '111122223333';
const SERVICE_TOKEN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:TesseraPlatform-KubectlProviderframeworkonEvent`;
const stackId = (name: string) => `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/${name}/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab`;
const MANIFEST = 'Custom::AWSCDK-EKS-KubernetesResource';

const outcomes = (events: Array<Record<string, unknown>>) => kubectlGuardOutcomes('tenant_manifest_guard', events);

type Properties = Record<string, unknown>;
type K8sObject = { apiVersion: string; kind: string; metadata: Record<string, any>; [k: string]: unknown };

/** A resource's properties as CloudFormation sends them to a custom resource: intrinsics resolved, scalars as strings. */
function asSent(properties: Properties, tenantId: string): Properties {
  const resolved = resolveIntrinsics(properties, { TenantId: tenantId, ClusterName: 'tessera-shared', KubectlServiceToken: SERVICE_TOKEN }) as Properties;
  return Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, typeof v === 'boolean' || typeof v === 'number' ? String(v) : v]));
}

/** The shared provider's resources (`ServiceToken` = the `KubectlServiceToken` parameter) of each namespace blueprint. */
function sharedProviderResources(): Array<{ tier: string; type: string; properties: Properties }> {
  const app = defaultAppTemplates();
  return Object.entries(app.namespaceBlueprints).flatMap(([tier, t]) => Object.values(t.toJSON().Resources as Record<string, { Type: string; Properties: Properties }>)
    .filter((r) => JSON.stringify(r.Properties?.ServiceToken) === JSON.stringify({ Ref: 'KubectlServiceToken' }))
    .map((r) => ({ tier, type: r.Type, properties: r.Properties })));
}

/** The `Objects` manifest as blueprint 0.9.0 made it: all eight objects, aws-eks' default prune (a PruneLabel, each object labelled). */
function release090Objects(tenantId: string): Properties {
  const stack = newStack('professional-namespace');
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'SharedCluster', {
    clusterName: 'tessera-shared', kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', { serviceToken: SERVICE_TOKEN }),
  });
  const manifests = renderNamespaceManifests({
    namespace: tenantNamespace(tenantId), tenantId, tier: 'professional', quota: { cpu: 32, memoryGiB: 128, gpus: 2, pods: 200 },
    tenantVpcCidr: '10.64.4.0/22', dataPorts: [5438, 6390], platformVpcCidr: '10.0.0.0/16', serviceAccount: 'workload',
  });
  new eks.KubernetesManifest(stack, 'Objects', { cluster, manifest: manifests, overwrite: true });
  const [resource] = Object.values(template(stack).findResources(MANIFEST)) as Array<{ Properties: Properties }>;
  return asSent(resource!.Properties, tenantId);
}

const request = (stack: string, properties: Properties, requestType = 'Create', old?: Properties, resourceType = MANIFEST) => ({
  RequestType: requestType, ResourceType: resourceType, StackId: stackId(stack), ResourceProperties: properties,
  ...(old ? { OldResourceProperties: old } : {}),
});
const withObjects = (properties: Properties, edit: (objects: K8sObject[]) => K8sObject[]) =>
  ({ ...properties, Manifest: JSON.stringify(edit(JSON.parse(properties.Manifest as string) as K8sObject[])) });

describe('the shared cluster kubectl provider runs a tenant namespace stack\'s manifest only when it is that tenant\'s own objects', () => {
  const resources = sharedProviderResources();
  const acme = stackName('acme', 'namespace');
  const own = (tenantId = 'acme') => asSent(resources[0]!.properties, tenantId);

  it('the namespace blueprints use the shared provider for one manifest each (Objects), nothing else', () => {
    expect(resources.length).toBeGreaterThan(0);
    expect(new Set(resources.map((r) => r.tier)).size).toBe(resources.length);
    expect(resources.map((r) => r.type)).toEqual(resources.map(() => MANIFEST));
  });

  it('passes every blueprint\'s own manifest, for each request type, and blueprint 0.9.0\'s (its upgrade, its offboarding)', async () => {
    const events = resources.flatMap(({ properties }) => ['acme', 'acme-2'].flatMap((tenant) => {
      const sent = asSent(properties, tenant);
      const stack = stackName(tenant, 'namespace');
      return [request(stack, sent), request(stack, sent, 'Update', sent), request(stack, sent, 'Delete')];
    }));
    const legacy = release090Objects('acme');
    events.push(request(acme, own(), 'Update', legacy), request(acme, legacy, 'Delete'));
    expect(await outcomes(events)).toEqual(events.map(() => 'handled'));
  });

  it('refuses A\'s stack applying B\'s namespace, a ClusterRoleBinding, a second Namespace, a quota elsewhere, or no namespace', async () => {
    const crb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'own-the-cluster' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'workload', namespace: 'tenant-acme' }] };
    const events = [
      request(acme, own('acme-2')), // the whole of acme-2's manifest
      request(acme, withObjects(own(), (o) => [...o, crb as K8sObject])),
      request(acme, withObjects(own(), (o) => [...o, { ...o[0]!, metadata: { ...o[0]!.metadata, name: 'kube-system' } }])),
      request(acme, withObjects(own(), (o) => [...o, o[0]!])),
      request(acme, withObjects(own(), (o) => o.map((x) => (x.kind === 'ResourceQuota' ? { ...x, metadata: { ...x.metadata, namespace: 'tenant-acme-2' } } : x)))),
      request(acme, withObjects(own(), (o) => o.map((x) => (x.kind === 'LimitRange' ? { ...x, metadata: { name: x.metadata.name } } : x)))),
      request(acme, withObjects(own(), (o) => o.filter((x) => x.kind !== 'Namespace'))),
      request(acme, withObjects(own(), (o) => [...o, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'x', namespace: 'tenant-acme' } }])),
    ];
    const got = await outcomes(events);
    expect(got).toEqual([
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme': v1 Namespace tenant-acme-2 refused: a tenant stack may apply only its own Namespace 'tenant-acme'$/),
      expect.stringMatching(/rbac.authorization.k8s.io\/v1 ClusterRoleBinding own-the-cluster refused: .*no cluster-scoped object/),
      expect.stringMatching(/v1 Namespace kube-system refused: a tenant stack may apply only its own Namespace 'tenant-acme'/),
      expect.stringMatching(/has 2 Namespace objects: exactly one, 'tenant-acme'/),
      expect.stringMatching(/v1 ResourceQuota tenant-acme-2\/tenant-quota refused: metadata.namespace must be the tenant's namespace 'tenant-acme'/),
      expect.stringMatching(/v1 LimitRange tenant-defaults refused: metadata.namespace must be/),
      expect.stringMatching(/has 0 Namespace objects/),
      expect.stringMatching(/RoleBinding tenant-acme\/x refused: .*no other kind/),
    ]);
  });

  it('refuses a Namespace without the blueprint\'s labels (Pod Security lifted, another tenant\'s id, an extra label)', async () => {
    const relabel = (labels: Record<string, string>) => withObjects(own(), (o) => o.map((x) => (x.kind === 'Namespace' ? { ...x, metadata: { ...x.metadata, labels: { ...x.metadata.labels, ...labels } } } : x)));
    const got = await outcomes([
      request(acme, relabel({ 'pod-security.kubernetes.io/enforce': 'privileged' })),
      request(acme, relabel({ 'tessera.io/tenant-id': 'acme-2' })),
      request(acme, relabel({ 'kubernetes.io/metadata.name': 'tenant-acme', extra: 'x' })),
      request(acme, withObjects(own(), (o) => o.map((x) => (x.kind === 'Namespace' ? { ...x, metadata: { ...x.metadata, annotations: { a: 'b' } } } : x)))),
    ]);
    expect(got).toEqual([
      expect.stringMatching(/v1 Namespace tenant-acme refused: the Namespace's labels must be tessera.io\/tenant-id=acme, .*restricted/),
      expect.stringMatching(/v1 Namespace tenant-acme refused: the Namespace's labels must be/),
      expect.stringMatching(/the Namespace may carry no other label than aws-eks' prune label/),
      expect.stringMatching(/the Namespace may have only a name and labels/),
    ]);
  });

  it('judges what kubectl is given: an Update\'s new manifest, not its old one, so the rollback of an Update it refused runs; a Delete\'s', async () => {
    // CloudFormation rolls back an Update with the old properties as the new ones and the refused ones as the old; the handler
    // reads ResourceProperties only (aws-eks-v2 apply_handler), so the refused manifest is never given to kubectl again.
    const foreign = own('acme-2');
    const scoped = withObjects(own(), (o) => o.map((x) => (x.kind === 'ResourceQuota' ? { ...x, spec: { ...(x.spec as object), scopes: ['BestEffort'] } } : x)));
    const got = await outcomes([
      request(acme, foreign, 'Update', own()), // forward: refused
      request(acme, own(), 'Update', foreign), // its rollback
      request(acme, scoped, 'Update', own()),
      request(acme, own(), 'Update', scoped),
      request(acme, { ...own(), SkipValidation: 'true' }, 'Update', own()),
      request(acme, own(), 'Update', { ...own(), SkipValidation: 'true' }),
      request(acme, foreign, 'Delete'),
    ]);
    expect(got).toEqual([
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme': v1 Namespace tenant-acme-2 refused/),
      'handled',
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme': v1 ResourceQuota tenant-acme\/tenant-quota refused: its spec must be hard limits alone/),
      'handled',
      expect.stringMatching(/^TenantManifestError: ResourceProperties of tenant namespace stack 'tessera-acme-namespace' has \['SkipValidation'\]/),
      'handled',
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme': v1 Namespace tenant-acme-2 refused/),
    ]);
  });

  it('applies a manifest only with an unscoped quota holding every blueprint\'s limits, load balancers and node ports at 0, and a limit range', async () => {
    type Hard = Record<string, unknown>;
    const editQuota = (edit: (spec: { hard: Hard }) => unknown) =>
      withObjects(own(), (o) => o.map((x) => (x.kind === 'ResourceQuota' ? { ...x, spec: edit(structuredClone(x.spec) as { hard: Hard }) } : x)));
    const without = (key: string) => editQuota((s) => ({ hard: Object.fromEntries(Object.entries(s.hard).filter(([k]) => k !== key)) }));
    const quota = (o: K8sObject[]) => o.find((x) => x.kind === 'ResourceQuota')!;
    const events = [
      request(acme, editQuota((s) => ({ ...s, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }))),
      request(acme, editQuota((s) => ({ ...s, scopes: ['NotTerminating'] })), 'Update', own()),
      request(acme, editQuota(() => ({ hard: 'unlimited' }))),
      request(acme, without('requests.nvidia.com/gpu')),
      request(acme, editQuota((s) => ({ hard: { ...s.hard, pods: '' } }))),
      request(acme, editQuota((s) => ({ hard: { ...s.hard, 'limits.cpu': 64 } }))),
      request(acme, editQuota((s) => ({ hard: { ...s.hard, 'services.loadbalancers': '5' } }))),
      request(acme, without('services.nodeports')),
      request(acme, withObjects(own(), (o) => o.filter((x) => x.kind !== 'ResourceQuota'))),
      request(acme, withObjects(own(), (o) => o.filter((x) => x.kind !== 'LimitRange')), 'Update', own()),
      request(acme, withObjects(own(), (o) => o.map((x) => (x.kind === 'LimitRange' ? { ...x, spec: { limits: [] } } : x)))),
      // A second quota only narrows, but each must be unscoped: a scoped one beside a sound one is refused too.
      request(acme, withObjects(own(), (o) => [...o, { ...quota(o), metadata: { ...quota(o).metadata, name: 'extra' }, spec: { hard: {}, scopes: ['BestEffort'] } }])),
    ];
    const got = await outcomes(events);
    const refused = (what: string, rule: string) => expect.stringMatching(new RegExp(`^TenantManifestError: ResourceProperties\\.Manifest of tenant 'acme': ${what} refused: ${rule}`));
    const quotaRefused = (rule: string) => refused('v1 ResourceQuota tenant-acme/tenant-quota', rule);
    expect(got).toEqual([
      quotaRefused('its spec must be hard limits alone \\(no scopes or scopeSelector'),
      quotaRefused('its spec must be hard limits alone'),
      quotaRefused('its spec must be hard limits alone'),
      quotaRefused('spec\\.hard must limit .* \\(missing or empty: requests\\.nvidia\\.com/gpu\\)$'),
      quotaRefused('spec\\.hard must limit .* \\(missing or empty: pods\\)$'),
      quotaRefused('spec\\.hard must limit .* \\(missing or empty: limits\\.cpu\\)$'),
      quotaRefused(`spec\\.hard must hold services\\.loadbalancers and services\\.nodeports at "0" \\(has services\\.loadbalancers='5'\\)$`),
      quotaRefused(`spec\\.hard must hold .* \\(has services\\.nodeports=None\\)$`),
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme' has no v1 ResourceQuota: a tenant namespace is applied with its quota and limit range$/),
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.Manifest of tenant 'acme' has no v1 LimitRange/),
      refused('v1 LimitRange tenant-acme/tenant-defaults', 'its spec\\.limits must have a Container entry$'),
      refused('v1 ResourceQuota tenant-acme/extra', 'its spec must be hard limits alone'),
    ]);
  });

  it('holds a Delete (kubectl delete) to the objects\' identity only: offboarding runs whatever the quota and limit range said', async () => {
    const got = await outcomes([
      request(acme, withObjects(own(), (o) => o.filter((x) => x.kind === 'Namespace')), 'Delete'),
      request(acme, withObjects(own(), (o) => o.map((x) => (x.kind === 'ResourceQuota' ? { ...x, spec: { hard: {}, scopes: ['BestEffort'] } } : x))), 'Delete'),
      request(acme, withObjects(own(), (o) => o.filter((x) => x.kind === 'Namespace')), 'Create'),
    ]);
    expect(got).toEqual(['handled', 'handled', expect.stringMatching(/has no v1 ResourceQuota/)]);
  });

  it('runs the rollback of an upgrade from 0.9.0 (aws-eks\' own PruneLabel on an Update), refuses any other PruneLabel selector, other properties, and other resource types', async () => {
    const legacy = release090Objects('acme');
    expect(legacy.PruneLabel).toMatch(/^aws\.cdk\.eks\/prune-[0-9a-f]{42}$/);
    const got = await outcomes([
      // A rollback of the upgrade to 0.10.0: apply --prune with 0.9.0's label, which reaches namespaced kinds in tenant-acme only.
      request(acme, legacy, 'Update', own()),
      request(acme, { ...own(), PruneLabel: 'tessera.io/tier=professional' }, 'Update', own()),
      request(acme, { ...own(), PruneLabel: `${legacy.PruneLabel as string},tessera.io/tier` }),
      request(acme, { ...own(), SkipValidation: 'true' }),
      ...['Custom::AWSCDK-EKS-HelmChart', 'Custom::AWSCDK-EKS-KubernetesPatch', 'Custom::AWSCDK-EKS-KubernetesObjectValue']
        .map((type) => request(acme, own(), 'Create', undefined, type)),
    ]);
    expect(got.slice(0, 4)).toEqual([
      'handled',
      expect.stringMatching(/^TenantManifestError: ResourceProperties\.PruneLabel 'tessera\.io\/tier=professional' of tenant namespace stack 'tessera-acme-namespace' refused: only aws-eks' own label/),
      expect.stringMatching(/ResourceProperties\.PruneLabel 'aws\.cdk\.eks\/prune-[0-9a-f]{42},tessera\.io\/tier' .* refused/),
      expect.stringMatching(/has \['SkipValidation'\]/),
    ]);
    for (const o of got.slice(4)) expect(o).toMatch(/^TenantManifestError: ResourceType 'Custom::AWSCDK-EKS-(HelmChart|KubernetesPatch|KubernetesObjectValue)' from tenant namespace stack 'tessera-acme-namespace' refused/);
    expect(got).toHaveLength(7);
  });

  it('refuses any other tenant stack (a nested stack of a namespace stack, a tenant stack) and passes the platform\'s own stacks as before', async () => {
    const anything = { ...own(), Manifest: JSON.stringify([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } }]) };
    const got = await outcomes([
      request('tessera-acme-namespace-Objects-1ABCDEF', own()),
      request(stackName('acme', 'tenant'), own()),
      { ...request(acme, own()), StackId: undefined },
      request('TesseraPlatform', anything),
      request('TesseraPlatform-NamespaceKubectlNestedStack-1ABCDEF', anything, 'Create', undefined, 'Custom::AWSCDK-EKS-HelmChart'),
    ]);
    expect(got.slice(0, 3)).toEqual([0, 1, 2].map(() => expect.stringMatching(/^TenantManifestError: StackId .* is a tenant stack but no tenant namespace stack/)));
    expect(got.slice(3)).toEqual(['handled', 'handled']);
  });
});
