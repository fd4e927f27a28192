import { describe, expect, it } from 'vitest';
import { K8S_REGISTRY_CACHE_PREFIX } from '../../constructs/cluster-autoscaler.js';
import { CLUSTER_AUTOSCALER_IMAGE_TAGS, clusterAutoscalerImage } from '../../lib/cluster-autoscaler.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { KUBERNETES_VERSIONS } from '../../lib/config/schema.js';
import { defaultAppTemplates } from '../support/default-app.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

/**
 * The shared cluster's Cluster Autoscaler: without it a managed node group stays at the size it was created with, so the
 * default GPU group (minSize 0, no desiredSize) never had a node and every tenant GPU pod stayed Pending.
 */
describe("the shared cluster's Cluster Autoscaler", () => {
  const app = defaultAppTemplates();
  // In the platform's ClusterAutoscaler nested stack (TesseraPlatform's room under 500 resources).
  const resources = app.clusterAutoscaler!.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const manifestObjects = (): any[] => {
    const manifests = ofType('Custom::AWSCDK-EKS-KubernetesResource')
      .map(([, r]) => JSON.parse(typeof r.Properties.Manifest === 'string' ? r.Properties.Manifest : r.Properties.Manifest['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('')))
      .filter((objects: any) => Array.isArray(objects) && objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'cluster-autoscaler'));
    expect(manifests).toHaveLength(1);
    return manifests[0];
  };
  const rendered = (): string => JSON.stringify(ofType('Custom::AWSCDK-EKS-KubernetesResource').map(([, r]) => r.Properties.Manifest));

  it('runs in kube-system on the system nodes, with the image of the cluster\'s minor, AWS auto-discovery of this cluster\'s groups, balancing and least-waste', () => {
    // GIVEN the platform stack of the default config (shared cluster tessera-shared)
    const objects = manifestObjects();
    // THEN every namespaced object of the autoscaler is in kube-system: no tenant namespace holds any of it
    for (const o of objects.filter((x) => !['ClusterRole', 'ClusterRoleBinding'].includes(x.kind))) expect(o.metadata.namespace, o.kind).toBe('kube-system');
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const pod = deployment.spec.template.spec;
    // AND it is scheduled on the system nodes (label of the system node group), never the tainted GPU nodes (no toleration)
    expect(pod.nodeSelector).toEqual({ 'tessera.io/pool': 'system' });
    expect(pod.tolerations).toBeUndefined();
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.serviceAccountName).toBe('cluster-autoscaler');
    const [container] = pod.containers;
    expect(container.command).toEqual([
      './cluster-autoscaler', '--cloud-provider=aws',
      '--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/tessera-shared',
      '--balance-similar-node-groups', '--expander=least-waste', '--v=4', '--stderrthreshold=info',
    ]);
    // AND system pods keep their nodes (the flag at its default: not passed)
    expect(container.command.join(' ')).not.toMatch(/skip-nodes-with-system-pods/);
    // AND the image is the autoscaler of the cluster's minor, through the account's ECR pull through cache
    const minor = loadConfig().sharedCluster.kubernetesVersion;
    expect(rendered()).toContain(`/${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_IMAGE_TAGS[minor]}\\"`);
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('may list and watch the Dynamic Resource Allocation objects, which autoscaler 1.35 always watches (else forbidden, no scaling)', () => {
    // GIVEN the autoscaler's ClusterRole
    const role = manifestObjects().find((o) => o.kind === 'ClusterRole');
    // THEN it may get, list and watch DeviceClasses, ResourceSlices and ResourceClaims (kubernetes/autoscaler issue 9244)
    const may = (group: string, resource: string, verb: string) => role.rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && !r.resourceNames && r.verbs.includes(verb));
    for (const resource of ['deviceclasses', 'resourceslices', 'resourceclaims']) {
      for (const verb of ['get', 'list', 'watch']) expect(may('resource.k8s.io', resource, verb), `${verb} ${resource}`).toBe(true);
    }
    // AND no write on them: the scheduler and the drivers write them, the autoscaler only simulates
    expect(role.rules.filter((r: any) => r.apiGroups.includes('resource.k8s.io')).flatMap((r: any) => r.verbs).sort()).toEqual(['get', 'list', 'watch']);
  });

  it("labels the GPU nodes as GPU nodes for the autoscaler (it waits for a new node's device plugin): the shared cluster's and a dedicated cluster's, which runs one too", () => {
    const platform = app.platform.toJSON().Resources as Record<string, Resource>;
    const [[, gpu]] = Object.entries(platform).filter(([, r]) => r.Type === 'AWS::EKS::Nodegroup' && r.Properties.AmiType === 'BOTTLEROCKET_x86_64_NVIDIA');
    expect(gpu.Properties.Labels).toMatchObject({ 'k8s.amazonaws.com/accelerator': 'nvidia', 'nvidia.com/gpu.present': 'true' });
    const dedicated = Object.values(app.blueprints.enterprise.toJSON().Resources as Record<string, Resource>)
      .filter((r) => r.Type === 'AWS::EKS::Nodegroup' && r.Properties.Taints?.some((t: { Key: string }) => t.Key === 'nvidia.com/gpu'));
    expect(dedicated).toHaveLength(1);
    expect(dedicated[0].Properties.Labels).toMatchObject({ 'k8s.amazonaws.com/accelerator': 'nvidia' });
  });

  it('pulls registry.k8s.io through ECR (the VPC has no internet route) into a repository created beforehand', () => {
    const [[, rule]] = ofType('AWS::ECR::PullThroughCacheRule');
    expect(rule.Properties).toEqual({ EcrRepositoryPrefix: K8S_REGISTRY_CACHE_PREFIX, UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io' });
    const repositories = ofType('AWS::ECR::Repository').filter(([, r]) => r.Properties.RepositoryName === `${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler`);
    expect(repositories).toHaveLength(1);
  });

  it('gets AWS credentials through EKS Pod Identity for kube-system/cluster-autoscaler, with the least-privilege policy of AWS\'s guide', () => {
    const associations = ofType('AWS::EKS::PodIdentityAssociation').filter(([, r]) => r.Properties.ServiceAccount === 'cluster-autoscaler');
    expect(associations).toHaveLength(1);
    const [[, association]] = associations;
    expect(association.Properties.Namespace).toBe('kube-system');
    const role = resources[association.Properties.RoleArn['Fn::GetAtt'][0]];
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    expect(trust.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(Object.keys(trust.Condition).sort()).toEqual(['ArnEquals', 'StringEquals']);
    const roleId = association.Properties.RoleArn['Fn::GetAtt'][0];
    const policies = ofType('AWS::IAM::ManagedPolicy').filter(([, r]) => JSON.stringify(r.Properties.Roles ?? []) === JSON.stringify([{ Ref: roleId }]));
    expect(policies).toHaveLength(1);
    expect(role.Properties.Policies).toBeUndefined();
    const statements = policies[0][1].Properties.PolicyDocument.Statement as any[];
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    // THEN scaling acts only on groups EKS tagged as this cluster's
    expect([bySid.ScaleOnlyThisClustersNodeGroups.Action].flat()).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    expect(bySid.ScaleOnlyThisClustersNodeGroups.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/tessera-shared': 'owned' } });
    // AND only the Describe actions (which take no resource) are on *
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Sid)).toEqual(['DescribeTakesNoResource']);
    for (const action of bySid.DescribeTakesNoResource.Action) expect(action).toMatch(/^(autoscaling:Describe|ec2:Describe|ec2:GetInstanceTypesFromInstanceRequirements$)/);
    // AND eks:DescribeNodegroup (scale from zero: the group's labels and taints) on this cluster's node groups only
    expect([bySid.DescribeThisClustersNodeGroups.Action].flat()).toEqual(['eks:DescribeNodegroup']);
    expect(JSON.stringify(bySid.DescribeThisClustersNodeGroups.Resource)).toMatch(/:nodegroup\/tessera-shared\/\*\/\*"/);
  });

  it('applies its manifest only once its Pod Identity association and image repository exist (and deletes it before them)', () => {
    // GIVEN the kubectl provider's manifest holding the autoscaler's Deployment, its association and its cache repository
    const [manifestId, manifest] = ofType('Custom::AWSCDK-EKS-KubernetesResource').find(([, r]) => JSON.stringify(r.Properties.Manifest).includes('cluster-autoscaler'))!;
    const [[associationId]] = ofType('AWS::EKS::PodIdentityAssociation').filter(([, r]) => r.Properties.ServiceAccount === 'cluster-autoscaler');
    const [[repositoryId]] = ofType('AWS::ECR::Repository');
    // THEN the manifest waits for both: EKS Pod Identity sets a pod's credentials when the pod is created, from the
    // associations that exist then, so a pod created first ran without credentials (this cluster's node metadata is
    // closed to pods) until it was recreated; and the node pulls the image into the repository, which it may not
    // create (no ecr:CreateRepository)
    expect(manifest.DependsOn ?? [], manifestId).toEqual(expect.arrayContaining([associationId, repositoryId]));
  });

  it('the Describe acknowledgement says why * is the resource', () => {
    const suppressed = app.validationReport.pluginReports.flatMap((r) => r.suppressedViolations ?? [])
      .filter((v) => v.violatingConstructs.some((c) => c.constructPath.includes('ClusterAutoscaler/Policy')));
    expect(suppressed.map((v) => v.reason).join('\n')).toMatch(/take no resource/);
  });
});

describe('clusterAutoscalerImage', () => {
  it('refuses a Kubernetes version with no known autoscaler image, naming the key and the value', () => {
    expect(() => clusterAutoscalerImage('1.36', 'tiers.enterprise.compute.kubernetesVersion'))
      .toThrow(/^tiers\.enterprise\.compute\.kubernetesVersion = 1\.36: no Cluster Autoscaler image is known for Kubernetes 1\.36/);
    expect(clusterAutoscalerImage('1.35', 'sharedCluster.kubernetesVersion')).toBe('registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.0');
  });

  it('knows an image for every Kubernetes version the config offers', () => {
    expect(KUBERNETES_VERSIONS.length).toBeGreaterThan(0);
    for (const v of KUBERNETES_VERSIONS) expect(() => clusterAutoscalerImage(v, 'sharedCluster.kubernetesVersion'), v).not.toThrow();
  });
});
