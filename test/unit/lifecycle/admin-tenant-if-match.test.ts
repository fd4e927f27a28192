import { DescribeExecutionCommand, SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { sameNetworkConfig, setLifecycleEnv, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');

// s42: PATCH /admin/tenants/{id} honours If-Match with the tenant's ETag (RFC 9110 §13.1.1), which GET /admin/tenants/{id}
// and GET /admin/tenants answer (lambdas/admin/tenant-etag.ts). Before, a change planned on a record (tessera tenants
// apply: tier A -> B) was started whatever the tenant had become since: another operator's tier change, suspend or upgrade.

const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';
const CALLER = 'arn:aws:sts::111111111111:assumed-role/PlatformAdmin/bob';
const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, pathParameters: { id: 'acme' }, requestContext: { requestId: 'api-req-1', identity: { userArn: CALLER } }, ...extra } as unknown as APIGatewayProxyEvent);
const change = (body: unknown, headers: Record<string, string>) => call('PATCH', '/admin/tenants/{id}', { headers, body: JSON.stringify(body) });
const json = (r: { body: string }) => JSON.parse(r.body);
const starts = () => sfn.commandCalls(StartExecutionCommand).length;
const etagOf = async () => (await call('GET', '/admin/tenants/{id}')).headers!.etag as string;

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { [ENV.changeStateMachineArn]: `${MACHINE}change`, [ENV.statusStateMachineArn]: `${MACHINE}status` });
  useConfig(sameNetworkConfig); // starter and professional share acme's tenant network: a tier change, not a migration
  records.clear();
  vi.clearAllMocks();
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
});

describe('PATCH /admin/tenants/{id} with If-Match (the tenant\'s ETag)', () => {
  it('GET answers the tenant\'s ETag, the list answers the same one; a change with it starts, and the same ETag again is a 412 naming the change since; nothing else starts', async () => {
    const tag = await etagOf();
    expect(tag).toMatch(/^"[0-9a-z]+\.[0-9a-f]{16}"$/);
    expect(json(await call('GET', '/admin/tenants', { pathParameters: null } as unknown as Partial<APIGatewayProxyEvent>)).etags).toEqual({ acme: tag });
    // GIVEN two operators planned on the same read: the first one's change starts
    const first = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-a', 'if-match': tag });
    expect(first.statusCode).toBe(202);
    const after = structuredClone(records.get('acme'));
    // WHEN the second sends its own change with the ETag it read
    const second = await change({ blueprintVersion: '2.0.0' }, { 'Idempotency-Key': 'apply-b', 'If-Match': tag });
    // THEN 412, naming what the tenant is now and the change since, and nothing is started or written
    expect(second.statusCode).toBe(412);
    const body = json(second);
    expect(body).toMatchObject({ error: { type: 'conflict_error', code: 'precondition_failed', param: 'If-Match' }, etag: await etagOf(), tenant: { tier: 'starter', blueprintVersion: '1.0.0', status: 'UPDATING' } });
    expect(body.error.message).toMatch(/^If-Match: "[0-9a-z.]+" is stale: tenant "acme" has changed since that ETag; it is now tier "starter", blueprintVersion "1.0.0", status UPDATING, a change running \(execution arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-/);
    expect(body.error.message).toContain(`; since that ETag (`);
    expect(body.error.message).toContain(`change {"tier":"professional"} by admin:${CALLER} at `);
    expect(body.error.message).toContain('Nothing was started');
    expect(starts()).toBe(1);
    expect(records.get('acme')).toEqual(after);
  });

  // Found by a new user's trial (session 45): a tags change (tessera tenants update --tag, PATCH tags) refused 412 was told the
  // tenant's tier, version and status now, not its tags, the one thing it was about.
  it('a tags change on a stale ETag: 412 naming the tags the tenant has now (message and body), nothing started', async () => {
    records.set('acme', { ...tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }), tags: { CostCenter: '4711' } });
    const tag = await etagOf();
    records.set('acme', { ...records.get('acme')!, tags: { CostCenter: '4712', Team: 'ml' }, updatedAt: new Date(Date.now() + 1000).toISOString() });
    const res = await change({ tags: { CostCenter: '4711', Owner: 'team-x' } }, { 'idempotency-key': 'tags-a', 'if-match': tag });
    expect(res.statusCode).toBe(412);
    expect(json(res).error.message).toContain('it is now tier "starter", blueprintVersion "1.0.0", status ACTIVE, tags {"CostCenter":"4712","Team":"ml"} (ETag ');
    expect(json(res).tenant).toEqual({ tier: 'starter', blueprintVersion: '1.0.0', status: 'ACTIVE', tags: { CostCenter: '4712', Team: 'ml' } });
    expect(starts()).toBe(0);
  });

  it('a change since the read whose entry keeps only its request\'s digest (tags too large to keep in full): the 412 names it by its summary', async () => {
    const tag = await etagOf();
    const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, '値'.repeat(256)]));
    expect((await change({ tags }, { 'idempotency-key': 'tags-big' })).statusCode).toBe(202);
    const res = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-c', 'if-match': tag });
    expect(res.statusCode).toBe(412);
    const { sha256 } = records.get('acme')!.executions.at(-1)!.changeDigest!;
    expect(json(res).error.message).toContain(`change 40 tags (sha256 ${sha256.slice(0, 12)}…) by admin:${CALLER} at `);
    expect(starts()).toBe(1);
  });

  it('a tenant suspended since the read: 412, the change not started (without If-Match the same request is the 409 of the status)', async () => {
    const tag = await etagOf();
    records.set('acme', { ...records.get('acme')!, status: 'SUSPENDED', updatedAt: '2026-12-06T10:00:00.000Z',
      executions: [{ kind: 'suspend', requestId: 'suspend-1', executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}status:suspend-acme-1`, startedAt: '2026-12-06T09:59:58.000Z', endedAt: '2026-12-06T10:00:00.000Z', status: 'SUCCEEDED', actor: 'admin:arn:aws:sts::111111111111:assumed-role/PlatformAdmin/carol' }] } as TenantRecord);
    const res = await change({ tier: 'professional' }, { 'if-match': tag });
    expect(res.statusCode).toBe(412);
    expect(json(res).error.message).toContain('status SUSPENDED');
    expect(json(res).error.message).toContain('suspend by admin:arn:aws:sts::111111111111:assumed-role/PlatformAdmin/carol at 2026-12-06T09:59:58.000Z, SUCCEEDED');
    expect(starts()).toBe(0);
  });

  it('a record written between the route\'s read and the lease: the lease\'s own read refuses it 412 (the check is on the record the conditional write expects)', async () => {
    const stale = structuredClone(records.get('acme')!);
    const tag = await etagOf();
    // The route reads the record as the caller saw it; before the lease is taken another write lands (a drift record).
    registryMock.getTenant.mockImplementationOnce(async () => {
      records.set('acme', { ...stale, updatedAt: '2026-12-06T11:00:00.000Z', drift: { status: 'IN_SYNC', checkedAt: '2026-12-06T11:00:00.000Z', stacks: [], resources: [] } } as TenantRecord);
      return structuredClone(stale);
    });
    const res = await change({ tier: 'professional' }, { 'if-match': tag });
    expect([res.statusCode, json(res).error.code]).toEqual([412, 'precondition_failed']);
    expect(json(res).error.message).toContain('its record was written at 2026-12-06T11:00:00.000Z, after that ETag');
    expect(starts()).toBe(0);
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('without If-Match, with *, or with a list holding the current tag: the change starts (other callers keep working)', async () => {
    expect((await change({ tier: 'professional' }, {})).statusCode).toBe(202);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    expect((await change({ tier: 'professional' }, { 'if-match': '*' })).statusCode).toBe(202);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    expect((await change({ tier: 'professional' }, { 'if-match': `"0.0000000000000000", ${await etagOf()}` })).statusCode).toBe(202);
    expect(starts()).toBe(3);
  });

  it('a weak tag never matches (strong comparison) and is told so; an unquoted tag is a 400 invalid_header', async () => {
    const tag = await etagOf();
    const weak = await change({ tier: 'professional' }, { 'if-match': `W/${tag}` });
    expect(weak.statusCode).toBe(412);
    expect(json(weak).error.message).toBe(`If-Match: W/${tag} is a weak entity tag, which never matches (RFC 9110 strong comparison): send the tenant's ETag as it came, If-Match: ${tag}; nothing was started`);
    const bare = await change({ tier: 'professional' }, { 'if-match': tag.slice(1, -1) });
    expect([bare.statusCode, json(bare).error.code, json(bare).error.param]).toEqual([400, 'invalid_header', 'If-Match']);
    expect(starts()).toBe(0);
  });

  it('If-Match read as RFC 9110 lists it: every field line (API Gateway\'s multiValueHeaders; headers holds the last), a comma inside a tag\'s quotes is the tag\'s, a space is no tag character', async () => {
    const tag = await etagOf();
    // Two If-Match lines, the current tag on the first: one list, which holds (headers alone had only the stale last line)
    const lines = await call('PATCH', '/admin/tenants/{id}', { headers: { 'If-Match': '"0.0000000000000000"' }, multiValueHeaders: { 'If-Match': [tag, '"0.0000000000000000"'] }, body: JSON.stringify({ tier: 'professional' }) });
    expect(lines.statusCode).toBe(202);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    // "a,b" is one entity tag (etagc takes %x21 / %x23-7E): the list holds it and the current tag
    const comma = await change({ tier: 'professional' }, { 'if-match': `"a,b", ${await etagOf()}` });
    expect(comma.statusCode).toBe(202);
    expect(starts()).toBe(2);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    for (const sent of ['"a b"', `${await etagOf()} "x"`, `*, ${await etagOf()}`, ' , ', '"unterminated, "x"']) {
      const res = await change({ tier: 'professional' }, { 'if-match': sent });
      expect([sent, res.statusCode, json(res).error.code, json(res).error.param]).toEqual([sent, 400, 'invalid_header', 'If-Match']);
    }
    expect(starts()).toBe(2);
  });

  it('a stale tag of the ETag\'s form whatever its time part (past every Date, zero) or of another form, and a header of thousands of tags, are each a 412 naming the tenant now, nothing started', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `"${i.toString(36)}.${'0'.repeat(16)}"`).join(', ');
    for (const sent of ['"zzzzzzzzzzzz.0000000000000000"', '"0.0000000000000000"', '"1.0000000000000000"', '"3"', '""', many]) {
      const res = await change({ tier: 'professional' }, { 'if-match': sent });
      expect([res.statusCode, json(res).error.code]).toEqual([412, 'precondition_failed']);
      expect(json(res).etag).toBe(await etagOf());
      expect(json(res).error.message.length).toBeLessThan(2000);
    }
    expect(starts()).toBe(0);
    // A tag taken before a long history: the newest 10 entries named, the others counted
    const at = (i: number) => new Date(Date.UTC(2026, 11, 6, 9, i)).toISOString();
    records.set('acme', { ...records.get('acme')!, executions: Array.from({ length: 15 }, (_, i) => ({ kind: 'suspend', requestId: `s-${i}`, startedAt: at(i), endedAt: at(i), status: 'SUCCEEDED' })) } as TenantRecord);
    const long = json(await change({ tier: 'professional' }, { 'if-match': '"1.0000000000000000"' })).error.message as string;
    expect(long.match(/suspend at /g)).toHaveLength(10);
    expect(long).toContain(`suspend at ${at(14)}, SUCCEEDED`);
    expect(long).not.toContain(`suspend at ${at(4)},`);
    expect(long).toContain('(and 5 earlier: GET /admin/tenants/acme)');
  });

  it('the same request again (its Idempotency-Key, its If-Match now stale) answers with its running change, not a 412', async () => {
    const tag = await etagOf();
    const first = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-a', 'if-match': tag });
    const again = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-a', 'if-match': tag });
    expect([first.statusCode, again.statusCode]).toEqual([202, 200]);
    expect(json(again)).toMatchObject({ requestId: 'apply-a', executionArn: json(first).executionArn, note: 'change already running' });
    expect(starts()).toBe(1);
  });

  it('the same request raced (its twin takes the lease between this one\'s route check and its lease): answered with the twin\'s change, as without If-Match, not a 412', async () => {
    const tag = await etagOf();
    const before = structuredClone(records.get('acme')!);
    // The route reads the record as both requests saw it; the twin (same Idempotency-Key, same If-Match) takes the lease
    // before this one's lease read: its record changed, so its ETag is no longer the one sent.
    let twin: Awaited<ReturnType<typeof change>> | undefined;
    registryMock.getTenant.mockImplementationOnce(async () => {
      twin = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-a', 'if-match': tag });
      return structuredClone(before);
    });
    const raced = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-a', 'if-match': tag });
    expect(twin!.statusCode).toBe(202);
    expect([raced.statusCode, json(raced).executionArn, json(raced).note]).toEqual([200, json(twin!).executionArn, 'change already running']);
    expect(starts()).toBe(1);
    // Another key raced so is still the 412 (the change it was decided on is not its own)
    registryMock.getTenant.mockImplementationOnce(async () => structuredClone(before));
    const other = await change({ tier: 'professional' }, { 'idempotency-key': 'apply-b', 'if-match': tag });
    expect([other.statusCode, json(other).error.code]).toEqual([412, 'precondition_failed']);
    expect(starts()).toBe(1);
  });
});
