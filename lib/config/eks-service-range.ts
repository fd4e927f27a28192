import type { z } from 'zod';
import { overlaps, parseCidr, type Ipv4Range } from './cidr.js';

/**
 * The ranges EKS assigns a cluster's Kubernetes Service (ClusterIP) addresses from when CreateCluster's
 * `kubernetesNetworkConfig.serviceIpv4Cidr` is not given: "If you don't specify a block, Kubernetes assigns addresses
 * from either the 10.100.0.0/16 or 172.20.0.0/16 CIDR blocks. We recommend that you specify a block that does not
 * overlap with resources in other networks that are peered or connected to your VPC." (Amazon EKS API Reference,
 * KubernetesNetworkConfigRequest, https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html;
 * the same text for AWS::EKS::Cluster KubernetesNetworkConfig, ServiceIpv4Cidr). EKS takes 172.20.0.0/16 when the VPC is
 * in 10.0.0.0/8 and 10.100.0.0/16 otherwise, so the block never overlaps the cluster's own VPC; the reference names both
 * without the rule, so both are treated as possible here.
 */
export const EKS_DEFAULT_SERVICE_RANGES = ['10.100.0.0/16', '172.20.0.0/16'] as const;

interface Tiers {
  readonly tiers: Record<string, { readonly isolation: string; readonly network: { readonly tenantCidrPool: string }; readonly compute: { readonly mode: string } }>;
}

/**
 * Refuses a tier pool that overlaps a range EKS may give the shared cluster's Services
 * ({@link EKS_DEFAULT_SERVICE_RANGES}), for every tier whose tenants can run on the shared cluster.
 *
 * Tessera's clusters (constructs/kubernetes-cluster.ts, for the shared cluster and each dedicated tenant) leave
 * `serviceIpv4Cidr` to EKS. Setting it instead was not chosen: it can be given only when a cluster is created ("You can
 * only specify a custom CIDR block when you create a cluster"; CloudFormation's update of it requires replacement), so
 * a value added to the template would replace every running cluster, the shared one and each tenant's.
 *
 * Inside the cluster an address of the service range is a Service address: kube-proxy redirects a pod's packet to a
 * ClusterIP there, so the shared cluster's pods cannot reliably reach VPC addresses in it (hence EKS's recommendation
 * above). They reach a shared-compute tenant's database and cache by its VPC range
 * (lib/namespace-manifests.ts, over the peering or Transit Gateway the platform team adds): a tenant VPC carved from a
 * pool that overlaps the service range could be out of their reach. The pools checked are those of every tier with the
 * isolation of a shared-compute tier: a tenant keeps its VPC range across a tier change, which cannot change its
 * isolation (lambdas/lifecycle/tier-migration.ts). A dedicated cluster is left alone: EKS picks the block its VPC is not
 * in, and its pods reach no other tenant network. Nothing is checked when no tier uses shared compute (no shared cluster).
 * Issues at `tiers.<tier>.network.tenantCidrPool`.
 */
export function checkSharedClusterServiceRange(c: Tiers, ctx: z.RefinementCtx): void {
  const sharedTiers = Object.entries(c.tiers).filter(([, t]) => t.compute.mode === 'shared');
  if (sharedTiers.length === 0) return;
  const isolations = new Set(sharedTiers.map(([, t]) => t.isolation));
  const ranges = EKS_DEFAULT_SERVICE_RANGES.map((cidr) => parseCidr(cidr) as Ipv4Range);
  for (const [name, tier] of Object.entries(c.tiers)) {
    if (!isolations.has(tier.isolation)) continue;
    const pool = parseCidr(tier.network.tenantCidrPool);
    if (!pool) continue; // reported by the CIDR's own check
    const hit = ranges.filter((r) => overlaps(pool, r)).map((r) => r.cidr);
    if (hit.length === 0) continue;
    const onShared = tier.compute.mode === 'shared' ? 'its tenants run on the shared cluster' : `its tenants keep their VPC range when they change to shared-compute tier ${sharedTiers.map(([n]) => n).join(', ')}`;
    ctx.addIssue({
      code: 'custom',
      path: ['tiers', name, 'network', 'tenantCidrPool'],
      message: `overlaps ${hit.join(' and ')}, where EKS may put the shared cluster's Kubernetes Service addresses (sharedCluster, in platformNetwork.cidr; serviceIpv4Cidr is left to EKS, which takes ${EKS_DEFAULT_SERVICE_RANGES.join(' or ')}): ${onShared}, and its pods could not reliably reach tenant VPC addresses inside that range (kube-proxy takes them for Service addresses); choose a pool outside ${EKS_DEFAULT_SERVICE_RANGES.join(' and ')}`,
    });
  }
}
