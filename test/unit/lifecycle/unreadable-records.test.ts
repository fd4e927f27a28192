import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as adminApi } from '../../../lambdas/admin/admin-api.js';
import { handler as listDriftTenants } from '../../../lambdas/lifecycle/list-drift-tenants.js';
import { handler as listTierTenants } from '../../../lambdas/lifecycle/list-tier-tenants.js';
import { listTenants } from '../../../lambdas/shared/registry.js';
import { UnreadableTenant } from '../../../lib/tenant-list-page.js';
import { setLifecycleEnv, tenant } from './support.js';

/**
 * A registry record edited by hand into a shape the schema refuses (a status typed wrong, a field removed): the lists
 * of the workflows and daily jobs (registry.ts listTenants: the drift run, the rolling upgrade, monthly statements,
 * reclaim, quota requests) go on with every other tenant and name the record, the field and its value. Before, the
 * first such record threw a ZodError out of listTenants, and the whole run failed for every tenant.
 */
const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
// (still ACTIVE, so the by-status index lists it: its tier removed and its blueprint version typed as a number)
const edited = { ...tenant({ tenantId: 'broken', status: 'ACTIVE' }), tier: undefined, blueprintVersion: 2 };
const items = [tenant({ tenantId: 'zeta', status: 'ACTIVE' }), edited, tenant({ tenantId: 'alpha', status: 'ACTIVE' })];

beforeEach(() => {
  setLifecycleEnv();
  ddb.reset();
  s3.reset();
  s3.onAnyCommand().resolves({});
  ddb.on(QueryCommand).resolves({ Items: structuredClone(items) });
  ddb.on(ScanCommand).resolves({ Items: structuredClone(items) });
  ddb.on(GetCommand).callsFake((input: { Key: { tenantId: string } }) => ({ Item: structuredClone(items.find((i) => i.tenantId === input.Key.tenantId)) }));
});

describe('a registry record edited by hand into an impossible state', () => {
  it('listTenants lists every other tenant and tells the caller which record it could not read, naming each field and value', async () => {
    const unreadable: Array<{ tenantId: string; problems: string[] }> = [];
    const list = await listTenants({}, { unreadable: (u) => unreadable.push(u) });
    expect(list.map((t) => t.tenantId)).toEqual(['alpha', 'zeta']);
    expect(unreadable).toEqual([{ tenantId: 'broken', problems: [expect.stringMatching(/^tier = \(missing\): /), 'blueprintVersion = 2: Invalid input: expected string, received number'] }]);
  });

  it('the daily drift run checks every other ACTIVE tenant and names the unreadable record in its output', async () => {
    const out = await listDriftTenants({ executionName: 'daily-1', request: {} });
    expect(out.tenants).toEqual([{ tenantId: 'alpha' }, { tenantId: 'zeta' }]);
    expect(out.count).toBe(2);
    expect(out.unreadable).toEqual([expect.stringMatching(/^tenant "broken": its registry record does not match the schema \(tier = \(missing\): .*; blueprintVersion = 2: .*\): not checked; correct the record/)]);
  });

  it('a rolling upgrade of the tier lists every other tenant and names the unreadable record in its output', async () => {
    ddb.on(QueryCommand).resolves({ Items: [tenant({ tenantId: 'alpha', status: 'ACTIVE', blueprintVersion: '1.0.0' }), { ...tenant({ tenantId: 'broken', status: 'ACTIVE' }), blueprintVersion: 2 }] });
    const out = await listTierTenants({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-1' });
    expect(out).toMatchObject({ count: 1, unreadable: [expect.stringMatching(/^tenant "broken": its registry record does not match the schema \(blueprintVersion = 2: .*\): not upgraded; correct the record$/)] });
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string).map((i: { request: { tenantId: string } }) => i.request.tenantId)).toEqual(['alpha']);
  });

  const get = (resource: string, id?: string, query: Record<string, string> | null = null) => adminApi({ httpMethod: 'GET', resource, headers: {}, pathParameters: id ? { id } : null, queryStringParameters: query, requestContext: { requestId: 'r' } } as unknown as APIGatewayProxyEvent) as Promise<APIGatewayProxyResult>;

  it('the admin API answers a read of it with the tenant, each field and value and what to do; not "internal error"', async () => {
    const res = await get('/admin/tenants/{id}', 'broken');
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body).error).toMatchObject({
      code: 'registry_record_invalid',
      message: expect.stringMatching(/^tenant "broken": its registry record \(table tessera-tenants\) does not match the schema: tier = \(missing\): .*; blueprintVersion = 2: .*; correct the record/),
    });
    // the readable ones are read as before
    expect((await get('/admin/tenants/{id}', 'alpha')).statusCode).toBe(200);
  });

  it('GET /admin/tenants answers the page\'s readable tenants and names the unreadable record in `unreadable`, each field and value (TenantPage); before, a 500 for the whole page', async () => {
    for (const query of [null, { status: 'ACTIVE' }]) {
      const res = await get('/admin/tenants', undefined, query);
      expect(res.statusCode).toBe(200);
      const page = JSON.parse(res.body);
      expect(page.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['zeta', 'alpha']);
      expect(page.unreadable).toEqual([{ tenantId: 'broken', problems: [expect.stringMatching(/^tier = \(missing\): /), 'blueprintVersion = 2: Invalid input: expected string, received number'] }]);
      expect(UnreadableTenant.array().parse(page.unreadable)).toHaveLength(1);
    }
  });

  it('GET /admin/drift answers the rows of the readable tenants and names the record its row cannot be read from in `unreadable` (DriftPage); before, a ZodError: a 500 internal error for the whole page', async () => {
    // GIVEN a record whose status is typed wrong (the drift row's projection reads tenantId, tier, status and drift)
    const wrong = { ...tenant({ tenantId: 'typo', status: 'ACTIVE' }), status: 'ACTIV' };
    ddb.on(ScanCommand).resolves({ Items: [tenant({ tenantId: 'alpha', status: 'ACTIVE' }), wrong] });
    const res = await get('/admin/drift');
    expect(res.statusCode).toBe(200);
    const page = JSON.parse(res.body);
    expect(page.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['alpha']);
    expect(page.unreadable).toEqual([{ tenantId: 'typo', problems: [expect.stringMatching(/^status = "ACTIV": /)] }]);
    expect(UnreadableTenant.array().parse(page.unreadable)).toHaveLength(1);
  });

  it('a page cut by its limit goes on after the unreadable record it named, so the next page does not name it again', async () => {
    const first = JSON.parse((await get('/admin/tenants', undefined, { limit: '1' })).body);
    expect([first.tenants.map((t: { tenantId: string }) => t.tenantId), first.unreadable]).toEqual([['zeta'], undefined]);
    ddb.on(ScanCommand).resolves({ Items: structuredClone(items.slice(1)) });
    const second = JSON.parse((await get('/admin/tenants', undefined, { limit: '1', nextToken: first.nextToken })).body);
    expect(second.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['alpha']);
    expect(second.unreadable.map((u: { tenantId: string }) => u.tenantId)).toEqual(['broken']);
    expect(ddb.commandCalls(ScanCommand).at(-1)!.args[0].input.ExclusiveStartKey).toEqual({ tenantId: 'zeta' });
  });
});
