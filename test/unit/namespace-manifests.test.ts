import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_AGENT_CIDR, renderNamespaceManifests } from '../../lib/namespace-manifests.js';

const manifests = renderNamespaceManifests({
  namespace: 'tenant-acme', tenantId: 'acme', tier: 'professional',
  quota: { cpu: 32, memoryGiB: 128, gpus: 2, pods: 200 },
  tenantVpcCidr: '10.80.16.0/20', dataPorts: [5438, 6390], platformVpcCidr: '10.0.0.0/16', serviceAccount: 'workload',
});
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind) as any[];

describe('namespace manifests', () => {
  it('enforce the restricted Pod Security standard on the namespace', () => {
    expect(byKind('Namespace')[0].metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'tessera.io/tenant-id': 'acme' });
  });

  it('cap CPU, memory, GPUs and pods, and forbid load balancers and node ports', () => {
    expect(byKind('ResourceQuota')[0].spec.hard).toEqual({
      'requests.cpu': '32', 'limits.cpu': '32', 'requests.memory': '128Gi', 'limits.memory': '128Gi',
      'requests.nvidia.com/gpu': '2', pods: '200', 'services.loadbalancers': '0', 'services.nodeports': '0',
    });
  });

  it('give every container defaults and a ceiling', () => {
    expect(byKind('LimitRange')[0].spec.limits[0]).toMatchObject({ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { cpu: '32', memory: '128Gi' } });
  });

  it('deny all ingress and egress by default', () => {
    const deny = byKind('NetworkPolicy').find((p) => p.metadata.name === 'default-deny-all');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('allow no ingress from outside the namespace', () => {
    const ingress = byKind('NetworkPolicy').flatMap((p) => p.spec.ingress ?? []);
    expect(ingress).toEqual([{ from: [{ podSelector: {} }] }]);
  });

  it('allow egress only to DNS, the namespace, the tenant VPC data ports, HTTPS endpoints and the Pod Identity agent', () => {
    const egress = byKind('NetworkPolicy').flatMap((p) => p.spec.egress ?? []);
    const blocks = egress.flatMap((e: any) => e.to.filter((t: any) => t.ipBlock).map((t: any) => ({ ...t.ipBlock, ports: e.ports.map((p: any) => p.port) })));
    expect(blocks).toEqual([
      { cidr: '10.80.16.0/20', ports: [5438, 6390] },
      { cidr: '10.0.0.0/16', ports: [443] },
      { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'], ports: [443] },
      { cidr: POD_IDENTITY_AGENT_CIDR, ports: [80] },
    ]);
  });

  it('put every namespaced object in the tenant namespace', () => {
    for (const m of manifests.filter((x) => x.kind !== 'Namespace')) expect(m.metadata.namespace).toBe('tenant-acme');
  });
});
