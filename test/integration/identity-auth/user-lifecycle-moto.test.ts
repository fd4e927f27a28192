import {
  AdminInitiateAuthCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolClientCommand, CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS_TABLE_NAME, mintApiKey } from '../../../lib/identity/api-key.js';
import { ROLE_GROUPS } from '../../../lib/identity/roles.js';
import { CognitoTenantUsers } from '../../../lambdas/identity/cognito-tenant-users.js';
import { DynamoDbApiKeyStore } from '../../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { DynamoDbUserTokenRevocations } from '../../../lambdas/identity/stores/user-token-revocations.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from '../support/moto-server.js';
import { KEYS_TABLE_SCHEMA } from '../support/keys-table.js';

// The user story on moto: invite a user (Cognito), set the role, sign in as them (moto
// signs the ID token, the gateway verifies it against moto's JWKS as the deployed authorizer
// verifies Cognito's), call as them, disable them, and watch the call refused: Cognito cannot
// revoke an ID token, so the disable records a revocation in the keys table that the authorizer
// reads at the token's next cache miss (AUTH_CACHE_MS; the clock is moved, nothing sleeps).
// moto's pool has MFA off here so that AdminInitiateAuth returns tokens at once.

const PASSWORD = 'Tessera-moto-password-2026!';
let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let pool: string;
let clientId: string;
let offset = 0;
const cognito = () => new CognitoIdentityProviderClient({});
const revocations = () => new DynamoDbUserTokenRevocations(API_KEYS_TABLE_NAME, unscopedDocumentClient());
const users = () => new CognitoTenantUsers(cognito(), pool, async () => undefined, undefined, revocations());

async function idToken(username: string): Promise<string> {
  await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: username, Password: PASSWORD, Permanent: true }));
  const out = await cognito().send(new AdminInitiateAuthCommand({ UserPoolId: pool, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD } }));
  return out.AuthenticationResult!.IdToken!;
}

async function call(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() as any };
}
const chat = (token: string) => call(token, 'POST', '/chat/completions', { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  pool = (await cognito().send(new CreateUserPoolCommand({
    PoolName: 'tessera-tenants', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'], AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }))).UserPool!.Id!;
  for (const group of ROLE_GROUPS) await cognito().send(new CreateGroupCommand({ UserPoolId: pool, GroupName: group }));
  clientId = (await cognito().send(new CreateUserPoolClientCommand({ UserPoolId: pool, ClientName: 'GatewayClient', ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }))).UserPoolClient!.ClientId!;
  await new DynamoDBClient({}).send(new CreateTableCommand({
    TableName: API_KEYS_TABLE_NAME, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  upstream = await new FakeUpstream().start();
  // The issuer moto writes into its tokens (Cognito's is https://cognito-idp.<region>.amazonaws.com/<pool>).
  const probe = await users().invite('acme', { email: 'probe@acme.example.com', role: 'member' }, 'test');
  const iss = JSON.parse(Buffer.from((await idToken(probe.id)).split('.')[1]!, 'base64url').toString()).iss as string;
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')], {
    jwt: { issuer: iss, audience: clientId, jwks: `${moto.endpoint}/${pool}/.well-known/jwks.json` },
    users: users(), userRevocations: revocations(), apiKeys: new DynamoDbApiKeyStore(API_KEYS_TABLE_NAME, unscopedDocumentClient()),
    now: () => Date.now() + offset,
  });
}, 120_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

describe('a tenant user\'s life on moto\'s Cognito, through the gateway', () => {
  it('invited as viewer, made developer, calls as developer; disabled, refused within the cache window; the old role\'s token stops too', async () => {
    const bob = await users().invite('acme', { email: 'bob@acme.example.com', role: 'viewer' }, 'arn:aws:iam::123456789012:role/ops');
    const asViewer = await idToken(bob.id);
    expect((await chat(asViewer)).json.error).toMatchObject({ code: 'permission_denied', type: 'permission_error' });

    await users().setRole('acme', bob.id, 'developer', 'tenant-user:admin');
    // A token issued under the old role stops counting once the cache window has passed (an upgrade too: the claim is what it says, not what the role is now).
    offset += 31_000;
    expect((await chat(asViewer)).json.error).toMatchObject({ code: 'token_revoked' });
    // iat counts whole seconds and a token of the change's own second is refused: sign in from the next second.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const asDeveloper = await idToken(bob.id);
    const ok = await chat(asDeveloper);
    expect(ok.status).toBe(200);
    expect(ok.json.object).toBe('chat.completion');
    expect((await call(asDeveloper, 'POST', '/tenant/keys', { name: 'ci' })).json.error).toMatchObject({ code: 'permission_denied' });
    const audited = gw.audit.records.filter((r) => r.path === '/v1/chat/completions' && r.status === 200).at(-1)!;
    expect([audited.userId, audited.role]).toEqual([expect.any(String), 'developer']);

    await users().disable('acme', bob.id, 'tenant-user:admin');
    // Within the authorizer's cache window the accepted verdict may still be reused; past it, refused.
    offset += 31_000;
    const refused = await chat(asDeveloper);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toMatchObject({ code: 'token_revoked', type: 'authentication_error' });
    expect(upstream.requests).toHaveLength(1); // only the developer's accepted call reached the upstream
  });

  it('the revocation items share the keys table without disturbing key listings or offboarding\'s deletion', async () => {
    const keys = new DynamoDbApiKeyStore(API_KEYS_TABLE_NAME, unscopedDocumentClient());
    const minted = mintApiKey('acme');
    await keys.put({ tenantId: 'acme', keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: 'ci', role: 'member', createdBy: 'admin:test', createdAt: new Date().toISOString() });
    expect((await keys.list('acme')).map((k) => k.keyId)).toEqual([minted.keyId]);
    expect(await keys.deleteAll('acme')).toBe(2); // the key and bob's revocation (one item per user, rewritten by each change)
    expect(await keys.list('acme')).toEqual([]);
  });
});

describe('an invitation racing an offboarding on moto\'s Cognito (the invite\'s status fence)', () => {
  it('made by a caller that read the tenant ACTIVE, landing after Revoke tenant identities disabled its users: deleted again, 409 invalid_status; no enabled user of the tenant left', async () => {
    const registry = new Map([['globex', 'ACTIVE']]);
    const fenced = new CognitoTenantUsers(cognito(), pool, async () => undefined, undefined, revocations(), async (id) => registry.get(id) as never);
    await fenced.invite('globex', { email: 'early@globex.example.com', role: 'admin' }, 'test');
    registry.set('globex', 'OFFBOARDING'); // Begin offboarding
    expect(await users().disableAll('globex', 'offboarding')).toEqual({ disabled: 1, gone: 0 }); // Revoke tenant identities
    const e = await fenced.invite('globex', { email: 'late@globex.example.com', role: 'admin' }, 'test').catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 409, code: 'invalid_status', message: expect.stringContaining('tenant globex is OFFBOARDING') });
    const left = await users().list('globex');
    expect(left.map((u) => [u.email, u.enabled])).toEqual([['early@globex.example.com', false]]);
    expect(await users().disableAll('globex', 'offboarding')).toEqual({ disabled: 0, gone: 0 });
  });
});
