import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { configWith } from '../support/config-with.js';
import { provisioningPolicies, WORKLOAD_ACCOUNT, WORKLOAD_HOME_REGION } from '../support/workload-provisioning-policies.js';

/**
 * The daily drift check (lambdas/lifecycle/detect-drift.ts, check-drift.ts) reaches a vpc-mode tenant's
 * stacks as the workload account's provisioning role (constructs/workload-provisioning-role.ts), in
 * each stack's region. Evaluated with the IAM policy simulator the deploy preflight uses
 * (lib/preflight/iam-eval.ts): the role's policies as the template deploys them in the home region
 * us-east-1, the requests in the DR region us-west-2, for the tenant's DR stack `tessera-acme-dr`
 * and for the stack the failover runbook rebuilds there, `tessera-acme` (the failover blueprint).
 * DetectStackDrift is authorized on the stack together with DetectStackResourceDrift for the
 * resources it checks, so both are asked.
 */
const WORKLOAD = WORKLOAD_ACCOUNT;
const HOME = WORKLOAD_HOME_REGION;
const DR_REGION = 'us-west-2';
const ROLE = `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`;
const DRIFT_CALLS = ['cloudformation:DetectStackDrift', 'cloudformation:DetectStackResourceDrift', 'cloudformation:DescribeStackResourceDrifts'];
const stackArn = (region: string, name: string) => `arn:aws:cloudformation:${region}:${WORKLOAD}:stack/${name}/0a1b2c3d-1111-2222-3333-444455556666`;


let withDr: Array<{ name: string; policy: PolicyJson }>;
let withoutDr: Array<{ name: string; policy: PolicyJson }>;
const allowed = (policies: typeof withDr, action: string, resource: string, region: string) => evaluate({
  principalArn: ROLE, action, resource, resourceAccount: WORKLOAD,
  context: { 'aws:PrincipalArn': ROLE, 'aws:PrincipalAccount': WORKLOAD, 'aws:RequestedRegion': region },
  identityPolicies: policies, scps: [],
}).then((r) => r.allowed);

beforeAll(() => {
  // GIVEN a vpc-mode tier with DR in us-west-2 (professional), and the default config (no DR tier)
  withDr = provisioningPolicies(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 4, rtoHours: 24 } } } }));
  withoutDr = provisioningPolicies(configWith());
});

describe('the drift check\'s role in the workload account', () => {
  it('may detect and read drift of the tenant stack in the home region, DetectStackResourceDrift included', async () => {
    for (const action of DRIFT_CALLS) expect(await allowed(withDr, action, stackArn(HOME, 'tessera-acme'), HOME), action).toBe(true);
    expect(await allowed(withDr, 'cloudformation:DescribeStackDriftDetectionStatus', '*', HOME)).toBe(true);
  });

  it('may detect and read drift of the tenant\'s DR stack in the DR region', async () => {
    for (const action of DRIFT_CALLS) expect(await allowed(withDr, action, stackArn(DR_REGION, 'tessera-acme-dr'), DR_REGION), action).toBe(true);
    expect(await allowed(withDr, 'cloudformation:DescribeStackDriftDetectionStatus', '*', DR_REGION)).toBe(true);
  });

  it('may detect and read drift of the stack the failover runbook rebuilds in the DR region (tessera-<id>), and change it only through the execution role', async () => {
    const rebuilt = stackArn(DR_REGION, 'tessera-acme');
    for (const action of [...DRIFT_CALLS, 'cloudformation:DescribeStacks']) expect(await allowed(withDr, action, rebuilt, DR_REGION), action).toBe(true);
    // Without cloudformation:RoleArn (the execution role) no change goes through; the runbook's
    // own calls with the role are in failover-provisioning-role.test.ts. ExecuteChangeSet is
    // allowed: a change set runs with the role it was created with, and only the execution role's
    // change sets can be created there (FailoverChangeSets).
    for (const action of ['cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:CreateStack']) {
      expect(await allowed(withDr, action, rebuilt, DR_REGION), action).toBe(false);
    }
    expect(await allowed(withDr, 'cloudformation:ExecuteChangeSet', rebuilt, DR_REGION)).toBe(true);
  });

  it('may not reach stacks outside tessera-*, outside the DR regions, or in the DR region without a DR tier', async () => {
    for (const action of DRIFT_CALLS) {
      expect(await allowed(withDr, action, stackArn(DR_REGION, 'other-stack'), DR_REGION), `${action} other-stack`).toBe(false);
      expect(await allowed(withDr, action, stackArn('eu-west-1', 'tessera-acme'), 'eu-west-1'), `${action} eu-west-1`).toBe(false);
      expect(await allowed(withoutDr, action, stackArn(DR_REGION, 'tessera-acme'), DR_REGION), `${action} without DR`).toBe(false);
      expect(await allowed(withoutDr, action, stackArn(DR_REGION, 'tessera-acme-dr'), DR_REGION), `${action} DR stack without DR`).toBe(false);
    }
  });
});
