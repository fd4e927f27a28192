import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformClient } from '../../lambdas/shared/aws-clients.js';
import { getTenant, listTenants } from '../../lambdas/shared/registry.js';
import { upgradeItems } from '../../lambdas/lifecycle/list-tier-tenants.js';
import type { Definition } from './support/workflow-runner.js';
import { inject } from './support/faults.js';
import { onboardingRequest } from './support/admin-calls.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';
import { runTessera } from './support/tessera-cli.js';
import { tempDir } from '../support/temp-dirs.js';
import { configWithBusinessTier } from './support/business-tier.js';

/**
 * The lifecycle under requests that cross each other, and executions stopped by hand while a step's Lambda is still in
 * flight (s41h, hostile pass): a tier change racing a suspension, the requests a half-done offboarding meets, and
 * StopExecution of a suspension, a change and an offboarding whose in-flight Lambda then runs late (Step Functions does
 * not cancel a Lambda invocation it already made: API reference, StopExecution).
 */
const config = configWithBusinessTier();
const lifecycle = useLifecyclePlatform({ config });
const dir = tempDir('lifecycle-crossfire-');

/** The tenant stack's status, the tier its tags say and when it was last updated. */
async function stackOf(tenantId: string) {
  const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: `tessera-${tenantId}` }))).Stacks![0];
  return { status: stack.StackStatus, tier: stack.Tags?.find((t) => t.Key === 'tessera:tier')?.Value, updatedAt: stack.LastUpdatedTime?.toISOString() };
}
const { cleanups, api, settled, onboarded } = lifecycle;

/**
 * The tenant's record once the status-change rule (End stopped execution) has run for the stopped `executionArn`, as
 * EventBridge delivers it: the handler threw nothing, and the lease it ended is gone. Waits for that delivery, not on a
 * clock (the step in flight may still be held).
 */
async function ended(tenantId: string, executionArn: string): Promise<TenantRecord> {
  expect(await lifecycle.platform.statusChangeDelivered(executionArn)).toEqual([]);
  const record = (await getTenant(tenantId))!;
  expect(record.lease, JSON.stringify(record).slice(0, 2000)).toBeUndefined();
  return record;
}

const events = async (tenantId: string) => (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === tenantId);

/** Fails the first `times` calls of `command` whose input matches, with a terminal error named `name`. */
function failing(command: string, matches: (input: Record<string, any>) => boolean, name = 'AccessDeniedException', times = Infinity): void {
  let thrown = 0;
  cleanups.push(inject(`fail-${command}-${Math.random()}`, (next, context) => async (args) => {
    if (context.commandName === command && thrown < times && matches(args.input)) {
      thrown += 1;
      throw Object.assign(new Error(`injected: ${command} refused`), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    return next(args);
  }));
}

/**
 * Holds the handler `handler` for `tenantId` before it runs (its Lambda invoked, not yet run): `reached` resolves when it
 * is held, `release()` lets it run, and `ran` resolves (or rejects) with what it did then.
 */
function holdStep(handler: string, tenantId: string) {
  let release!: () => void;
  let reachedIt!: () => void;
  let ranIt!: (v: PromiseSettledResult<unknown>) => void;
  const gate = new Promise<void>((r) => (release = r));
  const reached = new Promise<void>((r) => (reachedIt = r));
  const ran = new Promise<PromiseSettledResult<unknown>>((r) => (ranIt = r));
  let held = false;
  lifecycle.platform.workflows.wrap = (name, h) => async (event: any) => {
    if (name !== handler || held || (event.request?.tenantId ?? event.tenantId) !== tenantId) return h(event);
    held = true;
    reachedIt();
    await gate;
    try {
      const value = await h(event);
      ranIt({ status: 'fulfilled', value });
      return value;
    } catch (e) {
      ranIt({ status: 'rejected', reason: e });
      throw e;
    }
  };
  return { reached, release, ran };
}

/** Offboards `tenantId` once a test is done with it: a professional tenant's NAT gateways back, for the tests after it (as lifecycle-hostile does). */
async function offboarded(tenantId: string): Promise<void> {
  const gone = await api('DELETE', `/admin/tenants/${tenantId}`, { reason: 'crossfire test done' });
  expect(gone.status, JSON.stringify(gone.body)).toBe(202);
  expect((await settled(gone.body.executionArn)).status).toBe('SUCCEEDED');
}

const stop = (executionArn: string) => platformClient(SFNClient).send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand' }));

describe('requests that cross', () => {
  it('a tier change and a suspension sent at once: one starts, the other is 409 operation_in_progress naming it; the tenant ends as the one that ran says, and the other sent again then runs', async () => {
    await onboarded('initech', 'professional');
    const [change, suspend] = await Promise.all([
      api('PATCH', '/admin/tenants/initech', { tier: 'business' }),
      api('POST', '/admin/tenants/initech/suspend'),
    ]);
    expect([change.status, suspend.status].sort()).toEqual([202, 409]);
    const [won, lost] = change.status === 202 ? [change, suspend] : [suspend, change];
    expect(lost.body).toMatchObject({ error: { code: 'operation_in_progress' }, operation: { executionArn: won.body.executionArn } });
    expect((await settled(won.body.executionArn)).status).toBe('SUCCEEDED');
    const after = (await getTenant('initech'))!;
    expect(after.lease).toBeUndefined();
    expect(after).toMatchObject(change === won ? { status: 'ACTIVE', tier: 'business' } : { status: 'SUSPENDED', tier: 'professional' });
    // The suspension sent again runs from ACTIVE; a change of a SUSPENDED tenant is refused for its status.
    if (change === won) {
      const again = await api('POST', '/admin/tenants/initech/suspend');
      expect(again.status).toBe(202);
      expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
      expect(await getTenant('initech')).toMatchObject({ status: 'SUSPENDED', tier: 'business' });
    } else {
      const again = await api('PATCH', '/admin/tenants/initech', { tier: 'business' });
      expect(again).toMatchObject({ status: 409, body: { error: { code: 'invalid_status' } } });
    }
    await offboarded('initech');
  });

  it('two platform engineers apply different files at once: each tenant gets one onboarding, the loser of each race is told who holds it (exit 1), and the registry says what ran', async () => {
    await onboarded('massive', 'professional');
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, 'tenants:\n  - { tenantId: massive, name: massive Inc., tier: business, adminEmail: admin@massive.example.com }\n  - { tenantId: sterling, name: Sterling, tier: starter, adminEmail: ops@sterling.example.com }\n');
    writeFileSync(b, 'tenants:\n  - { tenantId: massive, name: massive Inc., tier: professional, adminEmail: admin@massive.example.com }\n  - { tenantId: sterling, name: Sterling Cooper, tier: professional, adminEmail: ops@sterling.example.com }\n');
    const [ra, rb] = await Promise.all([runTessera(lifecycle.platform.apiUrl, 'tenants', 'apply', '-f', a), runTessera(lifecycle.platform.apiUrl, 'tenants', 'apply', '-f', b)]);
    const onboardings = [...lifecycle.platform.executions.keys()].filter((k) => k.includes(':onboard-sterling-'));
    expect(onboardings, `${ra.stdout}${ra.stderr}\n${rb.stdout}${rb.stderr}`).toHaveLength(1);
    // one of the two got sterling's onboarding; the other, exit 1, was refused naming it (409) or, when its plan read the
    // registry after the winner registered sterling, planned nothing for it: the tenant is mid-onboarding under another tier
    const [won, lost] = ra.stdout.includes('sterling: onboarding started') ? [ra, rb] : [rb, ra];
    expect(won.stdout).toContain('sterling: onboarding started');
    expect(lost.code, `${lost.stdout}${lost.stderr}`).toBe(1);
    expect(`${lost.stdout}${lost.stderr}`).toMatch(/sterling.*(409|already registered|tenant_exists)|tenant sterling is (REQUESTED|PROVISIONING)/s);
    for (const arn of [...lifecycle.platform.executions.keys()].filter((k) => k.includes('-massive-') || k.includes('-sterling-'))) await settled(arn);
    const sterling = (await getTenant('sterling'))!;
    expect(sterling).toMatchObject({ status: 'ACTIVE', tier: won === ra ? 'starter' : 'professional' });
    const massive = (await getTenant('massive'))!;
    expect(massive.lease).toBeUndefined();
    expect(await stackOf('massive')).toMatchObject({ tier: massive.tier });
    await offboarded('massive');
    await offboarded('sterling');
  });

  it('an offboarding failed half-way: resume, suspend, a repair and a retry with corrections are refused naming OFFBOARDING; the onboarding request replayed starts nothing; DELETE resumes it', async () => {
    await onboarded('vandelay', 'starter');
    failing('CreateDBSnapshotCommand', () => true, 'AccessDeniedException', 1);
    const first = await api('DELETE', '/admin/tenants/vandelay');
    expect((await settled(first.body.executionArn)).status).toBe('FAILED');
    const halfway = (await getTenant('vandelay'))!;
    expect(halfway).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'offboard' } });
    expect(halfway.lease).toBeUndefined();

    const resume = await api('POST', '/admin/tenants/vandelay/resume');
    expect(resume).toMatchObject({ status: 409, body: { error: { code: 'invalid_status', message: expect.stringContaining('OFFBOARDING') } } });
    const suspend = await api('POST', '/admin/tenants/vandelay/suspend');
    expect(suspend).toMatchObject({ status: 409, body: { error: { code: 'invalid_status', message: expect.stringContaining('OFFBOARDING') } } });
    const change = await api('PATCH', '/admin/tenants/vandelay', { repair: true });
    expect(change).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('OFFBOARDING') } } });
    const corrected = await api('POST', '/admin/tenants/vandelay/retry', { name: 'Vandelay Industries' });
    expect(corrected.status).toBe(400);
    const replay = await api('POST', '/admin/tenants', onboardingRequest('vandelay', 'starter'));
    expect(replay).toMatchObject({ status: 200, body: { status: 'OFFBOARDING' } });
    expect(replay.body.executionArn).toBeUndefined();
    expect(await getTenant('vandelay')).toEqual(halfway);

    const again = await api('DELETE', '/admin/tenants/vandelay');
    expect(again.status).toBe(202);
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('vandelay')).toMatchObject({ status: 'OFFBOARDED' });
  });
});

describe('StopExecution while a step\'s Lambda is in flight (it runs late, after the stop was recorded)', () => {
  it('a suspension: ACTIVE with the failure, its entry FAILED; the late Set status suspends nothing and announces nothing; a new suspension runs', async () => {
    await onboarded('kramerica', 'starter');
    const held = holdStep('set-status', 'kramerica');
    const suspend = await api('POST', '/admin/tenants/kramerica/suspend');
    expect(suspend.status).toBe(202);
    await held.reached;
    await stop(suspend.body.executionArn);
    const stopped = await ended('kramerica', suspend.body.executionArn);
    // its failure names the step it was at (the admin API's lease write records it), not the step the onboarding left, or `unknown`
    expect(stopped).toMatchObject({ status: 'ACTIVE', failure: { kind: 'suspend', step: 'Set status' } });
    held.release();
    const late = await held.ran;
    expect(late.status).toBe('rejected');
    const after = (await getTenant('kramerica'))!;
    expect(after).toMatchObject({ status: 'ACTIVE' });
    expect(after.lease).toBeUndefined();
    expect(after.executions.find((e) => e.executionArn === suspend.body.executionArn)).toMatchObject({ status: 'FAILED' });
    expect((await events('kramerica')).map((e) => e.detailType)).not.toContain('Tenant Suspended');
    const again = await api('POST', '/admin/tenants/kramerica/suspend');
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('kramerica')).toMatchObject({ status: 'SUSPENDED' });
  });

  it('a tier change stopped while Begin change is in flight: ACTIVE on its tier; the late Begin change takes no lease back; a change then runs', async () => {
    await onboarded('pendant', 'professional');
    const held = holdStep('begin-change', 'pendant');
    const change = await api('PATCH', '/admin/tenants/pendant', { tier: 'business' });
    expect(change.status).toBe(202);
    await held.reached;
    await stop(change.body.executionArn);
    await ended('pendant', change.body.executionArn);
    held.release();
    await held.ran;
    const after = (await getTenant('pendant'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', failure: { kind: 'change' } });
    expect(after.lease).toBeUndefined();
    const again = await api('PATCH', '/admin/tenants/pendant', { tier: 'business' });
    expect(again.status).toBe(202);
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('pendant')).toMatchObject({ status: 'ACTIVE', tier: 'business' });
    await offboarded('pendant');
  });

  it('a tier change stopped while Deploy blueprint is in flight: the late Deploy blueprint updates no stack; the registry and the stack agree on professional', async () => {
    await onboarded('sabre', 'professional');
    const before = await stackOf('sabre');
    expect(before.tier).toBe('professional');
    const held = holdStep('deploy-blueprint', 'sabre');
    const change = await api('PATCH', '/admin/tenants/sabre', { tier: 'business' });
    expect(change.status).toBe(202);
    await held.reached;
    await stop(change.body.executionArn);
    await ended('sabre', change.body.executionArn);
    held.release();
    const late = await held.ran;
    expect(late.status).toBe('rejected');
    const after = (await getTenant('sabre'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', failure: { kind: 'change' } });
    expect(await stackOf('sabre')).toEqual(before);
    await offboarded('sabre');
  });

  it('an offboarding stopped before it changed anything (at Check rebuilt stack): the tenant gets back the status it had (ACTIVE, served; SUSPENDED, resumable), as a refusal there gives it; the failure says where it stopped', async () => {
    await onboarded('bluth', 'starter');
    const held = holdStep('check-rebuilt-stack', 'bluth');
    const off = await api('DELETE', '/admin/tenants/bluth');
    expect(off.status).toBe(202);
    await held.reached;
    await stop(off.body.executionArn);
    const stopped = await ended('bluth', off.body.executionArn);
    held.release();
    await held.ran;
    expect(stopped).toMatchObject({ status: 'ACTIVE', failure: { kind: 'offboard', step: 'Check rebuilt stack', reason: expect.stringMatching(/ABORTED/) } });
    expect(stopped.executions.find((e) => e.executionArn === off.body.executionArn)).toMatchObject({ status: 'FAILED', failedStep: 'Check rebuilt stack' });
    expect((await events('bluth')).filter((e) => e.detailType === 'Tenant Lifecycle Failed').at(-1)?.detail).toMatchObject({ kind: 'offboard', status: 'ACTIVE' });
    expect(await getTenant('bluth')).toEqual(stopped);
    // nothing was revoked: a suspension, and its resumption, run as for any ACTIVE tenant
    const suspend = await api('POST', '/admin/tenants/bluth/suspend');
    expect((await settled(suspend.body.executionArn)).status).toBe('SUCCEEDED');
    // AND from SUSPENDED, an offboarding stopped before it ran a step (its first Lambda not started): SUSPENDED again, resumable
    const heldAgain = holdStep('check-rebuilt-stack', 'bluth');
    const offAgain = await api('DELETE', '/admin/tenants/bluth');
    await heldAgain.reached;
    await stop(offAgain.body.executionArn);
    expect(await ended('bluth', offAgain.body.executionArn)).toMatchObject({ status: 'SUSPENDED', failure: { kind: 'offboard' } });
    heldAgain.release();
    await heldAgain.ran;
    const resume = await api('POST', '/admin/tenants/bluth/resume');
    expect(resume.status).toBe(202);
    expect((await settled(resume.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('bluth')).toMatchObject({ status: 'ACTIVE' });
  });

  it('an offboarding stopped while Export tenant data is in flight: OFFBOARDING with the failure; the late export writes nothing over it; resume is refused; DELETE finishes it', async () => {
    await onboarded('pennypacker', 'starter');
    const held = holdStep('export-tenant-data', 'pennypacker');
    const off = await api('DELETE', '/admin/tenants/pennypacker');
    expect(off.status).toBe(202);
    await held.reached;
    await stop(off.body.executionArn);
    const stopped = await ended('pennypacker', off.body.executionArn);
    expect(stopped).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'offboard' } });
    held.release();
    await held.ran;
    const after = (await getTenant('pennypacker'))!;
    expect(after).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'offboard' } });
    expect(after.lease).toBeUndefined();
    expect(await api('POST', '/admin/tenants/pennypacker/resume')).toMatchObject({ status: 409 });
    const again = await api('DELETE', '/admin/tenants/pennypacker');
    expect(again.status).toBe(202);
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('pennypacker')).toMatchObject({ status: 'OFFBOARDED' });
  });
});

describe('a rolling upgrade\'s run of a tenant another operation holds (an offboarding, a repair)', () => {
  // The upgrade's per-tenant child: the synthesized Distributed Map's ItemProcessor (the local runner reads no items from S3).
  let item: Definition;
  beforeAll(() => {
    const { ProcessorConfig: _c, ...processor } = (lifecycle.platform.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    item = processor;
  });
  const childArn = (upgrade: string, tenantId: string) => `arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/${upgrade}:${tenantId}`;

  it('the run meets the offboarding running: skipped at once (not waited for), SUCCEEDED; the offboarding ends OFFBOARDED with no lease', async () => {
    await onboarded('dwight', 'professional');
    const [listed] = upgradeItems(await listTenants({ tier: 'professional' }), { tier: 'professional', blueprintVersion: '2.0.0', requestId: 'upgrade-pro-41' }).filter((i) => i.request.tenantId === 'dwight');
    const held = holdStep('export-tenant-data', 'dwight');
    const off = await api('DELETE', '/admin/tenants/dwight');
    expect(off.status).toBe(202);
    await held.reached;
    const child = await lifecycle.platform.workflows.run(item, listed, { executionArn: childArn('upgrade-pro-41', 'dwight') });
    expect(child.status).toBe('SUCCEEDED');
    expect(child.output).toMatchObject({ tenantId: 'dwight', skipped: true, reason: expect.stringContaining('OFFBOARDING') });
    expect((await getTenant('dwight'))!.lease).toMatchObject({ kind: 'offboard', executionArn: off.body.executionArn });
    held.release();
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    const after = (await getTenant('dwight'))!;
    expect(after).toMatchObject({ status: 'OFFBOARDED' });
    expect(after.lease).toBeUndefined();
    expect(after.failure).toBeUndefined();
  });

  it('a run queued behind a repair, whose change set is then refused (it would replace the database): the repair stands, the run is refused for that tenant only (SUCCEEDED, refused), ACTIVE on its version, no lease, the stack as the repair left it', async () => {
    const before = await onboarded('oscar', 'professional');
    const [listed] = upgradeItems(await listTenants({ tier: 'professional' }), { tier: 'professional', blueprintVersion: '2.0.0', requestId: 'upgrade-pro-43' }).filter((i) => i.request.tenantId === 'oscar');
    // The change set of the upgrade's run (the execution holding the tenant when it is read) would replace the database; the repair's would not.
    const executionArn = childArn('upgrade-pro-43', 'oscar');
    cleanups.push(inject('replace-database-oscar', (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'DescribeChangeSetCommand' || args.input.StackName !== 'tessera-oscar') return result;
      if ((await getTenant('oscar'))?.lease?.executionArn !== executionArn) return result;
      result.output.Changes = [...(result.output.Changes ?? []), { Type: 'Resource', ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'Database', PhysicalResourceId: 'db-1', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'True',
        Details: [{ Target: { Attribute: 'Properties', Name: 'DBInstanceIdentifier', RequiresRecreation: 'Always' } }],
      } }];
      return result;
    }));
    const held = holdStep('deploy-blueprint', 'oscar');
    const repair = await api('PATCH', '/admin/tenants/oscar', { repair: true });
    expect(repair.status).toBe(202);
    await held.reached;
    const run = lifecycle.platform.workflows.run(item, listed, { executionArn });
    // the run waits for the lease while the repair holds it
    expect(await api('GET', '/admin/tenants/oscar')).toMatchObject({ status: 200, body: { lease: { kind: 'change', executionArn: repair.body.executionArn } } });
    held.release();
    expect((await settled(repair.body.executionArn)).status).toBe('SUCCEEDED');
    const repaired = await stackOf('oscar');
    const child = await run;
    // a refusal does not count against the upgrade's tolerance: the child succeeds saying it was refused (lifecycle-workflows.ts refusal)
    expect(child.status, JSON.stringify(child).slice(0, 1500)).toBe('SUCCEEDED');
    expect(child.output).toMatchObject({ tenantId: 'oscar', refused: true, refusal: { status: 'ACTIVE', step: 'Deploy blueprint', reason: expect.stringMatching(/^ChangeRefused: .*Database \(AWS::RDS::DBInstance\)/) } });
    const after = (await getTenant('oscar'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: before.blueprintVersion, failure: { kind: 'upgrade', executionArn } });
    expect(after.lease).toBeUndefined();
    expect(after.executions.find((e) => e.executionArn === repair.body.executionArn)).toMatchObject({ status: 'SUCCEEDED' });
    expect(after.executions.find((e) => e.executionArn === executionArn)).toMatchObject({ kind: 'upgrade', status: 'FAILED' });
    expect(await stackOf('oscar')).toEqual(repaired);
    await offboarded('oscar');
  });

  it('DELETE while the run holds the tenant: 409 operation_in_progress naming the upgrade\'s run; once it ended, DELETE offboards', async () => {
    await onboarded('creed', 'professional');
    const [listed] = upgradeItems(await listTenants({ tier: 'professional' }), { tier: 'professional', blueprintVersion: '2.0.0', requestId: 'upgrade-pro-42' }).filter((i) => i.request.tenantId === 'creed');
    const held = holdStep('deploy-blueprint', 'creed');
    const executionArn = childArn('upgrade-pro-42', 'creed');
    const run = lifecycle.platform.workflows.run(item, listed, { executionArn });
    await held.reached;
    const early = await api('DELETE', '/admin/tenants/creed');
    expect(early).toMatchObject({ status: 409, body: { error: { code: 'operation_in_progress' }, operation: { kind: 'upgrade', executionArn } } });
    held.release();
    const child = await run;
    expect(child.status, JSON.stringify(child.output ?? child).slice(0, 1500)).toBe('SUCCEEDED');
    expect(await getTenant('creed')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0' });
    const off = await api('DELETE', '/admin/tenants/creed');
    expect(off.status).toBe(202);
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('creed')).toMatchObject({ status: 'OFFBOARDED' });
  });
});
