import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { drBackupIntervalHours, drRegionOf, usesReplicationTimeControl } from '../../lib/config/disaster-recovery.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { blueprintFileName, drBlueprintStackId } from '../../lib/tessera-app.js';
import { drBackupVaultName, drBucketName, drKeyAlias, drServiceRoleName } from '../../lib/tenant-naming.js';
import { TenantDrReplication } from '../../constructs/tenant-dr-replication.js';
import { TenantRestoreTesting } from '../../constructs/tenant-dr-restore-testing.js';
import type { CfnTemplate } from '../integration/support/derive-moto-blueprint.js';
import { checkParameterValues } from '../integration/support/parameter-constraints.js';
import { configErrorOf } from '../support/config-errors.js';
import { appTemplates, defaultAppTemplates, type AppTemplates, type ValidationReport } from '../support/default-app.js';
import { configWith, newStack } from '../support/synth.js';

/**
 * Issue 17 item 1: disaster recovery by tier. One app is built with the professional tier given a DR
 * region (rpo 1 h, rto 4 h); starter and enterprise keep `none`. The default app (shared synth) is
 * the reference for the tiers without DR.
 */
const DR = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } as const;
const DR_TIER = 'professional';

let built: AppTemplates;
let report: ValidationReport;
let primary: Template;
let drStack: Template;
let reference: AppTemplates;

beforeAll(async () => {
  // GIVEN the default config with DR on the professional tier, WHEN the app is synthesized with the
  // compliance packs (once per state of the sources: test/support/default-app.ts)
  built = await appTemplates({ tiers: { [DR_TIER]: { disasterRecovery: DR } } });
  report = built.validationReport;
  primary = built.blueprints[DR_TIER];
  drStack = built.drBlueprints[DR_TIER];
  // The default app too, here under the hook's timeout: a cold run synthesizes it, which on a loaded machine
  // took longer than a test's limit.
  reference = defaultAppTemplates();
});

/** A schedule of the DR tier's Backup plan or restore test: `cron(<BackupScheduleMinute><rest>`. */
const atTenantMinute = (rest: string) => ({ 'Fn::Join': ['', ['cron(', { Ref: 'BackupScheduleMinute' }, rest]] });
const statementsOf = (t: Template, type: string, logicalIdPart: string): any[] => {
  const found = Object.entries(t.findResources(type)).filter(([id]) => id.includes(logicalIdPart));
  expect(found.length, `${type} ${logicalIdPart}`).toBe(1);
  const props = (found[0][1] as any).Properties;
  return (props.PolicyDocument ?? props.KeyPolicy).Statement;
};
const bySid = (statements: any[], sid: string) => {
  const s = statements.find((x) => x.Sid === sid);
  expect(s, sid).toBeDefined();
  return s;
};

describe('the disasterRecovery tier config', () => {
  it('is none for every default tier (data stays in the home region)', () => {
    for (const tier of Object.values(configWith().tiers)) expect(drRegionOf(tier)).toBeUndefined();
    expect(drRegionOf({ disasterRecovery: 'none' })).toBeUndefined();
    expect(drRegionOf(configWith({ tiers: { [DR_TIER]: { disasterRecovery: DR } } }).tiers[DR_TIER])).toBe('us-west-2');
  });

  it('refuses a DR region that is the home region, or outside allowedRegions, naming the path', () => {
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, region: 'us-east-1' } } } })).toMatch(/tiers\.starter\.disasterRecovery\.region.*home region/s);
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, region: 'eu-west-1' } } } })).toMatch(/tiers\.starter\.disasterRecovery\.region.*allowedRegions/s);
  });

  it('refuses RPO and RTO that are not whole hours in range, and any other form', () => {
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, rpoHours: 0 } } } })).toMatch(/tiers\.starter\.disasterRecovery\.rpoHours/);
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, rpoHours: 1.5 } } } })).toMatch(/tiers\.starter\.disasterRecovery\.rpoHours.*whole hours/s);
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, rpoHours: 25 } } } })).toMatch(/tiers\.starter\.disasterRecovery\.rpoHours/);
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { ...DR, rtoHours: 0 } } } })).toMatch(/tiers\.starter\.disasterRecovery\.rtoHours/);
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: 'always' } } })).toMatch(/tiers\.starter\.disasterRecovery/);
  });

  it('builds DR names that fit AWS\'s limits for the longest tenant id and region', () => {
    const id = 'a'.repeat(24);
    expect(drBucketName(id, '123456789012', 'ap-southeast-2').length).toBeLessThanOrEqual(63); // S3
    expect(drBackupVaultName(id).length).toBeLessThanOrEqual(50); // AWS Backup vault
    for (const purpose of ['dr-replication', 'database-backup', 'restore-testing'] as const) expect(drServiceRoleName(id, purpose).length).toBeLessThanOrEqual(64); // IAM role
    expect(`tessera_${id}_database`.length).toBeLessThanOrEqual(50); // restore testing plan (hyphens become underscores)
    expect(`tessera-${id}-restore-events`.length).toBeLessThanOrEqual(64); // EventBridge rule
    expect(drKeyAlias(id).length).toBeLessThanOrEqual(256); // KMS alias
  });

  it('schedules the DR snapshot leaving an hour for the copy, evenly across midnight, and RTC for an RPO of one hour only', () => {
    expect([1, 2, 3, 4, 5, 7, 9, 13, 24].map(drBackupIntervalHours)).toEqual([1, 1, 2, 3, 4, 6, 8, 12, 12]);
    expect(usesReplicationTimeControl(1)).toBe(true);
    expect(usesReplicationTimeControl(2)).toBe(false);
  });
});

describe('a tier without DR', () => {
  it('keeps its blueprint exactly as the default app builds it, and gets no DR blueprint', () => {
    for (const tier of ['starter', 'enterprise']) {
      expect(built.blueprints[tier].toJSON(), tier).toEqual(reference.blueprints[tier].toJSON());
      expect(built.drBlueprints[tier]).toBeUndefined();
    }
    expect(Object.keys(built.drBlueprints)).toEqual([DR_TIER]);
  });

  it('has no replication, no DR copy, no restore test and no restore-events rule', () => {
    for (const t of Object.values(reference.blueprints)) {
      for (const bucket of Object.values(t.findResources('AWS::S3::Bucket'))) expect((bucket as any).Properties.ReplicationConfiguration).toBeUndefined();
      t.resourceCountIs('AWS::Backup::RestoreTestingPlan', 0);
      t.resourceCountIs('AWS::Backup::RestoreTestingSelection', 0);
      const plans = Object.values(t.findResources('AWS::Backup::BackupPlan')) as any[];
      for (const rule of plans.flatMap((p) => p.Properties.BackupPlan.BackupPlanRule)) expect(rule.CopyActions).toBeUndefined();
      expect(JSON.stringify(t.findResources('AWS::Events::Rule'))).not.toContain('Restore Job State Change');
    }
  });
});

describe('the DR blueprint of a DR tier', () => {
  it('is published in the catalog under its own file name and stack id', () => {
    expect(blueprintFileName(DR_TIER, 'dr')).toBe('professional-dr.template.json');
    expect(built.blueprintCatalog['professional-dr.template.json']).toEqual(drStack.toJSON());
    expect(Object.keys(built.blueprintCatalog).filter((f) => f.endsWith('-dr.template.json'))).toEqual(['professional-dr.template.json']);
    expect(built.stackPaths.drBlueprints[DR_TIER].split('/').pop()).toBe(drBlueprintStackId(DR_TIER));
    expect(drBlueprintStackId(DR_TIER)).toBe('TesseraTenantDr-professional');
  });

  it('takes the TenantId parameter with the primary\'s rule and refuses any region but the DR region', () => {
    drStack.hasParameter('TenantId', { AllowedPattern: built.blueprints[DR_TIER].toJSON().Parameters.TenantId.AllowedPattern });
    expect(drStack.toJSON().Rules.DeployedInDrRegion.Assertions[0].Assert).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-west-2'] });
  });

  it('has a DR key of the tenant (not a replica), rotated, retained, aliased by name', () => {
    drStack.resourceCountIs('AWS::KMS::Key', 1);
    // Retained like every tenant data store (RetainExceptOnCreate: deleted only when a first create rolls back).
    drStack.hasResource('AWS::KMS::Key', { DeletionPolicy: 'RetainExceptOnCreate', Properties: { EnableKeyRotation: true, MultiRegion: Match.absent() } });
    drStack.hasResourceProperties('AWS::KMS::Alias', { AliasName: { 'Fn::Join': ['', ['alias/tessera-', { Ref: 'TenantId' }, '-dr']] } });
    expect(drKeyAlias('acme')).toBe('alias/tessera-acme-dr');
  });

  it('gives the DR key the same principals as the tenant key, and the primary\'s service roles through their services only', () => {
    const key = statementsOf(drStack, 'AWS::KMS::Key', 'Key');
    const home = statementsOf(primary, 'AWS::KMS::Key', 'Key');
    // The same administering principals, by ARN.
    for (const sid of ['ProvisioningRoleAdministersOnly', 'DeployerAdministers']) {
      expect(JSON.stringify(bySid(key, sid).Principal)).toBe(JSON.stringify(bySid(home, sid).Principal));
      expect(bySid(key, sid).Action).toEqual(bySid(home, sid).Action);
    }
    // The tenant's roles and break-glass: the tenant key names the role resources; the DR key the same role names
    // (account principal limited to those ARNs: the roles do not exist yet when the DR blueprint deploys).
    const homeUsers = [bySid(home, 'TenantRolesUseKey').Principal.AWS].flat().map((p: any) => p['Fn::GetAtt'][0]);
    expect(homeUsers).toHaveLength(4); // workload, admin, training, break-glass in the professional tier
    const drUsers = bySid(key, 'TenantRolesUseKey');
    expect(drUsers.Action).toEqual(bySid(home, 'TenantRolesUseKey').Action);
    const names = JSON.stringify(drUsers.Condition.ArnEquals['aws:PrincipalArn']);
    for (const purpose of ['workload', 'admin', 'training', 'break-glass']) expect(names).toContain(`-${purpose}"`);
    expect(drUsers.Condition.ArnEquals['aws:PrincipalArn']).toHaveLength(4);
    const replication = bySid(key, 'ReplicationRoleEncryptsReplicasThroughS3');
    expect(replication.Action).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    expect(replication.Condition.StringEquals['kms:ViaService']).toEqual([{ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }]);
    // The whole ARN, as IAM compares it with the caller's: arn:<partition>:iam::<account>:role/<path><name>.
    const rendered = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) ? v.map(rendered).join('')
      : 'Ref' in (v as object) ? `<${(v as { Ref: string }).Ref}>` : rendered((v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]));
    expect([replication.Condition.ArnEquals['aws:PrincipalArn']].flat().map(rendered))
      .toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/tessera/service-role/tessera-<TenantId>-dr-replication']);
    const copies = bySid(key, 'BackupRoleGrantsThroughBackup');
    expect(copies.Condition.Bool['kms:GrantIsForAWSResource']).toBe('true');
    expect(JSON.stringify(copies.Condition.ArnEquals)).toContain('-database-backup');
  });

  it('has a DR bucket: named for the primary, versioned, KMS with the DR key, TLS only, retained, with the same isolation', () => {
    const buckets = drStack.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.anyValue() } });
    const [id, bucket] = Object.entries(buckets)[0] as [string, any];
    expect(bucket.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(bucket.Properties.BucketName).toEqual({ 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-dr-', { Ref: 'AWS::AccountId' }, '-us-west-2']] });
    expect(drBucketName('acme', '123456789012', 'us-west-2')).toBe('tessera-acme-dr-123456789012-us-west-2');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
      BucketKeyEnabled: true,
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] } },
    });
    const policy = Object.values(drStack.findResources('AWS::S3::BucketPolicy')).find((p: any) => p.Properties.Bucket.Ref === id) as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    const homePolicy = (Object.values(primary.findResources('AWS::S3::BucketPolicy')) as any[]).find((p) => JSON.stringify(p).includes('DenyObjectAccessToAllButTenantRoles'));
    const sids = (s: any[]) => s.map((x) => x.Sid).filter(Boolean);
    // The home bucket's statements, but the training-files role's fence: the Files API serves the home bucket
    // (after a failover, the rebuilt one), never the replica, so the DR bucket does not admit that role at all.
    const fence = (sid: string) => /^DenyTrainingFiles/.test(sid);
    expect(sids(homePolicy.Properties.PolicyDocument.Statement).filter(fence)).toEqual(['DenyTrainingFilesOutsideItsPrefix', 'DenyTrainingFilesListingOutsideItsPrefix']);
    expect(sids(statements)).toEqual(sids(homePolicy.Properties.PolicyDocument.Statement).filter((sid: string) => !fence(sid)));
    expect(JSON.stringify(statements)).not.toMatch(/training-files/);
    expect(bySid(statements, 'DenyObjectAccessToAllButTenantRoles').Condition.ArnNotLike['aws:PrincipalArn']).toHaveLength(4 + 1); // tenant roles, break-glass, replication
    expect(bySid(statements, 'DenyObjectsNotEncryptedWithTenantKey').Condition.StringNotEqualsIfExists['s3:x-amz-server-side-encryption-aws-kms-key-id']).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    expect(statements.some((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
  });

  it('has a DR Backup vault named for the primary, encrypted with the DR key, retained', () => {
    drStack.hasResource('AWS::Backup::BackupVault', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: { BackupVaultName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-dr']] }, EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
    });
    expect(drBackupVaultName('acme')).toBe('tessera-acme-dr');
  });
});

describe('the primary blueprint of a DR tier', () => {
  const tenantBucket = () => Object.entries(primary.findResources('AWS::S3::Bucket')).find(([, b]: any) => b.Properties.ReplicationConfiguration) as [string, any];

  it('replicates the tenant bucket to the DR bucket with the DR key, delete markers and RTC (RPO 1 h)', () => {
    const [, bucket] = tenantBucket();
    const config = bucket.Properties.ReplicationConfiguration;
    expect(config.Role).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DrReplicationRole/), 'Arn'] });
    expect(config.Rules).toEqual([{
      Id: 'tenant-data-to-dr-region', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' },
      DeleteMarkerReplication: { Status: 'Enabled' },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: {
        Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::tessera-', { Ref: 'TenantId' }, '-dr-', { Ref: 'AWS::AccountId' }, '-us-west-2']] },
        EncryptionConfiguration: { ReplicaKmsKeyID: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-west-2:', { Ref: 'AWS::AccountId' }, ':alias/tessera-', { Ref: 'TenantId' }, '-dr']] } },
        ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
        Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
      },
    }]);
  });

  it('leaves RTC off for an RPO of two hours or more', () => {
    const stack = newStack();
    const r = new TenantDrReplication(stack, 'R', { tenantId: 'acme', roleName: 'r', drRegion: 'us-west-2', destinationBucketName: 'b', sourceKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k', replicationTimeControl: false });
    expect((r.replication.rule.destination as any).replicationTime).toBeUndefined();
    expect((r.replication.rule.destination as any).metrics).toBeUndefined();
  });

  it('gives the replication role exactly what replication needs, on the two buckets and two keys', () => {
    const [bucketId] = tenantBucket();
    primary.hasResourceProperties('AWS::IAM::Role', {
      RoleName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-dr-replication']] },
      Path: '/tessera/service-role/',
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] },
    });
    const s = statementsOf(primary, 'AWS::IAM::ManagedPolicy', 'DrReplicationPolicy');
    expect(s.map((x) => [x.Sid, x.Action])).toEqual([
      ['SourceBucketConfiguration', ['s3:GetReplicationConfiguration', 's3:ListBucket']],
      ['SourceObjectVersions', ['s3:GetObjectVersionAcl', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging']],
      ['ReplicateIntoDrBucket', ['s3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags']],
      ['DecryptSourceWithTenantKeyThroughS3', 'kms:Decrypt'],
      ['EncryptReplicasWithDrKeyThroughS3', ['kms:Encrypt', 'kms:GenerateDataKey']],
    ]);
    expect(s.every((x) => x.Effect === 'Allow')).toBe(true);
    expect(bySid(s, 'SourceBucketConfiguration').Resource).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
    expect(bySid(s, 'SourceObjectVersions').Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] });
    expect(JSON.stringify(bySid(s, 'ReplicateIntoDrBucket').Resource)).toContain('-dr-');
    expect(bySid(s, 'DecryptSourceWithTenantKeyThroughS3').Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    expect(bySid(s, 'DecryptSourceWithTenantKeyThroughS3').Condition).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } });
    const encrypt = bySid(s, 'EncryptReplicasWithDrKeyThroughS3');
    expect(encrypt.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-west-2:', { Ref: 'AWS::AccountId' }, ':key/*']] });
    expect(encrypt.Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.us-west-2.amazonaws.com' });
    expect(encrypt.Condition['ForAnyValue:StringEquals']).toEqual({ 'kms:ResourceAliases': { 'Fn::Join': ['', ['alias/tessera-', { Ref: 'TenantId' }, '-dr']] } });
  });

  it('admits the replication role in the tenant key (decrypt through S3) and the tenant bucket policy', () => {
    const key = statementsOf(primary, 'AWS::KMS::Key', 'Key');
    const decrypt = bySid(key, 'ReplicationRoleDecryptsThroughS3');
    expect(decrypt.Action).toBe('kms:Decrypt');
    expect(decrypt.Principal.AWS).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DrReplicationRole/), 'Arn'] });
    const policy = (Object.values(primary.findResources('AWS::S3::BucketPolicy')) as any[]).find((p) => JSON.stringify(p).includes('DenyObjectAccessToAllButTenantRoles'));
    expect(JSON.stringify(bySid(policy.Properties.PolicyDocument.Statement, 'DenyObjectAccessToAllButTenantRoles').Condition)).toContain('DrReplicationRole');
  });

  it('copies the database\'s recovery points to the DR vault: a snapshot every hour (RPO 1 h), the daily and the monthly one', () => {
    const plan = Object.values(primary.findResources('AWS::Backup::BackupPlan'))[0] as any;
    const rules = plan.Properties.BackupPlan.BackupPlanRule;
    const drVault = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':backup:us-west-2:', { Ref: 'AWS::AccountId' }, ':backup-vault:tessera-', { Ref: 'TenantId' }, '-dr']] };
    const daily = rules.find((r: any) => r.RuleName === 'daily');
    expect(daily.CopyActions).toEqual([{ DestinationBackupVaultArn: drVault, Lifecycle: { DeleteAfterDays: 35 } }]);
    const frequent = rules.find((r: any) => r.RuleName === 'disaster-recovery');
    expect(frequent).toMatchObject({
      // Kept as long at home as in the DR vault: a copy keeps its source's expiration.
      ScheduleExpression: atTenantMinute(' 0/1 * * ? *)'), StartWindowMinutes: 60, Lifecycle: { DeleteAfterDays: 1 },
      CopyActions: [{ DestinationBackupVaultArn: drVault, Lifecycle: { DeleteAfterDays: 1 } }], // rtoHours 4: one day
    });
    // The monthly rule wins over the DR run of its hour (longer retention) and copies in its stead (tenant-database.test.ts).
    expect(rules.find((r: any) => r.RuleName === 'monthly')).toMatchObject({ StartWindowMinutes: 60, CopyActions: [{ DestinationBackupVaultArn: drVault, Lifecycle: { DeleteAfterDays: 1 } }] });
    expect(daily.StartWindowMinutes).toBe(60);
    // Every rule at the tenant's minute past the hour (BackupScheduleMinute, passed by the lifecycle: lib/backup-schedule-minute.ts),
    // not :00 for every DR tenant of the account, whose copy jobs then queued together.
    expect(daily.ScheduleExpression).toEqual(atTenantMinute(' 3 * * ? *)'));
    expect(rules.find((r: any) => r.RuleName === 'monthly').ScheduleExpression).toEqual(atTenantMinute(' 4 1 * ? *)'));
    // CloudFormation refuses at the parameter a minute the RDS windows mapping has no key for: "07" passed a Number parameter's
    // MinValue/MaxValue and the stack failed at Fn::FindInMap. AllowedValues are exactly the mapping's keys, "0" to "59".
    const json = primary.toJSON();
    const param = json.Parameters.BackupScheduleMinute;
    expect(param).toMatchObject({ Type: 'String', Default: '0' });
    const [mapping] = Object.values(json.Mappings as Record<string, Record<string, unknown>>).filter((m) => Object.keys(m).includes('59'));
    expect(param.AllowedValues).toEqual(Object.keys(mapping));
    expect(param.AllowedValues).toEqual(Array.from({ length: 60 }, (_, m) => String(m)));
    for (const value of ['07', '60', '-1', '1.5', '7.0', ' 7']) expect(param.AllowedValues, value).not.toContain(value);
    expect(param.AllowedValues).toContain(param.Default);
    // As CloudFormation checks a parameter value (the integration tests' emulation of it): "07" refused, with the description.
    expect(() => checkParameterValues(json as CfnTemplate, { BackupScheduleMinute: '07' })).toThrow(/^Parameter BackupScheduleMinute failed to satisfy constraint: must be a whole minute from 0 to 59 without a leading zero/);
    for (const value of ['0', '7', '59']) expect(() => checkParameterValues(json as CfnTemplate, { BackupScheduleMinute: value }), value).not.toThrow();
  });

  it('names the backup role for the DR key and lets it copy into the DR region only as this tenant, and delete only its tenant\'s copies', () => {
    primary.hasResourceProperties('AWS::IAM::Role', { RoleName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, `-database-backup`]] }, Path: '/tessera/service-role/' });
    expect(drServiceRoleName('acme', 'database-backup')).toBe('tessera-acme-database-backup');
    const s = statementsOf(primary, 'AWS::IAM::ManagedPolicy', 'DatabaseBackupPolicy');
    expect(bySid(s, 'CopyTheTenantSnapshots')).toMatchObject({ Action: 'rds:CopyDBSnapshot', Condition: { StringEquals: { 'aws:ResourceTag/tessera:tenant-id': { Ref: 'TenantId' } } } });
    expect(JSON.stringify(bySid(s, 'NewCopiesInTheDrRegion').Resource)).toContain(':rds:us-west-2:');
    // A copy may be untagged while Backup makes it, never when Backup deletes it: another tenant's untagged copy is not this role's to delete.
    expect(bySid(s, 'TheTenantCopiesInTheDrRegion').Action).not.toContain('rds:DeleteDBSnapshot');
    expect(bySid(s, 'DeleteTheTenantCopiesInTheDrRegion')).toMatchObject({ Action: 'rds:DeleteDBSnapshot', Condition: { StringEquals: { 'aws:ResourceTag/tessera:tenant-id': { Ref: 'TenantId' } } } });
    expect(JSON.stringify(bySid(s, 'DeleteTheTenantCopiesInTheDrRegion').Resource)).toContain(':rds:us-west-2:');
    expect(JSON.stringify(bySid(s, 'TheTenantDrVault').Resource)).toContain(':backup:us-west-2:');
    expect(bySid(s, 'TheTenantDrVault').Action).toEqual(['backup:CopyIntoBackupVault', 'backup:DescribeBackupVault']);
    expect(bySid(s, 'GrantsOnTheTenantDrKeyForAwsResources').Condition).toMatchObject({ Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: { 'kms:ViaService': ['backup.us-west-2.amazonaws.com', 'rds.us-west-2.amazonaws.com'] } });
  });

  it('tests a restore of the database every month, in the tenant\'s subnets, as a role confined to the tenant', () => {
    primary.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
      RestoreTestingPlanName: { 'Fn::Join': ['_', ['tessera', { 'Fn::Join': ['_', { 'Fn::Split': ['-', { Ref: 'TenantId' }] }] }, 'database']] },
      ScheduleExpression: atTenantMinute(' 5 2 * ? *)'),
      RecoveryPointSelection: { Algorithm: 'LATEST_WITHIN_WINDOW', RecoveryPointTypes: ['SNAPSHOT'], SelectionWindowDays: 31, IncludeVaults: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseBackupVault'), 'BackupVaultArn'] }] },
    });
    const selection = Object.values(primary.findResources('AWS::Backup::RestoreTestingSelection'))[0] as any;
    expect(selection.Properties).toMatchObject({
      ProtectedResourceType: 'RDS',
      RestoreTestingSelectionName: 'database',
      ValidationWindowHours: 2,
      IamRoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^RestoreTestingRole/), 'Arn'] },
      RestoreMetadataOverrides: {
        dbsubnetgroupname: { Ref: expect.stringMatching(/^DatabaseSubnetGroup/) },
        vpcsecuritygroupids: { 'Fn::Join': ['', ['["', { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseSecurityGroup/), 'GroupId'] }, '"]']] },
      },
    });
    expect(JSON.stringify(selection.Properties.ProtectedResourceArns)).toContain(':db:tessera-');
    expect(selection.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^RestoreTestingPlan/), expect.stringMatching(/^DatabaseInstance/)]));
    const s = statementsOf(primary, 'AWS::IAM::ManagedPolicy', 'RestoreTestingPolicy');
    expect(bySid(s, 'NeverTheTenantDatabase')).toMatchObject({ Effect: 'Deny', Action: ['rds:AddTagsToResource', 'rds:DeleteDBInstance', 'rds:ModifyDBInstance'] });
    expect(bySid(s, 'ReadTheTenantSnapshots').Condition.StringEquals).toEqual({ 'aws:ResourceTag/tessera:tenant-id': { Ref: 'TenantId' } });
    // New instances only with AWS Backup's restore-test tag (which is also how AWS Backup deletes them: this role deletes nothing).
    expect(bySid(s, 'CreateOnlyRestoreTestInstances').Condition).toEqual({ Null: { 'aws:RequestTag/awsbackup-restore-test': 'false' } });
    expect(bySid(s, 'DescribeRestoreTestInstances').Condition).toEqual({ Null: { 'aws:ResourceTag/awsbackup-restore-test': 'false' } });
    expect(s.filter((x) => x.Effect === 'Allow').flatMap((x) => [x.Action].flat())).not.toContain('rds:DeleteDBInstance');
    const key = statementsOf(primary, 'AWS::KMS::Key', 'Key');
    expect(bySid(key, 'RestoreTestingRoleGrantsThroughBackup').Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });

  it('refuses a validation window outside 0-168 hours, naming it', () => {
    const props = { tenantId: 'acme', roleName: 'r', instanceIdentifier: 'tessera-acme', vaultArn: 'arn:aws:backup:us-east-1:123456789012:backup-vault:v', keyArn: 'arn:aws:kms:us-east-1:123456789012:key/k', subnetGroupName: 's', parameterGroupName: 'p', securityGroupId: 'sg-1' };
    expect(() => new TenantRestoreTesting(newStack(), 'T', { ...props, validationWindowHours: 169 })).toThrow(/validationWindowHours must be a whole number of hours from 0 to 168, got 169/);
    expect(() => new TenantRestoreTesting(newStack(), 'T', { ...props, validationWindowHours: 0 })).not.toThrow();
  });

  it('forwards the tenant\'s restore job results to the platform bus', () => {
    primary.hasResourceProperties('AWS::Events::Rule', {
      Name: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-restore-events']] },
      EventPattern: { source: ['aws.backup'], 'detail-type': ['Restore Job State Change'], detail: { iamRoleArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^RestoreTestingRole'), 'Arn'] }] } },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RestoreEventsDeadLetters'), 'Arn'] } }, Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:${DEFAULT_CONFIG.homeRegion}:${DEFAULT_CONFIG.platformAccountId}:event-bus/${PLATFORM_EVENT_BUS_NAME}`]] } })],
    });
  });

  it('keeps undelivered restore events in a dead-letter queue of the tenant account for 14 days', () => {
    primary.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-dlq-restore-events']] },
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('documents nothing for the cache and cluster: they are not replicated (rebuilt from the blueprint)', () => {
    for (const type of ['AWS::ElastiCache::GlobalReplicationGroup']) primary.resourceCountIs(type, 0);
    expect(JSON.stringify(drStack.toJSON().Resources)).not.toMatch(/ElastiCache|EKS|RDS::DBInstance/);
  });
});

describe('compliance', () => {
  it('has zero unacknowledged findings with a DR tier', () => {
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });

  it('fixes the DR tier\'s bucket replication finding instead of acknowledging it (only the replica and the log buckets acknowledge it)', () => {
    const acknowledged = report.pluginReports.flatMap((r) => r.suppressedViolations ?? [])
      .filter((s) => s.ruleName.endsWith('S3BucketReplicationEnabled'))
      .flatMap((s) => s.violatingConstructs.map((v) => v.constructPath));
    const primaryPaths = acknowledged.filter((p) => p.includes(`/TesseraTenant-${DR_TIER}/`));
    expect(primaryPaths.length).toBeGreaterThan(0);
    for (const p of primaryPaths) expect(p).toMatch(/AccessLogs/);
    expect(acknowledged.some((p) => p.includes(`/TesseraTenant-starter/Storage/Bucket/`))).toBe(true);
    // The DR blueprint is checked too: its bucket is the replica, the one place the finding is acknowledged.
    expect(acknowledged.some((p) => p.includes(`/TesseraTenantDr-${DR_TIER}/Storage/Bucket/`))).toBe(true);
  });
});
