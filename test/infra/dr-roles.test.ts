import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BlueprintExecutionRole } from '../../constructs/blueprint-execution-role.js';
import { WorkloadProvisioningRole } from '../../constructs/workload-provisioning-role.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';
import { newStack } from '../support/synth.js';

/** A policy resource as a readable ARN: `arn:<Partition>:kms:us-west-2:<AccountId>:key/*`, sorted. */
const arns = (r: unknown) => [r].flat().map((x) => JSON.stringify(x).replace(/"Fn::Join":/g, '').replace(/\{"Ref":"AWS::(\w+)"\}/g, '<$1>').replace(/[{}[\]"]|,/g, '')).sort();
type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
const statementsOf = (t: Template, policyName: RegExp): Statement[] => Object.values(t.findResources('AWS::IAM::ManagedPolicy'))
  .filter((p) => policyName.test(JSON.stringify(p.Properties.ManagedPolicyName ?? '')))
  .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const policyNames = (t: Template) => Object.values(t.findResources('AWS::IAM::ManagedPolicy')).map((p) => JSON.stringify(p.Properties.ManagedPolicyName));

describe('the roles that deploy DR stacks act in the tiers\' DR regions', () => {
  it('blueprint execution role: a DisasterRecovery policy for the DR key alias, keys through S3/Backup and the DR vaults of each DR region only', () => {
    // GIVEN a DR region us-west-2 (the stack is in us-east-1)
    const stack = newStack();
    new BlueprintExecutionRole(stack, 'Exec', { roleName: 'TesseraBlueprintExecution', drRegions: ['us-west-2'] });
    const t = Template.fromStack(stack);
    // THEN
    const dr = statementsOf(t, /TesseraBlueprintExecution-DisasterRecovery/);
    const bySid = Object.fromEntries(dr.map((s) => [s.Sid, s]));
    expect(arns(bySid.AdministerDrKeys.Resource)).toEqual(['arn:<Partition>:kms:us-west-2:<AccountId>:alias/tessera-*-dr', 'arn:<Partition>:kms:us-west-2:<AccountId>:key/*']);
    expect(bySid.UseDrKeysOnlyThroughServices.Condition).toEqual({ StringEquals: { 'kms:ViaService': ['s3.us-west-2.amazonaws.com', 'backup.us-west-2.amazonaws.com'] } });
    expect(arns(bySid.DrBackupVaults.Resource)).toEqual(['arn:<Partition>:backup:us-west-2:<AccountId>:backup-vault:tessera-*-dr']);
    expect(JSON.stringify(dr)).not.toContain('us-east-1');
  });

  it('blueprint execution role: CreateKey and MountCapsule (no resource type, so "*") only in its own and the DR regions (aws:RequestedRegion)', async () => {
    // GIVEN the role of an account in us-east-1 with a DR region us-west-2, its policies as CloudFormation resolves them
    const stack = newStack();
    new BlueprintExecutionRole(stack, 'Exec', { roleName: 'TesseraBlueprintExecution', drRegions: ['us-west-2'] });
    const values = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012' };
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'))
      .map((p) => ({ name: p.Properties.ManagedPolicyName as string, policy: resolveIntrinsics(p.Properties.PolicyDocument, values) as PolicyJson }));
    const role = 'arn:aws:iam::123456789012:role/TesseraBlueprintExecution';
    const allowedIn = async (action: string, region: string) => (await evaluate({
      principalArn: role, action, resource: '*', resourceAccount: '123456789012',
      context: { 'aws:PrincipalArn': role, 'aws:PrincipalAccount': '123456789012', 'aws:RequestedRegion': region }, identityPolicies: policies, scps: [],
    })).allowed;
    // THEN (Service Authorization Reference: neither action has a resource type)
    for (const action of ['kms:CreateKey', 'backup-storage:MountCapsule']) {
      expect(await allowedIn(action, 'us-east-1'), `${action} in the home region`).toBe(true);
      expect(await allowedIn(action, 'us-west-2'), `${action} in the DR region`).toBe(true);
      expect(await allowedIn(action, 'eu-central-1'), `${action} in a region of no tier`).toBe(false);
    }
    // AND the DisasterRecovery policy's "*" statements say the DR region they are for
    const dr = statementsOf(Template.fromStack(stack), /TesseraBlueprintExecution-DisasterRecovery/).filter((s) => s.Resource === '*');
    expect(dr.map((s) => [s.Sid, s.Condition])).toEqual([
      ['AdministerDrKeysNoResourceType', { StringEquals: { 'aws:RequestedRegion': ['us-west-2'] } }],
      ['DrBackupVaultsNoResourceType', { StringEquals: { 'aws:RequestedRegion': ['us-west-2'] } }],
    ]);
  });

  it('blueprint execution role without DR regions: no DisasterRecovery policy', () => {
    const stack = newStack();
    new BlueprintExecutionRole(stack, 'Exec', { roleName: 'TesseraBlueprintExecution' });
    expect(policyNames(Template.fromStack(stack)).filter((n) => n.includes('DisasterRecovery'))).toEqual([]);
  });

  it('workload provisioning role: the DR stacks tessera-*-dr and their vaults in each DR region', () => {
    const stack = newStack();
    new WorkloadProvisioningRole(stack, 'Prov', {
      roleName: 'TesseraProvisioning', managementAccountId: '111111111111', platformAccountId: '222222222222', homeRegion: 'us-east-1', allowedRegions: ['us-east-1', 'us-west-2'],
      blueprintExecutionRoleName: 'TesseraBlueprintExecution', blueprintBucketName: 'tessera-blueprints', drRegions: ['us-west-2'],
    });
    const t = Template.fromStack(stack);
    const bySid = Object.fromEntries(statementsOf(t, /TesseraProvisioning-DisasterRecovery/).map((s) => [s.Sid, s]));
    expect(bySid.TesseraDrStacks.Action).toEqual(expect.arrayContaining(['cloudformation:CreateStack', 'cloudformation:DeleteStack', 'cloudformation:UpdateTerminationProtection', 'cloudformation:ListStackResources', 'cloudformation:CreateChangeSet']));
    expect(arns(bySid.TesseraDrStacks.Resource)).toEqual(['arn:<Partition>:cloudformation:us-west-2:<AccountId>:stack/tessera-*-dr/*']);
    // DeleteBackupVault: the daily key-deletion job removes the emptied DR vault with the DR key's scheduling (emptied-stores.ts).
    expect(bySid.TenantDrVaults).toMatchObject({ Action: ['backup:DeleteBackupVault', 'backup:DescribeBackupVault', 'backup:ListRecoveryPointsByBackupVault'] });
  });
});
