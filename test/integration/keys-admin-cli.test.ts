import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lib/identity/api-key.js';
import type { TenantRecord, TenantStatus } from '../../lib/tenant-record.js';
import { putNewTenant } from '../../lambdas/shared/registry.js';
import { expectPolite } from '../support/polite-cli.js';
import { configWith } from '../support/config-with.js';
import { startAdminApiFront, type AdminApiFront } from './support/admin-api-front.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';
import { keyRecord } from '../unit/identity/keys-store-behaviour.js';
import { LIVE_INDEX_KEY } from '../../lambdas/identity/stores/dynamodb-live-keys.js';
import { KEYS_TABLE_SCHEMA } from './support/keys-table.js';

// `tessera keys …` → the admin API handler (lambdas/admin/admin-api.ts, keys routes) → the
// registry and a keys table in moto (partition `tenantId`, sort `keyHash`, as the platform stack
// declares it). LocalPlatform gives moto, the platform fixture and the environment; this file serves
// the handler behind support/admin-api-front.ts, which routes as LocalPlatform's own front does and
// also gives API Gateway's IAM identity (requestContext.identity.userArn) of the SigV4 caller.

const KEYS_TABLE = 'tessera-api-keys';
const OPERATOR = 'arn:aws:iam::111111111111:user/ops';
let platform: LocalPlatform;
let front: AdminApiFront;
let apiUrl: string;
let doc: DynamoDBDocumentClient;

const tenant = (tenantId: string, status: TenantStatus): TenantRecord => ({
  tenantId, name: `${tenantId} corp`, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${tenantId}.example.com`, status, requestId: `req-${tenantId}-0001`,
  accountId: '333333333333', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: {}, executions: [],
  gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false, monthlyCostBudgetUsd: 100 },
});

beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
  const ddb = new DynamoDBClient({});
  doc = DynamoDBDocumentClient.from(ddb);
  await ddb.send(new CreateTableCommand({
    TableName: KEYS_TABLE, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  process.env.TESSERA_API_KEYS_TABLE = KEYS_TABLE;
  for (const [id, status] of [['acme', 'ACTIVE'], ['globex', 'ACTIVE'], ['sleepy', 'SUSPENDED']] as const) await putNewTenant(tenant(id, status));
  const { handler } = await import('../../lambdas/admin/admin-api.js');
  front = await startAdminApiFront(handler, OPERATOR);
  apiUrl = front.url;
}, 180_000);
afterAll(async () => {
  await front?.close();
  await platform?.stop();
});

// The file's first run is the real process (bin/tessera.mjs); the others run the same program in this process (a Node start costs 1-2 s each).
let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess : ((spawned = true), runTessera))(apiUrl, ...args);
/** The key records in the table (not the tenants' live-key index items, dynamodb-live-keys.ts). */
const items = async () => ((await doc.send(new ScanCommand({ TableName: KEYS_TABLE }))).Items ?? []).filter((i) => i.keyHash !== LIVE_INDEX_KEY);
const api = async (method: string, path: string, body?: unknown) => {
  // As the CLI sends it: fetch's own content-type for a string body is text/plain, a 415 since s47.
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
};
const KEY_LINE = /^ {2}(tsk_acme_[0-9A-Za-z]{43})$/m;

describe('tessera keys and the admin API keys routes', () => {
  let first: { keyId: string; key: string };

  it('create prints the key once with the warning, its id, role, models, limits and expiry; the table keeps only the hash', async () => {
    const run = await tessera('keys', 'create', '--tenant', 'acme', '--name', 'nightly batch', '--role', 'developer', '--model', 'openai/gpt-4o-mini', '--model', 'bedrock/amazon.nova-lite',
      '--requests-per-minute', '20', '--tokens-per-minute', '4000', '--tokens-per-day', '50000', '--monthly-cost-usd', '12.5', '--expires-in-days', '90');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const key = KEY_LINE.exec(run.stdout)![1]!;
    const keyId = `key_${hashApiKey(key).slice(0, 16)}`;
    expect(run.stdout).toContain(`created key ${keyId} for tenant acme`);
    expect(run.stdout).toContain('Store this key now: it cannot be shown again');
    expect(run.stdout).toMatch(/role\s+developer\n\s+models\s+openai\/gpt-4o-mini, bedrock\/amazon\.nova-lite\n\s+limits\s+20 requests\/minute, 4000 tokens\/minute, 50000 tokens\/day, 12\.5 USD\/month \(on top of the tenant's\)\n\s+expires\s+20\d\d-/);
    const stored = await items();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ tenantId: 'acme', keyHash: hashApiKey(key), keyId, role: 'developer', createdBy: `admin:${OPERATOR}`, limits: { requestsPerMinute: 20, tokensPerMinute: 4000, tokensPerDay: 50000, monthlyCostUsd: 12.5 } });
    expect(JSON.stringify(stored)).not.toContain(key.slice(9));
    first = { keyId, key };
  });

  it('create --json gives the admin API\'s answer: the key and the public record, never the hash', async () => {
    const run = await tessera('keys', 'create', '--tenant', 'acme', '--name', 'ci', '--json');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ object: 'tenant.api_key', tenantId: 'acme', name: 'ci', role: 'member' });
    expect(out.key).toMatch(/^tsk_acme_/);
    expect(out).not.toHaveProperty('keyHash');
    expect(out).not.toHaveProperty('models');
  });

  it('list shows the tenant\'s keys newest first, text and --json, without hashes or keys', async () => {
    const text = await tessera('keys', 'list', '--tenant', 'acme');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KEY ID\s+NAME\s+ROLE\s+STATE\s+HINT/);
    expect(text.stdout.split('\n')[1]).toMatch(/key_[0-9a-f]{16}\s+ci\s+member\s+active\s+tsk_acme_…/);
    expect(text.stdout.split('\n')[2]).toContain(first.keyId);
    const json = JSON.parse((await tessera('keys', 'list', '--tenant', 'acme', '--json')).stdout);
    expect(json.object).toBe('list');
    expect(json.data.map((k: { name: string }) => k.name)).toEqual(['ci', 'nightly batch']);
    expect(JSON.stringify(json)).not.toMatch(/keyHash|tsk_acme_[0-9A-Za-z]{43}/);
    expect((await tessera('keys', 'list', '--tenant', 'globex')).stdout).toBe('tenant globex has no API keys (tessera keys create --tenant globex --name <name>)\n');
  });

  it('rotate prints the new key once; the old one keeps working for the grace period, then grace 0 revokes at once', async () => {
    const run = await tessera('keys', 'rotate', first.keyId, '--tenant', 'acme', '--grace-hours', '2');
    expect(run.code).toBe(0);
    const key = KEY_LINE.exec(run.stdout)![1]!;
    expect(run.stdout).toContain(`rotated ${first.keyId} into key_`);
    expect(run.stdout).toMatch(/models\s+openai\/gpt-4o-mini, bedrock\/amazon\.nova-lite/);
    const until = /The old key key_[0-9a-f]{16} keeps working until (\S+): move every client/.exec(run.stdout)![1]!;
    expect(Math.abs(Date.parse(until) - Date.now() - 2 * 3_600_000)).toBeLessThan(60_000);
    const rotated = (await items()).find((i) => i.keyHash === hashApiKey(key))!;
    expect(rotated).toMatchObject({ rotatedFrom: first.keyId, name: 'nightly batch', role: 'developer', limits: { requestsPerMinute: 20, tokensPerDay: 50000, monthlyCostUsd: 12.5 } });
    const again = JSON.parse((await tessera('keys', 'rotate', rotated.keyId as string, '--tenant', 'acme', '--grace-hours', '0', '--json')).stdout);
    expect(again.previous).toMatchObject({ keyId: rotated.keyId, revokedAt: expect.any(String) });
    expect(again.rotatedFrom).toBe(rotated.keyId);
  });

  it('revoke revokes at once; a second revoke changes nothing and succeeds', async () => {
    const run = await tessera('keys', 'revoke', first.keyId, '--tenant', 'acme');
    expect(run.code).toBe(0);
    const at = /^revoked key (key_[0-9a-f]{16}) \(nightly batch\) of tenant acme at (\S+)$/.exec(run.stdout.trim())!;
    expect(at[1]).toBe(first.keyId);
    const twice = await tessera('keys', 'revoke', first.keyId, '--tenant', 'acme');
    expect(twice.stdout.trim()).toBe(run.stdout.trim());
    expect((await tessera('keys', 'list', '--tenant', 'acme')).stdout).toMatch(new RegExp(`${first.keyId}\\s+nightly batch\\s+developer\\s+revoked`));
  });

  it('refuses bad input naming the flag, with no stack trace, and changes nothing', async () => {
    const before = JSON.stringify(await items());
    const runs = [
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--model', 'openai/gpt-4o-mini', '--model', 'openai/gpt-5-turbo'), 2, /^error: --model "openai\/gpt-5-turbo": not a model of tenant acme \(its models: .*; GET \/v1\/models lists them\) \(unknown_model\)$/m],
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--tokens-per-day', '2000000'), 2, /^error: --tokens-per-day 2000000: above tenant acme's own limit of 1000000 tokens a day \(tier starter\).* \(limit_above_tenant\)$/m],
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--monthly-cost-usd', '100.5'), 2, /^error: --monthly-cost-usd 100\.5: above tenant acme's own limit of 100 USD a month/m],
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--tokens-per-minute', '2000000'), 2, /^error: --tokens-per-minute 2000000: above tenant acme's own limit of 1000000 tokens a day \(tier starter, which has no tokensPerMinute\).* \(limit_above_tenant\)$/m],
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--tokens-per-day', '1.5'), 2, /option '--tokens-per-day <n>' argument '1\.5' is invalid\. Expected a whole number of tokens a day/],
      [await tessera('keys', 'create', '--tenant', 'acme', '--name', 'x', '--role', 'owner'), 2, /option '--role <role>' argument 'owner' is invalid\. Allowed choices are admin, developer, member, viewer/],
      [await tessera('keys', 'create', '--tenant', 'Acme!', '--name', 'x'), 2, /^error: --tenant "Acme!" must be a lower-case DNS label/m],
      [await tessera('keys', 'create', '--tenant', 'nobody', '--name', 'x'), 1, /^error: --tenant: tenant "nobody" does not exist \(tenant_not_found\)$/m],
      [await tessera('keys', 'create', '--tenant', 'sleepy', '--name', 'x'), 1, /^error: --tenant: tenant sleepy is SUSPENDED: cannot create a key.* \(invalid_status\)$/m],
      [await tessera('keys', 'revoke', 'tsk_acme_abc', '--tenant', 'acme'), 2, /^error: <keyId> "tsk_acme_abc": not a key id; .*never pass the tsk_ key itself/m],
      [await tessera('keys', 'revoke', first.keyId, '--tenant', 'globex'), 1, new RegExp(`^error: <keyId>: key "${first.keyId}" does not exist in tenant globex .* \\(key_not_found\\)$`, 'm')],
      [await tessera('keys', 'rotate', first.keyId, '--tenant', 'acme'), 1, new RegExp(`^error: <keyId>: key ${first.keyId} was revoked at \\S+: only a working key can be rotated.* \\(key_revoked\\)$`, 'm')],
      [await tessera('keys', 'rotate', first.keyId, '--tenant', 'acme', '--grace-hours', '169'), 2, /option '--grace-hours <hours>' argument '169' is invalid\. Expected a whole number of hours from 0 to 168/],
      [await tessera('keys', 'list'), 2, /^error: tessera keys list needs the option --tenant <id>: the tenant$/m],
    ] as const;
    for (const [run, code, pattern] of runs) expectPolite(run, code, pattern, 2);
    expect(JSON.stringify(await items())).toBe(before);
  });

  it('the admin API answers hostile bodies with a 400 naming the field, in the admin API\'s error shape', async () => {
    const before = (await items()).length;
    const unknown = await api('POST', '/admin/tenants/acme/keys', { name: 'x', tenantId: 'globex' });
    expect(unknown).toEqual({ status: 400, body: { error: { message: expect.stringMatching(/^tenantId = "globex": is not a field of this request \(its fields: name, /), type: 'invalid_request_error', param: 'tenantId', code: 'unknown_parameter' } } });
    const role = await api('POST', '/admin/tenants/acme/keys', { name: 'x', role: 'superuser' });
    expect(role.body.error).toMatchObject({ param: 'role', code: 'invalid_request' });
    const fraction = await api('POST', '/admin/tenants/acme/keys', { name: 'x', limits: { requestsPerMinute: 2.5 } });
    expect(fraction.body.error).toMatchObject({ param: 'limits.requestsPerMinute', code: 'invalid_request' });
    const notJson = await api('POST', '/admin/tenants/acme/keys', '{"name":');
    expect(notJson.body.error).toMatchObject({ code: 'invalid_json' });
    const grace = await api('POST', `/admin/tenants/acme/keys/${first.keyId}/rotate`, { gracePeriodHours: 24, extra: true });
    expect(grace.body.error).toMatchObject({ param: 'extra', code: 'unknown_parameter' });
    expect((await items()).length).toBe(before);
    expect((await api('GET', '/admin/tenants/nobody/keys')).body.error).toMatchObject({ code: 'tenant_not_found', param: 'id' });
    expect((await api('DELETE', '/admin/tenants/acme/keys/key_0123456789abcdef')).status).toBe(404);
  });

  it('GET /admin/tenants/{id}/keys answers one page in OpenAI\'s cursor-list shape; tessera keys list reads every page', async () => {
    await putNewTenant(tenant('paged', 'ACTIVE'));
    // 125 keys (the route gives at most 100 a page): more than one page of the CLI's, six of the route's default 20.
    const records = Array.from({ length: 125 }, (_, i) => keyRecord('paged', new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), i % 3 === 0 ? { revokedAt: '2026-12-02T00:00:00.000Z' } : {}));
    // Written as the platform did before the creation index (no createdAtKeyId): the first list fills them in.
    for (const r of records) await doc.send(new PutCommand({ TableName: KEYS_TABLE, Item: r }));
    const byId = records.map((r) => r.keyId); // creation order (a second apart), oldest first: OpenAI's order, not key-id order
    expect(byId).not.toEqual([...byId].sort());
    const first = await api('GET', '/admin/tenants/paged/keys');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ object: 'list', data: expect.any(Array), first_id: byId[0], last_id: byId[19], has_more: true });
    expect(first.body.data.map((k: { keyId: string }) => k.keyId)).toEqual(byId.slice(0, 20));
    expect(first.body.data[0]).toEqual({ id: byId[0], object: 'tenant.api_key', ...Object.fromEntries(Object.entries(records.find((r) => r.keyId === byId[0])!).filter(([k]) => k !== 'keyHash')) });
    const next = await api('GET', `/admin/tenants/paged/keys?limit=100&after=${byId[19]}`);
    expect(next.body).toMatchObject({ first_id: byId[20], last_id: byId[119], has_more: true });
    const last = await api('GET', `/admin/tenants/paged/keys?limit=100&after=${byId[119]}`);
    expect(last.body).toMatchObject({ first_id: byId[120], last_id: byId[124], has_more: false });
    const desc = await api('GET', `/admin/tenants/paged/keys?order=desc&limit=2&after=${byId[3]}`);
    expect(desc.body.data.map((k: { keyId: string }) => k.keyId)).toEqual([byId[2], byId[1]]);
    // limit=05 is 5, as OpenAI reads it; an after that is no key of the tenant is refused, not taken as a position.
    expect((await api('GET', '/admin/tenants/paged/keys?limit=05')).body).toMatchObject({ first_id: byId[0], last_id: byId[4], has_more: true });
    for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=1e1', 'limit'], ['after=', 'after'], ['after=tsk_paged_x', 'after'], ['after=key_0123456789abcdef', 'after'], ['order=newest', 'order'], ['before=key_0123456789abcdef', 'before']]) {
      const refused = await api('GET', `/admin/tenants/paged/keys?${query}`);
      expect([query, refused.status, refused.body.error.param]).toEqual([query, 400, param]);
    }
    const text = await tessera('keys', 'list', '--tenant', 'paged');
    expect(text.code).toBe(0);
    const shown = text.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]);
    expect(shown).toEqual([...records].reverse().map((r) => r.keyId)); // every key, newest first
    const json = JSON.parse((await tessera('keys', 'list', '--tenant', 'paged', '--json')).stdout);
    expect(json).toMatchObject({ object: 'list', first_id: records.at(-1)!.keyId, last_id: records[0]!.keyId, has_more: false });
    expect(json.data).toHaveLength(125);
  }, 60_000);

  it('create answers 201 with the key; rotate 201 with the new key and the previous record', async () => {
    const created = await api('POST', '/admin/tenants/globex/keys', { name: 'svc' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'tenant.api_key', tenantId: 'globex', key: expect.stringMatching(/^tsk_globex_/), createdBy: `admin:${OPERATOR}` });
    const rotated = await api('POST', `/admin/tenants/globex/keys/${created.body.keyId}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ rotatedFrom: created.body.keyId, previous: { keyId: created.body.keyId, expiresAt: expect.any(String) } });
    expect(rotated.body.previous).not.toHaveProperty('key');
    expect(JSON.stringify(rotated.body)).not.toContain('keyHash');
  });
});
