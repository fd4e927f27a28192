/**
 * What the pod-bridge role of a shared-compute tenant (`tessera-<tenant>-pod-bridge`, in the platform account: what the
 * tenant's pods run as before they chain to its workload role) can reach whatever policy it is given: the namespace deployer
 * may create any document named `tessera-*-namespace-*` and attach it (test/isolation/namespace-deployer-grants.test.ts), so
 * the bound is the role's permissions boundary (POD_BRIDGE_BOUNDARY_POLICY_NAME, constructs/shared-cluster.ts). Through the
 * IAM simulator (lib/preflight/iam-eval.ts, which applies the boundary: the effective permissions are the intersection of
 * the identity policies and the boundary), tenant `acme`'s bridge session with an AdministratorAccess-shaped policy planted
 * beside its own makes every cross-tenant attempt of the isolation check (lib/preflight/isolation/attempts.ts) on `acme-2`:
 * its bucket, key, database, roles, and the platform account's pooled tables and keys among them. None may be allowed;
 * without the boundary some are (the check sees what the boundary stops), and the bridge's own chain to its workload role
 * still is (an evaluator that denies everything proves nothing).
 */
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type EvalResult } from '../../lib/preflight/iam-eval.js';
import { attemptsOn, type Attempt } from '../../lib/preflight/isolation/attempts.js';
import { controlsOf } from '../../lib/preflight/isolation/controls.js';
import type { TenantEstate, TenantPrincipal } from '../../lib/preflight/isolation/estate.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { namespaceDeployerInstance } from '../../lib/preflight/run.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME } from '../../lib/shared-cluster-parameters.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith } from '../support/config-with.js';

const TENANTS = ['acme', 'acme-2'];
const ORG = 'o-exampleorg1';
/** A bridge policy the deployer could create: everything, on everything. */
const ADMINISTRATOR_ACCESS: SimulationIdentityPolicy = {
  name: 'tessera-acme-namespace-AdministratorAccessShaped',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

let a: TenantEstate;
let b: TenantEstate;
let bridge: TenantPrincipal;
let boundary: SimulationIdentityPolicy[];

beforeAll(async () => {
  const loaded = await cachedBlueprints(configWith());
  const tier = loaded.tiers.find((t) => t.tierName === 'professional')!;
  expect(tier.namespace).toBeDefined();
  [a, b] = tierEstates(loaded, tier, TENANTS);
  bridge = a.principals.find((p) => p.roleName === tenantRoleName(a.tenantId, 'pod-bridge'))!;
  expect(bridge).toBeDefined();
  const ns = namespaceDeployerInstance(loaded.namespaceDeployer!, a.platformAccount, a.region, a.partition);
  const policy = Object.values(ns.platform.resources).find((r) => r.type === 'AWS::IAM::ManagedPolicy' && r.props.ManagedPolicyName === POD_BRIDGE_BOUNDARY_POLICY_NAME);
  boundary = policy ? [{ name: POD_BRIDGE_BOUNDARY_POLICY_NAME, policy: policy.props.PolicyDocument }] : [];
  // The boundary the bridge role has is this policy of the platform stack.
  expect(bridge.resource.props.PermissionsBoundary).toBe(policy?.arn);
}, 240_000);

/** One request (every resource part of it) as the bridge session, as the isolation check makes it: allowed only if every part is. */
async function run(a0: Attempt, identityPolicies: SimulationIdentityPolicy[], permissionBoundaries: SimulationIdentityPolicy[] | undefined): Promise<EvalResult> {
  let last: EvalResult | undefined;
  for (const part of [{ resource: a0.resource, context: a0.context, resourcePolicy: a0.resourcePolicy, action: a0.action }, ...(a0.alsoOn ?? [])]) {
    last = await evaluate({
      principalArn: bridge.arn, action: part.action ?? a0.action, resource: part.resource, resourceAccount: a0.resourceAccount,
      context: {
        'aws:PrincipalArn': bridge.arn, 'aws:PrincipalAccount': bridge.account, 'aws:PrincipalOrgID': ORG, 'aws:PrincipalType': 'AssumedRole',
        'aws:PrincipalIsAWSService': 'false', 'aws:RequestedRegion': a.region, 'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false',
        ...Object.fromEntries(Object.entries(bridge.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        'aws:ResourceAccount': a0.resourceAccount, ...part.context,
      },
      identityPolicies, scps: bridge.scps, resourcePolicy: part.resourcePolicy, permissionBoundaries,
    });
    if (!last.allowed) return last;
  }
  return last!;
}

async function outcomes(attempts: Attempt[], identityPolicies: SimulationIdentityPolicy[], permissionBoundaries?: SimulationIdentityPolicy[]) {
  const allowed: string[] = [];
  const errors: string[] = [];
  for (const attempt of attempts) {
    const r = await run(attempt, identityPolicies, permissionBoundaries);
    if (r.result.startsWith('error')) errors.push(`${attempt.label}: ${r.result}`);
    else if (r.allowed) allowed.push(attempt.label);
  }
  return { allowed, errors };
}

describe('the pod-bridge role\'s permissions boundary', () => {
  it('holds a bridge role given an AdministratorAccess-shaped policy off every cross-tenant attempt on the other tenant', async () => {
    expect(boundary).toHaveLength(1);
    const attempts = attemptsOn(b, a);
    const planted = [...bridge.identityPolicies, ADMINISTRATOR_ACCESS];
    const bounded = await outcomes(attempts, planted, boundary);
    const unbounded = await outcomes(attempts, planted);
    const counts = new Map<string, number>();
    for (const l of unbounded.allowed) counts.set(`${l.split(':')[0]} in ${l.split(':')[5]}`, (counts.get(`${l.split(':')[0]} in ${l.split(':')[5]}`) ?? 0) + 1);
    const byService = [...counts].map(([k, n]) => `${k}: ${n}`);
    console.log(`${bridge.roleName} with ${ADMINISTRATOR_ACCESS.name} on ${b.tenantId}: ${attempts.length} attempts; allowed ${bounded.allowed.length} with the boundary, ${unbounded.allowed.length} without (${byService.join(', ')})`);
    expect(bounded.errors).toEqual([]);
    expect(bounded.allowed).toEqual([]);
    // What the boundary stops: the platform account's pooled data, in the bridge role's own account.
    expect(unbounded.allowed.length).toBeGreaterThan(0);
    // And what it leaves: the bridge's chain to its own tenant's workload role, with its own policy or the planted one.
    const controls = controlsOf(a, bridge)!;
    expect(controls.length).toBeGreaterThan(0);
    for (const policies of [bridge.identityPolicies, planted]) {
      const denied: string[] = [];
      for (const c of controls) if (!(await run(c, policies, boundary)).allowed) denied.push(c.label);
      expect(denied).toEqual([]);
    }
  }, 600_000);
});
