import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TENANT_USERS_ROLE_NAME } from '../../constructs/inference-api.js';
import { TenantDataAccessRole } from '../../constructs/tenant-data-access-role.js';
import { PLATFORM_ROLE_NAMES } from '../../lib/fine-tuning.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { newStack } from '../support/synth.js';

let platform: Template;
beforeAll(() => {
  platform = defaultAppTemplates().platformWithPolicies; // its Lambdas' policies are in the FunctionPolicies nested stack
}, 240_000);

const policiesOfRole = (roleName: string) => {
  const roleId = Object.entries(platform.findResources('AWS::IAM::Role')).find(([, r]) => (r as { Properties: { RoleName?: string } }).Properties.RoleName === roleName)![0];
  return Object.values(platform.findResources('AWS::IAM::ManagedPolicy')).filter((p) => JSON.stringify((p as { Properties: { Roles?: unknown } }).Properties.Roles ?? []).includes(roleId))
    .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement);
};

describe('TenantDataAccessRole', () => {
  it('refuses to trust nobody', () => {
    // GIVEN / WHEN / THEN
    expect(() => new TenantDataAccessRole(newStack(), 'TenantData', { trustedFunctions: [] } as never)).toThrow(/trustedFunctions must name at least one function \(got none\)/);
  });

  it('is assumed only by the gateway and fine-tuning Lambdas, with the tenant tag', () => {
    const role = Object.values(platform.findResources('AWS::IAM::Role')).find((r) => (r as { Properties: { RoleName?: string } }).Properties.RoleName === 'tessera-tenant-data') as { Properties: { AssumeRolePolicyDocument: { Statement: Array<Record<string, unknown>> } } };
    const [statement] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(statement).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { Null: { 'aws:RequestTag/tessera:tenant-id': 'false', 'sts:TransitiveTagKeys': 'true' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['tessera:tenant-id'] } } });
    // Authorizer, router, tenant-users function (issue 15), fine-tuning API and events, and the offboarding's step that
    // acts on the tenant's pooled data: *Expire pooled gateway data* with the default config (erasure off), which bounds
    // what an offboarded tenant leaves (lambdas/lifecycle/expire-pooled-gateway-data.ts).
    const principals = (statement.Principal as { AWS: unknown[] }).AWS;
    expect(principals).toHaveLength(6);
    expect(JSON.stringify(principals)).toMatch(/ExpirePooledGatewayData/i);
  });

  it('leaves the Lambdas that act for a tenant no permission of their own on tenant items or tenant secrets (the authorizer: whether a tenant id is registered)', () => {
    for (const name of [PLATFORM_ROLE_NAMES.router, 'tessera-gateway-authorizer', TENANT_USERS_ROLE_NAME, PLATFORM_ROLE_NAMES.fineTuningApi, PLATFORM_ROLE_NAMES.fineTuningEvents]) {
      const statements = policiesOfRole(name);
      const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action as string));
      // The one exception of the two API Lambdas that answer browser preflights (router, fine-tuning API):
      // Query on the CORS origin index, which holds no tenant data (test/infra/inference-api.test.ts).
      // The tenant-users function answers browsers' actual requests (CORS headers) from the same index.
      const answersPreflights = name === PLATFORM_ROLE_NAMES.router || name === PLATFORM_ROLE_NAMES.fineTuningApi || name === TENANT_USERS_ROLE_NAME;
      // The authorizer's: GetItem of a registry record's tenantId only, whether a key prefix's tenant is registered
      // (test/infra/tenant-identity.test.ts, test/isolation/platform-data.test.ts): not the tenant's data.
      const existenceCheck = name === 'tessera-gateway-authorizer';
      expect(actions.filter((a) => a.startsWith('dynamodb:')), name).toEqual(answersPreflights ? ['dynamodb:Query'] : existenceCheck ? ['dynamodb:GetItem'] : []);
      if (existenceCheck) expect(statements.find((s) => s.Action === 'dynamodb:GetItem'), name).toMatchObject({ Sid: 'RegistryTenantExists', Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['tenantId'] } } });
      if (answersPreflights) expect(statements.find((s) => s.Action === 'dynamodb:Query'), name).toMatchObject({ Sid: 'CorsOriginIndex', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^CorsOriginsTable/), 'Arn'] } });
      expect(JSON.stringify(statements), name).not.toContain('tessera/tenants/');
      expect(statements.find((s) => s.Sid === 'ActForOneTenant'), name).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'] });
    }
  });

  // Gap review s32, gap 4: GET /v1/tenant/requests/{request_id} reads the tenant's own records as the tenant.
  it('reads the audit bucket only under the session tenant\'s own gateway prefixes, the router\'s and the fine-tuning API\'s streams (GetObject, no list, no write, not the lifecycle stream), decrypting only as S3 asks for that bucket', () => {
    const statements = policiesOfRole('tessera-tenant-data');
    const audit = statements.filter((s) => JSON.stringify(s.Resource).includes('tessera-audit'));
    expect(audit).toEqual([{
      Sid: 'AuditOwnRequests', Effect: 'Allow', Action: 's3:GetObject',
      Resource: ['tessera-audit/dr-tier/fine-tuning/', 'tessera-audit/dr-tier/inference/', 'tessera-audit/fine-tuning/', 'tessera-audit/inference/'].map((prefix) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^AuditBucket/), 'Arn'] }, `/${prefix}\${aws:PrincipalTag/tessera:tenant-id}/*`]] })),
    }]);
    expect(statements.find((s) => s.Sid === 'PlatformKeyForOwnRequests')).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': expect.stringMatching(/^s3\.[a-z0-9-]+\.amazonaws\.com$/), 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [expect.stringMatching(/^AuditBucket/), 'Arn'] } } },
    });
    // No other S3 action of the role names the audit bucket.
    const onAudit = statements.filter((s) => JSON.stringify(s).includes('AuditBucket') && ([] as string[]).concat(s.Action as string).some((a) => a.startsWith('s3:')));
    expect(onAudit.map((s) => s.Sid)).toEqual(['AuditOwnRequests']);
  });
});
