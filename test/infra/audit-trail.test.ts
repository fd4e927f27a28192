import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessLogsBucket } from '../../constructs/access-logs-bucket.js';
import { AuditTrail } from '../../constructs/audit-trail.js';
import type { AuditDataEvents } from '../../lib/config/audit-data-events.js';
import { PlatformKey } from '../../constructs/platform-key.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { newApp } from '../support/synth.js';

const MANAGEMENT = '111111111111';
const PLATFORM = '222222222222';
const ORG = 'o-exampleorg1';
const ORG_TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/tessera-organization-audit`;

/**
 * The audit trail (constructs/audit-trail.ts) for each `audit.organizationTrail` layout, with the platform key and the
 * access-logs bucket of TesseraPlatform, through cdk-nag: an account trail; an organization trail deployed in the
 * management account; an organization trail deployed by the member platform account as CloudTrail's delegated
 * administrator, whose ARN is the management account's
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html).
 */
function synth(account: string, organizationTrail: boolean, dataEvents?: AuditDataEvents): { t: Template; violations: unknown[] } {
  const app = newApp();
  const stack = new Stack(app, 'Audit', { env: { account, region: 'us-east-1' } });
  const key = new PlatformKey(stack, 'PlatformKey').key;
  const accessLogs = new AccessLogsBucket(stack, 'AccessLogs', { logsOf: 'the audit bucket' }).bucket;
  const audit = new AuditTrail(stack, 'Audit', {
    encryptionKey: key, accessLogsBucket: accessLogs, objectLockRetentionDays: 365, logRetention: logs.RetentionDays.ONE_YEAR,
    organizationTrail, organizationId: ORG, managementAccountId: MANAGEMENT,
  });
  if (dataEvents) {
    const pooled = s3.Bucket.fromBucketName(stack, 'PooledTenantData', 'tesseraplatform-pooled');
    audit.recordDataEvents(dataEvents, [pooled]);
  }
  applyCompliancePacks(app);
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: unknown[] }> };
  return { t: Template.fromJSON(assembly.getStackByName('Audit').template), violations: report.pluginReports.flatMap((r) => r.violations) };
}

const trails = (t: Template) => Object.entries(t.findResources('AWS::CloudTrail::Trail')) as Array<[string, any]>;
const bucketStatements = (t: Template) => (Object.values(t.findResources('AWS::S3::BucketPolicy')) as any[])
  .flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
const keyStatements = (t: Template) => (Object.values(t.findResources('AWS::KMS::Key')) as any[])[0].Properties.KeyPolicy.Statement as any[];

describe('AuditTrail', () => {
  it('from the member platform account (CloudTrail delegated administrator): an organization trail, another resource than the account trail, whose bucket and key policies name the management account\'s trail ARN, cdk-nag clean', () => {
    const account = synth(PLATFORM, false);
    const [[accountId, accountTrail]] = trails(account.t);
    expect(accountTrail.Properties).toMatchObject({ IsOrganizationTrail: false, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true });
    expect(accountTrail.Properties.TrailName).toBeUndefined();
    expect(JSON.stringify(bucketStatements(account.t))).not.toContain(ORG);
    expect(account.violations).toEqual([]);

    const { t, violations } = synth(PLATFORM, true);
    const [[id, trail]] = trails(t);
    // Another logical id than the account trail's: the upgrade replaces the trail (UpdateTrail cannot convert it from a member account).
    expect(accountId).toMatch(/^AuditTrail[0-9A-F]{8}$/);
    expect(id).toMatch(/^AuditOrganizationTrail[0-9A-F]{8}$/);
    expect(trail.Properties).toMatchObject({ IsOrganizationTrail: true, TrailName: 'tessera-organization-audit', IsMultiRegionTrail: true });
    const write = bucketStatements(t).find((s) => s.Sid === 'CloudTrailWritesOrganizationLogs');
    expect(write).toMatchObject({
      Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject',
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': ORG_TRAIL_ARN } },
    });
    expect(JSON.stringify(write.Resource)).toContain(`/AWSLogs/${ORG}/*`);
    // No statement lets a trail of the platform account write the organization's prefix (the L2's own org statement would).
    expect(bucketStatements(t).filter((s) => JSON.stringify(s.Resource).includes(ORG))).toHaveLength(1);
    const keys = keyStatements(t);
    expect(keys.find((s) => s.Sid === 'CloudTrailEncryptsOrganizationTrailLogs')).toMatchObject({
      Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:GenerateDataKey*',
      Condition: {
        StringEquals: { 'aws:SourceArn': ORG_TRAIL_ARN },
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:aws:cloudtrail:*:${MANAGEMENT}:trail/tessera-organization-audit` },
      },
    });
    expect(keys.find((s) => s.Sid === 'CloudTrailDescribesKeyForOrganizationTrail')).toMatchObject({ Action: 'kms:DescribeKey', Condition: { StringEquals: { 'aws:SourceArn': ORG_TRAIL_ARN } } });
    expect(violations).toEqual([]);
  });

  it('in the management account: an organization trail allowed to write the organization\'s prefix, the key\'s own statements covering it, cdk-nag clean', () => {
    const { t, violations } = synth(MANAGEMENT, true);
    const [[id, trail]] = trails(t);
    expect(id).toMatch(/^AuditOrganizationTrail/);
    expect(trail.Properties).toMatchObject({ IsOrganizationTrail: true, TrailName: 'tessera-organization-audit' });
    expect(bucketStatements(t).find((s) => s.Sid === 'CloudTrailWritesOrganizationLogs')).toMatchObject({
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': ORG_TRAIL_ARN } },
    });
    expect(keyStatements(t).map((s) => s.Sid)).not.toContain('CloudTrailEncryptsOrganizationTrailLogs');
    expect(violations).toEqual([]);
  });

  // audit.dataEvents (lib/config/audit-data-events.ts): advanced event selectors, management events kept by their own.
  const selectorsOf = (t: Template) => trails(t)[0][1].Properties.AdvancedEventSelectors as any[] | undefined;
  const management = { Name: 'Tessera: management events, read and write', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] };
  const ref = (t: Template, prefix: string) => ({ 'Fn::GetAtt': [Object.keys(t.findResources('AWS::S3::Bucket')).find((id) => id.startsWith(prefix))!, 'Arn'] });

  it('with dataEvents s3Objects tenant-data and lambdaInvoke: the tenant buckets by name prefix and the pooled buckets by ARN, Lambda Invoke, every management event; account and organization trail, cdk-nag clean', () => {
    for (const organizationTrail of [false, true]) {
      const { t, violations } = synth(PLATFORM, organizationTrail, { s3Objects: 'tenant-data', lambdaInvoke: true });
      const selectors = selectorsOf(t)!;
      expect(selectors).toEqual([
        management,
        {
          Name: 'Tessera: S3 object events of tenant data buckets',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
            // The audit bucket's replicas match `tessera-` but hold CloudTrail's files: left out (their replication would loop).
            { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::tessera-', 'arn:aws:s3:::tesseraplatform-pooled/'], NotStartsWith: ['arn:aws:s3:::tessera-audit-replica-'] },
          ],
        },
        { Name: 'Tessera: Lambda Invoke events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] }] },
      ]);
      // Advanced selectors replace the basic ones: never both (PutEventSelectors).
      expect(trails(t)[0][1].Properties.EventSelectors).toBeUndefined();
      // At most 500 values across every condition of every advanced selector (InvalidEventSelectorsException).
      expect(selectors.flatMap((s) => s.FieldSelectors.flatMap((f: any) => [f.Equals, f.StartsWith, f.NotStartsWith].flatMap((v) => v ?? []))).length).toBeLessThanOrEqual(500);
      // The bucket and key policies still name the trail (its ARN), whatever it records.
      if (organizationTrail) expect(bucketStatements(t).find((s) => s.Sid === 'CloudTrailWritesOrganizationLogs')).toMatchObject({ Condition: { StringEquals: { 'aws:SourceArn': ORG_TRAIL_ARN } } });
      expect(violations).toEqual([]);
    }
  });

  it('with dataEvents s3Objects all: every bucket\'s objects but the audit bucket\'s and its replicas\' (CloudTrail\'s own deliveries would be recorded into it again)', () => {
    const { t, violations } = synth(PLATFORM, false, { s3Objects: 'all', lambdaInvoke: false });
    expect(selectorsOf(t)).toEqual([management, {
      Name: 'Tessera: S3 object events of every bucket but the audit bucket',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        { Field: 'resources.ARN', NotStartsWith: [{ 'Fn::Join': ['', [ref(t, 'AuditBucket'), '/']] }, 'arn:aws:s3:::tessera-audit-replica-'] },
      ],
    }]);
    expect(violations).toEqual([]);
  });

  it('without data events (absent, or none and no Lambda): CloudTrail\'s default selectors, as before the key', () => {
    expect(selectorsOf(synth(PLATFORM, false).t)).toBeUndefined();
    expect(selectorsOf(synth(PLATFORM, true, { s3Objects: 'none', lambdaInvoke: false }).t)).toBeUndefined();
  });

  it('refuses a second set of data events (one set of selectors per trail)', () => {
    const app = newApp();
    const stack = new Stack(app, 'Audit', { env: { account: PLATFORM, region: 'us-east-1' } });
    const key = new PlatformKey(stack, 'PlatformKey').key;
    const accessLogs = new AccessLogsBucket(stack, 'AccessLogs', { logsOf: 'the audit bucket' }).bucket;
    const audit = new AuditTrail(stack, 'Audit', { encryptionKey: key, accessLogsBucket: accessLogs, objectLockRetentionDays: 365, logRetention: logs.RetentionDays.ONE_YEAR });
    audit.recordDataEvents({ s3Objects: 'all', lambdaInvoke: false }, []);
    expect(() => audit.recordDataEvents({ s3Objects: 'all', lambdaInvoke: false }, [])).toThrow('AuditTrail: data events are already set');
  });

  it('refuses an organization trail without the management account (its ARN\'s account)', () => {
    const app = newApp();
    const stack = new Stack(app, 'Audit', { env: { account: PLATFORM, region: 'us-east-1' } });
    const key = new PlatformKey(stack, 'PlatformKey').key;
    const accessLogs = new AccessLogsBucket(stack, 'AccessLogs', { logsOf: 'the audit bucket' }).bucket;
    expect(() => new AuditTrail(stack, 'Audit', {
      encryptionKey: key, accessLogsBucket: accessLogs, objectLockRetentionDays: 365, logRetention: logs.RetentionDays.ONE_YEAR,
      organizationTrail: true, organizationId: ORG,
    })).toThrow('AuditTrail managementAccountId is required when organizationTrail is true');
  });
});
