import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TenantKey } from '../../constructs/tenant-key.js';
import { newStack, template } from '../support/synth.js';

const ROLE = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

function keyPolicyStatements() {
  // GIVEN
  const stack = newStack();
  // WHEN
  new TenantKey(stack, 'Key', {
    tenantId: 'acme',
    keyUserArns: [ROLE('tessera-acme-workload'), ROLE('tessera-acme-admin')],
    breakGlassRoleArn: ROLE('tessera-acme-break-glass'),
    provisioningRoleArn: ROLE('TesseraProvisioning'),
    deployerRoleArn: ROLE('TesseraBlueprintExecution'),
    deployerServices: ['backup', 'rds'],
    logGroupPrefixes: ['/tessera/acme/'],
    pendingWindow: Duration.days(14),
  });
  const t = template(stack);
  const [key] = Object.values(t.findResources('AWS::KMS::Key')) as Array<{ Properties: { KeyPolicy: { Statement: Array<Record<string, any>> } } }>;
  return { t, statements: key.Properties.KeyPolicy.Statement };
}

describe('TenantKey', () => {
  it('rotates, waits the pending window, and is retained', () => {
    const { t } = keyPolicyStatements();
    t.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true, PendingWindowInDays: 14 }),
      DeletionPolicy: 'Retain', // a blueprint turns it into RetainExceptOnCreate (lib/retain-except-on-create.ts)
      UpdateReplacePolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/tessera/acme' });
  });

  it('grants encrypt/decrypt without a service condition only to the tenant roles and break-glass', () => {
    const { statements } = keyPolicyStatements();
    const decrypting = statements.filter((s) => !s.Condition?.StringEquals?.['kms:ViaService'] && [s.Action].flat().some((a: string) => a === 'kms:Decrypt' || a === 'kms:Decrypt*'));
    const principals = decrypting.flatMap((s) => [s.Principal.AWS ?? s.Principal.Service].flat());
    expect(principals.sort()).toEqual(
      [ROLE('tessera-acme-admin'), ROLE('tessera-acme-break-glass'), ROLE('tessera-acme-workload'), { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }].sort(),
    );
  });

  it('lets the provisioning role administer but never decrypt, and grant only to AWS services', () => {
    const { statements } = keyPolicyStatements();
    const provisioning = statements.filter((s) => s.Principal.AWS === ROLE('TesseraProvisioning'));
    const actions = provisioning.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:Put*', 'kms:CreateGrant']));
    expect(actions.filter((a: string) => /Decrypt|Encrypt|GenerateDataKey|ReEncrypt|kms:\*/.test(a))).toEqual([]);
    const grants = provisioning.find((s) => [s.Action].flat().includes('kms:CreateGrant'));
    expect(grants?.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
  });

  it('lets the blueprint execution role administer (PutKeyPolicy: KMS\'s lockout check) and use the key only through the services that create resources under it', () => {
    const { statements } = keyPolicyStatements();
    const deployer = statements.filter((s) => s.Principal.AWS === ROLE('TesseraBlueprintExecution'));
    const admin = deployer.find((s) => s.Sid === 'DeployerAdministers');
    expect(admin?.Condition).toBeUndefined();
    expect([admin?.Action].flat()).toEqual(expect.arrayContaining(['kms:Put*', 'kms:Describe*', 'kms:ScheduleKeyDeletion']));
    const via = { 'kms:ViaService': [{ 'Fn::Join': ['', ['backup.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }, { 'Fn::Join': ['', ['rds.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }] };
    const crypto = deployer.filter((s) => [s.Action].flat().some((a: string) => /Decrypt|Encrypt|GenerateDataKey|ReEncrypt|Grant/.test(a)));
    expect(crypto.map((s) => s.Sid).sort()).toEqual(['DeployerCreatesResourcesThroughServices', 'DeployerGrantsToServices']);
    for (const s of crypto) expect(s.Condition.StringEquals).toEqual(via);
    expect(crypto.find((s) => s.Sid === 'DeployerGrantsToServices')?.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });

  it('does not trust the account root (no IAM-policy-only access)', () => {
    const { statements } = keyPolicyStatements();
    expect(JSON.stringify(statements)).not.toMatch(/:root/);
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('kms:*');
  });

  it('lets CloudWatch Logs use the key only for the tenant log groups', () => {
    const { statements } = keyPolicyStatements();
    const logs = statements.find((s) => s.Sid === 'CloudWatchLogsEncryptsTenantLogGroups');
    expect(JSON.stringify(logs?.Condition)).toMatch(/log-group:\/tessera\/acme\/\*/);
  });
});
