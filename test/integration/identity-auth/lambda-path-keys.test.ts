import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { DynamoDbApiKeyStore } from '../../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { KEYS_TABLE_SCHEMA } from '../support/keys-table.js';
import { pythonScriptCommand } from '../../support/python-zygote.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');

// Tenant API keys on the deployed path: the emulated API Gateway runs the REQUEST authorizer
// Lambda's handler (key read from the keys table in moto, as the tenant), then the router Lambda,
// which checks the key's role and model subset again. The key table is the one the platform stack
// makes (partition key tenantId, sort key keyHash).

const TABLE = 'tessera-api-keys';
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let keys: DynamoDbApiKeyStore;

async function keyOf(tenantId: string, fields: Partial<ApiKeyRecord> = {}) {
  const m = mintApiKey(tenantId);
  await keys.put({ tenantId, keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: 'lambda', role: 'member', createdBy: 'admin:test', createdAt: new Date().toISOString(), ...fields });
  return { key: m.key, keyId: m.keyId };
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  process.env[GATEWAY_ENV.apiKeysTable] = TABLE;
  apigw = await startApiGatewayEmulator(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise'), localTenant('sleepy', 'enterprise', { status: 'SUSPENDED' })]);
  await new DynamoDBClient({}).send(new CreateTableCommand({
    TableName: TABLE, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  keys = new DynamoDbApiKeyStore(TABLE, unscopedDocumentClient());
}, 120_000);
afterAll(async () => {
  delete process.env[GATEWAY_ENV.apiKeysTable];
  await apigw?.stop();
  await upstream?.stop();
});

const client = (key: string) => new OpenAI({ baseURL: apigw.url, apiKey: key, maxRetries: 0, timeout: 20_000 });

describe('tenant API keys through API Gateway, the authorizer Lambda and the router Lambda (moto)', () => {
  it('a member key chats and lists only its models; lastUsedAt lands in the table', async () => {
    const { key, keyId } = await keyOf('acme', { models: ['openai-compatible/default'] });
    const out = await client(key).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'from lambda' }] });
    expect(out.choices[0]!.message.content).toBe('echo: from lambda');
    expect((await client(key).models.list()).data.map((m) => m.id)).toEqual(['openai-compatible/default']);
    const refused = await client(key).chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 404, error: { code: 'model_not_found' } });
    await expect.poll(async () => (await keys.findById('acme', keyId))?.lastUsedAt, { timeout: 5_000 }).toEqual(expect.any(String));
  });

  it('the authorizer Lambda answers principalId tenant/key and a context with tenantId, userId, role and keyId', async () => {
    const { key, keyId } = await keyOf('acme', { role: 'developer' });
    const { handler } = await import('../../../lambdas/inference/authorizer-handler.js');
    const answer = await handler({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:111111111111:api0000001/prod/POST/v1/chat/completions', headers: { Authorization: `Bearer ${key}` } } as never);
    expect(answer).toMatchObject({ principalId: `acme/${keyId}`, context: { tenantId: 'acme', userId: keyId, role: 'developer', keyId } });
    expect(answer.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('a viewer key is refused chat by the router with 403 permission_denied naming the permission', async () => {
    const { key } = await keyOf('acme', { role: 'viewer' });
    const e = await client(key).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] }).catch((err: unknown) => err);
    expect(e).toMatchObject({ status: 403, error: { code: 'permission_denied', type: 'permission_error' } });
    expect((e as Error).message).toContain('role "viewer" lacks permission "inference"');
  });

  it('API Gateway answers 401 for a random, revoked or expired key, and 403 for a suspended tenant\'s key', async () => {
    const revoked = await keyOf('acme', { revokedAt: new Date(Date.now() - 1000).toISOString() });
    const expired = await keyOf('acme', { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const sleepy = await keyOf('sleepy');
    for (const key of [mintApiKey('acme').key, revoked.key, expired.key, 'tsk_a.b.c']) {
      expect(await client(key).models.list().catch((e: unknown) => e)).toMatchObject({ status: 401 });
    }
    expect(await client(sleepy.key).models.list().catch((e: unknown) => e)).toMatchObject({ status: 403 });
  });

  it('POST /v1/tenant/keys through the router Lambda stores the key in one transaction with the registry check (moto); the Lambda\'s store refuses a key for a SUSPENDED tenant', async () => {
    const admin = await keyOf('acme', { role: 'admin' });
    const res = await fetch(`${apigw.url}/tenant/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'from-lambda' }) });
    expect(res.status).toBe(201);
    const made = await res.json() as { keyId: string };
    expect((await keys.findById('acme', made.keyId))?.name).toBe('from-lambda');
    // The store the router Lambda builds (lambdaApiKeyStore): fenced on TESSERA_REGISTRY_TABLE, where `sleepy` is SUSPENDED.
    const { lambdaApiKeyStore } = await import('../../../lambdas/inference/lambda-deps.js');
    const m = mintApiKey('sleepy');
    const e = await (await lambdaApiKeyStore())!.put({ tenantId: 'sleepy', keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: 'late', role: 'member', createdBy: 'admin:test', createdAt: new Date().toISOString() }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'Error', tenantId: 'sleepy', status: 'SUSPENDED' });
    expect((await keys.list('sleepy')).map((r) => r.name)).not.toContain('late');
  });

  it('the router Lambda\'s user directory (lambdaTenantUsers) keeps no invitation of a tenant the registry (moto) no longer serves', async () => {
    const { CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolCommand, ListUsersCommand } = await import('@aws-sdk/client-cognito-identity-provider');
    const { ROLE_GROUPS } = await import('../../../lib/identity/roles.js');
    const cognito = new CognitoIdentityProviderClient({});
    const pool = (await cognito.send(new CreateUserPoolCommand({
      PoolName: 'tessera-tenants', UsernameAttributes: ['email'], Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false }],
    }))).UserPool!.Id!;
    for (const group of ROLE_GROUPS) await cognito.send(new CreateGroupCommand({ UserPoolId: pool, GroupName: group }));
    process.env[GATEWAY_ENV.userPoolId] = pool;
    try {
      const { lambdaTenantUsers } = await import('../../../lambdas/inference/lambda-deps.js');
      const users = (await lambdaTenantUsers())!;
      expect(await users.invite('acme', { email: 'dev@acme.example.com', role: 'member' }, 'test')).toMatchObject({ tenantId: 'acme', enabled: true });
      const e = await users.invite('sleepy', { email: 'late@sleepy.example.com', role: 'admin' }, 'test').catch((x: unknown) => x);
      expect(e).toMatchObject({ status: 409, code: 'invalid_status', message: expect.stringContaining('tenant sleepy is SUSPENDED') });
      const left = (await cognito.send(new ListUsersCommand({ UserPoolId: pool }))).Users!.map((u) => u.Attributes!.find((a) => a.Name === 'email')!.Value);
      expect(left).toEqual(['dev@acme.example.com']);
    } finally {
      delete process.env[GATEWAY_ENV.userPoolId];
    }
  });
});

describe('GET /v1/tenant/keys through the router Lambda on moto: creation order, paged by the official clients', () => {
  it('the openai Node client\'s CursorPage and Python\'s get_api_list walk every key of the tenant over several pages, oldest first, keys written before the creation index among them', async () => {
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    // Keys as the platform wrote them before the index (no createdAtKeyId), older than any other, and a tenant that has
    // not listed since (no `order#keys` mark: the tests above may have listed).
    const old = Array.from({ length: 4 }, (_, i) => {
      const m = mintApiKey('acme');
      return { tenantId: 'acme', keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: `old ${i}`, role: 'member', createdBy: 'admin:test', createdAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() };
    });
    for (const item of old) await ddb.send(new PutCommand({ TableName: TABLE, Item: item }));
    await ddb.send(new DeleteCommand({ TableName: TABLE, Key: { tenantId: 'acme', keyHash: 'order#keys' } }));
    const admin = await keyOf('acme', { role: 'admin', createdAt: '2026-06-01T00:00:00.000Z' });
    for (let i = 0; i < 4; i++) await keyOf('acme', { name: `new ${i}`, createdAt: new Date(Date.UTC(2026, 6, 1, 0, 0, 0, i)).toISOString() });
    const expected = (await keys.list('acme')).sort((a, b) => (a.createdAt === b.createdAt ? (a.keyId < b.keyId ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1)).map((r) => r.keyId);
    expect(expected.length).toBeGreaterThanOrEqual(9);
    expect(expected.slice(0, 4)).toEqual(old.map((r) => r.keyId));
    expect(expected).not.toEqual([...expected].sort()); // creation order is not key-id order here

    const pages: string[] = [];
    const node = new OpenAI({ baseURL: apigw.url, apiKey: admin.key, maxRetries: 0, timeout: 20_000, fetch: async (url, init) => (pages.push(String(url)), fetch(url, init)) });
    type Key = { id: string; keyId: string; name: string };
    const ids: string[] = [];
    for await (const key of node.getAPIList<Key, OpenAI.CursorPage<Key>>('/tenant/keys', OpenAI.CursorPage<Key>, { query: { limit: 2 } })) ids.push(key.id);
    expect(ids).toEqual(expected);
    expect(pages.length).toBe(Math.ceil(expected.length / 2));
    expect(pages.slice(1).every((u) => new URL(u).searchParams.get('after'))).toBe(true);

    const [python, args] = pythonScriptCommand(join(ROOT, '.venv', 'bin', 'python'), join(import.meta.dirname, 'python_key_pages.py'));
    const { stdout } = await run(python, args, { env: { ...process.env, GW: apigw.url, ADMIN: admin.key, LIMIT: '3' }, timeout: 60_000 });
    const walked = JSON.parse(stdout) as { ids: string[]; pages: number };
    expect(walked).toEqual({ ids: expected, pages: Math.ceil(expected.length / 3) });

    // Newest first with order=desc, and an after that names no key of the tenant is a 400 naming it.
    const desc = await fetch(`${apigw.url}/tenant/keys?order=desc&limit=3`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(((await desc.json()) as { data: Key[] }).data.map((k) => k.id)).toEqual([...expected].reverse().slice(0, 3));
    const unknown = await fetch(`${apigw.url}/tenant/keys?after=key_0123456789abcdef`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect([unknown.status, ((await unknown.json()) as { error: { param: string; code: string } }).error]).toEqual([400, expect.objectContaining({ param: 'after', code: 'invalid_value' })]);
  }, 120_000);
});
