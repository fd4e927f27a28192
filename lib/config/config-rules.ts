/**
 * Config rules spelled out in messages, shared by the schema (lib/config/schema.ts, which re-exports them) and the
 * messages that explain its issues (config-issues.ts). In a module of their own so that config-issues.ts, and with it
 * the CLI's error reporting (`nearest`), does not load the schema: building its zod schemas and aws-cdk-lib's region
 * table (lib/config/region.ts) was about a third of every `tessera` start's CPU.
 */

/** The rule for tier names, spelled out: they become parts of stack, role and DNS names. */
export const TIER_NAME_RULE = 'a tier name must be a lower-case DNS label of 2-31 characters: a-z, 0-9 and "-", starting with a letter and not ending with "-" (it becomes part of stack, role, DNS names and Kubernetes labels)';

/**
 * Why two of the config's ranges may not overlap (the overlap check's message). Not routing that exists: Tessera builds
 * no peering or Transit Gateway. What does exist is addressing by range: a shared-compute tenant's pods, on the shared
 * cluster in the platform VPC, reach its database and cache by its VPC range (the namespace's NetworkPolicy admits
 * `tenantVpcCidr`, lib/namespace-manifests.ts), and the tenant's database and cache admit `platformNetwork.cidr`
 * (the `SharedCluster` peer, lib/tenant-stack.ts), over the peering or Transit Gateway the platform team adds between
 * the platform VPC and the tier pools (docs/tenant-lifecycle.md, "Known gaps"). A VPC peering connection between VPCs
 * with overlapping IPv4 CIDR blocks goes to `failed` at once (Amazon VPC Peering Guide, "Create a VPC peering
 * connection", Prerequisites, https://docs.aws.amazon.com/vpc/latest/peering/create-vpc-peering-connection.html), and a rule naming one
 * range would admit the addresses of another range inside it. And each pool is claimed block by block on its own
 * (lambdas/lifecycle/allocate-network.ts): overlapping pools could give two tenants overlapping VPC ranges.
 */
export const DISJOINT = 'the shared cluster (platform VPC) reaches tenant VPCs by their ranges (NetworkPolicy, security-group rules) over the peering or Transit Gateway the platform team adds, which cannot join overlapping ranges, and overlapping pools could give two tenants overlapping VPC ranges, so the ranges must be disjoint';
