import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { drRestoredInstanceIdentifier, drRestoreRoleArn, drRestoreRoleName } from '../../lib/tenant-naming.js';
import { appTemplates } from '../support/default-app.js';

/**
 * The failover's restore role in the DR blueprint (constructs/tenant-dr-restore-role.ts): the runbook's
 * start-restore-job in the DR region uses it, since the primary's restore-testing role can only create
 * instances tagged awsbackup-restore-test. Compliance (no open cdk-nag finding) is test/infra/tenant-dr.test.ts.
 */
let dr: Template;
beforeAll(async () => {
  // GIVEN a tier with DR in us-west-2, WHEN its DR blueprint is synthesized (once per state of the sources: test/support/default-app.ts)
  dr = (await appTemplates({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } })).drBlueprints.professional;
});

const rendered = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) ? v.map(rendered).join('')
  : 'Ref' in (v as object) ? `<${(v as { Ref: string }).Ref}>`
  : 'Fn::GetAtt' in (v as object) ? `<${(v as { 'Fn::GetAtt': string[] })['Fn::GetAtt'].join('.')}>`
  : rendered((v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]));
const one = (type: string, part: string): any => {
  const found = Object.entries(dr.findResources(type)).filter(([id]) => id.includes(part));
  expect(found, `${type} ${part}`).toHaveLength(1);
  return found[0];
};

describe('the DR blueprint\'s restore role', () => {
  it('is tessera-<id>-dr-restore on the service-role path, assumed by AWS Backup only', () => {
    expect(drRestoreRoleName('acme')).toBe('tessera-acme-dr-restore');
    expect(drRestoreRoleArn('aws', '210987654321', 'acme')).toBe('arn:aws:iam::210987654321:role/tessera/service-role/tessera-acme-dr-restore');
    expect(drRestoreRoleName('a'.repeat(24)).length).toBeLessThanOrEqual(64);
    expect(drRestoredInstanceIdentifier('a'.repeat(24)).length).toBeLessThanOrEqual(63); // RDS DB instance identifier
    const [, role] = one('AWS::IAM::Role', 'RestoreRole');
    expect(rendered(role.Properties.RoleName)).toBe('tessera-<TenantId>-dr-restore');
    expect(role.Properties.Path).toBe('/tessera/service-role/');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
  });

  it('restores from the tenant\'s AWS Backup snapshots into tessera-<id>-restored only, with the DR vault and the DR key', () => {
    const [, policy] = one('AWS::IAM::ManagedPolicy', 'RestoreRole');
    const statements = policy.Properties.PolicyDocument.Statement.map((s: any) => ({ sid: s.Sid, action: [s.Action].flat().sort(), resource: [s.Resource].flat().map(rendered).sort(), condition: s.Condition }));
    const keyId = Object.keys(dr.findResources('AWS::KMS::Key'))[0];
    const vaultId = Object.keys(dr.findResources('AWS::Backup::BackupVault'))[0];
    const rds = (r: string) => `arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:${r}`;
    expect(statements).toEqual([
      // Only the tenant's copies (another tenant's share the account and Region when both are VPC-isolated).
      { sid: 'ReadTheTenantBackupSnapshots', action: ['rds:DescribeDBSnapshots', 'rds:RestoreDBInstanceFromDBSnapshot'], resource: [rds('snapshot:awsbackup:*')], condition: { StringEquals: { 'aws:ResourceTag/tessera:tenant-id': { Ref: 'TenantId' } } } },
      { sid: 'CreateOnlyTheRestoredInstance', action: ['rds:AddTagsToResource', 'rds:DescribeDBInstances', 'rds:ListTagsForResource', 'rds:RestoreDBInstanceFromDBSnapshot'], resource: [rds('db:tessera-<TenantId>-restored')], condition: undefined },
      { sid: 'IntoSubnetGroupsAndDefaultParameters', action: ['rds:RestoreDBInstanceFromDBSnapshot'], resource: [rds('og:default:postgres-*'), rds('pg:default.postgres*'), rds('subgrp:*')], condition: undefined },
      { sid: 'TheDrVault', action: ['backup:DescribeBackupVault'], resource: [`<${vaultId}.BackupVaultArn>`], condition: undefined },
      { sid: 'TheDrKey', action: ['kms:DescribeKey'], resource: [`<${keyId}.Arn>`], condition: undefined },
      { sid: 'GrantsOnTheDrKeyForAwsResources', action: ['kms:CreateGrant'], resource: [`<${keyId}.Arn>`], condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
    ]);
    // region-pinned: the stack's own region, which the template rule holds to the tier's DR region
    expect(JSON.stringify(dr.toJSON().Rules.DeployedInDrRegion.Assertions[0].Assert)).toContain('us-west-2');
  });

  it('is admitted by the DR key through Backup and RDS only, by its exact ARN', () => {
    const [, key] = one('AWS::KMS::Key', 'Key');
    const statements = key.Properties.KeyPolicy.Statement;
    for (const sid of ['RestoreRoleRestoresThroughBackupAndRds', 'RestoreRoleGrantsThroughBackupAndRds']) {
      const s = statements.find((x: any) => x.Sid === sid);
      expect(s, sid).toBeDefined();
      expect([s.Condition.ArnEquals['aws:PrincipalArn']].flat().map(rendered)).toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/tessera/service-role/tessera-<TenantId>-dr-restore']);
      expect(s.Condition.StringEquals['kms:ViaService'].map(rendered)).toEqual(['backup.<AWS::Region>.amazonaws.com', 'rds.<AWS::Region>.amazonaws.com']);
    }
    const grants = statements.find((x: any) => x.Sid === 'RestoreRoleGrantsThroughBackupAndRds');
    expect(grants.Action).toBe('kms:CreateGrant');
    expect(grants.Condition.Bool['kms:GrantIsForAWSResource']).toBe('true');
  });
});
