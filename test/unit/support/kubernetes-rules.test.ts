import { describe, expect, it } from 'vitest';
import { eksResourceProblems } from '../../support/eks-rules.js';
import { kubernetesObjectProblems, quantityValue, type KubernetesObject } from '../../support/kubernetes-rules.js';

/** The validators of test/infra/kubernetes-objects.test.ts catch what the API server and the EKS API refuse. */

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'tenant-acme', ...extra });
const ok: KubernetesObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-acme', labels: { 'tessera.io/tier': 'starter' } } },
  { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('q'), spec: { hard: { 'requests.cpu': '4', 'requests.nvidia.com/gpu': '2', pods: '50' } } },
  { apiVersion: 'v1', kind: 'LimitRange', metadata: meta('l'), spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { cpu: '4' } }] } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('n'), spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] }] } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd', extra: 'x' } }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '100m' } } }] } } } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('p'), spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'd' } } } },
];

describe('kubernetesObjectProblems', () => {
  it.each(ok.map((o) => [o.kind, o]))('accepts a valid %s', (_kind, o) => expect(kubernetesObjectProblems(o)).toEqual([]));

  it.each<[string, KubernetesObject, RegExp]>([
    ['a namespace name longer than a DNS label', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `tenant-${'a'.repeat(57)}` } }, /metadata\.name: .* no more than 63 characters \(64\)/],
    ['an upper-case name', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('Workload') }, /metadata\.name: "Workload" must be a lowercase RFC 1123 subdomain/],
    ['a label value of 64 characters', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('w', { labels: { a: 'b'.repeat(64) } }) }, /metadata\.labels\[a\]: value .* no more than 63/],
    ['a label key with two slashes', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('w', { labels: { 'a/b/c': 'x' } }) }, /key must be a qualified name/],
    ['a namespaced object without a namespace', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'w' } }, /metadata\.namespace: is required/],
    ['a quantity with an exponent and a binary suffix', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('q'), spec: { hard: { 'requests.memory': '1e-7Gi' } } }, /is not a quantity/],
    ['a quota key that is no resource', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('q'), spec: { hard: { 'nvidia.com/gpu': '1' } } }, /is not a quota resource/],
    ['a fractional pod count', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('q'), spec: { hard: { pods: '1.5' } } }, /must be an integer/],
    ['a LimitRange default above its max', { apiVersion: 'v1', kind: 'LimitRange', metadata: meta('l'), spec: { limits: [{ type: 'Container', default: { memory: '512Mi' }, max: { memory: '0.25Gi' } }] } }, /default value 512Mi is greater than max value 0\.25Gi/],
    ['an except outside its cidr', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('n'), spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] } }, /must be a strict subset/],
    ['an ipBlock beside a selector', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('n'), spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16' }, podSelector: {} }] }] } }, /may not specify ipBlock with another peer/],
    ['port 0', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('n'), spec: { podSelector: {}, egress: [{ ports: [{ protocol: 'TCP', port: 0 }] }] } }, /must be between 1 and 65535/],
    ['a role rule without verbs', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('r'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }, /verbs: must contain at least one value/],
    ['a PriorityClass above the user range', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 2_000_000_000 }, /value: 2000000000 must be an integer of at most 1000000000/],
    ['a Deployment whose selector does not select its pods', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'e' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }, /selector does not match template labels \(app=d\)/],
    ['a Deployment with an empty selector', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { selector: {}, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }, /spec\.selector: empty selector is invalid/],
    ['a Deployment whose pods never restart', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } }, /"Never" must be Always for a Deployment/],
    ['a PodDisruptionBudget with both bounds', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('p'), spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: 'd' } } } }, /minAvailable and maxUnavailable cannot be both set/],
    ['a PodDisruptionBudget over 100%', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('p'), spec: { maxUnavailable: '150%', selector: { matchLabels: { app: 'd' } } } }, /"150%" must be a non-negative integer or a percentage of at most 100%/],
    ['a kind without a schema here', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('d') }, /has no schema here/],
  ])('refuses %s', (_what, o, message) => {
    expect(kubernetesObjectProblems(o).join('\n')).toMatch(message);
  });

  it('refuses a Job with a fractional deadline, an extended resource overcommitted and a bad toleration effect', () => {
    const job = {
      apiVersion: 'batch/v1', kind: 'Job', metadata: meta('j'),
      spec: { activeDeadlineSeconds: 442.8, template: { spec: { restartPolicy: 'Never', tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NO_SCHEDULE' }],
        containers: [{ name: 'c', image: 'i', resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '2' } } }] } } },
    } as KubernetesObject;
    const problems = kubernetesObjectProblems(job).join('\n');
    expect(problems).toMatch(/activeDeadlineSeconds must be integer/);
    expect(problems).toMatch(/extended resources cannot be overcommitted/);
    expect(problems).toMatch(/"NO_SCHEDULE" must be NoSchedule, PreferNoSchedule or NoExecute/);
  });

  it('reads quantities as apimachinery does', () => {
    expect([quantityValue('500m'), quantityValue('2Gi'), quantityValue('1e3'), quantityValue('1.5k')]).toEqual([0.5, 2 ** 31, 1000, 1500]);
    expect(() => quantityValue('1e-7Gi')).toThrow(/not a quantity/);
  });
});

describe('eksResourceProblems', () => {
  it.each<[string, { Type: string; Properties: Record<string, unknown> }, RegExp]>([
    ['a node label value over 63 characters', { Type: 'AWS::EKS::Nodegroup', Properties: { Labels: { a: 'b'.repeat(64) } } }, /value must be 1-63 characters/],
    ['an empty node label value', { Type: 'AWS::EKS::Nodegroup', Properties: { Labels: { a: '' } } }, /value must be 1-63 characters \(0\)/],
    ['a taint effect in Kubernetes spelling', { Type: 'AWS::EKS::Nodegroup', Properties: { Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NoSchedule' }] } }, /must be NO_SCHEDULE/],
    ['51 taints', { Type: 'AWS::EKS::Nodegroup', Properties: { Taints: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Effect: 'NO_SCHEDULE' })) } }, /at most 50/],
    ['a system: group', { Type: 'AWS::EKS::AccessEntry', Properties: { KubernetesGroups: ['system:masters'] } }, /refuses group names starting with system:/],
    ['an access entry type in other spelling', { Type: 'AWS::EKS::AccessEntry', Properties: { Type: 'Standard' } }, /Type: "Standard" must be one of STANDARD/],
    ['an access policy on a node entry', { Type: 'AWS::EKS::AccessEntry', Properties: { Type: 'EC2_LINUX', AccessPolicies: [{ PolicyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', AccessScope: { Type: 'cluster' } }] } }, /takes no access policy/],
    ['an IAM policy ARN as an access policy', { Type: 'AWS::EKS::AccessEntry', Properties: { AccessPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy', AccessScope: { Type: 'cluster' } }] } }, /must be arn:<partition>:eks::aws:cluster-access-policy\/<name>/],
    ['an STS session as the principal', { Type: 'AWS::EKS::AccessEntry', Properties: { PrincipalArn: 'arn:aws:sts::111111111111:assumed-role/r/s' } }, /must be an IAM role or user ARN/],
    ['a Pod Identity namespace over 63 characters', { Type: 'AWS::EKS::PodIdentityAssociation', Properties: { Namespace: 'n'.repeat(64), ServiceAccount: 'workload' } }, /Namespace: .* no more than 63/],
    ['an unknown add-on', { Type: 'AWS::EKS::Addon', Properties: { AddonName: 'vpc_cni' } }, /not an EKS add-on name/],
  ])('refuses %s', (_what, resource, message) => {
    expect(eksResourceProblems('R', resource).join('\n')).toMatch(message);
  });
});
