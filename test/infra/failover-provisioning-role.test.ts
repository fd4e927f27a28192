import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { configWith } from '../support/config-with.js';
import { provisioningPolicies, WORKLOAD_ACCOUNT, WORKLOAD_HOME_REGION } from '../support/workload-provisioning-policies.js';

/**
 * Failover runbook steps 5, 7 and 8 (lib/cli/tenants-failover-command.ts) for a vpc-isolation tenant: in the
 * shared workload account, the operator runs them as the workload provisioning role
 * (constructs/workload-provisioning-role.ts) with `--role-arn` the blueprint execution role, in the tier's DR
 * region. Evaluated with the IAM policy simulator the deploy preflight uses (lib/preflight/iam-eval.ts): the role's
 * managed policies as the template deploys them in the home region us-east-1, the runbook's calls in the DR region
 * us-west-2, as the AWS CLI sends them:
 * - `aws cloudformation deploy` (steps 5, 8): DescribeStacks, CreateChangeSet (RoleArn), DescribeChangeSet
 *   (waiter), ExecuteChangeSet, DescribeStacks (waiter); iam:PassRole of the execution role to CloudFormation;
 * - step 7: CreateChangeSet IMPORT of one AWS::RDS::DBInstance (RoleArn), DescribeChangeSet, ExecuteChangeSet,
 *   DescribeStacks, UpdateStack (RoleArn), DescribeStacks.
 * The context carries the condition keys CloudFormation sets on those requests (Service Authorization Reference,
 * AWS CloudFormation: cloudformation:RoleArn, cloudformation:ImportResourceTypes).
 */
const WORKLOAD = WORKLOAD_ACCOUNT;
const HOME = WORKLOAD_HOME_REGION;
const DR_REGION = 'us-west-2';
const ROLE = `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`;
const EXECUTION_ROLE = `arn:aws:iam::${WORKLOAD}:role/TesseraBlueprintExecution`;
const stackArn = (region: string, name: string) => `arn:aws:cloudformation:${region}:${WORKLOAD}:stack/${name}/0a1b2c3d-1111-2222-3333-444455556666`;

type Policies = Array<{ name: string; policy: PolicyJson }>;
type Call = { action: string; stack: string; context?: Record<string, string | string[]> };


const throughExecutionRole = { 'cloudformation:RoleArn': EXECUTION_ROLE };
const importRds = { ...throughExecutionRole, 'cloudformation:ImportResourceTypes': ['AWS::RDS::DBInstance'] };

/** Steps 5 and 8 (`aws cloudformation deploy` of the failover blueprint) and step 7 (import, then update), for tenant acme. */
function runbookCalls(tenant = 'acme', restoredStack = `tessera-${tenant}-restored`): Call[] {
  const primary = `tessera-${tenant}`;
  return [
    // steps 5 and 8
    { action: 'cloudformation:DescribeStacks', stack: primary },
    { action: 'cloudformation:CreateChangeSet', stack: primary, context: throughExecutionRole },
    { action: 'cloudformation:DescribeChangeSet', stack: primary },
    { action: 'cloudformation:ExecuteChangeSet', stack: primary },
    { action: 'cloudformation:DescribeStackEvents', stack: primary },
    // step 7
    { action: 'cloudformation:CreateChangeSet', stack: restoredStack, context: importRds },
    { action: 'cloudformation:DescribeChangeSet', stack: restoredStack },
    { action: 'cloudformation:ExecuteChangeSet', stack: restoredStack },
    { action: 'cloudformation:DescribeStacks', stack: restoredStack },
    { action: 'cloudformation:UpdateStack', stack: restoredStack, context: throughExecutionRole },
  ];
}

function allowed(policies: Policies, action: string, resource: string, region: string, extra: Record<string, string | string[]> = {}): Promise<boolean> {
  return evaluate({
    principalArn: ROLE, action, resource, resourceAccount: WORKLOAD,
    context: { 'aws:PrincipalArn': ROLE, 'aws:PrincipalAccount': WORKLOAD, 'aws:RequestedRegion': region, ...extra },
    identityPolicies: policies, scps: [],
  }).then((r) => r.allowed);
}

const passExecutionRole = (policies: Policies, role = EXECUTION_ROLE, service = 'cloudformation.amazonaws.com', region = DR_REGION) =>
  allowed(policies, 'iam:PassRole', role, region, { 'iam:PassedToService': service });

/** The managed policies with one statement of the DisasterRecovery policy taken out. */
function without(policies: Policies, sid: string): Policies {
  return policies.map(({ name, policy }) => {
    const statements = policy.Statement as Array<{ Sid?: string }>;
    if (!statements.some((s) => s.Sid === sid)) return { name, policy };
    return { name, policy: { ...policy, Statement: statements.filter((s) => s.Sid !== sid) } };
  });
}

let withDr: Policies;
let withoutDr: Policies;

beforeAll(() => {
  // GIVEN a vpc-isolation tier with DR in us-west-2 (starter), and the default config (no DR tier)
  withDr = provisioningPolicies(configWith({ tiers: { starter: { disasterRecovery: { region: DR_REGION, rpoHours: 24, rtoHours: 48 } } } }));
  withoutDr = provisioningPolicies(configWith());
});

describe('failover runbook steps 5, 7 and 8 as the workload provisioning role', () => {
  it('allows every call of the runbook in the DR region, and passing the execution role to CloudFormation', async () => {
    for (const c of runbookCalls()) expect(await allowed(withDr, c.action, stackArn(DR_REGION, c.stack), DR_REGION, c.context), `${c.action} ${c.stack}`).toBe(true);
    expect(await passExecutionRole(withDr)).toBe(true);
  });

  it('denies the same calls in another region, and without a DR tier', async () => {
    for (const c of runbookCalls()) {
      expect(await allowed(withDr, c.action, stackArn('eu-west-1', c.stack), 'eu-west-1', c.context), `${c.action} ${c.stack} eu-west-1`).toBe(false);
      expect(await allowed(withoutDr, c.action, stackArn(DR_REGION, c.stack), DR_REGION, c.context), `${c.action} ${c.stack} without DR`).toBe(false);
    }
  });

  it('denies other stack names, and an import anywhere but tessera-<id>-restored', async () => {
    for (const c of runbookCalls()) {
      expect(await allowed(withDr, c.action, stackArn(DR_REGION, c.stack.replace(/^tessera-/, 'other-')), DR_REGION, c.context), `${c.action} other-*`).toBe(false);
    }
    // the import goes into its own stack only, and imports RDS instances only
    expect(await allowed(withDr, 'cloudformation:CreateChangeSet', stackArn(DR_REGION, 'tessera-acme'), DR_REGION, importRds)).toBe(false);
    // (the policy uses ForAllValues, as AWS's example "Allow import operations for specific resource types" does; the
    // simulator's catalog types the key as a single String, so a mixed list is not asked of it here)
    for (const type of ['AWS::IAM::Role', 'AWS::KMS::Key']) {
      expect(await allowed(withDr, 'cloudformation:CreateChangeSet', stackArn(DR_REGION, 'tessera-acme-restored'), DR_REGION,
        { ...throughExecutionRole, 'cloudformation:ImportResourceTypes': [type] }), type).toBe(false);
    }
  });

  it('denies changes that do not go through the execution role', async () => {
    const changes = runbookCalls().filter((c) => c.context);
    expect(changes).toHaveLength(3);
    for (const c of changes) {
      const { 'cloudformation:RoleArn': _, ...noRole } = c.context!;
      expect(await allowed(withDr, c.action, stackArn(DR_REGION, c.stack), DR_REGION, noRole), `${c.action} ${c.stack} without --role-arn`).toBe(false);
      expect(await allowed(withDr, c.action, stackArn(DR_REGION, c.stack), DR_REGION, { ...c.context, 'cloudformation:RoleArn': `arn:aws:iam::${WORKLOAD}:role/Admin` }), `${c.action} ${c.stack} other role`).toBe(false);
    }
    // iam:PassRole: the execution role to CloudFormation only
    expect(await passExecutionRole(withDr, `arn:aws:iam::${WORKLOAD}:role/Admin`)).toBe(false);
    expect(await passExecutionRole(withDr, EXECUTION_ROLE, 'lambda.amazonaws.com')).toBe(false);
  });

  it('fails when any one of the new statements is taken out', async () => {
    for (const sid of ['FailoverStacksThroughExecutionRole', 'ImportRestoredDatabase', 'FailoverChangeSets']) {
      const cut = without(withDr, sid);
      expect(JSON.stringify(cut), sid).not.toEqual(JSON.stringify(withDr));
      const results = await Promise.all(runbookCalls().map((c) => allowed(cut, c.action, stackArn(DR_REGION, c.stack), DR_REGION, c.context)));
      expect(results.every(Boolean), sid).toBe(false);
    }
    expect((await Promise.all(runbookCalls().map((c) => allowed(without(withDr, 'PassExecutionRoleToCloudFormation'), c.action, stackArn(DR_REGION, c.stack), DR_REGION, c.context)))).every(Boolean)).toBe(true);
    expect(await passExecutionRole(without(withDr, 'PassExecutionRoleToCloudFormation'))).toBe(false);
  });

  it('keeps each managed policy under IAM\'s 6,144 characters with three DR regions', () => {
    const three = provisioningPolicies(configWith({
      allowedRegions: [HOME, 'us-west-2', 'eu-west-1', 'eu-central-1'],
      tiers: {
        starter: { disasterRecovery: { region: 'us-west-2', rpoHours: 24, rtoHours: 48 } },
        professional: { disasterRecovery: { region: 'eu-west-1', rpoHours: 4, rtoHours: 24 } },
        enterprise: { disasterRecovery: { region: 'eu-central-1', rpoHours: 1, rtoHours: 4 } },
      },
    }));
    const sizes = Object.fromEntries(three.map((p) => [p.name, JSON.stringify(p.policy).replace(/\s/g, '').length]));
    for (const [name, size] of Object.entries(sizes)) expect(size, name).toBeLessThan(6144);
    expect(Object.keys(sizes)).toContain('TesseraProvisioning-DisasterRecovery');
    console.log(`provisioning policy sizes (resolved, 3 DR regions): ${JSON.stringify(sizes)}`);
  });
});

/**
 * The lifecycle's look for a tenant's DR rebuild (lambdas/lifecycle/rebuilt-stack.ts drRebuildOf, run by *Check rebuilt
 * stack*, *Delete tenant stacks* and the range's release) as the workload provisioning role in the DR region: DescribeStacks
 * of stacks tessera-<id> and tessera-<id>-restored, DescribeDBInstances of the DB instance tessera-<id>-restored (its ARN
 * `arn:aws:rds:<region>:<account>:db:<identifier>`, Service Authorization Reference: resource type `db`).
 */
describe('the lifecycle\'s look for a DR rebuild as the workload provisioning role', () => {
  const instanceArn = (region: string, id: string) => `arn:aws:rds:${region}:${WORKLOAD}:db:${id}`;
  const lookUps = (region: string, tenant = 'acme') => [
    { action: 'cloudformation:DescribeStacks', resource: stackArn(region, `tessera-${tenant}`) },
    { action: 'cloudformation:DescribeStacks', resource: stackArn(region, `tessera-${tenant}-restored`) },
    { action: 'rds:DescribeDBInstances', resource: instanceArn(region, `tessera-${tenant}-restored`) },
  ];

  it('allows the three reads in the DR region only: not in another region, not without a DR tier, not on another instance', async () => {
    for (const c of lookUps(DR_REGION)) expect(await allowed(withDr, c.action, c.resource, DR_REGION), `${c.action} ${c.resource}`).toBe(true);
    for (const c of lookUps('eu-west-1')) expect(await allowed(withDr, c.action, c.resource, 'eu-west-1'), `${c.action} ${c.resource}`).toBe(false);
    for (const c of lookUps(DR_REGION)) expect(await allowed(withoutDr, c.action, c.resource, DR_REGION), `${c.action} without DR`).toBe(false);
    // the rebuilt stack's own (empty) instance and other names: not this statement's
    for (const id of ['tessera-acme', 'other-acme-restored', 'tessera-acme-restored-2']) expect(await allowed(withDr, 'rds:DescribeDBInstances', instanceArn(DR_REGION, id), DR_REGION), id).toBe(false);
  });

  it('needs RebuiltTenantRestoredInstances, which grants that one read on db:tessera-*-restored of each DR region', async () => {
    const rds = lookUps(DR_REGION)[2]!;
    expect(await allowed(without(withDr, 'RebuiltTenantRestoredInstances'), rds.action, rds.resource, DR_REGION)).toBe(false);
    const statement = withDr.flatMap((p) => p.policy.Statement as Array<{ Sid?: string }>).find((s) => s.Sid === 'RebuiltTenantRestoredInstances');
    expect(statement).toEqual({ Sid: 'RebuiltTenantRestoredInstances', Effect: 'Allow', Action: 'rds:DescribeDBInstances', Resource: `arn:aws:rds:${DR_REGION}:${WORKLOAD}:db:tessera-*-restored` });
  });
});
