import { beforeAll, describe, expect, it } from 'vitest';
import { FIRST_ADMIN_USER_POOL_ACTIONS, OFFBOARDING_USER_POOL_ACTIONS } from '../../constructs/tenant-lifecycle.js';
import { authorizerCacheTtlSeconds, KEY_REVOCATION_WINDOW_SECONDS, roleGroupDescription, TENANT_USER_POOL_ACTIONS, TENANT_USERS_ROLE_NAME } from '../../constructs/inference-api.js';
import { AUTH_CACHE_MS } from '../../lambdas/inference/auth.js';
import { GATEWAY_ENV } from '../../lambdas/inference/lambda-deps.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { PLATFORM_ROLE_NAMES } from '../../lib/fine-tuning.js';
import { resolveInferenceMethod } from '../../lib/inference-api-methods.js';
import { ROLE_PERMISSIONS, ROLES } from '../../lib/identity/roles.js';
import { lifecycleRoleName } from '../../lib/lifecycle-handlers.js';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

// Issue 15, item 6 "In AWS": the keys table, the tenant-data role's grant on it, the Lambdas'
// environment and grants, the role groups, the routes, the authorizer cache and the offboarding
// step, in the synthesized platform stack (the default config: the platform's own Cognito pool).

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
let resources: Record<string, Resource>;

// The platform with its Lambdas' managed policies, which live in its FunctionPolicies nested stack.
beforeAll(() => {
  resources = defaultAppTemplates().platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 240_000);

const byType = (type: string, within = () => resources) => Object.entries(within()).filter(([, r]) => r.Type === type);
const logicalIdOf = (type: string, test: (r: Resource) => boolean) => byType(type).find(([, r]) => test(r))?.[0];
const tableId = (name: string) => logicalIdOf('AWS::DynamoDB::GlobalTable', (r) => r.Properties.TableName === name)!;
const roleIdOf = (roleName: string) => logicalIdOf('AWS::IAM::Role', (r) => r.Properties.RoleName === roleName);
const statementsOfRole = (roleName: string, within = () => resources): Statement[] => {
  const roleId = roleIdOf(roleName)!;
  return byType('AWS::IAM::ManagedPolicy', within).filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
};
const functionOfRole = (roleName: string) => {
  const roleId = roleIdOf(roleName)!;
  return Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] }))!;
};
const actionsOf = (s: Statement) => ([] as string[]).concat(s.Action);
const KEYS = 'tessera-gateway-api-keys';
const keysArn = () => ({ 'Fn::GetAtt': [tableId(KEYS), 'Arn'] });
const poolId = () => logicalIdOf('AWS::Cognito::UserPool', () => true)!;
const poolArn = () => ({ 'Fn::GetAtt': [poolId(), 'Arn'] });

/** `/v1/tenant/keys/{keyId}` of an AWS::ApiGateway::Resource, walking its parents. */
function pathOf(resourceId: string, within = resources): string {
  const r = within[resourceId];
  if (!r || r.Type !== 'AWS::ApiGateway::Resource') return '';
  const parent = r.Properties.ParentId;
  return `${'Ref' in parent ? pathOf(parent.Ref, within) : ''}/${r.Properties.PathPart}`;
}
function methodsOf(restApiPrefix: RegExp, within = resources): Map<string, Record<string, any>> {
  const out = new Map<string, Record<string, any>>();
  for (const [, m] of Object.entries(within).filter(([, r]) => r.Type === 'AWS::ApiGateway::Method')) {
    if (restApiPrefix.test(m.Properties.RestApiId.Ref)) out.set(`${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId.Ref, within)}`, m.Properties);
  }
  return out;
}

/**
 * The method API Gateway runs for `route` (`VERB /path`, a path variable standing for `x1`), as lib/inference-api-methods.ts
 * resolveInferenceMethod models it, on its most specific resource alone (no route depends on API Gateway's fallback to
 * a less specific one): `/v1/tenant/{proxy+}` ANY for the keys, the users' own resources for the users.
 */
const routeMethod = (methods: Map<string, Record<string, any>>, route: string) => resolveInferenceMethod(
  [...methods].map(([k, props]) => ({ verb: k.split(' ')[0]!, resource: k.split(' ')[1]!, props })), route.split(' ')[0]!, route.split(' ')[1]!.replace(/\{[^}]+\}/g, 'x1'), { fallback: false },
)?.method.props;
const KEY_ROUTES = ['GET /v1/tenant/keys', 'POST /v1/tenant/keys', 'DELETE /v1/tenant/keys/{keyId}', 'POST /v1/tenant/keys/{keyId}/rotate'];
const USER_ROUTES = ['GET /v1/tenant/users', 'POST /v1/tenant/users', 'POST /v1/tenant/users/{userId}/disable', 'PUT /v1/tenant/users/{userId}/role'];
/** The admin API's methods of these routes (lib/admin-routes.ts adminApiMethods: ANY where a resource has two routes, GET and POST). */
const ADMIN_ROUTES = [
  'ANY /admin/tenants/{id}/keys', 'DELETE /admin/tenants/{id}/keys/{keyId}', 'POST /admin/tenants/{id}/keys/{keyId}/rotate',
  'ANY /admin/tenants/{id}/users', 'DELETE /admin/tenants/{id}/users/{userId}', 'POST /admin/tenants/{id}/users/{userId}/disable',
  'PUT /admin/tenants/{id}/users/{userId}/role', 'GET /admin/tenants/{id}/usage',
];

describe('the API keys table', () => {
  it('is keyed by tenant and key hash, on-demand, encrypted with the platform key, PITR, deletion protection, retained; one index, by creation; no TTL', () => {
    const id = tableId(KEYS);
    expect(resources[id]).toMatchObject({
      DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'keyHash', KeyType: 'RANGE' }],
        AttributeDefinitions: expect.arrayContaining([{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'keyHash', AttributeType: 'S' }]),
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [expect.objectContaining({
          PointInTimeRecoverySpecification: expect.objectContaining({ PointInTimeRecoveryEnabled: true }), DeletionProtectionEnabled: true,
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] } },
        })],
      },
    });
    // Key lists in creation order (docs/identity.md, "Listing keys"): tenant, then createdAt#keyId; every attribute, so a page is one Query.
    expect(resources[id].Properties.GlobalSecondaryIndexes).toEqual([{
      IndexName: 'tenantId-createdAtKeyId', Projection: { ProjectionType: 'ALL' },
      KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'createdAtKeyId', KeyType: 'RANGE' }],
    }]);
    expect(resources[id].Properties.AttributeDefinitions).toContainEqual({ AttributeName: 'createdAtKeyId', AttributeType: 'S' });
    expect(resources[id].Properties.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('the tenant-data role on the keys table', () => {
  it('grants GetItem, Query, PutItem and UpdateItem of the session tenant\'s partition only (LeadingKeys, required present), and Query of its partition of the creation index', () => {
    const onKeys = statementsOfRole('tessera-tenant-data').filter((s) => JSON.stringify(s.Resource).includes(tableId(KEYS)));
    const own = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/tessera:tenant-id}'] }, Null: { 'dynamodb:LeadingKeys': 'false' } };
    expect(onKeys).toEqual([{
      Sid: 'ApiKeysOwnItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Resource: [{ 'Fn::Join': ['', [keysArn(), '/index/tenantId-createdAtKeyId']] }, keysArn()], Condition: own,
    }]);
  });

  it('may ConditionCheck its own tenant\'s registry item only (the key write\'s status fence), nothing else of the registry beyond what it had', () => {
    const fence = statementsOfRole('tessera-tenant-data').filter((s) => s.Sid === 'RegistryKeyWriteFence');
    expect(fence).toEqual([{
      Sid: 'RegistryKeyWriteFence', Effect: 'Allow', Action: 'dynamodb:ConditionCheckItem', Resource: { 'Fn::GetAtt': [tableId('tessera-tenants'), 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/tessera:tenant-id}'] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
    }]);
    const gateway = functionOfRole(PLATFORM_ROLE_NAMES.router).Properties.Environment.Variables;
    expect(gateway[GATEWAY_ENV.registryTable]).toEqual({ Ref: tableId('tessera-tenants') }); // lambdaApiKeyStore's registryTable
  });

  it('grants no delete on it (offboarding deletes with its own role) and lets DynamoDB use the platform key for it', () => {
    const data = statementsOfRole('tessera-tenant-data');
    for (const s of data) if (JSON.stringify(s.Resource).includes(tableId(KEYS))) expect(actionsOf(s)).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
    expect(data.flatMap(actionsOf)).not.toContain('dynamodb:BatchWriteItem');
    const kms = data.find((s) => s.Sid === 'PlatformKeyForTheTables')!;
    expect(kms.Condition!.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).toContainEqual({ Ref: tableId(KEYS) });
  });

  it('is trusted by the tenant-users function beside the authorizer, the router and the fine-tuning Lambdas', () => {
    const role = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'tessera-tenant-data')!;
    const principals = JSON.stringify(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.AWS);
    for (const name of [TENANT_USERS_ROLE_NAME, PLATFORM_ROLE_NAMES.router, 'tessera-gateway-authorizer', PLATFORM_ROLE_NAMES.fineTuningApi]) expect(principals, name).toContain(roleIdOf(name));
    expect(statementsOfRole(TENANT_USERS_ROLE_NAME).find((s) => s.Sid === 'ActForOneTenant')).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'] });
  });
});

describe('the Lambdas\' environment and grants', () => {
  it('names the keys table to the authorizer, the router, the tenant-users function and the fine-tuning API, which hold no grant of their own on it', () => {
    for (const name of ['tessera-gateway-authorizer', PLATFORM_ROLE_NAMES.router, TENANT_USERS_ROLE_NAME, PLATFORM_ROLE_NAMES.fineTuningApi]) {
      expect(functionOfRole(name).Properties.Environment.Variables[GATEWAY_ENV.apiKeysTable], name).toEqual({ Ref: tableId(KEYS) });
      expect(JSON.stringify(statementsOfRole(name)), name).not.toContain(tableId(KEYS));
    }
  });

  it('lets the authorizer alone GetItem the registry with its own role, the tenantId attribute only (no AssumeRole for a key prefix no tenant has)', () => {
    const registryId = tableId('tessera-tenants');
    const onRegistry = (name: string) => statementsOfRole(name).filter((s) => JSON.stringify(s.Resource).includes(`"${registryId}"`));
    expect(onRegistry('tessera-gateway-authorizer')).toEqual([{
      Sid: 'RegistryTenantExists', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [registryId, 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['tenantId'] }, Null: { 'dynamodb:Attributes': 'false' }, StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } },
    }]);
    expect(statementsOfRole('tessera-gateway-authorizer').find((s) => s.Sid === 'RegistryKeyThroughDynamoDB')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:DescribeKey'], Condition: { StringEquals: { 'kms:ViaService': expect.stringMatching(/^dynamodb\.[a-z0-9-]+\.amazonaws\.com$/) } },
    });
    expect(functionOfRole('tessera-gateway-authorizer').Properties.Environment.Variables[GATEWAY_ENV.registryTable]).toEqual({ Ref: registryId });
    for (const name of [PLATFORM_ROLE_NAMES.router, TENANT_USERS_ROLE_NAME, PLATFORM_ROLE_NAMES.fineTuningApi]) expect(onRegistry(name), name).toEqual([]);
  });

  it('gives Cognito\'s user actions to the tenant-users function only, each by name, on the platform pool; the router has none', () => {
    const users = statementsOfRole(TENANT_USERS_ROLE_NAME);
    expect(users.find((s) => s.Sid === 'TenantUserPool')).toEqual({ Sid: 'TenantUserPool', Effect: 'Allow', Action: [...TENANT_USER_POOL_ACTIONS].sort(), Resource: poolArn() });
    expect(users.find((s) => s.Sid === 'TenantUserEvents')).toMatchObject({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LifecycleEventsBus/), 'Arn'] } });
    const env = functionOfRole(TENANT_USERS_ROLE_NAME).Properties.Environment.Variables;
    expect(env).toMatchObject({ [GATEWAY_ENV.userPoolId]: { Ref: poolId() }, [GATEWAY_ENV.eventBus]: { Ref: expect.stringMatching(/^LifecycleEventsBus/) } });
    for (const name of [PLATFORM_ROLE_NAMES.router, 'tessera-gateway-authorizer', PLATFORM_ROLE_NAMES.fineTuningApi, PLATFORM_ROLE_NAMES.fineTuningEvents]) {
      expect(statementsOfRole(name).flatMap(actionsOf).filter((a) => a.startsWith('cognito-idp:')), name).toEqual([]);
      expect(functionOfRole(name).Properties.Environment.Variables[GATEWAY_ENV.userPoolId], name).toBeUndefined();
    }
  });

  it('lets the admin API manage keys (no delete), read usage, manage the pool\'s users and emit their events, as the platform', () => {
    const admin = Object.fromEntries(statementsOfRole('tessera-admin-api').map((s) => [s.Sid, s]));
    expect(admin.TenantApiKeys).toEqual({
      Sid: 'TenantApiKeys', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Resource: [keysArn(), { 'Fn::Join': ['', [keysArn(), '/index/tenantId-createdAtKeyId']] }],
    });
    expect(admin.TenantKeyWriteFence).toEqual({ Sid: 'TenantKeyWriteFence', Effect: 'Allow', Action: 'dynamodb:ConditionCheckItem', Resource: { 'Fn::GetAtt': [tableId('tessera-tenants'), 'Arn'] } });
    expect(admin.ReadUsage).toEqual({ Sid: 'ReadUsage', Effect: 'Allow', Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^InferenceUsageTable/), 'Arn'] } });
    expect(admin.TenantUsers).toEqual({ Sid: 'TenantUsers', Effect: 'Allow', Action: [...TENANT_USER_POOL_ACTIONS].sort(), Resource: poolArn() });
    expect(admin.TenantUserEvents).toMatchObject({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LifecycleEventsBus/), 'Arn'] } });
    expect(functionOfRole('tessera-admin-api').Properties.Environment.Variables).toMatchObject({
      [GATEWAY_ENV.apiKeysTable]: { Ref: tableId(KEYS) }, [GATEWAY_ENV.usageTable]: { Ref: expect.stringMatching(/^InferenceUsageTable/) },
      [ENV.userPoolId]: { Ref: poolId() }, [ENV.eventBus]: { Ref: expect.stringMatching(/^LifecycleEventsBus/) },
    });
  });

  it('lets the offboarding step delete keys and disable users (by name, on the pool) with its own role; no other lifecycle function touches either', () => {
    const role = lifecycleRoleName('revoke-tenant-identities');
    const s = Object.fromEntries(statementsOfRole(role).map((x) => [x.Sid, x]));
    expect(s.DeleteTenantApiKeys).toEqual({ Sid: 'DeleteTenantApiKeys', Effect: 'Allow', Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], Resource: keysArn() });
    expect(s.DisableTenantUsers).toEqual({ Sid: 'DisableTenantUsers', Effect: 'Allow', Action: [...OFFBOARDING_USER_POOL_ACTIONS].sort(), Resource: poolArn() });
    expect(actionsOf(s.DisableTenantUsers)).not.toContain('cognito-idp:AdminDeleteUser');
    expect(functionOfRole(role).Properties.Environment.Variables).toMatchObject({ [GATEWAY_ENV.apiKeysTable]: { Ref: tableId(KEYS) }, [ENV.userPoolId]: { Ref: poolId() } });
    for (const other of ['begin-offboarding', 'finish-offboarding', 'register-tenant'] as const) {
      expect(JSON.stringify(statementsOfRole(lifecycleRoleName(other))), other).not.toMatch(new RegExp(`${tableId(KEYS)}|cognito-idp`));
      expect(functionOfRole(lifecycleRoleName(other)).Properties.Environment.Variables[GATEWAY_ENV.apiKeysTable], other).toBeUndefined();
    }
  });

  it('lets the onboarding\'s Invite tenant admin create and read back users (by name, on the pool), and nothing that lists, disables or signs out', () => {
    const role = lifecycleRoleName('invite-tenant-admin');
    const s = Object.fromEntries(statementsOfRole(role).map((x) => [x.Sid, x]));
    expect(s.InviteFirstAdmin).toEqual({ Sid: 'InviteFirstAdmin', Effect: 'Allow', Action: [...FIRST_ADMIN_USER_POOL_ACTIONS].sort(), Resource: poolArn() });
    expect(JSON.stringify(statementsOfRole(role))).not.toMatch(/cognito-idp:(List|AdminDisable|AdminUserGlobalSignOut|AdminRemoveUserFromGroup|AdminSetUser|AdminUpdate)/);
    expect(JSON.stringify(statementsOfRole(role))).not.toContain(tableId(KEYS));
    expect(functionOfRole(role).Properties.Environment.Variables).toMatchObject({ [ENV.userPoolId]: { Ref: poolId() } });
    // Register tenant reads the pool id only (a replayed onboarding's inviteAdmin left out means the pool's default: s27).
    expect(functionOfRole(lifecycleRoleName('register-tenant')).Properties.Environment.Variables).toMatchObject({ [ENV.userPoolId]: { Ref: poolId() } });
    // No other onboarding step holds a Cognito action.
    for (const other of ['activate-tenant', 'wire-tenant', 'register-tenant', 'record-failure'] as const) {
      expect(JSON.stringify(statementsOfRole(lifecycleRoleName(other))), other).not.toMatch(/cognito-idp/);
    }
  });

  it('names every resource of these grants: no "*" and no action wildcard', () => {
    for (const name of [TENANT_USERS_ROLE_NAME, 'tessera-admin-api', lifecycleRoleName('revoke-tenant-identities'), lifecycleRoleName('invite-tenant-admin'), 'tessera-tenant-data']) {
      // The admin API's CostAndUsage (tenant statements) is the one exception: ce:GetCostAndUsage
      // names no resource unless the request names a billing view, and ours do not.
      const costAndUsage = statementsOfRole(name).filter((x) => x.Sid === 'CostAndUsage');
      for (const st of costAndUsage) expect(actionsOf(st), `${name} ${st.Sid}`).toEqual(['ce:GetCostAndUsage']);
      for (const st of statementsOfRole(name).filter((x) => !['OwnLogs', 'Traces', 'CostAndUsage'].includes(x.Sid ?? ''))) {
        expect([st.Resource].flat(), `${name} ${st.Sid}`).not.toContain('*');
        expect(actionsOf(st).filter((a) => a.includes('*')), `${name} ${st.Sid}`).toEqual([]);
      }
    }
  });
});

describe('the platform pool\'s role groups', () => {
  it('has one group per role, tenant-<role>, precedence admin 0 … viewer 3, described by its permissions', () => {
    const groups = byType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties).sort((a, b) => a.Precedence - b.Precedence);
    expect(groups).toEqual(ROLES.map((role, i) => ({ UserPoolId: { Ref: poolId() }, GroupName: `tenant-${role}`, Precedence: i, Description: roleGroupDescription(role) })));
    expect(groups.map((g) => g.GroupName)).toEqual(['tenant-admin', 'tenant-developer', 'tenant-member', 'tenant-viewer']);
    expect(roleGroupDescription('viewer')).toBe(`Tessera tenant viewer: ${ROLE_PERMISSIONS.viewer.join(', ')}`);
  });

  it('lets the gateway\'s app client read custom:tenant_id (so the ID token carries it; cognito:groups is always in it)', () => {
    const [[, client], ...others] = byType('AWS::Cognito::UserPoolClient');
    expect(others).toEqual([]);
    expect(client.Properties.ReadAttributes).toEqual(expect.arrayContaining(['custom:tenant_id', 'email']));
  });

  it('lets a signed-in user change only their email, and only once the new address is verified (the verified one stays in force until then)', () => {
    const [[, client]] = byType('AWS::Cognito::UserPoolClient');
    // Cognito's default (no WriteAttributes, or an empty list) is every standard attribute, email_verified and phone_number among them.
    expect(client.Properties.WriteAttributes).toEqual(['email']);
    const [[, pool]] = byType('AWS::Cognito::UserPool');
    expect(pool.Properties.UserAttributeUpdateSettings).toEqual({ AttributesRequireVerificationBeforeUpdate: ['email'] });
    expect(pool.Properties.AutoVerifiedAttributes).toEqual(['email']);
  });

  it('recovers an account through the verified email only, and mails through Cognito\'s own sender without identity.email', () => {
    const [[, pool]] = byType('AWS::Cognito::UserPool');
    // aws-cdk-lib's default, PHONE_WITHOUT_MFA_AND_EMAIL, puts verified_phone_number first; the pool has no SMS configuration.
    expect(pool.Properties.AccountRecoverySetting).toEqual({ RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] });
    expect(pool.Properties.SmsConfiguration).toBeUndefined();
    expect(pool.Properties.EmailConfiguration).toBeUndefined();
  });

  it('signs users in with SRP only: no OAuth flow, callback or scope (aws-cdk-lib\'s implicit flow to https://example.com is off)', () => {
    const [[, client]] = byType('AWS::Cognito::UserPoolClient');
    expect(client.Properties.ExplicitAuthFlows).toEqual(expect.arrayContaining(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']));
    for (const p of ['AllowedOAuthFlows', 'CallbackURLs', 'LogoutURLs', 'AllowedOAuthScopes']) expect(client.Properties[p], p).toBeUndefined();
    expect(client.Properties.AllowedOAuthFlowsUserPoolClient).not.toBe(true);
    expect(byType('AWS::Cognito::UserPoolDomain')).toEqual([]);
  });
});

describe('the routes', () => {
  it('serves the keys routes through the router and the users routes through the tenant-users function, all behind the authorizer with the usage key, streaming', () => {
    const methods = methodsOf(/^InferenceApi/);
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Type === 'REQUEST');
    for (const route of [...KEY_ROUTES, ...USER_ROUTES]) {
      const m = routeMethod(methods, route);
      expect(m, route).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
      expect(JSON.stringify(m!.Integration.Uri), route).toMatch(USER_ROUTES.includes(route) ? /InferenceTenantUsersFunction/ : /InferenceRouterFunction/);
    }
  });

  it('answers their preflights (OPTIONS, no authorizer, no key) through the router', () => {
    const methods = methodsOf(/^InferenceApi/);
    for (const path of ['/v1/tenant/keys', '/v1/tenant/keys/{keyId}', '/v1/tenant/keys/{keyId}/rotate', '/v1/tenant/users', '/v1/tenant/users/{userId}/disable', '/v1/tenant/users/{userId}/role']) {
      const m = routeMethod(methods, `OPTIONS ${path}`);
      expect(m, path).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
      expect(JSON.stringify(m!.Integration.Uri), path).toMatch(/InferenceRouterFunction/);
    }
  });

  it('lets API Gateway invoke the tenant-users function from this API only (one API-scoped permission)', () => {
    const perms = byType('AWS::Lambda::Permission').filter(([, p]) => /InferenceTenantUsersFunction/.test(JSON.stringify(p.Properties.FunctionName)));
    expect(perms).toHaveLength(1);
    expect(perms[0][1].Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
    expect(JSON.stringify(perms[0][1].Properties.SourceArn)).toMatch(/InferenceApi[0-9A-F]+"\},"\/\*\/\*\/\*"/);
  });

  it('lets API Gateway invoke the admin handler through one API-scoped permission, not two per method (the stack\'s 500-resource limit)', () => {
    const perms = byType('AWS::Lambda::Permission').filter(([, p]) => /AdminHandlerFunction/.test(JSON.stringify(p.Properties.FunctionName)));
    expect(perms).toHaveLength(1);
    expect(JSON.stringify(perms[0][1].Properties.SourceArn)).toMatch(/AdminApi[0-9A-F]+"\},"\/\*\/\*\/\*"/);
  });

  it('adds the keys, users and usage routes to the admin API, IAM-authenticated', () => {
    const methods = methodsOf(/^AdminApi/);
    for (const route of ADMIN_ROUTES) expect(methods.get(route), route).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY' } });
  });
});

describe('the authorizer cache and the key revocation window', () => {
  it('caches the authorizer\'s answers at most what the window leaves after the authorizer Lambda\'s own cache (<= 60 s in all)', () => {
    const [[, authorizer], ...others] = byType('AWS::ApiGateway::Authorizer');
    expect(others).toEqual([]);
    const ttl = authorizer.Properties.AuthorizerResultTtlInSeconds as number;
    expect(ttl).toBe(authorizerCacheTtlSeconds());
    expect(ttl).toBeLessThanOrEqual(60);
    expect(ttl + AUTH_CACHE_MS / 1000).toBeLessThanOrEqual(KEY_REVOCATION_WINDOW_SECONDS);
    expect(KEY_REVOCATION_WINDOW_SECONDS).toBe(60);
  });

  it('splits the window (and refuses a Lambda cache longer than it)', () => {
    expect(authorizerCacheTtlSeconds(30_000)).toBe(30);
    expect(authorizerCacheTtlSeconds(60_000)).toBe(0);
    expect(authorizerCacheTtlSeconds(0)).toBe(60);
    expect(() => authorizerCacheTtlSeconds(61_000)).toThrow(/caches verdicts 61000 ms, longer than the key revocation window of 60 s: lower AUTH_CACHE_MS/);
  });
});

describe('offboarding', () => {
  type State = { Type: string; Next?: string; ResultPath?: string; Parameters?: unknown; Retry?: unknown[]; Catch?: Array<{ ErrorEquals: string[]; Next: string }> };
  it('revokes the tenant\'s identities right after Begin offboarding, before the usage key and any data move, caught like every step', () => {
    const d = new LocalWorkflows(configWith()).definitions.offboard as unknown as { States: Record<string, State> };
    expect(d.States['Begin offboarding'].Next).toBe('Revoke tenant identities');
    expect(d.States['Revoke tenant identities']).toMatchObject({
      Type: 'Task', Next: 'Revoke usage key', ResultPath: '$.identities',
      Parameters: { 'request.$': '$.request', 'executionArn.$': '$.executionArn' },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed at Revoke tenant identities' }],
    });
    expect(d.States['Revoke tenant identities'].Retry!.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('with an external identity provider (gateway.jwt)', () => {
  let external: Record<string, Resource>;
  beforeAll(async () => {
    const built = await appTemplates({ gateway: { jwt: { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/.well-known/jwks.json', audience: 'tessera' } } });
    external = built.platformWithPolicies.toJSON().Resources as Record<string, Resource>;
  }, 240_000);

  it('has no pool, no groups, no tenant-users function and no Cognito grant anywhere; the users routes go to the router', () => {
    const types = Object.values(external).map((r) => r.Type);
    expect(types).not.toContain('AWS::Cognito::UserPool');
    expect(types).not.toContain('AWS::Cognito::UserPoolGroup');
    expect(Object.values(external).some((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === TENANT_USERS_ROLE_NAME)).toBe(false);
    expect(JSON.stringify(external)).not.toContain('cognito-idp:');
    const methods = methodsOf(/^InferenceApi/, external);
    for (const route of USER_ROUTES) expect(JSON.stringify(routeMethod(methods, route)!.Integration.Uri), route).toMatch(/InferenceRouterFunction/);
    // The keys still work, and offboarding still deletes them.
    const within = () => external;
    expect(statementsOfRole(lifecycleRoleName('revoke-tenant-identities'), within).map((s) => s.Sid)).toContain('DeleteTenantApiKeys');
  });
});
