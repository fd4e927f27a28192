import { AdminDeleteUserCommand, AdminDisableUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, AdminAddUserToGroupCommand, AdminRemoveUserFromGroupCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey as JoseKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CognitoTenantUsers } from '../../../lambdas/identity/cognito-tenant-users.js';
import { DynamoDbUserTokenRevocations, isRevocationItem, MemoryUserTokenRevocations, revocationSortKey } from '../../../lambdas/identity/stores/user-token-revocations.js';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'tessera';
let privateKey: JoseKey;
let publicJwk: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});
const token = (sub: string, iatSeconds: number, extra: Record<string, unknown> = {}) => new SignJWT({ 'custom:tenant_id': 'acme', 'cognito:groups': ['tenant-developer'], ...extra })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(sub).setIssuedAt(iatSeconds).setExpirationTime(iatSeconds + 3600).sign(privateKey);

describe('Authorizer: users\' token revocations', () => {
  let revocations: MemoryUserTokenRevocations;
  let authorizer: Authorizer;
  const now = Math.floor(Date.now() / 1000);

  beforeEach(() => {
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    revocations = new MemoryUserTokenRevocations();
    authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { userRevocations: revocations, cacheMs: 0 });
  });

  it('refuses a token issued before the revocation or in its second (401 token_revoked), accepts one issued after', async () => {
    await revocations.revoke('acme', 'bob', new Date((now - 100) * 1000 + 400));
    for (const iat of [now - 200, now - 100]) {
      const e = await authorizer.authorize(`Bearer ${await token('bob', iat)}`).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GatewayError);
      expect([(e as GatewayError).status, (e as GatewayError).code]).toEqual([401, 'token_revoked']);
    }
    expect((await authorizer.authorize(`Bearer ${await token('bob', now - 99)}`)).role).toBe('developer');
  });

  it('leaves other users, and other tenants\' users of the same sub, alone', async () => {
    await revocations.revoke('globex', 'bob', new Date());
    await revocations.revoke('acme', 'carol', new Date());
    expect((await authorizer.authorize(`Bearer ${await token('bob', now - 10)}`)).userId).toBe('bob');
  });
});

describe('DynamoDbUserTokenRevocations', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const store = () => new DynamoDbUserTokenRevocations('keys', async () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })));
  beforeEach(() => ddb.reset());

  it('writes {tenantId, keyHash: user#<sub>, tokensNotBefore} and reads it back consistently', async () => {
    ddb.on(PutCommand).resolves({});
    await store().revoke('acme', 'bob', new Date('2026-12-01T10:00:00.500Z'));
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toEqual({ TableName: 'keys', Item: { tenantId: 'acme', keyHash: 'user#bob', tokensNotBefore: '2026-12-01T10:00:00.500Z' } });
    ddb.on(GetCommand).resolves({ Item: { tenantId: 'acme', keyHash: 'user#bob', tokensNotBefore: '2026-12-01T10:00:00.500Z' } });
    expect(await store().notBefore('acme', 'bob')).toBe(Date.parse('2026-12-01T10:00:00.500Z'));
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ Key: { tenantId: 'acme', keyHash: 'user#bob' }, ConsistentRead: true });
  });

  it('finds nothing for a missing item, a bad time or an id that is no tenant id (no call)', async () => {
    ddb.on(GetCommand).resolvesOnce({}).resolvesOnce({ Item: { tokensNotBefore: 'yesterday' } });
    expect(await store().notBefore('acme', 'bob')).toBeUndefined();
    expect(await store().notBefore('acme', 'bob')).toBeUndefined();
    expect(await store().notBefore('Not_A_Tenant', 'bob')).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('with the registry: a transaction cancelled only for a conflict (a key write\'s status check of the same tenant in flight) is sent again, not a failed disable', async () => {
    const conflict = () => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).resolves({});
    const fenced = new DynamoDbUserTokenRevocations('keys', async () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), 'tenants');
    await fenced.revoke('acme', 'bob', new Date('2026-12-01T10:00:00.500Z'));
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(ddb.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems![1]!.Put).toEqual({ TableName: 'keys', Item: { tenantId: 'acme', keyHash: 'user#bob', tokensNotBefore: '2026-12-01T10:00:00.500Z' } });
  });

  it('never shares a sort key with a key record (64 hex characters)', () => {
    expect(isRevocationItem({ keyHash: revocationSortKey('bob') })).toBe(true);
    expect(isRevocationItem({ keyHash: 'a'.repeat(64) })).toBe(false);
  });
});

describe('CognitoTenantUsers records revocations before it changes Cognito', () => {
  const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
  const attrs = [{ Name: 'sub', Value: 'sub-bob' }, { Name: 'email', Value: 'bob@acme.example.com' }, { Name: 'custom:tenant_id', Value: 'acme' }];
  let order: string[];
  let revocations: { revoke: (t: string, s: string, at: Date) => Promise<void>; notBefore: () => Promise<undefined> };
  const users = () => new CognitoTenantUsers(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), 'eu-west-1_Pool', async () => undefined, () => new Date('2026-12-01T10:00:00Z'), revocations);

  beforeEach(() => {
    cognito.reset();
    order = [];
    revocations = { revoke: async (t, s, at) => void order.push(`revoke ${t}/${s} ${at.toISOString()}`), notBefore: async () => undefined };
    cognito.on(AdminGetUserCommand).resolves({ Username: 'u-bob', UserAttributes: attrs, Enabled: true, UserStatus: 'CONFIRMED' });
    cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-member' }] });
    for (const [command, name] of [[AdminDisableUserCommand, 'disable'], [AdminUserGlobalSignOutCommand, 'signout'], [AdminDeleteUserCommand, 'delete'], [AdminAddUserToGroupCommand, 'add'], [AdminRemoveUserFromGroupCommand, 'remove']] as const) {
      cognito.on(command as never).callsFake(async () => void order.push(name));
    }
  });

  it('disable, remove and a role change: the revocation (keyed by sub) first', async () => {
    await users().disable('acme', 'u-bob', 'x');
    await users().remove('acme', 'u-bob', 'x');
    await users().setRole('acme', 'u-bob', 'developer', 'x');
    const revoke = 'revoke acme/sub-bob 2026-12-01T10:00:00.000Z';
    expect(order).toEqual([revoke, 'signout', 'disable', revoke, 'delete', revoke, 'add', 'remove']);
  });

  it('a role set to the role the user has writes no revocation; a failed revocation changes nothing in Cognito', async () => {
    await users().setRole('acme', 'u-bob', 'member', 'x');
    expect(order.filter((o) => o.startsWith('revoke'))).toEqual([]);
    revocations.revoke = async () => { throw new Error('AccessDenied'); };
    order = [];
    await expect(users().disable('acme', 'u-bob', 'x')).rejects.toThrow('AccessDenied');
    expect(order).toEqual([]);
  });
});
