import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ExecutionAlreadyExists, SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DriftedResource, DriftRecord } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { driftListLines, tenantDriftLines } from '../../../lib/cli/tenants-drift-command.js';
import { digestChange } from '../../../lib/change-digest.js';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
/** The blueprint catalog, which publishes every version asked for here (PATCH's blueprintVersion is checked against it). */
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');
const { driftExecutionName } = await import('../../../lambdas/admin/drift-routes.js');

const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, ...extra } as unknown as APIGatewayProxyEvent);
const body = (r: { body: string }) => JSON.parse(r.body);

const DRIFT_MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-drift';

const drifted: DriftRecord = {
  status: 'DRIFTED', checkedAt: '2026-12-01T03:04:05.000Z',
  stacks: [{ stack: 'tessera-acme', status: 'DRIFTED', detectionId: 'det-1' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }],
  resources: [
    { stack: 'tessera-acme', logicalId: 'Database', type: 'AWS::RDS::DBInstance', status: 'MODIFIED', differences: [{ path: '/BackupRetentionPeriod', type: 'NOT_EQUAL' }] },
    { stack: 'tessera-acme', logicalId: 'DataBucketPolicy', type: 'AWS::S3::BucketPolicy', status: 'DELETED', differences: [] },
  ],
};

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.changeStateMachineArn] = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-change';
  process.env[ENV.driftStateMachineArn] = DRIFT_MACHINE;
  records.clear();
  vi.clearAllMocks();
  sfn.reset();
  s3.reset();
  s3.on(HeadObjectCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
  records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', drift: drifted }));
  records.set('hooli', tenant({ tenantId: 'hooli', status: 'ACTIVE', blueprintVersion: '1.0.0', drift: { status: 'IN_SYNC', checkedAt: '2026-12-01T03:04:00.000Z', stacks: [], resources: [] } }));
  records.set('initech', tenant({ tenantId: 'initech', status: 'SUSPENDED' }));
  records.set('gone', tenant({ tenantId: 'gone', status: 'OFFBOARDED' }));
});

describe('admin API: drift', () => {
  it('GET /admin/drift lists every tenant not offboarded with its drift status (NOT_CHECKED before the first run), filtered by ?status', async () => {
    const all = await call('GET', '/admin/drift');
    expect(all.statusCode).toBe(200);
    expect(body(all).tenants.map((t: { tenantId: string; drift: string; driftedResources: number }) => [t.tenantId, t.drift, t.driftedResources])).toEqual([
      ['acme', 'DRIFTED', 2], ['hooli', 'IN_SYNC', 0], ['initech', 'NOT_CHECKED', 0],
    ]);
    const only = await call('GET', '/admin/drift', { queryStringParameters: { status: 'DRIFTED' } });
    expect(body(only).tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme']);
  });

  it('refuses an unknown drift status with a 400 naming the parameter', async () => {
    const res = await call('GET', '/admin/drift', { queryStringParameters: { status: 'BROKEN' } });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ param: 'status', type: 'invalid_request_error' });
  });

  it('GET /admin/tenants/{id}/drift answers one tenant\'s drift record, 404 for an unknown tenant', async () => {
    const res = await call('GET', '/admin/tenants/{id}/drift', { pathParameters: { id: 'acme' } });
    expect(body(res)).toEqual({ tenantId: 'acme', status: 'ACTIVE', drift: drifted });
    expect((await call('GET', '/admin/tenants/{id}/drift', { pathParameters: { id: 'nobody' } })).statusCode).toBe(404);
  });
});

/**
 * Found in s23: nothing started a drift check but the daily schedule; an operator who fixed a drift by hand (or suspected
 * one) waited for 03:00 UTC. POST /admin/drift starts the drift workflow now, for one tenant or every ACTIVE one.
 */
describe('admin API: POST /admin/drift', () => {
  const starts = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

  it('{ tenantId }: starts the drift state machine with { tenantId } (what its first state reads), named for the tenant and the 5-minute window', async () => {
    const res = await call('POST', '/admin/drift', { body: JSON.stringify({ tenantId: 'acme' }) });
    expect(res.statusCode).toBe(202);
    const [start] = starts();
    expect(start).toMatchObject({ stateMachineArn: DRIFT_MACHINE, name: expect.stringMatching(/^drift-acme-\d{8}T\d{4}$/) });
    expect(JSON.parse(start!.input!)).toEqual({ tenantId: 'acme' });
    expect(body(res)).toEqual({ executionArn: `arn:aws:states:us-east-1:222222222222:execution:tessera-drift:${start!.name}`, startDate: expect.any(String), tenantId: 'acme' });
  });

  it('no body: every ACTIVE tenant, input {} (as the schedule), a name no tenant\'s can take', async () => {
    const res = await call('POST', '/admin/drift');
    expect(res.statusCode).toBe(202);
    expect(starts()).toEqual([expect.objectContaining({ stateMachineArn: DRIFT_MACHINE, name: expect.stringMatching(/^drift_all-\d{8}T\d{4}$/), input: '{}' })]);
    expect(body(res)).not.toHaveProperty('tenantId');
  });

  it('the name is the same within a 5-minute window (two concurrent starts meet in one execution) and changes with the window', () => {
    expect(driftExecutionName('acme', new Date('2026-12-04T13:35:00.000Z'))).toBe('drift-acme-20261204T1335');
    expect(driftExecutionName('acme', new Date('2026-12-04T13:39:59.999Z'))).toBe('drift-acme-20261204T1335');
    expect(driftExecutionName('acme', new Date('2026-12-04T13:40:00.000Z'))).toBe('drift-acme-20261204T1340');
    expect(driftExecutionName(undefined, new Date('2026-12-04T13:36:00.000Z'))).toBe('drift_all-20261204T1335');
  });

  it('two starts for the same tenant: the same name and input, so Step Functions answers the running execution to both', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${DRIFT_MACHINE.replace(':stateMachine:', ':execution:')}:drift-acme-x`, startDate: new Date('2026-12-04T13:35:10.000Z') });
    const [a, b] = await Promise.all([1, 2].map(() => call('POST', '/admin/drift', { body: JSON.stringify({ tenantId: 'acme' }) })));
    const [s1, s2] = starts();
    expect([s1!.name, s1!.input]).toEqual([s2!.name, s2!.input]);
    expect(body(a!)).toEqual(body(b!));
    expect(body(a!).startDate).toBe('2026-12-04T13:35:10.000Z');
  });

  /**
   * Found in s23 (drift2): the 409 said "has ended" and "its result is in the registry" whatever the earlier check did:
   * one that FAILED or was ABORTED recorded nothing or part, and one RUNNING (started with this name and another input
   * outside the API) had not ended. The route now reads it (DescribeExecution, statement ReadDriftChecks) and says which.
   */
  describe('the check of this window exists (ExecutionAlreadyExists): 409 drift_check_exists with its status', () => {
    const EXECUTION = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:tessera-drift:${name}`;
    const refused = async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
      const res = await call('POST', '/admin/drift', { body: JSON.stringify({ tenantId: 'acme' }) });
      expect(res.statusCode).toBe(409);
      const name = starts()[0]!.name!;
      // The execution read is the one the start met, and only it
      expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION(name) }]);
      return { answer: body(res), arn: EXECUTION(name) };
    };
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    it('SUCCEEDED: names it, when it ended, that its result is in the registry, and when a new check can start', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate: new Date('2026-12-04T13:35:10.000Z'), stopDate: new Date('2026-12-04T13:37:42.000Z') });
      const { answer, arn } = await refused();
      expect(answer.error).toMatchObject({
        type: 'conflict_error', code: 'drift_check_exists', param: 'tenantId',
        message: expect.stringMatching(new RegExp(`^a drift check of tenant "acme" was already started in this 5-minute window and has ended SUCCEEDED at 2026-12-04T13:37:42.000Z: execution ${escape(arn)}; its result is in the registry \\(tessera tenants drift acme\\); a new check can start from \\d{4}-`)),
      });
      expect(answer).toMatchObject({ executionArn: arn, executionStatus: 'SUCCEEDED', executionStopDate: '2026-12-04T13:37:42.000Z', retryAfter: expect.any(String) });
    });

    it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('%s: says so, and that the registry may hold no result of it or only part', async (status) => {
      sfn.on(DescribeExecutionCommand).resolves({ status: status as 'FAILED', startDate: new Date('2026-12-04T13:35:10.000Z'), stopDate: new Date('2026-12-04T13:36:00.000Z') });
      const { answer, arn } = await refused();
      expect(answer.error.message).toContain(`and has ended ${status} at 2026-12-04T13:36:00.000Z: execution ${arn}; it may have recorded no result, or only part (tessera tenants drift acme shows what the registry holds; GET /admin/drift?executionArn=${arn} answers why it ended: its error and cause); a new check can start from `);
      expect(answer.error.message).toMatch(/; a new check can start from \S+ \(tessera tenants drift --detect acme --wait\)$/);
      expect(answer.error.message).not.toContain('aws ');
      expect(answer.error.message).not.toContain('its result is in the registry');
      expect(answer).toMatchObject({ executionStatus: status, executionStopDate: '2026-12-04T13:36:00.000Z' });
    });

    it('RUNNING (its name taken outside the API with another input): not said to have ended', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: new Date('2026-12-04T13:35:10.000Z') });
      const { answer, arn } = await refused();
      expect(answer.error.message).toContain(`and is RUNNING (started 2026-12-04T13:35:10.000Z) with another input than {"tenantId":"acme"}, so it is not this start's check: execution ${arn} (GET /admin/drift?executionArn=${arn} answers its status); a new check can start from `);
      expect(answer.error.message).not.toContain('ended');
      expect(answer).toMatchObject({ executionStatus: 'RUNNING' });
      expect(answer).not.toHaveProperty('executionStopDate');
    });

    it('its status unreadable (a role without ReadDriftChecks, a throttled call): still the 409 naming it, with why the status is missing', async () => {
      sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('User is not authorized to perform: states:DescribeExecution'), { name: 'AccessDeniedException' }));
      const { answer, arn } = await refused();
      expect(answer.error).toMatchObject({ code: 'drift_check_exists', message: expect.stringContaining(`and exists (its status could not be read: AccessDeniedException: User is not authorized to perform: states:DescribeExecution): execution ${arn}; once it has ended its result is in the registry (tessera tenants drift acme); a new check can start from `) });
      expect(answer).not.toHaveProperty('executionStatus');
    });
  });

  it.each([
    // The field that named it: the body's tenantId (it said `id`, the path parameter of the other routes).
    ['an unknown tenant', { tenantId: 'nobody' }, 404, { code: 'tenant_not_found', param: 'tenantId', message: 'tenantId = "nobody": tenant "nobody" does not exist' }],
    ['a SUSPENDED tenant', { tenantId: 'initech' }, 409, { code: 'invalid_status', param: 'tenantId', message: 'tenant "initech" is SUSPENDED: drift is checked on ACTIVE tenants only' }],
    ['an OFFBOARDED tenant', { tenantId: 'gone' }, 409, { code: 'invalid_status', message: 'tenant "gone" is OFFBOARDED: drift is checked on ACTIVE tenants only' }],
    ['a tenant id that is none', { tenantId: 'Bad_Id' }, 400, { param: 'tenantId' }],
    ['an unknown field', { tenant: 'acme' }, 400, { code: 'unknown_parameter', param: 'tenant' }],
  ])('refuses %s, naming it, and starts nothing', async (_what, request, status, error) => {
    const res = await call('POST', '/admin/drift', { body: JSON.stringify(request) });
    expect(res.statusCode).toBe(status);
    expect(body(res).error).toMatchObject(error);
    expect(starts()).toEqual([]);
  });
});

describe('admin API: POST /admin/drift, hostile requests', () => {
  const starts = () => sfn.commandCalls(StartExecutionCommand).length;

  it('refuses a query string (400 naming the parameter and its value), starting nothing: ?tenantId=acme started a check of every ACTIVE tenant', async () => {
    const res = await call('POST', '/admin/drift', { queryStringParameters: { tenantId: 'acme' } });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ code: 'unknown_parameter', param: 'tenantId', message: 'query parameter tenantId = "acme": POST /admin/drift takes no query parameters (its fields go in the JSON body)' });
    const both = await call('POST', '/admin/drift', { queryStringParameters: { dryRun: 'true' }, body: JSON.stringify({ tenantId: 'acme' }) });
    expect(body(both).error).toMatchObject({ code: 'unknown_parameter', param: 'dryRun' });
    expect(starts()).toBe(0);
  });

  it.each([
    ['a body that is not JSON', 'tenantId=acme', { code: 'invalid_json', message: expect.stringMatching(/^request body is not valid JSON \(Unexpected token .*"tenantId=acme" is not valid JSON\); send a JSON object/) }],
    ['a cut body', '{"tenantId": "ac', { code: 'invalid_json', message: expect.stringContaining('(Unterminated string in JSON at position') }],
    ['an array', '["acme"]', { code: 'invalid_request', message: expect.stringMatching(/^\(root\) = \["acme"\]: /) }],
    ['a string', '"acme"', { code: 'invalid_request', message: expect.stringMatching(/^\(root\) = "acme": /) }],
    ['null', 'null', { code: 'invalid_request', message: expect.stringMatching(/^\(root\) = null: /) }],
    ['tenantId null', '{"tenantId": null}', { param: 'tenantId', message: expect.stringMatching(/^tenantId = null: /) }],
    ['tenantId 5', '{"tenantId": 5}', { param: 'tenantId', message: expect.stringMatching(/^tenantId = 5: /) }],
    ['tenantId in upper case', '{"tenantId": "ACME"}', { param: 'tenantId', message: expect.stringMatching(/^tenantId = "ACME": must be a lower-case DNS label/) }],
  ])('refuses %s with a 400 naming the value, starting nothing', async (_what, raw, error) => {
    const res = await call('POST', '/admin/drift', { body: raw });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject(error);
    expect(starts()).toBe(0);
  });
});

describe('admin API: repair and allowReplacement on PATCH /admin/tenants/{id}', () => {
  it('starts a change with { repair: true } for the same tier and version (no "nothing to change")', async () => {
    const res = await call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body: JSON.stringify({ repair: true }) });
    expect(res.statusCode).toBe(202);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    expect(input.change).toEqual({ repair: true });
  });

  it('carries allowReplacement with its reason into the change', async () => {
    const res = await call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body: JSON.stringify({ blueprintVersion: '2.0.0', allowReplacement: { reason: 'cache engine upgrade, cache is rebuilt (OPS-77)' } }) });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!).change).toEqual({ blueprintVersion: '2.0.0', allowReplacement: { reason: 'cache engine upgrade, cache is rebuilt (OPS-77)' } });
  });

  it.each([
    [{ repair: true, tier: 'professional' }, 'repair'],
    [{ blueprintVersion: '2.0.0', allowReplacement: { reason: 'x' } }, 'allowReplacement.reason'],
    [{ blueprintVersion: '2.0.0', allowReplacement: {} }, 'allowReplacement.reason'],
    [{ blueprintVersion: '2.0.0', allowReplacement: { reason: 'because I say so', force: true } }, 'allowReplacement.force'],
    [{ repair: false }, 'repair'],
  ])('refuses %j with a 400 naming %s, starting nothing', async (change, param) => {
    const res = await call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body: JSON.stringify(change) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error.param).toBe(param);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('tessera tenants drift: what it prints', () => {
  it('lists every tenant with its drift status and a count of drifted tenants', () => {
    const text = driftListLines({ tenants: [
      { tenantId: 'acme', tier: 'starter', status: 'ACTIVE', drift: 'DRIFTED', checkedAt: '2026-12-01T03:04:05.000Z', driftedResources: 2 },
      { tenantId: 'initech', tier: 'starter', status: 'SUSPENDED', drift: 'NOT_CHECKED', driftedResources: 0 },
    ] });
    expect(text.split('\n')).toEqual([
      'TENANT   TIER     STATUS     DRIFT        RESOURCES  CHECKED',
      'acme     starter  ACTIVE     DRIFTED      2          2026-12-01T03:04:05.000Z',
      'initech  starter  SUSPENDED  NOT_CHECKED  0          never',
      '1 of 2 tenants drifted; 1 never checked (initech: tessera tenants drift --detect checks every ACTIVE tenant now; the daily drift check does too)',
    ]);
  });

  it('does not let tenants never checked or of unknown drift pass for clean: the last line counts them, names them and says what to run', () => {
    const row = (tenantId: string, drift: 'IN_SYNC' | 'UNKNOWN' | 'NOT_CHECKED') => ({ tenantId, tier: 'starter', status: 'ACTIVE', drift, driftedResources: 0 });
    const last = (tenants: ReturnType<typeof row>[]) => driftListLines({ tenants }).split('\n').at(-1);
    // A new platform's first list: one tenant, never checked. It said `0 of 1 tenant drifted` and nothing else.
    expect(last([row('acme', 'NOT_CHECKED')])).toBe('0 of 1 tenant drifted; 1 never checked (acme: tessera tenants drift --detect checks every ACTIVE tenant now; the daily drift check does too)');
    expect(last([row('acme', 'UNKNOWN')])).toBe('0 of 1 tenant drifted; 1 of unknown drift (acme: the last check could not say; tessera tenants drift acme shows why)');
    expect(last([row('a1', 'UNKNOWN'), row('a2', 'UNKNOWN'), row('b1', 'NOT_CHECKED'), row('b2', 'NOT_CHECKED'), row('b3', 'NOT_CHECKED'), row('b4', 'NOT_CHECKED'), row('c1', 'IN_SYNC')]))
      .toBe('0 of 7 tenants drifted; 2 of unknown drift (a1, a2: the last check could not say; tessera tenants drift <id> shows why); '
        + '4 never checked (b1, b2, b3 and 1 more: tessera tenants drift --detect checks every ACTIVE tenant now; the daily drift check does too)');
    expect(last([row('acme', 'IN_SYNC')])).toBe('0 of 1 tenant drifted');
  });

  it('shows one tenant\'s drifted resources with their property paths, and how to repair', () => {
    const text = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted });
    expect(text).toContain('tenant acme: DRIFTED (checked 2026-12-01T03:04:05.000Z)');
    expect(text).toContain('stack tessera-acme-namespace: IN_SYNC');
    expect(text).toMatch(/Database\s+AWS::RDS::DBInstance\s+MODIFIED\s+tessera-acme\s+\/BackupRetentionPeriod NOT_EQUAL/);
    expect(text).toMatch(/DataBucketPolicy\s+AWS::S3::BucketPolicy\s+DELETED\s+tessera-acme\s+\(deleted\)/);
    expect(text).toContain('tessera tenants update acme --repair');
    expect(tenantDriftLines({ tenantId: 'hooli', status: 'ACTIVE' })).toMatch(/drift not checked yet/);
  });
});

describe('tessera tenants drift <id> after a repair (hops)', () => {
  const repair = (status: 'SUCCEEDED' | 'RUNNING' | 'FAILED', endedAt?: string) => ({ kind: 'change' as const, requestId: 'cli-r1', startedAt: '2026-12-01T09:00:00.000Z', ...(endedAt ? { endedAt } : {}), status, change: { repair: true } });

  it('names a repair that succeeded since the check, says the resources are what the check found before it, and does not offer the repair again', () => {
    const text = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted }, [repair('SUCCEEDED', '2026-12-01T09:05:00.000Z')]);
    expect(text).toContain('tenant acme: DRIFTED (checked 2026-12-01T03:04:05.000Z)');
    expect(text).toContain('  since this check: change (repair) cli-r1 SUCCEEDED at 2026-12-01T09:05:00.000Z; what follows is what the check found before it: the next drift run (daily, 03:00 UTC, or now: tessera tenants drift --detect acme) checks the stacks as they are now');
    expect(text).not.toContain('--repair');
  });

  it('a repair whose history entry keeps only its request\'s digest (lib/change-digest.ts) is named and not offered again, as one in full', () => {
    const { change, ...rest } = repair('SUCCEEDED', '2026-12-01T09:05:00.000Z');
    const text = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted }, [{ ...rest, changeDigest: digestChange(change) }]);
    expect(text).toContain('  since this check: change (repair) cli-r1 SUCCEEDED at 2026-12-01T09:05:00.000Z;');
    expect(text).not.toContain('--repair');
  });

  it('a repair still running is named and not offered again; a failed one is named and the repair offered; operations before the check and skipped runs are not named', () => {
    expect(tenantDriftLines({ tenantId: 'acme', status: 'UPDATING', drift: drifted }, [repair('RUNNING')])).toMatch(/since this check: change \(repair\) cli-r1 running since 2026-12-01T09:00:00.000Z;[^]*$/);
    expect(tenantDriftLines({ tenantId: 'acme', status: 'UPDATING', drift: drifted }, [repair('RUNNING')])).not.toContain('--repair');
    const failed = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted }, [repair('FAILED', '2026-12-01T09:05:00.000Z')]);
    expect(failed).toContain('since this check: change (repair) cli-r1 FAILED at 2026-12-01T09:05:00.000Z');
    expect(failed).toContain('tessera tenants update acme --repair');
    const before = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted }, [
      { kind: 'change', requestId: 'old', startedAt: '2026-11-30T00:00:00.000Z', endedAt: '2026-11-30T00:05:00.000Z', status: 'SUCCEEDED', change: { repair: true } },
      { kind: 'upgrade', requestId: 'up', startedAt: '2026-12-01T10:00:00.000Z', endedAt: '2026-12-01T10:00:01.000Z', status: 'SKIPPED' },
    ]);
    expect(before).not.toContain('since this check');
    expect(before).toContain('tessera tenants update acme --repair');
    // several since the check: the latest is named, the others counted
    expect(tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: drifted }, [
      { kind: 'suspend', requestId: 's1', startedAt: '2026-12-01T08:00:00.000Z', endedAt: '2026-12-01T08:01:00.000Z', status: 'SUCCEEDED' },
      repair('SUCCEEDED', '2026-12-01T09:05:00.000Z'),
    ])).toContain('  since this check: change (repair) cli-r1 SUCCEEDED at 2026-12-01T09:05:00.000Z (and 1 earlier operation); what follows is what the check found before them:');
  });
});

describe('tessera tenants drift <id> of a tenant whose stack was deleted (hops)', () => {
  it('does not offer --repair, which refuses to create the stack again, and says what to do instead', () => {
    const deleted: DriftRecord = {
      status: 'DRIFTED', checkedAt: '2026-12-01T03:04:05.000Z',
      stacks: [{ stack: 'tessera-acme', status: 'DELETED', reason: 'the stack does not exist (deleted outside Tessera): Stack with id tessera-acme does not exist' }],
      resources: [{ stack: 'tessera-acme', logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', status: 'DELETED', differences: [] }],
    };
    const text = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: deleted });
    expect(text).not.toContain('--repair (a drift-aware change set');
    expect(text).toContain('stack tessera-acme was deleted outside Tessera: --repair cannot bring it back');
  });
});

describe('tessera tenants drift and update: the commands', () => {
  it('registers drift [id] --status --detect --wait --interval --timeout --detailed-exitcode, and update --repair / --allow-replacement <reason>', async () => {
    const { tenantsCommand } = await import('../../../lib/cli/tenants-command.js');
    const tenants = tenantsCommand();
    const drift = tenants.commands.find((c) => c.name() === 'drift')!;
    expect(drift.registeredArguments.map((a) => [a.name(), a.required])).toEqual([['id', false]]);
    expect(drift.options.map((o) => o.long)).toEqual(['--status', '--detect', '--wait', '--interval', '--timeout', '--detailed-exitcode']);
    const update = tenants.commands.find((c) => c.name() === 'update')!;
    expect(update.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--repair', '--allow-replacement']));
  });
});

describe('driftRecord: the registry\'s drift record from each stack\'s detection', async () => {
  const { driftRecord, driftedResources, MAX_RECORDED_DRIFTS, MAX_PATHS_PER_RESOURCE, MAX_DRIFT_RESOURCES_BYTES, MAX_DRIFT_FIELD_BYTES, MAX_STACK_REASON_BYTES } = await import('../../../lambdas/lifecycle/drift.js');
  const at = '2026-12-01T03:00:00.000Z';

  it('is IN_SYNC only when every stack is, UNKNOWN when a detection had no verdict, DRIFTED whenever a resource drifted', () => {
    expect(driftRecord([{ stack: 'a', status: 'IN_SYNC', resources: [] }], at).status).toBe('IN_SYNC');
    expect(driftRecord([{ stack: 'a', status: 'IN_SYNC', resources: [] }, { stack: 'b', status: 'UNKNOWN', reason: 'stack busy', resources: [] }], at).status).toBe('UNKNOWN');
    const one = driftedResources('a', [{ StackId: 's', LogicalResourceId: 'Key', ResourceType: 'AWS::KMS::Key', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(), PropertyDifferences: [{ PropertyPath: '/EnableKeyRotation', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' }] }]);
    expect(driftRecord([{ stack: 'a', status: 'DRIFTED', resources: one }, { stack: 'b', status: 'UNKNOWN', resources: [] }], at)).toMatchObject({ status: 'DRIFTED', resources: [{ logicalId: 'Key', differences: [{ path: '/EnableKeyRotation', type: 'NOT_EQUAL' }] }] });
  });

  it('keeps at most 100 drifted resources and counts the rest (a DynamoDB item holds 400 KB)', () => {
    const many = Array.from({ length: 130 }, (_, i) => ({ stack: 'a', logicalId: `R${i}`, type: 'AWS::SQS::Queue', status: 'MODIFIED' as const, differences: [] }));
    const record = driftRecord([{ stack: 'a', status: 'DRIFTED', resources: many }], at);
    expect(record.resources).toHaveLength(MAX_RECORDED_DRIFTS);
    expect(record.truncated).toBe(30);
  });

  it('keeps the drifted and unchecked resources within MAX_DRIFT_RESOURCES_BYTES: 100 of them with long physical ids, 20 long paths each and long reasons fit a tenant item beside its history', () => {
    // GIVEN 100 drifted resources at CloudFormation's limits (logical id 255 characters, a 2,048-character physical id, 20
    // property paths of 300 characters, CJK in the id and paths) and 100 unchecked ones with 500-character CJK reasons:
    // about 1.2 MB as JSON before; the tenant's history (about 310 KB) and owed announcements (64 KB) leave ~25 KB
    const cjk = (n: number) => '漢'.repeat(n);
    const many: DriftedResource[] = Array.from({ length: 100 }, (_, i) => ({
      stack: 'tessera-drifty', logicalId: `R${i}${'x'.repeat(250)}`, type: 'AWS::IAM::Role', physicalId: `${i}-${cjk(2_048)}`, status: 'MODIFIED' as const,
      differences: Array.from({ length: MAX_PATHS_PER_RESOURCE }, (_, j) => ({ path: `/Policies/${j}/${cjk(300)}`, type: 'NOT_EQUAL' })),
    }));
    const unchecked = Array.from({ length: 100 }, (_, i) => ({ stack: 'tessera-drifty', logicalId: `U${i}`, type: 'AWS::SQS::Queue', reason: cjk(500) }));
    // WHEN the drift record is made
    const failures = JSON.stringify({ Summary: 'Failed to detect drift on resources', Failures: unchecked.map((u) => ({ Resource: u.logicalId, FailureReason: u.reason })) });
    const record = driftRecord([{ stack: 'tessera-drifty', status: 'DRIFTED', reason: `Stack (arn) failed with message: ${failures}`, resources: many, unchecked }], at);
    // the stack's reason (a failed detection's, naming each resource with its failure: about 150 KB here) clipped
    expect(Buffer.byteLength(record.stacks[0]!.reason!)).toBeLessThanOrEqual(MAX_STACK_REASON_BYTES);
    expect(record.stacks[0]!.reason).toMatch(/^Stack \(arn\) failed with message: .*…$/);
    // THEN its resources and unchecked ones are within the bound, the rest counted, each kept one's id and paths clipped
    const bytes = Buffer.byteLength(JSON.stringify({ resources: record.resources, unchecked: record.unchecked ?? [] }));
    expect(bytes).toBeLessThanOrEqual(MAX_DRIFT_RESOURCES_BYTES);
    expect(record.resources.length).toBeGreaterThan(0);
    expect(record.resources.length + (record.truncated ?? 0)).toBe(100);
    expect((record.unchecked?.length ?? 0) + (record.uncheckedTruncated ?? 0)).toBe(100);
    expect(record.status).toBe('DRIFTED');
    for (const r of record.resources) {
      expect(Buffer.byteLength(r.physicalId!)).toBeLessThanOrEqual(MAX_DRIFT_FIELD_BYTES);
      expect(r.differences).toHaveLength(MAX_PATHS_PER_RESOURCE);
      for (const d of r.differences) expect(Buffer.byteLength(d.path)).toBeLessThanOrEqual(MAX_DRIFT_FIELD_BYTES);
    }
    // a resource of ordinary size is kept as it was
    const small = driftRecord([{ stack: 'a', status: 'DRIFTED', resources: [{ stack: 'a', logicalId: 'Key', type: 'AWS::KMS::Key', physicalId: 'arn:aws:kms:eu-west-1:111122223333:key/1', status: 'MODIFIED', differences: [{ path: '/EnableKeyRotation', type: 'NOT_EQUAL' }] }] }], at);
    expect(small.resources).toEqual([{ stack: 'a', logicalId: 'Key', type: 'AWS::KMS::Key', physicalId: 'arn:aws:kms:eu-west-1:111122223333:key/1', status: 'MODIFIED', differences: [{ path: '/EnableKeyRotation', type: 'NOT_EQUAL' }] }]);
    expect(small.truncated).toBeUndefined();
  });
});

/**
 * Found by the drift review (s16): a check that failed after its retries (throttling) replaced a DRIFTED record, drifted
 * resources included, with UNKNOWN: the tenant dropped out of `tessera tenants drift --status DRIFTED` until a check succeeded.
 */
describe('a drift check that fails after its retries keeps the last verdict beside it', async () => {
  const { handler: check } = await import('../../../lambdas/lifecycle/check-drift.js');
  const throttled = { Error: 'Throttling', Cause: 'Rate exceeded' };

  it('keeps acme DRIFTED with its resources and time, the failed check beside it; still listed by --status DRIFTED; the CLI says which check it shows', async () => {
    // WHEN the next run's check of acme fails (the workflow's Catch hands Check drift the error)
    const out = await check({ tenantId: 'acme', error: throttled }, {} as never);
    // THEN the verdict of 2026-12-01 stays, with the failure beside it
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'DRIFTED', checkFailed: true });
    const kept = records.get('acme')!.drift!;
    expect(kept).toEqual({ ...drifted, failedCheck: { at: expect.any(String), error: 'Throttling: Rate exceeded' } });
    expect(kept.failedCheck!.at > drifted.checkedAt).toBe(true);
    const listed = body(await call('GET', '/admin/drift', { queryStringParameters: { status: 'DRIFTED' } })).tenants;
    expect(listed).toEqual([{ tenantId: 'acme', tier: 'starter', status: 'ACTIVE', drift: 'DRIFTED', checkedAt: drifted.checkedAt, driftedResources: 2, failedCheck: kept.failedCheck }]);
    expect(driftListLines({ tenants: listed })).toContain(`${drifted.checkedAt} (check of ${kept.failedCheck!.at} failed)`);
    const lines = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: kept }, []);
    expect(lines).toContain(`the latest check, at ${kept.failedCheck!.at}, failed: Throttling: Rate exceeded; what follows is the check of ${drifted.checkedAt}, the last that ran`);
    expect(lines).toMatch(/Database .*\/BackupRetentionPeriod NOT_EQUAL/);

    // AND the next check that runs replaces the record, failure included (here: CloudFormation would not check the busy stack)
    await check({ tenantId: 'acme', detections: [{ stack: 'tessera-acme', kind: 'tenant', error: 'stack is UPDATE_IN_PROGRESS', startedAt: new Date().toISOString() }] }, {} as never);
    expect(records.get('acme')!.drift).toEqual({ status: 'UNKNOWN', checkedAt: expect.any(String), stacks: [{ stack: 'tessera-acme', status: 'UNKNOWN', reason: 'stack is UPDATE_IN_PROGRESS' }], resources: [] });
  });

  it('records a tenant never checked, or whose only record is a failed check, UNKNOWN with the error as before', async () => {
    records.set('initech', tenant({ tenantId: 'initech', status: 'ACTIVE' }));
    await check({ tenantId: 'initech', error: throttled }, {} as never);
    expect(records.get('initech')!.drift).toEqual({ status: 'UNKNOWN', checkedAt: expect.any(String), stacks: [], resources: [], error: 'Throttling: Rate exceeded' });
    await check({ tenantId: 'initech', error: { Error: 'AccessDenied', Cause: 'not authorized' } }, {} as never);
    expect(records.get('initech')!.drift).toMatchObject({ status: 'UNKNOWN', error: 'AccessDenied: not authorized' });
    expect(records.get('initech')!.drift!.failedCheck).toBeUndefined();
  });

  it('clips a long failure to 1,000 characters naming the whole length of the error, not the 2,000 of a first clip', async () => {
    records.set('initech', tenant({ tenantId: 'initech', status: 'ACTIVE' }));
    // A Cause of Step Functions' largest size (32,768 characters): catchReason alone clipped it to 2,000, then the drift record to 1,000
    await check({ tenantId: 'initech', error: { Error: 'AccessDenied', Cause: 'x'.repeat(32_768) } }, {} as never);
    const error = records.get('initech')!.drift!.error!;
    expect(error.length).toBeLessThanOrEqual(1000);
    expect(error).toMatch(/^AccessDenied: x+ … \(32782 characters; the rest is in the execution's history\)$/);
  });

  /**
   * Found by the day-2 walk-through (s18): in AWS a Lambda task's Catch gives `Cause` as the runtime's JSON error
   * (errorType, errorMessage, trace), which the local runner does not; the drift record (and `tessera tenants drift <id>`)
   * showed that JSON, the stack trace included and cut at 1,000 characters, instead of the message.
   */
  it('records the Lambda error\'s message from the JSON Cause Step Functions gives in AWS, not the JSON and its trace', async () => {
    records.set('initech', tenant({ tenantId: 'initech', status: 'ACTIVE' }));
    const message = 'User: arn:aws:sts::210987654321:assumed-role/TesseraProvisioning/drift-initech is not authorized to perform: cloudformation:DetectStackDrift on resource: arn:aws:cloudformation:us-east-1:210987654321:stack/tessera-initech/*';
    const cause = JSON.stringify({ errorType: 'AccessDenied', errorMessage: message, trace: [`AccessDenied: ${message}`, '    at throwDefaultError (/var/task/index.mjs:2:1)'] });
    await check({ tenantId: 'initech', error: { Error: 'AccessDenied', Cause: cause } }, {} as never);
    expect(records.get('initech')!.drift).toMatchObject({ status: 'UNKNOWN', error: `AccessDenied: ${message}` });
    expect(tenantDriftLines({ tenantId: 'initech', status: 'ACTIVE', drift: records.get('initech')!.drift! }, [])).toContain(`  error: AccessDenied: ${message}`);
  });
});

/**
 * `tessera tenants drift --detect --wait` only read the registry, so a run that failed before recording anything was
 * waited for until --timeout (900 s). `GET /admin/drift?executionArn=` answers the run's execution (DescribeExecution).
 */
describe('GET /admin/drift?executionArn=: a drift run\'s execution', () => {
  const RUN = `${DRIFT_MACHINE.replace(':stateMachine:', ':execution:')}:drift-acme-20261204T1335`;
  const read = (query: Record<string, string>) => call('GET', '/admin/drift', { queryStringParameters: query });
  const started = new Date('2026-12-04T13:36:01.000Z');
  const stopped = new Date('2026-12-04T13:36:02.500Z');

  it('answers each status with its dates, and the error and cause of a run that did not succeed', async () => {
    const cases = [
      [{ status: 'RUNNING' }, { status: 'RUNNING' }],
      [{ status: 'SUCCEEDED', stopDate: stopped }, { status: 'SUCCEEDED', stopDate: stopped.toISOString() }],
      [{ status: 'FAILED', stopDate: stopped, error: 'AccessDeniedException', cause: '{"errorMessage":"not authorized to perform: dynamodb:Query\\r\\n"}' },
        { status: 'FAILED', stopDate: stopped.toISOString(), error: 'AccessDeniedException', cause: '{"errorMessage":"not authorized to perform: dynamodb:Query\\r\\n"}' }],
      [{ status: 'TIMED_OUT', stopDate: stopped, error: 'States.Timeout' }, { status: 'TIMED_OUT', stopDate: stopped.toISOString(), error: 'States.Timeout' }],
      [{ status: 'ABORTED', stopDate: stopped, cause: 'stopped by an operator' }, { status: 'ABORTED', stopDate: stopped.toISOString(), cause: 'stopped by an operator' }],
    ] as const;
    for (const [described, answered] of cases) {
      sfn.reset();
      sfn.on(DescribeExecutionCommand, { executionArn: RUN }).resolves({ executionArn: RUN, stateMachineArn: DRIFT_MACHINE, startDate: started, ...described });
      const res = await read({ executionArn: RUN });
      expect([res.statusCode, body(res)]).toEqual([200, { execution: { executionArn: RUN, startDate: started.toISOString(), ...answered } }]);
    }
  });

  it('refuses an ARN that is not an execution of this platform\'s drift state machine: a 400 naming executionArn and the value, nothing described', async () => {
    const foreign = [
      'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-1',
      'arn:aws:states:us-east-1:999999999999:execution:tessera-drift:drift-acme-20261204T1335',
      'arn:aws:states:eu-west-1:222222222222:execution:tessera-drift:drift-acme-20261204T1335',
      'arn:aws:states:us-east-1:222222222222:execution:tessera-drift/check-each-tenant:abc-123',
      'arn:aws:states:us-east-1:222222222222:execution:tessera-drift-copy:drift-acme-20261204T1335',
      `${RUN}:extra`, `${RUN} `, `${DRIFT_MACHINE.replace(':stateMachine:', ':execution:')}:`, 'drift-acme-20261204T1335',
    ];
    for (const executionArn of foreign) {
      const res = await read({ executionArn });
      expect(res.statusCode, executionArn).toBe(400);
      expect(body(res).error).toMatchObject({ param: 'executionArn', type: 'invalid_request_error', message: `executionArn = ${JSON.stringify(executionArn)}: not an execution of this platform's drift state machine (arn:aws:states:us-east-1:222222222222:execution:tessera-drift:<name>)` });
    }
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('refuses executionArn with the list\'s other parameters (400 naming executionArn), and answers 404 for an execution Step Functions does not have', async () => {
    const both = await read({ executionArn: RUN, status: 'DRIFTED', limit: '5' });
    expect(both.statusCode).toBe(400);
    expect(body(both).error).toMatchObject({ param: 'executionArn', message: expect.stringMatching(/^executionArn = ".*drift-acme-20261204T1335" with status, limit: /) });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    const { ExecutionDoesNotExist } = await import('@aws-sdk/client-sfn');
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const missing = await read({ executionArn: RUN });
    expect(missing.statusCode).toBe(404);
    expect(body(missing).error).toMatchObject({ param: 'executionArn', code: 'execution_not_found' });
  });
});
