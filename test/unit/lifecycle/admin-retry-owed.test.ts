import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { records, registryMock } from './registry-mock.js';
import { leased, OTHER_EXECUTION_ARN, sameNetworkConfig, setLifecycleEnv, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');
const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, pathParameters: { id: 'acme' }, ...extra } as unknown as APIGatewayProxyEvent);
const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { [ENV.onboardStateMachineArn]: `${MACHINE}onboard`, [ENV.statusStateMachineArn]: `${MACHINE}status`, [ENV.offboardStateMachineArn]: `${MACHINE}offboard`, [ENV.changeStateMachineArn]: `${MACHINE}change` });
  records.clear(); vi.clearAllMocks(); sfn.reset(); events.reset();
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  useConfig(sameNetworkConfig);
});

const owed = { detailType: 'Tenant Changed', detail: { tenantId: 'acme', tier: 'professional' }, executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:old', at: '2026-11-20T00:00:00.000Z', error: 'AccessDeniedException: denied' };

/** POST /retry sends an owed announcement (announcements.ts) also when the record still carries a lease whose execution ended (found by the hostile lc2). */
describe('admin API: POST /retry of an owed announcement', () => {
  it('POST /retry of an ACTIVE tenant owing an announcement, whose record still carries a dead lease (a later execution stopped), sends it', async () => {
    // a suspend (during ACTIVE) whose execution was stopped; end-stopped-execution has not run (or went to the DLQ)
    records.set('acme', leased('suspend', { status: 'ACTIVE', owedAnnouncements: [owed] } as never, OTHER_EXECUTION_ARN));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    const res = await call('POST', '/admin/tenants/{id}/retry', { body: '{}' });
    // was 409 invalid_status "nothing to retry"
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ announced: ['Tenant Changed'] });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('POST /retry of a FAILED onboarding sends its owed Tenant Lifecycle Failed before the new attempt starts; a bus that still refuses it leaves it owed and the attempt starts anyway', async () => {
    const failedOwed = { detailType: 'Tenant Lifecycle Failed', detail: { tenantId: 'acme', kind: 'onboard', step: 'Check blueprint', reason: 'boom', status: 'FAILED' }, executionArn: OTHER_EXECUTION_ARN, at: '2026-11-20T00:00:00.000Z' };
    const failedTenant = () => ({ ...tenant({ status: 'FAILED', owedAnnouncements: [failedOwed] } as never), lease: undefined });
    records.set('acme', failedTenant() as never);
    const res = await call('POST', '/admin/tenants/{id}/retry', { body: '{}' });
    expect(res.statusCode).toBe(202);
    expect(events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!))).toEqual([failedOwed.detail]);
    expect(records.get('acme')!.owedAnnouncements).toBeUndefined();
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    // the bus still refusing: the retry starts, the announcement stays owed with the error
    records.set('acme', failedTenant() as never);
    events.reset();
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect((await call('POST', '/admin/tenants/{id}/retry', { body: '{}' })).statusCode).toBe(202);
    expect(records.get('acme')!.owedAnnouncements).toMatchObject([{ detailType: 'Tenant Lifecycle Failed', error: expect.stringContaining('AccessDeniedException') }]);
  });

  it('POST /retry with corrections (adminEmail, name) of a tenant past onboarding owing an announcement is a 400 naming the field, nothing sent (found by the hostile hadm, s15: the corrections were dropped silently and the answer was 200)', async () => {
    records.set('acme', { ...leased('suspend', { status: 'ACTIVE', owedAnnouncements: [owed] } as never, OTHER_EXECUTION_ARN), lease: undefined } as never);
    for (const [body, param] of [[{ adminEmail: 'new@acme.example.com' }, 'adminEmail'], [{ name: 'Acme 2' }, 'name']] as const) {
      const res = await call('POST', '/admin/tenants/{id}/retry', { body: JSON.stringify(body) });
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ param, message: expect.stringContaining('apply to a failed onboarding only') });
    }
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(records.get('acme')!.owedAnnouncements).toHaveLength(1);
  });
});


/** Owed announcements past their bound (lambdas/lifecycle/owed-bound.ts): the list grew by about 2 KB per operation without end. */
describe('admin API: an operation asked while the owed announcements fill their bound', () => {
  it('a suspend of a tenant owing 70 KB of announcements is a 409 announcements_owed naming owedAnnouncements and tessera tenants retry, nothing started', async () => {
    const many = Array.from({ length: 35 }, (_, i) => ({ ...owed, executionArn: `${owed.executionArn}-${i}`, detail: { tenantId: 'acme', tier: 'professional', note: 'n'.repeat(1_900) } }));
    records.set('acme', { ...leased('suspend', { status: 'ACTIVE', owedAnnouncements: many } as never, OTHER_EXECUTION_ARN), lease: undefined } as never);
    const res = await call('POST', '/admin/tenants/{id}/suspend', { body: JSON.stringify({ reason: 'billing hold' }) });
    expect(res.statusCode).toBe(409);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'announcements_owed', param: 'owedAnnouncements', message: expect.stringMatching(/owes 35 announcements \(Tenant Changed; owedAnnouncements, \d+ bytes, the most the record keeps is 65536\).*tessera tenants retry acme/) });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE' });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('an offboarding (DELETE) of a tenant owing 70 KB while the bus still refuses is the same 409, nothing started; once the bus takes them, POST /retry sends them and the offboarding starts', async () => {
    const many = Array.from({ length: 35 }, (_, i) => ({ ...owed, executionArn: `${owed.executionArn}-${i}`, detail: { tenantId: 'acme', tier: 'professional', note: 'n'.repeat(1_900) } }));
    records.set('acme', { ...leased('suspend', { status: 'ACTIVE', owedAnnouncements: many } as never, OTHER_EXECUTION_ARN), lease: undefined } as never);
    const refused = await call('DELETE', '/admin/tenants/{id}');
    expect([refused.statusCode, JSON.parse(refused.body).error?.code], refused.body).toEqual([409, 'announcements_owed']);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const sent = await call('POST', '/admin/tenants/{id}/retry');
    expect([sent.statusCode, JSON.parse(sent.body).announced], sent.body).toEqual([200, many.map((a) => a.detailType)]);
    expect(records.get('acme')!.owedAnnouncements ?? []).toEqual([]);
    const removed = await call('DELETE', '/admin/tenants/{id}');
    expect(removed.statusCode, removed.body).toBe(202);
  });

  it('a suspend of a tenant owing less starts', async () => {
    records.set('acme', { ...leased('suspend', { status: 'ACTIVE', owedAnnouncements: [owed] } as never, OTHER_EXECUTION_ARN), lease: undefined } as never);
    const res = await call('POST', '/admin/tenants/{id}/suspend', { body: JSON.stringify({ reason: 'billing hold' }) });
    expect(res.statusCode, res.body).toBe(202);
  });
});
