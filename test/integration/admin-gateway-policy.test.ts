import { CreateTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatch } from '../../lambdas/inference/cors-origin-index-handler.js';
import { CORS_ORIGINS_BY_TENANT_INDEX } from '../../lambdas/inference/cors-origin-index.js';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import type { TenantRecord, TenantStatus } from '../../lib/tenant-record.js';
import { expectPolite } from '../support/polite-cli.js';
import { configWith } from '../support/config-with.js';
import { tempDir } from '../support/temp-dirs.js';
import { StreamReader } from './support/dynamodb-stream.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';

// `tessera tenants gateway <id> --file policy.json` → the admin API (PUT /admin/tenants/{id}/gateway)
// → the registry in moto → its DynamoDB stream (moto's) → the origin index maintainer → the index
// table the router's preflights read.

const INDEX = 'tessera-gateway-cors-origins';
let platform: LocalPlatform;
let dir: string;
let stream: StreamReader;
let doc: DynamoDBDocumentClient;

const tenant = (tenantId: string, status: TenantStatus): TenantRecord => ({
  tenantId, name: `${tenantId} corp`, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${tenantId}.example.com`, status, requestId: `req-${tenantId}-0001`,
  accountId: '333333333333', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: { BucketName: `tessera-${tenantId}-bucket` },
  executions: [{ kind: 'onboard', requestId: `req-${tenantId}-0001`, startedAt: '2026-12-01T00:00:00.000Z', status: 'SUCCEEDED' }],
  gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false, maxTokens: 512 },
});

beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
  dir = tempDir('tessera-gateway-policy-');
  const ddb = new DynamoDBClient({});
  doc = DynamoDBDocumentClient.from(ddb);
  // The platform stack's registry has a NEW_AND_OLD_IMAGES stream and the origin index (constructs/tenant-registry.ts, cors-origin-index.ts).
  const updated = await ddb.send(new UpdateTableCommand({ TableName: 'tessera-tenants', StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
  stream = new StreamReader(platform.moto.endpoint, updated.TableDescription!.LatestStreamArn!);
  await ddb.send(new CreateTableCommand({
    TableName: INDEX, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'origin', AttributeType: 'S' }, { AttributeName: 'tenantId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'origin', KeyType: 'HASH' }, { AttributeName: 'tenantId', KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [{ IndexName: CORS_ORIGINS_BY_TENANT_INDEX, KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'origin', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
  }));
  for (const [id, status] of [['acme', 'ACTIVE'], ['globex', 'SUSPENDED'], ['oldco', 'OFFBOARDED'], ['leaving', 'OFFBOARDING']] as const) await putNewTenant(tenant(id, status));
}, 180_000);
afterAll(async () => platform?.stop());

/** Runs the real `tessera` CLI against the local admin API. */
// The file's first run is the real process (bin/tessera.mjs); the others run the same program in this process (a Node start costs 1-2 s each).
let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess : ((spawned = true), runTessera))(platform.apiUrl, ...args);
const policyFile = (name: string, body: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
};
const index = async () => ((await doc.send(new ScanCommand({ TableName: INDEX }))).Items ?? []).map((i) => `${i.origin} ${i.tenantId}`).sort();

describe('tessera tenants gateway (PUT /admin/tenants/{id}/gateway)', () => {
  it('replaces the policy, writing gateway, gatewayChange, a history entry and updatedAt only, announces it on the bus, and prints it', async () => {
    const before = (await getTenant('acme'))!;
    const file = policyFile('acme.json', { allowedOrigins: ['https://app.acme.example', 'http://localhost:5173'], storeResponses: false, monthlyTokenBudget: 1_000_000 });
    const run = await tessera('tenants', 'gateway', 'acme', '--file', file);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^gateway policy of acme replaced \(2\d{3}-\d\d-\d\dT[\d:.]+Z, ETag "1"\); the CORS origin index follows within seconds$/m);
    expect(run.stdout).toMatch(/^ {2}allowedOrigins\s+https:\/\/app\.acme\.example, http:\/\/localhost:5173$/m);
    expect(run.stdout).toMatch(/^ {2}storeResponses\s+false$/m);
    const after = (await getTenant('acme'))!;
    // A replacement, with GatewayPolicy's defaults: maxTokens (set before) is gone.
    expect(after.gateway).toEqual({
      allowedOrigins: ['https://app.acme.example', 'http://localhost:5173'], storeResponses: false, monthlyTokenBudget: 1_000_000,
      fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false,
    });
    expect(after.updatedAt > before.updatedAt).toBe(true);
    expect(after.gatewayChange).toEqual({ version: 1, at: expect.any(String), actor: expect.stringMatching(/^admin:/), method: 'PUT' });
    // The tenant's history keeps the write (every write, not only the last one gatewayChange holds), and the bus hears of it.
    expect(after.executions).toEqual([...before.executions, {
      kind: 'gateway-policy', requestId: 'gateway-policy-v1', startedAt: after.gatewayChange!.at, endedAt: after.gatewayChange!.at, status: 'SUCCEEDED', actor: after.gatewayChange!.actor,
      policyChange: { version: 1, method: 'PUT', paths: ['allowedOrigins', 'maxTokens', 'monthlyTokenBudget', 'storeResponses'] },
    }]);
    expect((await platform.fixture.events()).filter((e) => e.detailType === 'Tenant Gateway Policy Changed').map((e) => e.detail)).toEqual([
      { tenantId: 'acme', version: 1, method: 'PUT', actor: after.gatewayChange!.actor, paths: ['allowedOrigins', 'maxTokens', 'monthlyTokenBudget', 'storeResponses'], at: after.gatewayChange!.at },
    ]);
    const shown = await tessera('tenants', 'show', 'acme');
    expect(shown.stdout).toMatch(/^policy {6}v1, PUT \S+ by admin:\S+$/m);
    expect(shown.stdout).toMatch(/^ {2}\S+ {2}gateway {2}v1 PUT allowedOrigins, maxTokens, monthlyTokenBudget, storeResponses by admin:\S+$/m);
    const { gateway: _g, updatedAt: _u, gatewayChange: _c, executions: _e, ...rest } = after;
    const { gateway: _g0, updatedAt: _u0, executions: _e0, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
  });

  it('prints the API\'s answer with --json', async () => {
    const run = await tessera('--json', 'tenants', 'gateway', 'globex', '--file', policyFile('globex.json', { allowedOrigins: ['https://app.acme.example'] }));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ tenantId: 'globex', status: 'SUSPENDED', gateway: { allowedOrigins: ['https://app.acme.example'] }, updatedAt: expect.any(String) });
  });

  it('updates the CORS origin index through the registry stream', async () => {
    const records = await stream.next();
    expect(records.map((r) => `${r.eventName} ${r.dynamodb?.Keys?.tenantId?.S}`)).toEqual(['INSERT acme', 'INSERT globex', 'INSERT oldco', 'INSERT leaving', 'MODIFY acme', 'MODIFY globex']);
    expect(await processBatch(records, doc, INDEX)).toEqual({ batchItemFailures: [] });
    expect(await index()).toEqual(['http://localhost:5173 acme', 'https://app.acme.example acme', 'https://app.acme.example globex']);
    await tessera('tenants', 'gateway', 'acme', '--file', policyFile('acme-2.json', { allowedOrigins: ['https://app.acme.example'] }));
    expect(await processBatch(await stream.next(), doc, INDEX)).toEqual({ batchItemFailures: [] });
    expect(await index()).toEqual(['https://app.acme.example acme', 'https://app.acme.example globex']);
  });

  it('refuses a key the policy does not know, at any level, and a bad value, naming it; the registry is unchanged', async () => {
    const before = (await getTenant('acme'))!;
    const typo = await tessera('tenants', 'gateway', 'acme', '--file', policyFile('typo.json', { allowedOrigin: ['https://x.example'] }));
    expectPolite(typo, 1, /allowedOrigin.*\(unknown_parameter, field allowedOrigin\)/);
    const nested = await tessera('tenants', 'gateway', 'acme', '--file', policyFile('nested.json', { guardrails: { redactPII: false } }));
    expectPolite(nested, 1, /redactPII/);
    const origin = await tessera('tenants', 'gateway', 'acme', '--file', policyFile('origin.json', { allowedOrigins: ['https://app.example.com/path'] }));
    expectPolite(origin, 1, /allowedOrigins.*must be an origin: scheme:\/\/host\[:port\], lower case, no path/);
    expect((await getTenant('acme'))!).toEqual(before);
  });

  it('answers 404 for an unknown tenant and 409 for one offboarding or offboarded', async () => {
    const file = policyFile('any.json', { allowedOrigins: ['https://x.example'] });
    expectPolite(await tessera('tenants', 'gateway', 'nobody', '--file', file), 1, /error: tenant "nobody" does not exist \(tenant_not_found, field id\)/);
    expectPolite(await tessera('tenants', 'gateway', 'oldco', '--file', file), 1, /error: tenant "oldco" is OFFBOARDED: its gateway policy can no longer change .*\(invalid_status, field status\)/);
    expectPolite(await tessera('tenants', 'gateway', 'leaving', '--file', file), 1, /tenant "leaving" is OFFBOARDING/);
    expect((await getTenant('oldco'))!.gateway?.allowedOrigins).toBeUndefined();
  });

  it('names the file and the fix when it is missing, not JSON or not an object (exit 2, nothing sent)', async () => {
    expectPolite(await tessera('tenants', 'gateway', 'acme', '--file', join(dir, 'missing.json')), 2, /^error: --file .*missing\.json: no such file; give a JSON file holding the tenant's whole gateway policy \(it replaces the current one; to change some keys and keep the others: --set key\.path=value, --unset key\.path\)$/m);
    expectPolite(await tessera('tenants', 'gateway', 'acme', '--file', policyFile('broken.json', '{"allowedOrigins": [')), 2, /^error: --file .*broken\.json: not valid JSON \(/);
    expectPolite(await tessera('tenants', 'gateway', 'acme', '--file', policyFile('list.json', ['https://x.example'])), 2, /^error: --file .*list\.json: holds an array, not a JSON object/);
    expectPolite(await tessera('tenants', 'gateway', 'acme'), 2, /^error: tessera tenants gateway needs the option --file <policy.json>/, 2);
  });
  it('keeps every other key when one key is changed on `tessera --json tenants show`\'s gateway and PUT back (the README\'s how-to)', async () => {
    // GIVEN a tenant whose policy sets much more than the key to change (a guardrail, redaction, caps, fallbacks)
    const gateway = {
      fallbacks: ['openai/gpt-4o-mini'], maxTokens: 512, monthlyTokenBudget: 1_000_000, monthlyCostBudgetUsd: 50, auditPromptText: false,
      guardrails: { redactPii: true, redactResponses: true, promptInjectionScreen: true, bedrockGuardrailId: 'abc123def456:2' },
      allowedOrigins: ['https://app.initech.example'], storeResponses: false,
    };
    await putNewTenant({ ...tenant('initech', 'ACTIVE'), gateway });
    // WHEN its gateway object is read with the CLI, one key changed, and the whole object PUT back
    const shown = await tessera('--json', 'tenants', 'show', 'initech');
    expect(shown.code).toBe(0);
    const policy = JSON.parse(shown.stdout).gateway;
    const run = await tessera('tenants', 'gateway', 'initech', '--file', policyFile('initech.json', { ...policy, monthlyTokenBudget: 250_000 }));
    // THEN it is accepted as it is (the strict parser knows every key show prints) and only that key changed
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect((await getTenant('initech'))!.gateway).toEqual({ ...gateway, monthlyTokenBudget: 250_000 });
  });
});

describe('tessera tenants gateway --set / --unset (PATCH /admin/tenants/{id}/gateway, a JSON Merge Patch)', () => {
  const full = {
    fallbacks: ['openai/gpt-4o-mini'], maxTokens: 512, monthlyTokenBudget: 1_000_000, auditPromptText: false, systemPrompt: 'Answer briefly.',
    guardrails: { redactPii: true, redactResponses: true, promptInjectionScreen: true, bedrockGuardrailId: 'abc123def456:2' },
    allowedOrigins: ['https://app.umbrella.example'],
  };
  /** The admin API on the local platform, unsigned (the local platform takes any caller). */
  const patchCall = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${platform.apiUrl}/admin/tenants/${id}/gateway`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json', ...headers }, body: JSON.stringify(body) });

  it('changes one budget and keeps the guardrail, fallbacks, origins and the rest; --unset removes a key; prints the resulting policy', async () => {
    await putNewTenant({ ...tenant('umbrella', 'ACTIVE'), gateway: structuredClone(full) });
    const run = await tessera('tenants', 'gateway', 'umbrella', '--set', 'monthlyCostBudgetUsd=500', '--set', 'guardrails.redactPii=false', '--unset', 'systemPrompt', '--reason', 'budget review');
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/^gateway policy of umbrella changed \(2\d{3}-[\d-]+T[\d:.]+Z, ETag "1"\); the CORS origin index follows within seconds$/m);
    expect(run.stdout).toMatch(/^ {2}allowedOrigins\s+https:\/\/app\.umbrella\.example$/m);
    const { systemPrompt: _s, ...rest } = full;
    const after = (await getTenant('umbrella'))!;
    expect(after.gateway).toEqual({ ...rest, monthlyCostBudgetUsd: 500, guardrails: { ...full.guardrails, redactPii: false } });
    expect(after.gatewayChange).toMatchObject({ version: 1, method: 'PATCH', reason: 'budget review', actor: expect.stringMatching(/^admin:/) });
  });

  it('refuses a stale --if-match with a 412 naming the ETag now; nothing is written', async () => {
    const before = (await getTenant('umbrella'))!;
    expectPolite(await tessera('tenants', 'gateway', 'umbrella', '--set', 'maxTokens=64', '--if-match', '"0"'), 1, /the gateway policy of tenant "umbrella" is now at ETag "1" .*nothing was written.*\(precondition_failed, field If-Match\)/);
    expect((await getTenant('umbrella'))!).toEqual(before);
    const run = await tessera('--json', 'tenants', 'gateway', 'umbrella', '--set', 'maxTokens=64', '--if-match', '"1"');
    expect([run.code, JSON.parse(run.stdout).version, JSON.parse(run.stdout).gateway.maxTokens]).toEqual([0, 2, 64]);
  });

  it('refuses a merged policy the schema refuses, naming the merged path and value; nothing is written', async () => {
    const before = (await getTenant('umbrella'))!;
    expectPolite(await tessera('tenants', 'gateway', 'umbrella', '--set', 'allowedOrigins=["https://x.example/path"]'), 1,
      /^error: the policy after the merge patch: allowedOrigins\[0\] = "https:\/\/x\.example\/path": must be an origin.*nothing was written \(invalid_request, field allowedOrigins\[0\]\)/);
    expect((await getTenant('umbrella'))!).toEqual(before);
  });

  it('lands concurrent PATCHes of different keys, each on the others (DynamoDB\'s condition on the version read, retried)', async () => {
    await putNewTenant({ ...tenant('hooli', 'ACTIVE'), gateway: structuredClone(full) });
    const changes = [{ maxTokens: 1024 }, { monthlyTokenBudget: 42 }, { monthlyCostBudgetUsd: 7 }, { defaultModel: 'openai/gpt-5.4-mini' }, { storeResponses: false }];
    const answers = await Promise.all(changes.map((c) => patchCall('hooli', c)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.headers.get('etag')).sort()).toEqual(['"1"', '"2"', '"3"', '"4"', '"5"']);
    const after = (await getTenant('hooli'))!;
    expect(after.gateway).toEqual({ ...full, ...Object.assign({}, ...changes) });
    expect(after.gatewayChange?.version).toBe(5);
    // each write on the history, once, with the key it changed
    expect(after.executions.filter((e) => e.kind === 'gateway-policy').map((e) => e.policyChange?.version)).toEqual([1, 2, 3, 4, 5]);
    expect(after.executions.filter((e) => e.kind === 'gateway-policy').flatMap((e) => e.policyChange!.paths).sort()).toEqual(['defaultModel', 'maxTokens', 'monthlyCostBudgetUsd', 'monthlyTokenBudget', 'storeResponses']);
  });

  it('tells --file from --set, and a --set without a value, before any call (exit 2)', async () => {
    expectPolite(await tessera('tenants', 'gateway', 'umbrella', '--file', policyFile('x.json', {}), '--set', 'maxTokens=1'), 2, /^error: tessera tenants gateway takes --file \(the whole policy\) or --set\/--unset \(keys to change\), not both$/m);
    expectPolite(await tessera('tenants', 'gateway', 'umbrella', '--set', 'maxTokens'), 2, /^error: --set "maxTokens": give key\.path=value/m);
  });
});
