import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { managementAccountWarnings } from '../../../lib/config/management-account.js';
import { guardrailPolicy } from '../../../lib/guardrail-policies.js';
import { configErrorOf } from '../../support/config-errors.js';

const MANAGEMENT = '111122223333';

describe('the management account (SCPs do not apply there)', () => {
  it('refuses the workload account of VPC tenants as the management account, naming both keys and the id', () => {
    // GIVEN workloadAccountId equal to organization.managementAccountId, WHEN the config loads, THEN synth is refused at workloadAccountId
    const message = configErrorOf({ organization: { managementAccountId: MANAGEMENT }, workloadAccountId: MANAGEMENT });
    expect(message).toMatch(/workloadAccountId = "111122223333": is organization\.managementAccountId \(111122223333\): service control policies do not apply to the management account/);
    expect(message).toMatch(/set workloadAccountId to a member account/);
  });

  it('allows the platform in the management account (an organization trail), with a warning', () => {
    // GIVEN platformAccountId equal to the management account, WHEN the config loads, THEN it is valid and one warning names the key and id
    const config = loadConfig({ overrides: { organization: { managementAccountId: MANAGEMENT }, platformAccountId: MANAGEMENT } });
    expect(managementAccountWarnings(config)).toEqual([expect.stringMatching(/^platformAccountId = "111122223333": is organization\.managementAccountId: service control policies do not apply/)]);
  });

  it('warns when the platform shares the workload account: step 6 puts it under the guardrails its upgrades cannot pass', () => {
    // GIVEN platformAccountId equal to workloadAccountId, WHEN the config loads, THEN it is valid and one warning names the key, the SCP statements and the step
    const config = loadConfig({ overrides: { platformAccountId: '444455556666', workloadAccountId: '444455556666' } });
    const warnings = managementAccountWarnings(config);
    expect(warnings).toEqual([expect.stringMatching(/^platformAccountId = "444455556666": is workloadAccountId: deploy guide step 6 puts the workload account under tessera-guardrails/)]);
    expect(warnings[0]).toMatch(/ProtectTesseraRoles.*DenyCloudTrailTampering.*move the account out of its tier OU for each cdk deploy TesseraPlatform/);
  });

  it('the guardrail SCP does deny the platform stack\'s role names and trail changes to a principal that is not a deployer', () => {
    // The warning's premise, read from the policy: ProtectTesseraRoles covers tessera-* and /tessera/ roles unless the principal is a deployer; DenyCloudTrailTampering has no exemption
    const policy = guardrailPolicy({ allowedRegions: ['us-east-1'], provisioningRoleName: 'TesseraProvisioning', breakGlassRoleName: 'TesseraBreakGlass', blueprintExecutionRoleName: 'TesseraBlueprintExecution' });
    const roles = policy.Statement.find((s) => s.Sid === 'ProtectTesseraRoles')!;
    expect(roles.Resource).toEqual(expect.arrayContaining(['arn:aws:iam::*:role/tessera-*', 'arn:aws:iam::*:role/tessera/*']));
    expect(roles.Action).toEqual(expect.arrayContaining(['iam:CreateRole', 'iam:UpdateAssumeRolePolicy', 'iam:AttachRolePolicy']));
    expect(JSON.stringify(roles.Condition)).not.toMatch(/cdk-/);
    const trail = policy.Statement.find((s) => s.Sid === 'DenyCloudTrailTampering')!;
    expect(trail.Action).toEqual(expect.arrayContaining(['cloudtrail:UpdateTrail', 'cloudtrail:DeleteTrail']));
    expect(trail.Condition).toBeUndefined();
  });

  it('warns about nothing when every account is a member account', () => {
    expect(managementAccountWarnings(loadConfig())).toEqual([]);
  });
});
