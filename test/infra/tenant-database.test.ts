import { CfnParameter } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TenantDatabase, type TenantDatabaseProps } from '../../constructs/tenant-database.js';
import { resolveRuns, type BackupPlanRuleJson } from '../support/backup-rule-overlaps.js';
import { newStack, template } from '../support/synth.js';
import { BACKUP_SCHEDULE_MINUTES } from '../../lib/backup-schedule-minute.js';

function build(overrides: Partial<TenantDatabaseProps> = {}) {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  new TenantDatabase(stack, 'Database', {
    namePrefix: 'tessera-acme', tenantId: 'acme', instanceIdentifier: 'tessera-acme', vpc, subnets: { subnetGroupName: 'data' }, encryptionKey: new kms.Key(stack, 'TenantKey'),
    engineMajorVersion: '17', instanceClass: 'db.m7g.large', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500,
    multiAz: true, backupRetentionDays: 14, port: 5438, allowedPeers: { Platform: ec2.Peer.ipv4('10.0.0.0/16') },
    ...overrides,
  });
  return template(stack);
}

const tenantKeyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantKey'), 'Arn'] };

describe('TenantDatabase', () => {
  it('is private PostgreSQL >= 16, encrypted with the tenant key, IAM auth, non-default port, all logs, monitoring, protected', () => {
    build().hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        Engine: 'postgres', EngineVersion: '17', StorageEncrypted: true, KmsKeyId: tenantKeyArn,
        EnableIAMDatabaseAuthentication: true, Port: '5438', PubliclyAccessible: false, MultiAZ: true,
        BackupRetentionPeriod: 14, DeletionProtection: true,
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade', 'iam-db-auth-error'],
        MonitoringInterval: 60, MonitoringRoleArn: Match.anyValue(),
        ManageMasterUserPassword: true, MasterUserSecret: { KmsKeyId: tenantKeyArn },
        PerformanceInsightsKMSKeyId: tenantKeyArn,
      }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
  });

  it('allows the major version upgrade its engineMajorVersion can ask for (16 -> 17 is a config change)', () => {
    // GIVEN a database on 16, WHEN the tier moves to 17, THEN ModifyDBInstance needs AllowMajorVersionUpgrade
    // with the new EngineVersion and a parameter group of the new family
    for (const engineMajorVersion of ['16', '17'] as const) {
      const t = build({ engineMajorVersion });
      t.hasResourceProperties('AWS::RDS::DBInstance', { EngineVersion: engineMajorVersion, AllowMajorVersionUpgrade: true, DBParameterGroupName: { Ref: Match.stringLikeRegexp('^DatabaseParameters') } });
      t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: `postgres${engineMajorVersion}` });
    }
  });

  it('renders AllocatedStorage and MaxAllocatedStorage as the plain numbers the lifecycle reads to refuse a storage change RDS would (lambdas/lifecycle/blueprints.ts versionsOf)', async () => {
    const { versionsOf } = await import('../../lambdas/lifecycle/blueprints.js');
    expect(versionsOf(build().toJSON() as never)).toEqual({ engineVersion: '17', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500 });
  });

  it('forces TLS through its parameter group', () => {
    build().hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres17', Parameters: Match.objectLike({ 'rds.force_ssl': '1' }) });
  });

  it('takes its Multi-AZ setting and backup retention from the tier', () => {
    build({ multiAz: false, backupRetentionDays: 7 }).hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, BackupRetentionPeriod: 7 });
  });

  it('is in an AWS Backup plan whose vault uses the tenant key, both named after the tenant, run by a service role on the service-role path', () => {
    const t = build();
    t.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: tenantKeyArn, BackupVaultName: 'tessera-acme-database' });
    t.hasResourceProperties('AWS::Backup::BackupPlan', { BackupPlan: Match.objectLike({ BackupPlanName: 'tessera-acme-database' }) });
    // RDS recovery points have no cold storage (AWS Backup ignores MoveToColdStorageAfterDays for them): no rule asks for it
    const [plan] = Object.values(t.findResources('AWS::Backup::BackupPlan')) as any[];
    const rules = plan.Properties.BackupPlan.BackupPlanRule as Array<{ RuleName: string; Lifecycle?: Record<string, unknown> }>;
    expect(rules.map((r) => r.RuleName)).toContain('monthly');
    for (const r of rules) expect(r.Lifecycle?.MoveToColdStorageAfterDays, r.RuleName).toBeUndefined();
    expect(rules.find((r) => r.RuleName === 'monthly')?.Lifecycle).toEqual({ DeleteAfterDays: 365 });
    t.hasResourceProperties('AWS::IAM::Role', {
      Path: '/tessera/service-role/',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })], Version: '2012-10-17' },
    });
    const [selection] = Object.values(t.findResources('AWS::Backup::BackupSelection')) as any[];
    const selected = JSON.stringify(selection.Properties.BackupSelection.Resources);
    expect(selected).toMatch(/:db:/);
    expect(selected).toMatch(/"Ref":"DatabaseInstance/);
  });

  it('copies to the DR vault whichever of its rules AWS Backup takes for a DR run or a daily one, at every DR interval and every tenant minute', () => {
    // GIVEN a DR tier's plan at each interval drBackupIntervalHours can give (and a DR copy kept 1 or 7 days), with the
    // tenant's backup minute (BackupScheduleMinute: :00, and :59, whose windows cross the hour), WHEN its rules' start windows overlap (the monthly's
    // on the 1st, the daily's each day), THEN the rule AWS Backup takes (the longest retention over the full start
    // windows) copies to the DR vault: no hour of the month goes without its copy, every run at the tenant's minute.
    // Before: the monthly rule (365 days, no copy, 8-hour window) won the 1st's 03:00-11:00 runs, so no DR copy was made;
    // and every DR tenant's runs started at :00 whatever its id, queueing their copy jobs together.
    const drVaultArn = (arn: unknown) => JSON.stringify(arn).includes(':backup-vault:tessera-acme-dr');
    for (const scheduleMinute of ['0', '59']) {
      for (const intervalHours of [1, 2, 3, 4, 6, 8, 12]) {
        for (const copyRetentionDays of [1, 7]) {
          const t = build({ disasterRecovery: { region: 'us-west-2', vaultName: 'tessera-acme-dr', keyAlias: 'alias/tessera-acme-dr', backupRoleName: 'tessera-acme-database-backup', intervalHours, copyRetentionDays, scheduleMinute } });
          const [plan] = Object.values(t.findResources('AWS::Backup::BackupPlan')) as any[];
          const rules = plan.Properties.BackupPlan.BackupPlanRule as BackupPlanRuleJson[];
          const month = [new Date('2027-01-01T00:00:00Z'), new Date('2027-02-01T00:00:00Z')] as const;
          const runs = [...resolveRuns(rules, 'disaster-recovery', ...month), ...resolveRuns(rules, 'daily', ...month), ...resolveRuns(rules, 'monthly', ...month)];
          expect(runs.length).toBe((24 / intervalHours + 1) * 31 + 1);
          expect(runs.filter((r) => new Date(r.at).getUTCMinutes() !== Number(scheduleMinute)).map((r) => `${r.rule} ${r.at}`)).toEqual([]);
          const uncopied = runs.filter((r) => !(r.takenBy.CopyActions ?? []).some((c) => drVaultArn(c.DestinationBackupVaultArn)))
            .map((r) => `${r.rule} ${r.at} taken by ${r.takenBy.RuleName}`);
          expect(uncopied, `every ${intervalHours} h at :${scheduleMinute}, copies kept ${copyRetentionDays} d`).toEqual([]);
        }
      }
    }
  });

  it('starts every rule at the BackupScheduleMinute parameter\'s minute when given its token, and refuses a minute outside 0-59', () => {
    const stack = newStack();
    const minute = new CfnParameter(stack, 'BackupScheduleMinute', { type: 'String', allowedValues: [...BACKUP_SCHEDULE_MINUTES], default: '0' }).valueAsString;
    const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const dr = { region: 'us-west-2', vaultName: 'tessera-acme-dr', keyAlias: 'alias/tessera-acme-dr', backupRoleName: 'tessera-acme-database-backup', intervalHours: 4, copyRetentionDays: 1 };
    new TenantDatabase(stack, 'Database', {
      namePrefix: 'tessera-acme', tenantId: 'acme', instanceIdentifier: 'tessera-acme', vpc, subnets: { subnetGroupName: 'data' }, encryptionKey: new kms.Key(stack, 'TenantKey'),
      engineMajorVersion: '17', instanceClass: 'db.m7g.large', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500,
      multiAz: true, backupRetentionDays: 14, port: 5438, allowedPeers: {}, disasterRecovery: { ...dr, scheduleMinute: minute },
    });
    const [plan] = Object.values(template(stack).findResources('AWS::Backup::BackupPlan')) as any[];
    const schedules = Object.fromEntries((plan.Properties.BackupPlan.BackupPlanRule as Array<{ RuleName: string; ScheduleExpression: unknown }>).map((r) => [r.RuleName, r.ScheduleExpression]));
    expect(schedules).toEqual({
      'daily': { 'Fn::Join': ['', ['cron(', { Ref: 'BackupScheduleMinute' }, ' 3 * * ? *)']] },
      'disaster-recovery': { 'Fn::Join': ['', ['cron(', { Ref: 'BackupScheduleMinute' }, ' 0/4 * * ? *)']] },
      'monthly': { 'Fn::Join': ['', ['cron(', { Ref: 'BackupScheduleMinute' }, ' 4 1 * ? *)']] },
    });
    for (const scheduleMinute of ['60', '-1', '1.5', '07']) {
      expect(() => build({ disasterRecovery: { ...dr, scheduleMinute } }), scheduleMinute).toThrow(/scheduleMinute must be a whole minute from 0 to 59/);
    }
  });

  it('admits only the allowed peers on the database port and has no default egress', () => {
    build().hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Tenant PostgreSQL'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 5438, ToPort: 5438 })],
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
  });

  it('refuses the default port', () => {
    expect(() => build({ port: 5432 })).toThrow(/port must not be the PostgreSQL default 5432, got 5432/);
  });
});
