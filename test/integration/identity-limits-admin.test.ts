import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { USAGE_TABLE_ENV } from '../../lambdas/admin/usage-routes.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../support/config-with.js';
import { LocalPlatform } from './support/local-platform.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { runTesseraEntry, runTesseraInProcess } from './support/tessera-cli.js';

// Issue 15, item 5 (attribution): GET /admin/tenants/{id}/usage[?by=user|key|tag] and
// `tessera tenants usage <id> [--by user|key|tag] [--json]`, on the local admin API over moto.
let platform: LocalPlatform;
// The file's first run is a real process: the CLI bundled (test/support/cli-bundle.ts, the same
// program without tsx's start-up cost; the `tenants` commands' start through bin/tessera.mjs is
// admin-cli's first run and cli-failures'); the others run the same program in this process (a Node start costs 1-2 s each).
const cli = await tesseraBundle();
let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess(platform.apiUrl, ...args) : ((spawned = true), runTesseraEntry(cli, platform.apiUrl, ...args)));
const now = new Date();

beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
  process.env[USAGE_TABLE_ENV] = 'tessera-usage';
  // The platform fixture made it, with the ledger index (model-usage), as the platform stack does: usage by tag is a Query of it.
  const registry = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  for (const tenant of ['acme', 'globex', 'initech']) await registry.send(new PutCommand({ TableName: process.env[ENV.registryTable], Item: localTenant(tenant, 'enterprise') }));
  // What the gateway would have reserved and settled: two keys and a user of acme.
  const store = new DynamoDbStore(process.env[ENV.registryTable]!, 'tessera-usage', unscopedDocumentClient());
  const r = await store.reserve('acme', 120, 0.0125, {}, now, { kind: 'key', id: 'key_0123456789abcdef' });
  await store.settle(r, 100, 0.01);
  await store.reserve('acme', 40, 0.004, {}, now, { kind: 'key', id: 'key_fedcba9876543210' });
  await store.reserve('acme', 7, 0.0007, {}, now, { kind: 'user', id: '3f1c9a6e-5a43-4d2e-9a7b-1c2d3e4f5a6b' });
  // globex's tagged requests (x-tessera-tags) settled with usage, as the pipeline tags a reservation, and another tenant's.
  const tagged = async (tenant: string, tags: string[], tokens: number, costUsd: number) => {
    const t = await store.reserve(tenant, 500, 0.01, {}, now, { kind: 'key', id: 'key_00000000000000aa' });
    await store.settle({ ...t, tags }, tokens, costUsd, { model: 'openai/gpt-4o-mini', promptTokens: tokens - 5, completionTokens: 5, reported: true, estimatedTokens: tokens });
  };
  await tagged('globex', ['checkout', 'env=prod'], 30, 0.003);
  await tagged('globex', ['checkout'], 20, 0.002);
  await tagged('initech', ['checkout'], 900, 0.09);
});
afterAll(async () => platform?.stop());

describe('tessera tenants usage', () => {
  it('lists each key with its day and month usage, the sum equal to the tenant\'s', async () => {
    const run = await tessera('tenants', 'usage', 'acme', '--by', 'key');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('usage of tenant acme by key: 2 keys this month');
    expect(run.stdout).toMatch(/^key_0123456789abcdef\s+100\s+0\.010000000\s+1\s+100\s+0\.010000000\s+1$/m);
    expect(run.stdout).toMatch(/^key_fedcba9876543210\s+40\s+0\.004000000\s+1\s+40\s+0\.004000000\s+1$/m);
    const keys = JSON.parse((await tessera('--json', 'tenants', 'usage', 'acme', '--by', 'key')).stdout);
    const users = JSON.parse((await tessera('--json', 'tenants', 'usage', 'acme', '--by', 'user')).stdout);
    const tenant = JSON.parse((await tessera('--json', 'tenants', 'usage', 'acme')).stdout);
    expect(users.subjects).toEqual([{ kind: 'user', id: '3f1c9a6e-5a43-4d2e-9a7b-1c2d3e4f5a6b', day: { tokens: 7, costUsd: 0.0007, requests: 1 }, month: { tokens: 7, costUsd: 0.0007, requests: 1 } }]);
    expect(tenant.usage.month).toEqual({ tokens: 147, costUsd: 0.0147, requests: 3 });
    expect([...keys.subjects, ...users.subjects].reduce((a: number, s: { month: { tokens: number } }) => a + s.month.tokens, 0)).toBe(tenant.usage.month.tokens);
    expect(keys).toMatchObject({ tenantId: 'acme', by: 'key', incomplete: false, month: now.toISOString().slice(0, 7) });
  });

  it('shows the tenant\'s day and month without --by', async () => {
    const run = await tessera('tenants', 'usage', 'acme');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^month \d{4}-\d{2}\s+147\s+0\.014700000\s+3$/m);
  });

  it('--by tag: one row per request tag of the month (a request under each of its tags, another tenant\'s apart), with incomplete and the unrecorded requests', async () => {
    const run = await tessera('tenants', 'usage', 'globex', '--by', 'tag');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('usage of tenant globex by tag: 2 tags this month');
    expect(run.stdout).toMatch(/^checkout\s+50\s+0\.005000000\s+2\s+50\s+0\.005000000\s+2$/m);
    expect(run.stdout).toMatch(/^env=prod\s+30\s+0\.003000000\s+1\s+30\s+0\.003000000\s+1$/m);
    expect(run.stdout).toContain('incomplete: no; unrecorded requests: 0 (a tag new to a month that has 256 distinct tags is not recorded)');
    const tags = JSON.parse((await tessera('--json', 'tenants', 'usage', 'globex', '--by', 'tag')).stdout);
    expect(tags).toEqual({
      tenantId: 'globex', day: now.toISOString().slice(0, 10), month: now.toISOString().slice(0, 7), by: 'tag', incomplete: false, unrecordedRequests: 0, tagsLimit: 256,
      subjects: [
        { kind: 'tag', id: 'checkout', day: { tokens: 50, costUsd: 0.005, requests: 2 }, month: { tokens: 50, costUsd: 0.005, requests: 2 } },
        { kind: 'tag', id: 'env=prod', day: { tokens: 30, costUsd: 0.003, requests: 1 }, month: { tokens: 30, costUsd: 0.003, requests: 1 } },
      ],
    });
    // A tenant without tagged requests: no rows, complete.
    const none = await tessera('tenants', 'usage', 'acme', '--by', 'tag');
    expect(none.stdout).toContain('usage of tenant acme by tag: 0 tags this month');
    expect(none.stdout).not.toContain('CHECKOUT');
    const month = await tessera('tenants', 'usage', 'acme', '--by', 'tag', '--month', '2026-10');
    expect(month.code).toBe(2);
    expect(month.stderr).toContain('--by tag does not go with --month');
  });

  it('refuses an unknown --by value (exit 2) and an unknown tenant (exit 1, the admin API\'s 404), naming them', async () => {
    const bad = await tessera('tenants', 'usage', 'acme', '--by', 'team');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--by.*team/);
    const missing = await tessera('tenants', 'usage', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tenant "nobody" does not exist/);
  });

  it('answers 400 naming an unknown query parameter of the admin API', async () => {
    const { handler } = await import('../../lambdas/admin/admin-api.js');
    const out = await handler({ httpMethod: 'GET', resource: '/admin/tenants/{id}/usage', path: '/admin/tenants/acme/usage', pathParameters: { id: 'acme' }, queryStringParameters: { group_by: 'key' }, headers: {}, body: null, isBase64Encoded: false, requestContext: { requestId: 'r' } } as never);
    expect(out.statusCode).toBe(400);
    expect(JSON.parse(out.body).error).toMatchObject({ code: 'unknown_parameter', param: 'group_by' });
  });
});
