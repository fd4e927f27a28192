import {
  GetServiceQuotaCommand, ListRequestedServiceQuotaChangeHistoryByQuotaCommand, RequestServiceQuotaIncreaseCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { credentials, leased, setLifecycleEnv, state, tenant } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { configWith } from '../../support/config-with.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const sq = mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);

const STANDARD = 'L-1216C47A';
const G_AND_VT = 'L-DB2E81BA';
const P = 'L-417A185B';
const enterprise = () => records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444', vpcCidr: undefined }));
const run = async () => (await import('../../../lambdas/lifecycle/request-compute-quotas.js')).handler(state('ent'));
const applied = (values: Record<string, number>) => {
  for (const [code, value] of Object.entries(values)) sq.on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: code }).resolves({ Quota: { Value: value } });
};

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions(); // each test sees its own AssumeRole calls (the provisioning sessions are kept per account, tenant and step)
  records.clear();
  vi.clearAllMocks();
  for (const m of [sq, sts, sfn, events]) m.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
  process.env.TESSERA_CHANGE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-change';
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).resolves({ RequestedQuotas: [] });
  sq.on(RequestServiceQuotaIncreaseCommand).callsFake((input: { QuotaCode: string }) => ({ RequestedQuota: { Id: `req-${input.QuotaCode}`, Status: 'PENDING' } }));
});

describe('Request compute quotas (account vending)', () => {
  it('asks a dedicated tier without GPUs (gpu.maxSize 0) for no GPU quota and records it READY at 0 nodes, not WAITING_FOR_QUOTA', async () => {
    // GIVEN the enterprise tier without GPUs, in a fresh account
    const { requestComputeQuotas, gpuCapacityFor } = await import('../../../lambdas/lifecycle/request-compute-quotas.js');
    const tier = configWith({ tiers: { enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } } } } }).tiers.enterprise;
    if (tier.compute.mode !== 'dedicated') throw new Error('enterprise is dedicated');
    applied({ [STANDARD]: 5, [G_AND_VT]: 0, [P]: 0 });
    // WHEN
    const { applied: read } = await requestComputeQuotas(new ServiceQuotasClient({ region: 'us-east-1' }), tier, 'us-east-1');
    // THEN only the Standard quota (system nodes) is read and requested, and the GPU group has nothing to wait for
    expect(sq.commandCalls(GetServiceQuotaCommand).map((c) => c.args[0].input.QuotaCode)).toEqual([STANDARD]);
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand).map((c) => c.args[0].input.QuotaCode)).toEqual([STANDARD]);
    expect(gpuCapacityFor(tier.compute.gpu, read.get(G_AND_VT))).toMatchObject({ state: 'READY', minSize: 0, desiredSize: 0 });
  });

  it('requests the vCPU quotas a fresh account lacks and starts the GPU node group at 0 while G and VT cannot hold one g5.2xlarge', async () => {
    // GIVEN a fresh account: Standard 5 vCPUs, G and VT 0, P 0
    enterprise();
    applied({ [STANDARD]: 5, [G_AND_VT]: 0, [P]: 0 });
    // WHEN
    const out = await run();
    // THEN every quota below the tier's full scale is requested (Standard 6 × m7i.xlarge, G 5 × g5.4xlarge, P 5 × p4d.24xlarge)
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand).map((c) => c.args[0].input)).toEqual([
      { ServiceCode: 'ec2', QuotaCode: STANDARD, DesiredValue: 24 },
      { ServiceCode: 'ec2', QuotaCode: G_AND_VT, DesiredValue: 80 },
      { ServiceCode: 'ec2', QuotaCode: P, DesiredValue: 480 },
    ]);
    expect(out.gpu).toEqual({ state: 'WAITING_FOR_QUOTA', minSize: 0, desiredSize: 0 });
    const record = records.get('ent')!;
    expect(record.gpuCapacity).toMatchObject({ state: 'WAITING_FOR_QUOTA', instanceType: 'g5.2xlarge', quotaCode: G_AND_VT, appliedVcpus: 0, oneNodeVcpus: 8, minSize: 0, desiredSize: 0 });
    expect(record.quotaRequests?.map((r) => [r.quotaCode, r.applied, r.desired, r.requestId, r.status])).toEqual([
      [STANDARD, 5, 24, `req-${STANDARD}`, 'PENDING'], [G_AND_VT, 0, 80, `req-${G_AND_VT}`, 'PENDING'], [P, 0, 480, `req-${P}`, 'PENDING'],
    ]);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toContain('arn:aws:iam::444444444444:role/TesseraProvisioning');
  });

  it('starts the GPU node group at the tier\'s sizes when G and VT holds one node, and asks for nothing already granted', async () => {
    enterprise();
    applied({ [STANDARD]: 64, [G_AND_VT]: 8, [P]: 480 });
    const out = await run();
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand).map((c) => c.args[0].input)).toEqual([{ ServiceCode: 'ec2', QuotaCode: G_AND_VT, DesiredValue: 80 }]);
    expect(out.gpu).toEqual({ state: 'READY', minSize: 1, desiredSize: 1 });
  });

  it('never files a second request while one is open (a resumed onboarding)', async () => {
    enterprise();
    applied({ [STANDARD]: 64, [G_AND_VT]: 0, [P]: 480 });
    sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand, { QuotaCode: G_AND_VT }).resolves({ RequestedQuotas: [{ Id: 'earlier', Status: 'PENDING', DesiredValue: 80, Created: new Date() }] });
    const out = await run();
    expect(sq.commandCalls(RequestServiceQuotaIncreaseCommand)).toHaveLength(0);
    expect(out.requested).toEqual([{ quotaCode: G_AND_VT, desired: 80, requestId: 'earlier', status: 'PENDING' }]);
  });

  // Faults pass: RequestServiceQuotaIncrease has no idempotency token; sent again by the SDK after its answer was
  // lost, Service Quotas refuses it (ResourceAlreadyExistsException: a request is open). The request filed was then
  // missing from the tenant's quotaRequests (and Check quotas recorded the increase as not requested, naming that error).
  it('records the open request when Service Quotas says one exists already (a request sent again after its answer was lost)', async () => {
    enterprise();
    applied({ [STANDARD]: 64, [G_AND_VT]: 0, [P]: 480 });
    sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand, { QuotaCode: G_AND_VT })
      .resolvesOnce({ RequestedQuotas: [] })
      .resolves({ RequestedQuotas: [{ Id: 'filed-first', Status: 'PENDING', DesiredValue: 80, Created: new Date() }] });
    sq.on(RequestServiceQuotaIncreaseCommand).rejects(Object.assign(new Error('A request for this quota is already pending.'), { name: 'ResourceAlreadyExistsException' }));
    const out = await run();
    expect(out.requested).toEqual([{ quotaCode: G_AND_VT, desired: 80, requestId: 'filed-first', status: 'PENDING' }]);
    expect(records.get('ent')?.quotaRequests?.map((r) => [r.quotaCode, r.requestId, r.status])).toEqual([[G_AND_VT, 'filed-first', 'PENDING']]);
  });

  it('does not fail the onboarding when Service Quotas refuses: the node group starts at 0', async () => {
    enterprise();
    sq.on(GetServiceQuotaCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const out = await run();
    expect(out.gpu).toEqual({ state: 'WAITING_FOR_QUOTA', minSize: 0, desiredSize: 0 });
    expect(records.get('ent')?.gpuCapacity).toMatchObject({ state: 'WAITING_FOR_QUOTA' });
    expect(records.get('ent')?.gpuCapacity?.appliedVcpus).toBeUndefined();
  });

  it('does nothing for a tier without dedicated compute', async () => {
    records.set('acme', leased('onboard'));
    const { handler } = await import('../../../lambdas/lifecycle/request-compute-quotas.js');
    await expect(handler(state('acme'))).resolves.toEqual({ requested: [], gpu: undefined });
    expect(sq.commandCalls(GetServiceQuotaCommand)).toHaveLength(0);
  });
});

describe('Process quota requests (daily): scales the GPU node group up once the quota is granted', async () => {
  const { handler, scaleUpExecutionName } = await import('../../../lambdas/lifecycle/process-quota-requests.js');
  const waiting = (tenantId: string) => records.set(tenantId, tenant({
    tenantId, tier: 'enterprise', isolation: 'account', accountId: '444444444444', status: 'ACTIVE', blueprintVersion: '1.0.0',
    gpuCapacity: { state: 'WAITING_FOR_QUOTA', instanceType: 'g5.2xlarge', quotaCode: G_AND_VT, appliedVcpus: 0, oneNodeVcpus: 8, minSize: 0, desiredSize: 0, checkedAt: '2026-11-29T00:00:00.000Z' },
  }));

  it('records READY and starts a change on the tenant\'s own tier and version, once a day', async () => {
    // GIVEN the G and VT request was approved (80 vCPUs)
    waiting('ent');
    applied({ [G_AND_VT]: 80 });
    // WHEN
    const out = await handler({});
    // THEN
    expect(out).toEqual({ started: ['ent'], waiting: [] });
    expect(records.get('ent')?.gpuCapacity).toMatchObject({ state: 'READY', appliedVcpus: 80, minSize: 1, desiredSize: 1 });
    const start = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start).toMatchObject({ stateMachineArn: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-change', name: scaleUpExecutionName('ent') });
    expect(JSON.parse(start.input!)).toEqual({ request: { tenantId: 'ent', requestId: scaleUpExecutionName('ent') }, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } });
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].DetailType).toBe('Tenant GPU Quota Approved');
  });

  it('takes an execution already started today as done', async () => {
    waiting('ent');
    applied({ [G_AND_VT]: 80 });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    await expect(handler({})).resolves.toEqual({ started: ['ent'], waiting: [] });
  });

  // Faults pass: READY was written before StartExecution; a StartExecution that failed (throttled past the SDK's
  // retries, refused) left the tenant READY with no change started, and the daily run takes WAITING_FOR_QUOTA tenants only:
  // the registry said the GPU node group could start while the stack kept it at 0, for good.
  it('puts a tenant whose scale-up change did not start back to waiting, for the next run', async () => {
    waiting('ent');
    applied({ [G_AND_VT]: 80 });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const out = await handler({});
    expect(out).toEqual({ started: [], waiting: ['ent'] });
    expect(records.get('ent')?.gpuCapacity).toMatchObject({ state: 'WAITING_FOR_QUOTA', appliedVcpus: 80, minSize: 0, desiredSize: 0 });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    // the next run starts it
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    await expect(handler({})).resolves.toEqual({ started: ['ent'], waiting: [] });
  });

  it('keeps waiting, noting the applied value, while the quota cannot hold one node; a tenant whose quota is unreadable waits too', async () => {
    waiting('ent');
    waiting('other');
    records.set('other', { ...records.get('other')!, accountId: '555555555555' });
    applied({ [G_AND_VT]: 4 });
    sts.on(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::555555555555:role/TesseraProvisioning' }).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const out = await handler({});
    expect(out).toEqual({ started: [], waiting: ['ent', 'other'] });
    expect(records.get('ent')?.gpuCapacity).toMatchObject({ state: 'WAITING_FOR_QUOTA', appliedVcpus: 4, minSize: 0 });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
