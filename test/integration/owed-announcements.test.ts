import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { inject } from './support/faults.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';

/**
 * Announcements owed after a completed operation (lambdas/lifecycle/announcements.ts): PutEvents
 * failing after the registry write that completes a change or an offboarding (found by the hostile
 * lc, s12: Tenant Changed was never sent, and the history said FAILED for a change that took effect).
 */
const lifecycle = useLifecyclePlatform();
const { cleanups, api, settled, onboarded } = lifecycle;
const events = async (tenantId: string) => (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === tenantId);
function failing(command: string, matches: (input: Record<string, any>) => boolean, name = 'AccessDeniedException', times = Infinity) {
  let thrown = 0;
  const removed = inject(`fail-${command}-${Math.random()}`, (next, context) => async (args) => {
    if (context.commandName === command && thrown < times && matches(args.input)) {
      thrown += 1;
      throw Object.assign(new Error(`injected: ${command} refused`), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    return next(args);
  });
  cleanups.push(removed);
  return { removed };
}

describe('owed announcements', () => {
  it('a tier change whose Tenant Changed fails after its last write: the history says SUCCEEDED and names the owed announcement, no Tenant Lifecycle Failed, and tessera tenants retry sends Tenant Changed once', async () => {
    await onboarded('umbrella', 'professional');
    // GIVEN the bus refuses Tenant Changed for umbrella (Tenant Lifecycle Failed would still go out)
    const outage = failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Changed' && JSON.parse(input.Entries[0].Detail).tenantId === 'umbrella');
    // WHEN it is moved to business
    const change = await api('PATCH', '/admin/tenants/umbrella', { tier: 'business' });
    expect(change.status).toBe(202);
    await settled(change.body.executionArn);
    // THEN the change stands, the history says SUCCEEDED with the announcement owed
    const record = (await getTenant('umbrella'))!;
    expect(record).toMatchObject({ tier: 'business', status: 'ACTIVE' });
    expect(record.lease).toBeUndefined();
    expect(record.executions.at(-1)).toMatchObject({ kind: 'change', status: 'SUCCEEDED', reason: expect.stringMatching(/change took effect; its announcement Tenant Changed was not sent.*injected/) });
    expect(record.owedAnnouncements).toMatchObject([{ detailType: 'Tenant Changed', detail: { tier: 'business', previousTier: 'professional' } }]);
    expect((await events('umbrella')).map((e) => e.detailType)).not.toContain('Tenant Lifecycle Failed');
    // WHEN the bus is back and the operator runs the documented command
    outage.removed();
    const retry = await api('POST', '/admin/tenants/umbrella/retry', {});
    expect(retry).toMatchObject({ status: 200, body: { announced: ['Tenant Changed'] } });
    // THEN Tenant Changed went out exactly once, and nothing is owed any more
    const changed = (await events('umbrella')).filter((e) => e.detailType === 'Tenant Changed');
    expect(changed).toHaveLength(1);
    expect(changed[0].detail).toMatchObject({ tier: 'business', previousTier: 'professional', executionArn: change.body.executionArn });
    expect((await getTenant('umbrella'))!.owedAnnouncements).toBeUndefined();
  });

  it('a Tenant Changed refused once is sent by the step\'s own retry (Step Functions retries a throttled PutEvents): nothing stays owed', async () => {
    await onboarded('soylent', 'professional');
    failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Changed' && JSON.parse(input.Entries[0].Detail).tenantId === 'soylent', 'ThrottlingException', 4);
    const change = await api('PATCH', '/admin/tenants/soylent', { tier: 'business' });
    expect((await settled(change.body.executionArn)).status).toBe('SUCCEEDED');
    const record = (await getTenant('soylent'))!;
    expect(record.owedAnnouncements).toBeUndefined();
    expect((await events('soylent')).filter((e) => e.detailType === 'Tenant Changed')).toHaveLength(1);
  });

  it('a suspension whose Tenant Suspended was refused once, resumed before Set status\'s retry: the resume sends it; the retry announces nothing more (no Tenant Suspended after Tenant Resumed, none saying ACTIVE)', async () => {
    await onboarded('hanso', 'starter');
    // GIVEN the bus throttles hanso's first Tenant Suspended (Set status's own Retry runs it again)
    failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Suspended' && JSON.parse(input.Entries[0].Detail).tenantId === 'hanso', 'ThrottlingException', 1);
    // AND that retry is held until the tenant was resumed (Step Functions waits out its backoff; an operator is faster)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reachedRetry!: () => void;
    const retrying = new Promise<void>((r) => (reachedRetry = r));
    cleanups.push(() => release());
    let runs = 0;
    lifecycle.platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (name !== 'set-status' || event.action !== 'suspend' || event.request?.tenantId !== 'hanso') return handler(event);
      runs += 1;
      if (runs === 2) {
        reachedRetry();
        await gate;
      }
      return handler(event);
    };
    const suspend = await api('POST', '/admin/tenants/hanso/suspend');
    expect(suspend.status).toBe(202);
    await retrying;
    // THEN the suspension took effect (lease released), its announcement owed
    const suspended = (await getTenant('hanso'))!;
    expect(suspended).toMatchObject({ status: 'SUSPENDED', owedAnnouncements: [{ detailType: 'Tenant Suspended', executionArn: suspend.body.executionArn }] });
    expect(suspended.lease).toBeUndefined();
    // WHEN the tenant is resumed meanwhile: its Set status sends what is owed, oldest first
    const resume = await api('POST', '/admin/tenants/hanso/resume');
    expect(resume.status, JSON.stringify(resume.body)).toBe(202);
    expect((await settled(resume.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await events('hanso')).filter((e) => /^Tenant (Suspended|Resumed)$/.test(e.detailType)).map((e) => [e.detailType, e.detail.status])).toEqual([['Tenant Suspended', 'SUSPENDED'], ['Tenant Resumed', 'ACTIVE']]);
    // AND the suspension's Set status then runs its retry
    release();
    expect((await settled(suspend.body.executionArn)).status).toBe('SUCCEEDED');
    expect(runs).toBe(2);
    // THEN nothing more was announced: before, the retry sent a second Tenant Suspended, after Tenant Resumed, saying ACTIVE
    expect((await events('hanso')).filter((e) => /^Tenant (Suspended|Resumed)$/.test(e.detailType)).map((e) => [e.detailType, e.detail.status])).toEqual([['Tenant Suspended', 'SUSPENDED'], ['Tenant Resumed', 'ACTIVE']]);
    const after = (await getTenant('hanso'))!;
    expect(after).toMatchObject({ status: 'ACTIVE' });
    expect(after.owedAnnouncements).toBeUndefined();
    expect(after.executions.filter((e) => e.executionArn === suspend.body.executionArn || e.executionArn === resume.body.executionArn).map((e) => [e.kind, e.status])).toEqual([['suspend', 'SUCCEEDED'], ['resume', 'SUCCEEDED']]);
  });

  it('a change that fails while the bus refuses Tenant Lifecycle Failed for good: the failure is recorded with its announcement owed (was: lost), and tessera tenants retry sends it once', async () => {
    await onboarded('tyrell', 'professional');
    // GIVEN the bus refuses Tenant Lifecycle Failed for tyrell, past every retry, and the change's change set is refused
    const outage = failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Lifecycle Failed' && JSON.parse(input.Entries[0].Detail).tenantId === 'tyrell');
    failing('CreateChangeSetCommand', (input) => input.StackName === 'tessera-tyrell');
    // WHEN it is moved to business
    const change = await api('PATCH', '/admin/tenants/tyrell', { tier: 'business' });
    expect(change.status).toBe(202);
    expect((await settled(change.body.executionArn)).status).toBe('FAILED');
    // THEN the registry holds the failure and the announcement of it, owed
    const record = (await getTenant('tyrell'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'professional', failure: { kind: 'change', executionArn: change.body.executionArn } });
    expect(record.lease).toBeUndefined();
    expect(record.owedAnnouncements).toMatchObject([{ detailType: 'Tenant Lifecycle Failed', executionArn: change.body.executionArn,
      detail: { tenantId: 'tyrell', kind: 'change', status: 'ACTIVE', executionArn: change.body.executionArn, reason: expect.stringContaining('injected: CreateChangeSetCommand refused') }, error: expect.stringContaining('injected: PutEventsCommand refused') }]);
    expect((await events('tyrell')).map((e) => e.detailType)).not.toContain('Tenant Lifecycle Failed');
    // WHEN the bus is back and the operator runs the documented command
    outage.removed();
    expect(await api('POST', '/admin/tenants/tyrell/retry', {})).toMatchObject({ status: 200, body: { status: 'ACTIVE', announced: ['Tenant Lifecycle Failed'] } });
    // THEN it went out once, as recorded, and nothing is owed any more
    const failed = (await events('tyrell')).filter((e) => e.detailType === 'Tenant Lifecycle Failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].detail).toMatchObject({ kind: 'change', step: record.failure!.step, executionArn: change.body.executionArn, status: 'ACTIVE' });
    expect((await getTenant('tyrell'))!.owedAnnouncements).toBeUndefined();
  });

  it('an offboarding whose Tenant Offboarded fails after its last write: OFFBOARDED, the announcement owed, and tessera tenants retry sends it', async () => {
    await onboarded('cyberdyne', 'starter');
    const outage = failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Offboarded' && JSON.parse(input.Entries[0].Detail).tenantId === 'cyberdyne');
    const off = await api('DELETE', '/admin/tenants/cyberdyne');
    await settled(off.body.executionArn);
    const record = (await getTenant('cyberdyne'))!;
    expect(record.status).toBe('OFFBOARDED');
    expect(record.executions.at(-1)).toMatchObject({ kind: 'offboard', status: 'SUCCEEDED', reason: expect.stringMatching(/Tenant Offboarded was not sent/) });
    expect(record.owedAnnouncements?.map((a) => a.detailType)).toEqual(['Tenant Offboarded']);
    outage.removed();
    expect(await api('POST', '/admin/tenants/cyberdyne/retry', {})).toMatchObject({ status: 200, body: { status: 'OFFBOARDED', announced: ['Tenant Offboarded'] } });
    expect((await events('cyberdyne')).filter((e) => e.detailType === 'Tenant Offboarded')).toHaveLength(1);
  });
});
