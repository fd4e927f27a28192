import {
  DescribePolicyCommand, ListAWSServiceAccessForOrganizationCommand, ListOrganizationalUnitsForParentCommand, ListPoliciesCommand,
  ListPoliciesForTargetCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { controlTowerChecks, LZA_VERSION_PARAMETER, regionDenies } from '../../../lib/cli/doctor/control-tower-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { awsError, testConfig, testContext } from './support.js';

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const ssm = mockStrict(SSMClient, 'ssm', SSMServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);

/** Only the starter tier, allowedRegions us-east-1 and eu-west-1; Quarantine and Suspended OUs keep the default names. */
const config = testConfig({ allowedRegions: ['us-east-1', 'eu-west-1'], tiers: { professional: null, enterprise: null } });
const ctx = () => testContext(config);

const fullAccess = { Id: 'p-FullAWSAccess', Name: 'FullAWSAccess', AwsManaged: true };
const guardrails = { Id: 'p-tessguard', Name: 'tessera-guardrails', AwsManaged: false };
const ctScp = (n: number) => ({ Id: `p-ct${n}guardrail`, Name: `aws-guardrails-ct${n}`, AwsManaged: false });
/** The landing zone's Region deny (primary-region-deny-policy.html), allowing `regions`. */
const grRegionDeny = (regions: string[]) => JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'GRRESTRICTROOTUSER', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:PrincipalArn': ['arn:*:iam::*:root'] } } },
    { Sid: 'GRREGIONDENY', Effect: 'Deny', NotAction: ['iam:*', 'organizations:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': regions }, ArnNotLike: { 'aws:PrincipalARN': ['arn:*:iam::*:role/AWSControlTowerExecution'] } } },
  ],
});

function controlTowerEnabled(enabled = true) {
  orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({
    EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }, ...(enabled ? [{ ServicePrincipal: 'controltower.amazonaws.com' }] : [])],
  });
}
function noLza() {
  ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 'Parameter not found'));
}
/** The Tessera OUs that exist under the root, with the SCPs attached to each. */
function ous(attached: Record<string, Array<{ Id: string; Name: string; AwsManaged: boolean }>>, rootScps = [fullAccess]) {
  const ids = Object.keys(attached).map((name) => ({ Id: `ou-abcd-${name.toLowerCase().replace(/[^a-z0-9]/g, '')}`, Name: name }));
  orgs.on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-abcd' }).resolves({ OrganizationalUnits: [{ Id: 'ou-abcd-security', Name: 'Security' }, ...ids] });
  orgs.on(ListPoliciesForTargetCommand, { TargetId: 'r-abcd' }).resolves({ Policies: rootScps });
  for (const [name, policies] of Object.entries(attached)) orgs.on(ListPoliciesForTargetCommand, { TargetId: `ou-abcd-${name.toLowerCase().replace(/[^a-z0-9]/g, '')}` }).resolves({ Policies: policies });
}

beforeEach(() => {
  orgs.reset();
  ssm.reset();
  cfn.reset();
  // TesseraOrganization deployed: every ou-abcd-<name> of a Tessera OU name is its own.
  cfn.on(DescribeStacksCommand, { StackName: 'TesseraOrganization' }).resolves({ Stacks: [{
    StackName: 'TesseraOrganization', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0),
    Outputs: [{ OutputKey: 'TierOustarter', OutputValue: 'ou-abcd-tesserastarter' }, { OutputKey: 'QuarantineOu', OutputValue: 'ou-abcd-quarantine' }, { OutputKey: 'SuspendedOu', OutputValue: 'ou-abcd-suspended' }],
  }] });
});

describe('control tower checks', () => {
  it('is one of the doctor groups, after trusted access', () => {
    const names = CHECK_GROUPS.map((g) => g.name);
    expect(names.indexOf('control-tower')).toBe(names.indexOf('trusted-access') + 1);
  });

  it('without Control Tower or LZA found: the LZA line passes, saying what it could not see (its parameter is regional), and no OU is read', async () => {
    controlTowerEnabled(false);
    noLza();
    const lines = await controlTowerChecks(ctx());
    expect(lines.map((l) => [l.id, l.status])).toEqual([['control-tower', 'pass'], ['landing-zone-accelerator', 'pass']]);
    expect(lines[0].detail).toBe('not enabled (controltower.amazonaws.com has no trusted access)');
    // The parameter is regional and carries LZA's prefix: its absence here does not show LZA is absent.
    expect(lines[1].detail).toBe(`not found in us-east-1 (no ${LZA_VERSION_PARAMETER}): an LZA installed with another home Region or acceleratorPrefix would not be seen here, because the parameter lives only in LZA's home Region and its name carries LZA's prefix (accelerator unless acceleratorPrefix was changed)`);
    expect(lines[1].fix ?? '').not.toMatch(/--region/);
    expect(orgs.commandCalls(ListOrganizationalUnitsForParentCommand)).toHaveLength(0);
  });

  it('with Control Tower, before TesseraOrganization: each OU will be created unregistered, and the landing zone Region deny is compared with allowedRegions', async () => {
    controlTowerEnabled();
    noLza();
    ous({});
    orgs.on(ListPoliciesCommand).resolves({ Policies: [ctScp(1), fullAccess] });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-ct1guardrail' }).resolves({ Policy: { Content: grRegionDeny(['us-east-1', 'us-west-2']) } });
    const lines = await controlTowerChecks(ctx());
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['control-tower', 'pass'], ['landing-zone-accelerator', 'warn'],
      ['control-tower-ou:tessera-starter', 'pass'], ['control-tower-ou:Quarantine', 'pass'], ['control-tower-ou:Suspended', 'pass'],
      ['control-tower-region-deny', 'warn'],
    ]);
    expect(lines[2].detail).toBe('not created yet: TesseraOrganization creates it under r-abcd, unregistered, with 2 SCPs (FullAWSAccess, tessera-guardrails) of 5');
    expect(lines[3].detail).toContain('with 3 SCPs (FullAWSAccess, tessera-guardrails, tessera-quarantine) of 5');
    expect(lines[5].detail).toBe('no Region deny on the root or the Tessera OUs; Control Tower\'s aws-guardrails-ct1 (GRREGIONDENY) allows only us-east-1, us-west-2: registering a Tessera OU would deny allowedRegions eu-west-1 to its tenants');
    expect(lines[5].fix).toBe('keep the Tessera OUs unregistered, or add eu-west-1 to the landing zone\'s governed Regions before registering them');
  });

  it('fails a registered tier OU whose Region deny closes an allowedRegion, and warns that Control Tower governs it', async () => {
    controlTowerEnabled();
    noLza();
    ous({ 'tessera-starter': [fullAccess, ctScp(1), guardrails] });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-ct1guardrail' }).resolves({ Policy: { Content: grRegionDeny(['us-east-1']) } });
    const lines = await controlTowerChecks(ctx());
    const ou = lines.find((l) => l.id === 'control-tower-ou:tessera-starter')!;
    expect(ou.status).toBe('warn');
    expect(ou.detail).toBe('ou-abcd-tesserastarter is registered with Control Tower (aws-guardrails-ct1): its preventive controls apply to every tenant account Tessera moves in, and with auto-enrollment (landing zone 3.1 and later) that move enrolls the account while tessera-quarantine still denies Control Tower\'s roles there; 3 SCPs attached (FullAWSAccess, aws-guardrails-ct1, tessera-guardrails) of 5');
    expect(ou.fix).toBe('deregister tessera-starter in the Control Tower console (Organization, tessera-starter, Deregister) so Tessera\'s SCPs alone govern it (docs/control-tower.md)');
    const region = lines.find((l) => l.id === 'control-tower-region-deny')!;
    expect(region).toMatchObject({
      status: 'fail',
      detail: 'aws-guardrails-ct1 (GRREGIONDENY) on tessera-starter (ou-abcd-tesserastarter) allows only us-east-1: allowedRegions eu-west-1 is denied there, so deploys of tenants there fail',
    });
    expect(region.fix).toMatch(/^add eu-west-1 to the landing zone's governed Regions/);
    // Tessera's own guardrails (also a Region deny) and AWS managed FullAWSAccess are not read.
    expect(orgs.commandCalls(DescribePolicyCommand).map((c) => c.args[0].input.PolicyId)).toEqual(['p-ct1guardrail']);
  });

  it('passes the Region deny when it leaves every allowedRegion open', async () => {
    controlTowerEnabled();
    noLza();
    ous({ 'tessera-starter': [fullAccess, ctScp(1), guardrails] });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-ct1guardrail' }).resolves({ Policy: { Content: grRegionDeny(['us-east-1', 'eu-west-1', 'us-west-2']) } });
    const region = (await controlTowerChecks(ctx())).find((l) => l.id === 'control-tower-region-deny')!;
    expect(region).toMatchObject({ status: 'pass', detail: 'aws-guardrails-ct1 allow every allowedRegion (us-east-1, eu-west-1)' });
  });

  it('fails an OU whose SCPs and the Tessera SCPs still to attach exceed 5 per target, with the numbers', async () => {
    controlTowerEnabled();
    noLza();
    ous({ Quarantine: [fullAccess, ctScp(1), ctScp(2), ctScp(3)] });
    orgs.on(DescribePolicyCommand).resolves({ Policy: { Content: '{"Version":"2012-10-17","Statement":[]}' } });
    const lines = await controlTowerChecks(ctx());
    const ou = lines.find((l) => l.id === 'control-tower-ou:Quarantine')!;
    expect(ou.status).toBe('fail');
    expect(ou.detail).toBe('ou-abcd-quarantine: 4 SCPs attached (FullAWSAccess, aws-guardrails-ct1, aws-guardrails-ct2, aws-guardrails-ct3) + tessera-guardrails, tessera-quarantine that TesseraOrganization attaches = 6 of 5: the deploy of TesseraOrganization fails attaching tessera-guardrails, tessera-quarantine (ConstraintViolationException MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)');
    expect(ou.fix).toContain('make room for 1 on ou-abcd-quarantine');
    expect(lines.find((l) => l.id === 'control-tower-ou:tessera-starter')!.status).toBe('pass');
  });

  it('passes an unregistered OU that Tessera already deployed, counting its SCPs', async () => {
    controlTowerEnabled();
    noLza();
    ous({ 'tessera-starter': [fullAccess, guardrails] });
    const ou = (await controlTowerChecks(ctx())).find((l) => l.id === 'control-tower-ou:tessera-starter')!;
    expect(ou).toMatchObject({ status: 'pass', detail: 'ou-abcd-tesserastarter, not registered with Control Tower; 2 SCPs attached (FullAWSAccess, tessera-guardrails) of 5' });
  });

  it('fails a Region deny on the root that closes an allowedRegion, even without Control Tower when LZA is there', async () => {
    controlTowerEnabled(false);
    ssm.on(GetParameterCommand, { Name: LZA_VERSION_PARAMETER }).resolves({ Parameter: { Name: LZA_VERSION_PARAMETER, Value: '1.12.2' } });
    const lzaDeny = { Id: 'p-lzadeny01', Name: 'AcceleratorGuardrails1', AwsManaged: false };
    ous({}, [fullAccess, lzaDeny]);
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-lzadeny01' }).resolves({ Policy: { Content: JSON.stringify({ Statement: { Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': 'us-east-1' } } } }) } });
    const lines = await controlTowerChecks(ctx());
    const lza = lines.find((l) => l.id === 'landing-zone-accelerator')!;
    expect(lza.status).toBe('warn');
    expect(lza.detail).toMatch(/^installed \(\/accelerator\/AWSAccelerator-InstallerStack\/version = 1\.12\.2\)/);
    // LZA does not lift its quarantine SCP from accounts outside accounts-config.yaml: exempting the
    // deployers lets onboarding run; everyone else in the account needs it detached.
    expect(lza.fix).toBe('in organization-config.yaml add { name: tessera-starter, ignore: true }, { name: Quarantine, ignore: true }, { name: Suspended, ignore: true } under organizationalUnits; if quarantineNewAccounts is enabled, exempt arn:aws:iam::*:role/TesseraProvisioning, arn:aws:iam::*:role/TesseraBlueprintExecution, arn:aws:iam::*:role/tessera/service-role/tessera-* in its scpPolicyName SCP (or onboarding stops at verify-provisioning-access), and list that SCP in organization.externalQuarantinePolicies: Activate tenant detaches it from each tenant account once the tenant is ACTIVE; until then it denies everyone else there, TesseraBreakGlass and your Identity Center users included (docs/control-tower.md)');
    expect(lines.find((l) => l.id === 'control-tower-region-deny')).toMatchObject({
      status: 'fail', detail: 'AcceleratorGuardrails1 on root r-abcd allows only us-east-1: allowedRegions eu-west-1 is denied there, so deploys of tenants there fail',
    });
  });

  it('says that Control Tower\'s auto-enrollment enrolls the accounts Tessera moves into a registered OU', async () => {
    controlTowerEnabled();
    noLza();
    ous({});
    orgs.on(ListPoliciesCommand).resolves({ Policies: [] });
    const ct = (await controlTowerChecks(ctx()))[0];
    expect(ct.detail).not.toMatch(/does not enroll/);
    expect(ct.detail).toMatch(/with auto-enrollment \(landing zone 3\.1 and later\) that MoveAccount enrolls an account whose OU is registered/);
  });

  it('fails an OU of a Tessera name that is not TesseraOrganization\'s (the organization\'s own Suspended), and does not count its SCPs', async () => {
    controlTowerEnabled();
    noLza();
    // The landing zone's Suspended OU, registered, with a Region deny narrower than allowedRegions.
    ous({ 'tessera-starter': [fullAccess, guardrails], Suspended: [fullAccess, ctScp(1)] });
    orgs.on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-abcd' }).resolves({ OrganizationalUnits: [
      { Id: 'ou-abcd-tesserastarter', Name: 'tessera-starter' }, { Id: 'ou-abcd-lzsusp', Name: 'Suspended' },
    ] });
    orgs.on(ListPoliciesForTargetCommand, { TargetId: 'ou-abcd-lzsusp' }).resolves({ Policies: [fullAccess, ctScp(1)] });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-ct1guardrail' }).resolves({ Policy: { Content: grRegionDeny(['us-east-1']) } });
    orgs.on(ListPoliciesCommand).resolves({ Policies: [] });
    const lines = await controlTowerChecks(ctx());
    const suspended = lines.find((l) => l.id === 'control-tower-ou:Suspended')!;
    expect(suspended).toMatchObject({
      status: 'fail',
      detail: 'an OU named Suspended (ou-abcd-lzsusp) exists under r-abcd and is not Tessera\'s (not among TesseraOrganization\'s outputs): the deploy of TesseraOrganization fails creating its own (DuplicateOrganizationalUnitException)',
      fix: 'set organization.suspendedOuName to another name (e.g. tessera-suspended); leave ou-abcd-lzsusp as it is',
    });
    expect(suspended.fix).not.toMatch(/deregister/i);
    expect(lines.find((l) => l.id === 'control-tower-ou:tessera-starter')!.status).toBe('pass');
    expect(lines.find((l) => l.id === 'control-tower-region-deny')!.status).not.toBe('fail');
    expect(orgs.commandCalls(ListPoliciesForTargetCommand).map((c) => c.args[0].input.TargetId)).not.toContain('ou-abcd-lzsusp');
  });

  it('before TesseraOrganization exists, every OU of a Tessera name is the organization\'s own', async () => {
    controlTowerEnabled();
    noLza();
    ous({ Quarantine: [fullAccess] });
    orgs.on(ListPoliciesCommand).resolves({ Policies: [] });
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id TesseraOrganization does not exist'));
    const ou = (await controlTowerChecks(ctx())).find((l) => l.id === 'control-tower-ou:Quarantine')!;
    expect(ou).toMatchObject({ status: 'fail', fix: 'set organization.quarantineOuName to another name (e.g. tessera-quarantine); leave ou-abcd-quarantine as it is' });
  });

  it('warns, naming the call, when Organizations refuses a read', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).rejects(awsError('AccessDeniedException', 'denied'));
    ssm.on(GetParameterCommand).rejects(awsError('AccessDeniedException', 'denied ssm'));
    const lines = await controlTowerChecks(ctx());
    expect(lines.map((l) => [l.id, l.status])).toEqual([['control-tower', 'warn'], ['landing-zone-accelerator', 'warn']]);
    expect(lines[0].detail).toMatch(/^could not tell whether Control Tower is enabled: organizations:ListAWSServiceAccessForOrganization failed: AccessDeniedException: denied/);
    expect(lines[0].fix).toMatch(/^grant organizations:ListAWSServiceAccessForOrganization to your credentials/);

    orgs.reset();
    controlTowerEnabled();
    noLza();
    orgs.on(ListOrganizationalUnitsForParentCommand).rejects(awsError('AccessDeniedException', 'no ous'));
    const refused = await controlTowerChecks(ctx());
    expect(refused.at(-1)).toMatchObject({ id: 'control-tower-ous', status: 'warn' });
    expect(refused.at(-1)!.detail).toMatch(/organizations:ListOrganizationalUnitsForParent failed: AccessDeniedException: no ous/);
  });
});

// Activate tenant detaches the SCPs of organization.externalQuarantinePolicies (LZA's quarantine SCP) from tenant accounts.
describe('external quarantine SCPs (organization.externalQuarantinePolicies)', () => {
  const lzaFound = () => ssm.on(GetParameterCommand, { Name: LZA_VERSION_PARAMETER }).resolves({ Parameter: { Name: LZA_VERSION_PARAMETER, Value: '1.13.1' } });
  const lzaQuarantine = { Id: 'p-lzaquarantine1', Name: 'QuarantineAccounts', Type: 'SERVICE_CONTROL_POLICY' as const, AwsManaged: false };

  it('with LZA found and nothing listed: a warning naming the key, and the id of the SCP of LZA\'s documented name', async () => {
    controlTowerEnabled(false);
    lzaFound();
    ous({});
    orgs.on(ListPoliciesCommand).resolves({ Policies: [fullAccess, guardrails, lzaQuarantine] });
    const lines = await controlTowerChecks(ctx());
    const line = lines.find((l) => l.id === 'external-quarantine-policies')!;
    expect(line).toMatchObject({ status: 'warn', title: 'LZA quarantine SCP' });
    expect(line.detail).toBe('organization.externalQuarantinePolicies is empty: if LZA\'s quarantineNewAccounts is enabled, its SCP stays on every tenant account after the tenant is ACTIVE (LZA lifts it only from the accounts of accounts-config.yaml) and denies everyone it does not exempt there; the organization has an SCP named QuarantineAccounts (p-lzaquarantine1), the name LZA\'s documentation gives it');
    expect(line.fix).toMatch(/^if quarantineNewAccounts\.scpPolicyName in organization-config\.yaml is QuarantineAccounts, set organization\.externalQuarantinePolicies to \[\{ policyId: p-lzaquarantine1, name: QuarantineAccounts \}\], then deploy TesseraOrganization/);
    // the line follows LZA's
    expect(lines.map((l) => l.id).indexOf('external-quarantine-policies')).toBe(lines.map((l) => l.id).indexOf('landing-zone-accelerator') + 1);
  });

  it('with LZA found, nothing listed and no SCP of that name: the fix says how to find the id', async () => {
    controlTowerEnabled(false);
    lzaFound();
    ous({});
    orgs.on(ListPoliciesCommand).resolves({ Policies: [fullAccess] });
    const line = (await controlTowerChecks(ctx())).find((l) => l.id === 'external-quarantine-policies')!;
    expect(line.status).toBe('warn');
    expect(line.detail).toMatch(/^organization\.externalQuarantinePolicies is empty: .*denies everyone it does not exempt there$/);
    expect(line.fix).toMatch(/^if quarantineNewAccounts is enabled in organization-config\.yaml, add its scpPolicyName SCP to organization\.externalQuarantinePolicies as \{ policyId: <its id>, name: <its name> \} \(aws organizations list-policies --filter SERVICE_CONTROL_POLICY lists the ids\)/);
    // without LZA found and nothing listed: no line
    ssm.reset();
    noLza();
    expect((await controlTowerChecks(ctx())).map((l) => l.id)).toEqual(['control-tower', 'landing-zone-accelerator']);
  });

  it('checks that each listed SCP exists, is a customer SCP other than Tessera\'s, and has the name the config gives it', async () => {
    // GIVEN five entries: LZA's SCP, one deleted, one whose name differs, Tessera's own, a tag policy; and LZA not found
    const listed = testConfig({ tiers: { professional: null, enterprise: null }, organization: { externalQuarantinePolicies: [
      { policyId: 'p-lzaquarantine1', name: 'QuarantineAccounts' }, { policyId: 'p-deleted00001' }, { policyId: 'p-misnamed0001', name: 'QuarantineAccounts' }, { policyId: 'p-tessquarantine' },
    ] } });
    controlTowerEnabled(false);
    noLza();
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-lzaquarantine1' }).resolves({ Policy: { PolicySummary: lzaQuarantine } });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-deleted00001' }).rejects(awsError('PolicyNotFoundException', 'We can\'t find a policy with the PolicyId that you specified.'));
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-misnamed0001' }).resolves({ Policy: { PolicySummary: { Id: 'p-misnamed0001', Name: 'AcceleratorGuardrails1', Type: 'SERVICE_CONTROL_POLICY', AwsManaged: false } } });
    orgs.on(DescribePolicyCommand, { PolicyId: 'p-tessquarantine' }).resolves({ Policy: { PolicySummary: { Id: 'p-tessquarantine', Name: 'tessera-quarantine', Type: 'SERVICE_CONTROL_POLICY', AwsManaged: false } } });
    // WHEN
    const lines = (await controlTowerChecks(testContext(listed))).filter((l) => l.id.startsWith('external-quarantine'));
    // THEN one line each
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['external-quarantine:p-lzaquarantine1', 'pass'], ['external-quarantine:p-deleted00001', 'fail'], ['external-quarantine:p-misnamed0001', 'fail'], ['external-quarantine:p-tessquarantine', 'fail'],
    ]);
    expect(lines[0].detail).toBe('p-lzaquarantine1 (QuarantineAccounts), an SCP of the organization: Activate tenant detaches it from each tenant account once the tenant is ACTIVE');
    expect(lines[1]).toMatchObject({
      detail: 'organization.externalQuarantinePolicies[1].policyId = p-deleted00001: no such policy in the organization (PolicyNotFoundException): Activate tenant would find it on no tenant account and detach nothing',
      fix: 'set organization.externalQuarantinePolicies[1].policyId to the id aws organizations list-policies --filter SERVICE_CONTROL_POLICY shows for the SCP, or remove the entry',
    });
    expect(lines[2].detail).toBe('organization.externalQuarantinePolicies[2].policyId = p-misnamed0001: is named AcceleratorGuardrails1, not QuarantineAccounts (organization.externalQuarantinePolicies[2].name): the id or the name is wrong');
    expect(lines[3].detail).toBe('organization.externalQuarantinePolicies[3].policyId = p-tessquarantine: is Tessera\'s own tessera-quarantine, which the lifecycle attaches and detaches itself');
  });

  it('warns, naming the call, when DescribePolicy is refused', async () => {
    controlTowerEnabled(false);
    noLza();
    orgs.on(DescribePolicyCommand).rejects(awsError('AccessDeniedException', 'denied'));
    const line = (await controlTowerChecks(testContext(testConfig({ organization: { externalQuarantinePolicies: [{ policyId: 'p-lzaquarantine1' }] } })))).find((l) => l.id === 'external-quarantine:p-lzaquarantine1')!;
    expect(line.status).toBe('warn');
    expect(line.detail).toMatch(/^could not read p-lzaquarantine1 \(organization\.externalQuarantinePolicies\[0\]\): organizations:DescribePolicy failed: AccessDeniedException: denied/);
    expect(line.fix).toMatch(/^grant organizations:DescribePolicy to your credentials in the management account/);
  });
});

describe('regionDenies', () => {
  it('reads StringNotEquals aws:RequestedRegion of Deny statements, a string or a list, whatever the key case', () => {
    expect(regionDenies('x', grRegionDeny(['us-east-1']))).toEqual([{ policy: 'x', sid: 'GRREGIONDENY', allowed: ['us-east-1'] }]);
    expect(regionDenies('y', JSON.stringify({ Statement: [{ Effect: 'Deny', Condition: { StringNotEqualsIgnoreCase: { 'AWS:RequestedRegion': 'eu-west-1' } } }] }))).toEqual([{ policy: 'y', allowed: ['eu-west-1'] }]);
  });

  it('ignores Allow statements, other conditions and text that is not JSON', () => {
    expect(regionDenies('a', JSON.stringify({ Statement: [{ Effect: 'Allow', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1'] } } }] }))).toEqual([]);
    expect(regionDenies('b', JSON.stringify({ Statement: [{ Effect: 'Deny', Condition: { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } } }] }))).toEqual([]);
    expect(regionDenies('c', 'not json')).toEqual([]);
  });
});
