import { APIGatewayClient, APIGatewayServiceException, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { records, registryMock } from './registry-mock.js';
import { credentials, lease, leased, setLifecycleEnv, tenant } from './support.js';

// Step Functions' status-change events reach EventBridge on a best-effort basis: a missed one left the tenant under a dead
// lease until someone sent a request for it. End stopped execution's daily `{ sweep: true }` ends each such lease.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const gw = mockStrict(APIGatewayClient, 'apigateway', APIGatewayServiceException);
const { handler } = await import('../../../lambdas/lifecycle/end-stopped-execution.js');

const arn = (name: string, machine = 'tessera-change') => `arn:aws:states:us-east-1:222222222222:execution:${machine}:${name}`;
const DEAD = arn('dead');
const LIVE = arn('live');
const STRANDED = arn('stranded');

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [sfn, bus, cfn, sts, gw]) m.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-x does not exist'), { name: 'ValidationError' }));
  gw.on(GetUsagePlansCommand).resolves({ items: [] });
  sfn.on(DescribeExecutionCommand, { executionArn: DEAD }).resolves({ status: 'TIMED_OUT', error: 'States.Timeout' });
  sfn.on(DescribeExecutionCommand, { executionArn: LIVE }).resolves({ status: 'RUNNING' });
  sfn.on(DescribeExecutionCommand, { executionArn: STRANDED }).resolves({ status: 'ABORTED' });
});

describe('End stopped execution, daily sweep of dead leases (s38m)', () => {
  it('ends each lease whose execution ended (as the status-change rule would), leaves a live one, ends a stranded change, and touches no tenant without either', async () => {
    // GIVEN a change that timed out whose status-change event never came, a change still running, a tenant left UPDATING
    // with no lease by a change that was aborted, and an ACTIVE tenant nothing holds
    records.set('dead', { ...leased('change', { tenantId: 'dead', status: 'UPDATING', currentStep: 'Check blueprint' }, DEAD), tenantId: 'dead' });
    records.set('live', { ...leased('change', { tenantId: 'live', status: 'UPDATING' }, LIVE), tenantId: 'live' });
    records.set('stranded', tenant({ tenantId: 'stranded', status: 'UPDATING', executions: [{ kind: 'change', requestId: 'chg-s', executionArn: STRANDED, startedAt: '2026-12-05T00:00:00.000Z', status: 'RUNNING' }] }));
    records.set('idle', tenant({ tenantId: 'idle', status: 'ACTIVE' }));
    const before = { live: records.get('live'), idle: records.get('idle') };
    // WHEN the daily sweep runs
    const out = await handler({ sweep: true } as never, {} as never);
    // THEN
    expect(out).toEqual({ checked: 3, ended: [{ tenantId: 'dead', executionArn: DEAD, status: 'TIMED_OUT' }, { tenantId: 'stranded', executionArn: STRANDED, status: 'ABORTED' }], failed: [] });
    expect(records.get('dead')).toMatchObject({ status: 'ACTIVE', failure: { kind: 'change', executionArn: DEAD, step: 'Check blueprint', reason: expect.stringMatching(/^execution TIMED_OUT: States\.Timeout at "Check blueprint" without recording its outcome/) } });
    expect(records.get('dead')!.lease).toBeUndefined();
    expect(records.get('dead')!.executions.find((e) => e.executionArn === DEAD)).toMatchObject({ status: 'FAILED' });
    expect(records.get('stranded')).toMatchObject({ status: 'ACTIVE', failure: { kind: 'change', executionArn: STRANDED } });
    expect(records.get('live')).toEqual(before.live);
    expect(records.get('idle')).toEqual(before.idle);
    const failed = bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).filter((e) => e.DetailType === 'Tenant Lifecycle Failed').map((e) => JSON.parse(e.Detail!).tenantId);
    expect(failed.sort()).toEqual(['dead', 'stranded']);
  });

  // s39m: End stopped execution asks Step Functions again (a redrive keeps the ARN); DescribeExecution is eventually consistent,
  // so that second read may say RUNNING from before the stop. The sweep hands on the redrive count it read, so that only a
  // count above it is taken for a redrive: without it, a stale RUNNING kept the dead lease until the next day's sweep.
  it('ends a dead lease when the second read is a stale RUNNING (no redrive since the sweep\'s read), and keeps one redriven in between', async () => {
    records.set('dead', { ...leased('change', { tenantId: 'dead', status: 'UPDATING' }, DEAD), tenantId: 'dead' });
    sfn.on(DescribeExecutionCommand, { executionArn: DEAD }).resolvesOnce({ status: 'TIMED_OUT', redriveCount: 0, stopDate: new Date('2026-12-05T10:00:00Z') }).resolves({ status: 'RUNNING', redriveCount: 0 });
    expect(await handler({ sweep: true } as never, {} as never)).toMatchObject({ ended: [{ tenantId: 'dead', status: 'TIMED_OUT' }], failed: [] });
    expect(records.get('dead')!.lease).toBeUndefined();
    records.set('dead', { ...leased('change', { tenantId: 'dead', status: 'UPDATING' }, DEAD), tenantId: 'dead' });
    sfn.on(DescribeExecutionCommand, { executionArn: DEAD }).resolvesOnce({ status: 'TIMED_OUT', redriveCount: 0, stopDate: new Date('2026-12-05T10:00:00Z') }).resolves({ status: 'RUNNING', redriveCount: 1 });
    await handler({ sweep: true } as never, {} as never);
    expect(records.get('dead')!.lease).toBeDefined();
  });

  it('leaves alone a lease Step Functions cannot be asked about (a live holder never loses its lease)', async () => {
    records.set('unknown', { ...leased('suspend', { tenantId: 'unknown', status: 'ACTIVE' }, arn('unknown', 'tessera-status')), tenantId: 'unknown' });
    sfn.on(DescribeExecutionCommand, { executionArn: arn('unknown', 'tessera-status') }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    records.set('dead', { ...leased('change', { tenantId: 'dead', status: 'UPDATING' }, DEAD), tenantId: 'dead', lease: lease('change', DEAD) });
    const out = await handler({ sweep: true } as never, {} as never);
    expect(out).toMatchObject({ checked: 2, ended: [{ tenantId: 'dead' }], failed: [] });
    expect(records.get('unknown')!.lease).toBeDefined();
  });
});
