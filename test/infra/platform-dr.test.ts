import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Stack } from 'aws-cdk-lib';
import { AccessLogsBucket } from '../../constructs/access-logs-bucket.js';
import { AuditTrail } from '../../constructs/audit-trail.js';
import { PlatformKey } from '../../constructs/platform-key.js';
import { TenantRegistry } from '../../constructs/tenant-registry.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { PLATFORM_DR_STACK_ID } from '../../lib/platform-dr-naming.js';
import { PlatformDrStack } from '../../lib/platform-dr-stack.js';
import { ConfigError } from '../../lib/config/load-config.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { configWith, newApp } from '../support/synth.js';

interface Report { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }> }

/**
 * The DR stack and the two platform constructs DR changes (audit trail, registry), each in a stack
 * of its own with the compliance packs: what the platform stack adds for DR, without synthesizing
 * the rest of it. lib/tessera-app.ts's wiring is checked on the whole app's snapshots (test/support/default-app.ts:
 * the DR config's, which the tests below read too, and the default app's).
 */
let platform: Template;
let dr: Template;
let report: Report;

beforeAll(() => {
  // GIVEN a platform DR region (us-west-2, the home region being us-east-1)
  const config = configWith({ platformDisasterRecovery: { region: 'us-west-2' } });
  const app = newApp();
  const env = { account: '123456789012', region: config.homeRegion };
  const home = new Stack(app, 'Home', { env });
  const key = new PlatformKey(home, 'PlatformKey').key;
  const accessLogs = new AccessLogsBucket(home, 'AccessLogs', { logsOf: 'the audit bucket' }).bucket;
  new TenantRegistry(home, 'Registry', { encryptionKey: key, drRegion: 'us-west-2' });
  new AuditTrail(home, 'Audit', { encryptionKey: key, accessLogsBucket: accessLogs, objectLockRetentionDays: config.audit.objectLockRetentionDays, logRetention: config.audit.logRetentionDays, replicationRegion: 'us-west-2' });
  const drStack = new PlatformDrStack(app, PLATFORM_DR_STACK_ID, { env: { ...env, region: 'us-west-2' }, config });
  applyCompliancePacks(app);
  const assembly = app.synth();
  report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
  platform = Template.fromJSON(assembly.getStackByName('Home').template);
  dr = Template.fromJSON(assembly.getStackByName(drStack.stackName).template);
});

/** The registry and audit trail without a DR region. */
function newStackWithout(): Stack {
  const stack = new Stack(newApp(), 'Plain', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new PlatformKey(stack, 'PlatformKey').key;
  const accessLogs = new AccessLogsBucket(stack, 'AccessLogs', { logsOf: 'the audit bucket' }).bucket;
  new TenantRegistry(stack, 'Registry', { encryptionKey: key });
  new AuditTrail(stack, 'Audit', { encryptionKey: key, accessLogsBucket: accessLogs, objectLockRetentionDays: 365, logRetention: 365 });
  return stack;
}

const resourceOf = (t: Template, type: string, props: Record<string, unknown>) => Object.values(t.findResources(type, { Properties: Match.objectLike(props) }));

describe('the platform DR stack', () => {
  it('is built by the app as TesseraPlatformDr in the DR region of the platform account', async () => {
    const built = await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' } });
    const { stackPaths: paths, stackEnvironments: envs } = built;
    expect(paths.platformDr).toBeDefined();
    expect(envs[paths.platformDr!]!.stackName).toBe(PLATFORM_DR_STACK_ID);
    expect(envs[paths.platformDr!]!.region).toBe('us-west-2');
    expect(envs[paths.platformDr!]!.account).toBe(envs[paths.platform]!.account);
    // and the platform stack's audit trail gets the DR region: its bucket replicates, with a replication role
    const [audit] = resourceOf(built.platform, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    expect(audit.Properties.ReplicationConfiguration?.Role).toBeDefined();
  }, 240_000);

  it('holds the DR key, the replica audit bucket with Object Lock (compliance, same retention) and the registry\'s DR vault, all retained', () => {
    const days = configWith().audit.objectLockRetentionDays;
    dr.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/tessera/platform-dr' });
    dr.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const [replica] = resourceOf(dr, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    expect(replica.Properties).toMatchObject({
      BucketName: 'tessera-audit-replica-123456789012-us-west-2',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } } },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(replica.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(replica.DeletionPolicy).toBe('Retain');
    const [vault] = resourceOf(dr, 'AWS::Backup::BackupVault', { BackupVaultName: 'tessera-platform-dr' });
    expect(vault.DeletionPolicy).toBe('Retain');
    expect(vault.Properties.EncryptionKeyArn).toBeDefined();
  });

  it('has no cross-stack reference in either direction (deterministic names only)', () => {
    expect(JSON.stringify(dr.toJSON())).not.toMatch(/Fn::ImportValue/);
    expect(JSON.stringify(platform.toJSON())).not.toMatch(/Fn::ImportValue/);
    expect(dr.toJSON().Outputs ?? {}).toEqual({});
  });

  it('is not built without platformDisasterRecovery, and the audit trail and registry stay as they were', () => {
    const plain = defaultAppTemplates();
    expect(plain.stackPaths.platformDr).toBeUndefined();
    expect(plain.platformDr).toBeUndefined();
    expect(Object.keys(plain.stackEnvironments).sort()).toEqual([plain.stackPaths.organization, plain.stackPaths.platform].sort());
    // no replication of the platform's audit bucket, so no replication role
    const [plainAudit] = resourceOf(plain.platform, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    expect(plainAudit.Properties.ReplicationConfiguration).toBeUndefined();
    const stack = newStackWithout();
    const t = Template.fromStack(stack);
    const [audit] = resourceOf(t, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    expect(audit.Properties.ReplicationConfiguration).toBeUndefined();
    t.hasResourceProperties('AWS::Backup::BackupPlan', { BackupPlan: { BackupPlanRule: [Match.objectLike({ RuleName: 'daily', CopyActions: Match.absent() })] } });
  });
});

describe('the platform stack with a DR region', () => {
  it('replicates only CloudTrail\'s files and the DR tiers\' records (no rule with an empty prefix), each to the replica with its Object Lock, re-encrypted with the DR key by alias, delete markers kept back', () => {
    const [audit] = resourceOf(platform, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    const rules = audit.Properties.ReplicationConfiguration.Rules as any[];
    // THEN one rule per prefix: CloudTrail's AWSLogs/ and tessera-audit/dr-tier/; a none tier's records (tessera-audit/inference/…) match neither
    expect(rules.map((r) => [r.Priority, r.Filter])).toEqual([[1, { Prefix: 'AWSLogs/' }], [2, { Prefix: 'tessera-audit/dr-tier/' }]]);
    expect(rules.every((r) => typeof r.Filter?.Prefix === 'string' && r.Filter.Prefix.length > 0 && r.Prefix === undefined)).toBe(true);
    for (const rule of rules) expect(rule).toMatchObject({
      Status: 'Enabled',
      DeleteMarkerReplication: { Status: 'Disabled' },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: {
        Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::tessera-audit-replica-', { Ref: 'AWS::AccountId' }, '-us-west-2']] },
        EncryptionConfiguration: { ReplicaKmsKeyID: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-west-2:', { Ref: 'AWS::AccountId' }, ':alias/tessera/platform-dr']] } },
      },
    });
  });

  it('lets the gateway write a DR tier\'s records where the rule replicates them, and a none tier\'s where it does not', async () => {
    const policies = (await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' } })).platformWithPolicies;
    const auditGrants = Object.values(policies.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Sid === 'AuditRecords').map((st: any) => JSON.stringify(st.Resource));
    expect(auditGrants.length).toBeGreaterThanOrEqual(3);
    expect(auditGrants.every((r) => r.includes('/tessera-audit/dr-tier/'))).toBe(true);
    expect(auditGrants.filter((r) => r.includes('/tessera-audit/inference/*') && r.includes('/tessera-audit/dr-tier/inference/*'))).not.toHaveLength(0);
    expect(auditGrants.filter((r) => r.includes('/tessera-audit/fine-tuning/*') && r.includes('/tessera-audit/dr-tier/fine-tuning/*'))).not.toHaveLength(0);
  }, 240_000);

  it('lets every lifecycle Lambda that writes lifecycle audit records write a DR tier\'s where the rule replicates them, and a none tier\'s where it does not', async () => {
    const policies = (await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' } })).platformWithPolicies;
    // The writers of lambdas/lifecycle/offboarding-support.ts's writeAudit: the protection lifts (protection-lift.ts: lift-protections,
    // delete-tenant-stacks, and the dead stacks' removal in deploy-blueprint, check-stack and record-failure), failed-rollbacks.ts
    // and the export step (retired-fine-tuning.ts).
    const writers = ['lift-protections', 'delete-tenant-stacks', 'deploy-blueprint', 'check-stack', 'record-failure', 'export-tenant-data'];
    const roles = Object.entries(policies.findResources('AWS::IAM::Role')).filter(([, r]: [string, any]) => typeof r.Properties.RoleName === 'string');
    const roleOf = (handler: string) => roles.find(([, r]: [string, any]) => r.Properties.RoleName === `tessera-lifecycle-${handler}`)?.[0];
    const grantsOf = (roleId: string) => Object.values(policies.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p: any) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((st: any) => st.Sid === 'WriteLifecycleAudit');
    for (const handler of writers) {
      const roleId = roleOf(handler);
      expect(roleId, handler).toBeDefined();
      const grants = grantsOf(roleId!);
      expect(grants, handler).toHaveLength(1);
      expect(grants[0].Action).toBe('s3:PutObject');
      const resources = JSON.stringify(grants[0].Resource);
      expect(resources, handler).toContain('/tessera-audit/lifecycle/*');
      expect(resources, handler).toContain('/tessera-audit/dr-tier/lifecycle/*');
    }
  }, 240_000);

  it('gives the replication role only what S3 replication of Object Lock objects needs', () => {
    const [audit] = resourceOf(platform, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    const roleId = audit.Properties.ReplicationConfiguration.Role['Fn::GetAtt'][0];
    platform.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })] } });
    const [policy] = Object.values(platform.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: roleId }] } }));
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Sid: string; Action: string | string[]; Resource: unknown; Condition?: any }>;
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['DecryptSource', 'EncryptReplica', 'ReplicateIntoReplica', 'SourceConfiguration', 'SourceVersions']);
    expect(bySid.SourceVersions.Action).toEqual(expect.arrayContaining(['s3:GetObjectRetention', 's3:GetObjectLegalHold', 's3:GetObjectVersionForReplication']));
    // the source versions of the replicated prefixes only: a none tier's records are not readable by the role
    expect(JSON.stringify(bySid.SourceVersions.Resource)).toMatch(/\/AWSLogs\/\*".*\/tessera-audit\/dr-tier\/\*"/);
    expect(JSON.stringify(bySid.SourceVersions.Resource)).not.toMatch(/"\/\*"/);
    expect([bySid.ReplicateIntoReplica.Action].flat().sort()).toEqual(['s3:ReplicateObject', 's3:ReplicateTags']);
    expect(bySid.DecryptSource.Condition.StringEquals['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
    expect(bySid.EncryptReplica.Condition).toMatchObject({ 'StringEquals': { 'kms:ViaService': 's3.us-west-2.amazonaws.com' }, 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/tessera/platform-dr' } });
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });

  it('backs the registry up hourly and copies every backup to tessera-platform-dr in the DR region', () => {
    platform.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [Match.objectLike({
          RuleName: 'hourly-copied-to-dr',
          ScheduleExpression: 'cron(0 * * * ? *)',
          CopyActions: [{
            DestinationBackupVaultArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':backup:us-west-2:', { Ref: 'AWS::AccountId' }, ':backup-vault:tessera-platform-dr']] },
            Lifecycle: { DeleteAfterDays: 35 },
          }],
        })],
      },
    });
  });

  it('copies the API keys and usage tables with the registry (a failover keeps the tenants\' keys and budgets), in the registry\'s one selection; without a DR region the selection holds the registry alone', async () => {
    const selections = (t: Template) => Object.values(t.findResources('AWS::Backup::BackupSelection')) as any[];
    // the platform template of the DR config's app, synthesized once per state of the sources (test/support/default-app.ts)
    const withDr = (await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' } })).platform;
    // One selection: a BackupSelection lists resources, and TesseraPlatform is at CloudFormation's 500-resource limit with DR.
    expect(selections(withDr).map((s) => s.Properties.BackupSelection.SelectionName)).toEqual(['Registry']);
    const tableArn = (t: Template, name: string) => {
      const ids = Object.keys(t.findResources('AWS::DynamoDB::GlobalTable', { Properties: Match.objectLike({ TableName: name }) }));
      expect(ids).toHaveLength(1);
      return { 'Fn::GetAtt': [ids[0], 'Arn'] };
    };
    expect(selections(withDr)[0].Properties.BackupSelection.Resources).toEqual([tableArn(withDr, 'tessera-tenants'), tableArn(withDr, 'tessera-gateway-api-keys'), tableArn(withDr, 'tessera-usage')]);
    const plain = defaultAppTemplates().platform;
    expect(selections(plain).map((s) => s.Properties.BackupSelection.Resources)).toEqual([[tableArn(plain, 'tessera-tenants')]]);
  }, 240_000);

  it('keeps the registry a regional table with PITR (not a global table)', () => {
    const tables = platform.findResources('AWS::DynamoDB::GlobalTable', { Properties: Match.objectLike({ TableName: 'tessera-tenants' }) });
    const [registry] = Object.values(tables);
    expect(registry.Properties.Replicas).toHaveLength(1);
    expect(registry.Properties.Replicas[0].PointInTimeRecoverySpecification).toMatchObject({ PointInTimeRecoveryEnabled: true });
  });

  it('leaves cdk-nag with no open finding in the platform and DR stacks', () => {
    const open = report.pluginReports.flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${r.pluginName} ${v.ruleName} ${c.constructPath}`)));
    expect(open).toEqual([]);
  });
});

describe('platformDisasterRecovery in the config', () => {
  it('defaults to none', () => {
    expect(configWith().platformDisasterRecovery).toBe('none');
  });

  it('refuses the home region and a region outside allowedRegions, naming the path', () => {
    const problem = (value: unknown) => {
      try {
        configWith({ platformDisasterRecovery: value });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(problem({ region: 'us-east-1' })).toMatch(/platformDisasterRecovery\.region.*"us-east-1" is the home region/);
    expect(problem({ region: 'eu-west-1' })).toMatch(/platformDisasterRecovery\.region.*"eu-west-1" is outside allowedRegions \(us-east-1, us-west-2\)/);
    expect(problem({ region: 'us-west-2', rpoHours: 1 })).toMatch(/platformDisasterRecovery/);
    expect(problem('us-west-2')).toMatch(/platformDisasterRecovery/);
  });
});
