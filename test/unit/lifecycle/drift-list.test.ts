import { DynamoDBDocumentClient, QueryCommand, ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DriftRecord, TenantRecord } from '../../../lib/tenant-record.js';
import { getList, listPages } from './admin-list-pages.js';
import { setLifecycleEnv, tenant } from './support.js';

/**
 * `GET /admin/drift` in pages (lambdas/admin/drift-routes.ts, registry.ts listProjectedPage) on
 * DynamoDB's mock: a table whose Scan answers as DynamoDB does (`Limit` items evaluated after
 * `ExclusiveStartKey`, LastEvaluatedKey when it stopped at the limit, only the ProjectionExpression's
 * attributes). Before pages, the route read every whole record (listTenants) and answered every row in one body.
 */
const ddb = mockClient(DynamoDBDocumentClient);
let table: TenantRecord[] = [];

/** The attribute paths of a ProjectionExpression, its `#names` resolved (`drift.status`). */
const projectedPaths = (input: ScanCommandInput) =>
  input.ProjectionExpression!.split(',').map((p) => p.trim().split('.').map((n) => (n.startsWith('#') ? input.ExpressionAttributeNames![n] : n)).join('.'));

/** An item with only `paths` (dotted, maps only: what the drift rows ask), as DynamoDB projects it. */
function project(item: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const names = path.split('.');
    let from: unknown = item;
    for (const n of names) from = from && typeof from === 'object' ? (from as Record<string, unknown>)[n] : undefined;
    if (from === undefined) continue;
    let to = out;
    for (const n of names.slice(0, -1)) to = (to[n] ??= {}) as Record<string, unknown>;
    to[names.at(-1)!] = structuredClone(from);
  }
  return out;
}

beforeEach(() => {
  setLifecycleEnv();
  ddb.reset();
  table = [];
  // A Scan's order is the partition key's hash: not sorted (here: reversed ids).
  ddb.on(ScanCommand).callsFake((input: ScanCommandInput) => {
    const items = [...table].sort((a, b) => b.tenantId.localeCompare(a.tenantId));
    const from = input.ExclusiveStartKey ? items.findIndex((r) => r.tenantId === input.ExclusiveStartKey!.tenantId) + 1 : 0;
    const evaluated = items.slice(from, input.Limit === undefined ? undefined : from + input.Limit);
    const more = from + evaluated.length < items.length;
    const shape = (r: TenantRecord) => (input.ProjectionExpression ? project(r as unknown as Record<string, unknown>, projectedPaths(input)) : structuredClone(r));
    return { Items: evaluated.map(shape), ...(more ? { LastEvaluatedKey: { tenantId: evaluated.at(-1)!.tenantId } } : {}) };
  });
});

const get = (query: Record<string, string> = {}) => getList('/admin/drift', query);
const body = (r: APIGatewayProxyResult) => JSON.parse(r.body);
const ids = (n: number) => Array.from({ length: n }, (_, i) => `tenant-${String(i).padStart(4, '0')}`);
const drifted = (n: number): DriftRecord => ({
  status: 'DRIFTED', checkedAt: '2026-12-01T03:04:05.000Z', stacks: [{ stack: 'tessera-x', status: 'DRIFTED', detectionId: 'det-1' }], truncated: 3,
  resources: Array.from({ length: n }, (_, i) => ({ stack: 'tessera-x', logicalId: `Role${i}`, type: 'AWS::IAM::Role', status: 'MODIFIED' as const, differences: [{ path: '/MaxSessionDuration', type: 'NOT_EQUAL' }] })),
});

const pages = (query: Record<string, string>) => listPages('/admin/drift', query);

describe('GET /admin/drift in pages of projected rows', () => {
  it('answers `limit` records a page with a nextToken, every tenant not offboarded once, in Scan order', async () => {
    table.push(...ids(5).map((tenantId, i) => tenant({ tenantId, status: i === 3 ? 'OFFBOARDED' : 'ACTIVE' })));
    // tenant-0003 (OFFBOARDED) is read and left out: its page is short
    expect(await pages({ limit: '2' })).toEqual([['tenant-0004'], ['tenant-0002', 'tenant-0001'], ['tenant-0000']]);
    expect(ddb.commandCalls(ScanCommand).map((c) => [c.args[0].input.Limit, c.args[0].input.ExclusiveStartKey])).toEqual([[2, undefined], [2, { tenantId: 'tenant-0003' }], [2, { tenantId: 'tenant-0001' }]]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('reads only the attributes of a row (a ProjectionExpression, `status` through its names), and answers the same row', async () => {
    const heavy = tenant({
      tenantId: 'acme', status: 'ACTIVE', tier: 'professional', drift: { ...drifted(100), failedCheck: { at: '2026-12-02T03:00:00.000Z', error: 'Throttling: Rate exceeded' } },
      gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false, systemPrompt: 'be brief '.repeat(800) },
    });
    table.push(heavy, tenant({ tenantId: 'hooli', status: 'SUSPENDED' }));
    const rows = body(await get()).tenants;
    const input = ddb.commandCalls(ScanCommand)[0].args[0].input;
    expect(projectedPaths(input).sort()).toEqual(['drift.checkedAt', 'drift.failedCheck', 'drift.resources', 'drift.status', 'drift.truncated', 'status', 'tenantId', 'tier']);
    expect(input.ProjectionExpression).not.toMatch(/\bstatus\b/);
    expect(rows).toEqual([
      { tenantId: 'hooli', tier: 'starter', status: 'SUSPENDED', drift: 'NOT_CHECKED', driftedResources: 0 },
      { tenantId: 'acme', tier: 'professional', status: 'ACTIVE', drift: 'DRIFTED', checkedAt: '2026-12-01T03:04:05.000Z', driftedResources: 103, failedCheck: { at: '2026-12-02T03:00:00.000Z', error: 'Throttling: Rate exceeded' } },
    ]);
  });

  it('answers 100 rows unless asked (the last page has no nextToken)', async () => {
    table.push(...ids(150).map((tenantId) => tenant({ tenantId, status: 'ACTIVE' })));
    const first = body(await get());
    expect(first.tenants).toHaveLength(100);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = body(await get({ nextToken: first.nextToken, limit: '1000' }));
    expect(second.tenants).toHaveLength(50);
    expect(second).not.toHaveProperty('nextToken');
  });

  it('keeps the drift status across pages (pages may be short or empty) and refuses another list\'s token, a bad token or limit, reading nothing', async () => {
    table.push(...ids(6).map((tenantId, i) => tenant({ tenantId, status: 'ACTIVE', ...(i % 3 === 0 ? { drift: drifted(1) } : {}) })));
    expect(await pages({ status: 'DRIFTED', limit: '2' })).toEqual([[], ['tenant-0003'], ['tenant-0000']]);
    const token = body(await get({ status: 'DRIFTED', limit: '2' })).nextToken;
    ddb.resetHistory();
    for (const [query, param, message] of [
      [{ nextToken: token }, 'nextToken', /it continues the list with status=DRIFTED \(drift\), this request asks no filter; send the same status with it$/],
      [{ nextToken: token, status: 'IN_SYNC' }, 'nextToken', /this request asks status=IN_SYNC \(drift\)/],
      [{ nextToken: 'not a token!' }, 'nextToken', /^nextToken = "not a token!": not a token of this list/],
      [{ limit: '1001' }, 'limit', /^limit = "1001": must be a whole number from 1 to 1000/],
      [{ limit: '0' }, 'limit', /must be a whole number from 1 to 1000/],
    ] as const) {
      const res = await get(query);
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toMatchObject({ type: 'invalid_request_error', param, message: expect.stringMatching(message) });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('cuts a page at 4 MiB of rows however high the limit, so the answer stays under Lambda\'s 6 MB', async () => {
    // A failed check's error of 1,000 control characters: some 7 KB a row once escaped twice (\\u0001); 1,000 of them were over 6 MB in one body
    const failedCheck = { at: '2026-12-02T03:00:00.000Z', error: '\u0001'.repeat(1000) };
    table.push(...ids(1000).map((tenantId) => tenant({ tenantId, status: 'ACTIVE', drift: { ...drifted(0), failedCheck } })));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let answers = 0;
    do {
      const res = await get({ limit: '1000', ...(nextToken ? { nextToken } : {}) });
      expect(Buffer.byteLength(JSON.stringify(res))).toBeLessThan(4.1 * 1024 * 1024);
      seen.push(...body(res).tenants.map((t: { tenantId: string }) => t.tenantId));
      nextToken = body(res).nextToken;
      answers++;
    } while (nextToken && answers < 10);
    expect(answers).toBe(2);
    expect(seen.sort()).toEqual(ids(1000));
  });
});
