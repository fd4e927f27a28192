import { DynamoDBDocumentClient, QueryCommand, ScanCommand, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { getList, listPages } from './admin-list-pages.js';
import { MAX_PAGE_READS } from '../../../lambdas/shared/registry.js';
import { setLifecycleEnv, tenant } from './support.js';

/**
 * `GET /admin/tenants` in pages (lambdas/admin/tenant-list-routes.ts, registry.ts listTenantPage) on
 * DynamoDB's mock: a table that answers Scan and Query as DynamoDB does (`Limit` items evaluated
 * after `ExclusiveStartKey`, LastEvaluatedKey when it stopped at the limit, FilterExpression applied
 * after the limit). Before pages, every record came back in one body (over Lambda's 6 MB from some
 * 440 tenants with a year of history: test/bench/tenant-list-size.ts).
 */
const ddb = mockClient(DynamoDBDocumentClient);
let table: TenantRecord[] = [];

/** DynamoDB's answer to one call over `items` (in the table's or the index's order). */
function answer(items: TenantRecord[], input: ScanCommandInput | QueryCommandInput, keep: (r: TenantRecord) => boolean = () => true) {
  const from = input.ExclusiveStartKey ? items.findIndex((r) => r.tenantId === input.ExclusiveStartKey!.tenantId) + 1 : 0;
  const evaluated = items.slice(from, input.Limit === undefined ? undefined : from + input.Limit);
  const more = from + evaluated.length < items.length;
  return { Items: structuredClone(evaluated.filter(keep)), ...(more ? { LastEvaluatedKey: { tenantId: evaluated.at(-1)!.tenantId } } : {}) };
}

beforeEach(() => {
  setLifecycleEnv();
  ddb.reset();
  table = [];
  // A Scan's order is the partition key's hash: not sorted (here: reversed ids).
  ddb.on(ScanCommand).callsFake((input: ScanCommandInput) => answer([...table].sort((a, b) => b.tenantId.localeCompare(a.tenantId)), input));
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const key = input.ExpressionAttributeNames!['#k'] as 'status' | 'tier';
    const inIndex = table.filter((r) => r[key] === input.ExpressionAttributeValues![':v']).sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    return answer(inIndex, input, (r) => !input.FilterExpression || r.tier === input.ExpressionAttributeValues![':t']);
  });
});

const get = (query: Record<string, string> = {}) => getList('/admin/tenants', query);
const body = (r: APIGatewayProxyResult) => JSON.parse(r.body);
const ids = (n: number, prefix = 'tenant') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
const put = (...records: TenantRecord[]) => table.push(...records);

const pages = (query: Record<string, string>) => listPages('/admin/tenants', query);

describe('GET /admin/tenants in pages', () => {
  it('answers `limit` records a page with an opaque nextToken, every tenant once, in Scan order', async () => {
    put(...ids(5).map((tenantId) => tenant({ tenantId })));
    expect(await pages({ limit: '2' })).toEqual([['tenant-0004', 'tenant-0003'], ['tenant-0002', 'tenant-0001'], ['tenant-0000']]);
    // One Scan per page, each from the key after the previous page's last tenant
    expect(ddb.commandCalls(ScanCommand).map((c) => [c.args[0].input.Limit, c.args[0].input.ExclusiveStartKey])).toEqual([[2, undefined], [2, { tenantId: 'tenant-0003' }], [2, { tenantId: 'tenant-0001' }]]);
  });

  it('answers 100 records unless asked (the last page has no nextToken)', async () => {
    put(...ids(150).map((tenantId) => tenant({ tenantId })));
    const first = body(await get());
    expect(first.tenants).toHaveLength(100);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = body(await get({ nextToken: first.nextToken, limit: '1000' }));
    expect(second.tenants).toHaveLength(50);
    expect(second).not.toHaveProperty('nextToken');
    expect(new Set([...first.tenants, ...second.tenants].map((t: TenantRecord) => t.tenantId)).size).toBe(150);
  });

  it('keeps status and tier across pages: the status index, the tier filtered, sorted by id', async () => {
    put(...ids(9, 'acme').map((tenantId, i) => tenant({ tenantId, status: i % 3 === 2 ? 'SUSPENDED' : 'ACTIVE', tier: i % 2 ? 'professional' : 'starter' })));
    expect((await pages({ status: 'ACTIVE', tier: 'starter', limit: '2' })).flat()).toEqual(['acme-0000', 'acme-0004', 'acme-0006']);
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ IndexName: 'by-status', FilterExpression: '#t = :t', ExpressionAttributeValues: { ':v': 'ACTIVE', ':t': 'starter' } });
    expect(calls[0].Limit).toBeUndefined();
    // The first page was cut at acme-0004 (limit 2), the next starts after it
    expect(calls[1].ExclusiveStartKey).toEqual({ tenantId: 'acme-0004', status: 'ACTIVE' });
    expect((await pages({ tier: 'professional', limit: '3' }))).toEqual([['acme-0001', 'acme-0003', 'acme-0005'], ['acme-0007']]);
    expect(ddb.commandCalls(QueryCommand).at(-1)!.args[0].input).toMatchObject({ IndexName: 'by-tier', ExclusiveStartKey: { tenantId: 'acme-0005', tier: 'professional' } });
  });

  it('reads a status and a rare tier in a few calls, not one item a call (the tier filters after DynamoDB\'s Limit)', async () => {
    // 600 ACTIVE tenants, 3 of them enterprise: the first, one in the middle, the last
    put(...ids(600).map((tenantId, i) => tenant({ tenantId, status: 'ACTIVE', tier: [0, 300, 599].includes(i) ? 'professional' : 'starter' })));
    expect(await pages({ status: 'ACTIVE', tier: 'professional', limit: '1' })).toEqual([['tenant-0000'], ['tenant-0300'], ['tenant-0599']]);
    // Limit 1 with the tier a FilterExpression evaluated one item a call: 599 Queries (a page a timeout once the registry is large)
    expect(ddb.commandCalls(QueryCommand).length).toBeLessThanOrEqual(3);
    ddb.resetHistory();
    expect((await pages({ status: 'ACTIVE', tier: 'professional', limit: '2' })).flat()).toEqual(['tenant-0000', 'tenant-0300', 'tenant-0599']);
    expect(ddb.commandCalls(QueryCommand).length).toBeLessThanOrEqual(2);
  });

  it('ends a page after MAX_PAGE_READS calls when a rare tier leaves it short, with a token to go on (even empty)', async () => {
    // DynamoDB stops a call at 1 MB: here at 20 records a call
    ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const inIndex = table.filter((r) => r.status === input.ExpressionAttributeValues![':v']).sort((a, b) => a.tenantId.localeCompare(b.tenantId));
      return answer(inIndex, { ...input, Limit: Math.min(input.Limit ?? 20, 20) }, (r) => !input.FilterExpression || r.tier === input.ExpressionAttributeValues![':t']);
    });
    put(...ids(600).map((tenantId, i) => tenant({ tenantId, status: 'ACTIVE', tier: i === 599 ? 'professional' : 'starter' })));
    const perAnswer: number[] = [];
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      ddb.resetHistory();
      const res = await get({ status: 'ACTIVE', tier: 'professional', ...(nextToken ? { nextToken } : {}) });
      expect(res.statusCode).toBe(200);
      perAnswer.push(ddb.commandCalls(QueryCommand).length);
      seen.push(...body(res).tenants.map((t: TenantRecord) => t.tenantId));
      nextToken = body(res).nextToken;
    } while (nextToken && perAnswer.length < 10);
    expect(seen).toEqual(['tenant-0599']);
    // 30 calls of 20: three answers of at most 10 calls, the first two empty with a token
    expect(perAnswer).toEqual([MAX_PAGE_READS, MAX_PAGE_READS, MAX_PAGE_READS]);
  });

  it('refuses a malformed or another list\'s nextToken with a 400 naming it, reading nothing', async () => {
    put(...ids(3).map((tenantId) => tenant({ tenantId, status: 'ACTIVE' })));
    const active = body(await get({ status: 'ACTIVE', limit: '1' })).nextToken;
    ddb.resetHistory();
    const forged = (content: unknown) => Buffer.from(JSON.stringify(content)).toString('base64url');
    for (const [query, message] of [
      [{ nextToken: 'not a token!' }, /^nextToken = "not a token!": not a token of this list/],
      [{ nextToken: '' }, /^nextToken = "": not a token of this list/],
      [{ nextToken: Buffer.from('{"after":').toString('base64url') }, /not a token of this list/],
      [{ nextToken: forged({ after: 'x'.repeat(5000) }) }, /^nextToken = ".{117}\.\.\.": not a token of this list/],
      [{ nextToken: forged({ after: 'tenant-0001', extra: 1 }) }, /not a token of this list/],
      [{ nextToken: active }, /it continues the list with status=ACTIVE, this request asks no filter; send the same status and tier with it$/],
      [{ nextToken: active, status: 'ACTIVE', tier: 'starter' }, /with status=ACTIVE, this request asks status=ACTIVE, tier="starter"/],
    ] as const) {
      const res = await get(query);
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_next_token', param: 'nextToken', message: expect.stringMatching(message) });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses a limit out of 1-1000 with a 400 naming it', async () => {
    for (const limit of ['0', '1001', 'ten', '1.5', '-1', '']) {
      const res = await get({ limit });
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toMatchObject({ param: 'limit', message: expect.stringMatching(new RegExp(`^limit = ${JSON.stringify(limit).replace(/[.]/g, '\\.')}: must be a whole number from 1 to 1000`)) });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('cuts a page at 4 MiB of records however high the limit, so the answer stays under Lambda\'s 6 MB', async () => {
    // 8,000 quotes of system prompt: 32 KB each in the answer (\\\" inside the proxy's string body); 200 of them were 6.4 MB in one body
    put(...ids(200).map((tenantId) => tenant({ tenantId, status: 'ACTIVE', gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false, systemPrompt: '"'.repeat(8000) } })));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let answers = 0;
    do {
      const res = await get({ limit: '1000', ...(nextToken ? { nextToken } : {}) });
      expect(Buffer.byteLength(JSON.stringify(res))).toBeLessThan(4.1 * 1024 * 1024);
      seen.push(...body(res).tenants.map((t: TenantRecord) => t.tenantId));
      nextToken = body(res).nextToken;
      answers++;
    } while (nextToken && answers < 10);
    expect(answers).toBe(2);
    expect(seen.sort()).toEqual(ids(200));
  });
});
