import { APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListAccountsCommand, ListParentsCommand, ListPoliciesForTargetCommand, OrganizationsClient, DescribeOrganizationalUnitCommand } from '@aws-sdk/client-organizations';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformClient } from '../../lambdas/shared/aws-clients.js';
import { closures, slotHolders } from '../../lambdas/shared/control-table.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { inject } from './support/faults.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';
import { onboardingRequest } from './support/admin-calls.js';

/**
 * The lifecycle under conflicting requests, replays and faults (issue 10), through the admin API
 * and Step Functions as the harness serves them with AWS's rules: execution names stay taken 90
 * days, Organizations refuses a second account for an email and creates accounts asynchronously
 * (held here until released), CloudFormation honours ClientRequestToken. Stopped executions reach
 * the end-stopped-execution handler as EventBridge would deliver their status change.
 */

// `business`: professional's network under another name (business-tier.ts): a change between the two keeps the tenant's VPC.
const config = configWithBusinessTier();
const lifecycle = useLifecyclePlatform({
  config,
  // Across every execution of this file: the registry never reports success for a failed execution
  // (an execution whose operation took effect and only its announcement failed now ends SUCCEEDED itself, as recorded;
  // the exception below stays for an execution stopped or timed out after that write).
  beforeStop: async (platform) => {
    for (const execution of platform.executions.values()) {
      if (execution.status === 'SUCCEEDED') continue;
      const tenantId = tenantOf(execution.input);
      const record = tenantId ? await getTenant(tenantId) : undefined;
      const entry = record?.executions.find((e) => e.executionArn === execution.executionArn);
      if (entry?.status === 'SUCCEEDED' && /took effect; its announcement .* was not sent/.test(entry.reason ?? '')) continue;
      expect(entry?.status, `${execution.executionArn} ended ${execution.status}`).not.toBe('SUCCEEDED');
      expect(record?.lease?.executionArn, `${execution.executionArn} ended ${execution.status} but holds the lease`).not.toBe(execution.executionArn);
    }
  },
});
const { cleanups, api, settled, onboarded } = lifecycle;

const tenantOf = (input: string) => {
  const parsed = JSON.parse(input) as { tenantId?: string; request?: { tenantId?: string } };
  return parsed.request?.tenantId ?? parsed.tenantId;
};

const onboarding = onboardingRequest;

/** Waits until `check` holds for the tenant's record (the workflows run in this process). */
async function until(tenantId: string, check: (r: TenantRecord | undefined) => boolean, what: string): Promise<TenantRecord> {
  for (let i = 0; i < 600; i++) {
    const record = await getTenant(tenantId);
    if (check(record)) return record!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tenant ${tenantId} never reached: ${what}`);
}

const events = async (tenantId: string) => (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === tenantId);
const orgs = () => new OrganizationsClient({ credentials: lifecycle.platform.fixture.management });
const quarantined = async (accountId: string) =>
  ((await orgs().send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies ?? []).some((p) => p.Name === 'tessera-quarantine');

/** The API Gateway keys named as Tessera names a tenant's usage key. */
const apiKeysOf = async (tenantId: string) => ((await new APIGatewayClient({ credentials: lifecycle.platform.fixture.platform }).send(new GetApiKeysCommand({ nameQuery: `tessera-${tenantId}`, limit: 500 }))).items ?? [])
  .filter((k) => k.name === `tessera-${tenantId}`).map((k) => k.id);

/** Runs the real `tessera` CLI against the local admin API. */
function tessera(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs'), ...args], {
      env: { ...process.env, TESSERA_API_URL: lifecycle.platform.apiUrl, AWS_ACCESS_KEY_ID: 'cli', AWS_SECRET_ACCESS_KEY: 'cli', AWS_SESSION_TOKEN: '', AWS_REGION: 'us-east-1' },
    }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** Resolves when the middleware says the execution is held (`held`); fails at once, naming `where`, if the execution ends before. */
async function heldOrEnded(held: Promise<void>, executionArn: string, where: string): Promise<void> {
  const ended = settled(executionArn).then((e) => { throw new Error(`${executionArn} ended ${e.status} before it reached ${where}`); });
  await Promise.race([held, ended]);
}

/** Fails the first `times` calls of `command` whose input matches, with a terminal error named `name`. */
function failing(command: string, matches: (input: Record<string, any>) => boolean, name = 'AccessDeniedException', times = Infinity): { removed: () => void } {
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

describe('one operation per tenant', () => {
  it('refuses an offboarding while the onboarding waits on CreateAccount; the record stays PROVISIONING, then the onboarding finishes', async () => {
    // GIVEN an account-mode onboarding waiting on Organizations
    lifecycle.platform.fixture.organizations.hold();
    const start = await api('POST', '/admin/tenants', onboarding('waystar', 'enterprise'));
    expect(start.status).toBe(202);
    const waiting = await until('waystar', (r) => Boolean(r?.createAccountRequestId), 'a CreateAccount request');
    expect(waiting).toMatchObject({ status: 'PROVISIONING', lease: { kind: 'onboard', executionArn: start.body.executionArn } });

    // WHEN an offboarding is requested through the API, and started directly (console, StartExecution)
    const viaApi = await api('DELETE', '/admin/tenants/waystar');
    const direct = await lifecycle.platform.startExecution('offboard', { request: { tenantId: 'waystar', requestId: 'console-offboard-1' } });
    const directEnd = await settled(direct.executionArn);

    // THEN both are refused, naming the running onboarding; the record still says PROVISIONING under the onboarding's lease
    expect(viaApi.status).toBe(409);
    expect(viaApi.body).toMatchObject({ error: { code: 'operation_in_progress' }, operation: { kind: 'onboard', executionArn: start.body.executionArn } });
    expect(directEnd.status).toBe('FAILED');
    expect(directEnd.error).toBe('TenantBusy');
    const during = (await getTenant('waystar'))!;
    expect(during).toMatchObject({ status: 'PROVISIONING', lease: { executionArn: start.body.executionArn } });
    expect(during.executions.map((e) => e.executionArn)).not.toContain(direct.executionArn);
    expect((await events('waystar')).find((e) => e.detail.executionArn === direct.executionArn)?.detail).toMatchObject({ refused: true, kind: 'offboard' });
    // the direct one's refusal is in the record too (lastRefusal alone: s36b; before, on the bus only), written without
    // the lease and without touching updatedAt, so the onboarding's guarded writes go on (and keep it: below)
    expect(during.lastRefusal).toEqual({ kind: 'offboard', requestId: 'console-offboard-1', executionArn: direct.executionArn, step: 'Begin offboarding', reason: expect.stringMatching(/^TenantBusy: /), at: expect.any(String) });

    // AND the onboarding finishes once Organizations does
    await lifecycle.platform.fixture.organizations.release();
    expect((await settled(start.body.executionArn)).status).toBe('SUCCEEDED');
    const active = (await getTenant('waystar'))!;
    expect(active.status).toBe('ACTIVE');
    expect(active.lease).toBeUndefined();
    expect(active.lastRefusal).toEqual(during.lastRefusal);
    expect(await quarantined(active.accountId!)).toBe(false);
  });

  it('refuses a second tier change while the first runs: UPDATING until it ends, then the stack, the registry and the events agree', async () => {
    // GIVEN an ACTIVE professional tenant, and a first change held at its stack deployment
    await onboarded('pied-piper', 'professional');
    let releaseDeploy!: () => void;
    const deployHeld = new Promise<void>((r) => (releaseDeploy = r));
    lifecycle.platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (name === 'deploy-blueprint' && event.blueprint === 'tenant' && event.request?.tenantId === 'pied-piper') await deployHeld;
      return handler(event);
    };
    const first = await api('PATCH', '/admin/tenants/pied-piper', { tier: 'business' });
    expect(first.status).toBe(202);

    // WHEN a second change is requested, through the API and directly
    const second = await api('PATCH', '/admin/tenants/pied-piper', { tier: 'professional', blueprintVersion: '2.0.0' });
    const direct = await lifecycle.platform.startExecution('change', { request: { tenantId: 'pied-piper', requestId: 'console-change-1' }, change: { blueprintVersion: '2.0.0' } });
    const directEnd = await settled(direct.executionArn);
    const during = (await getTenant('pied-piper'))!;
    releaseDeploy();
    const firstEnd = await settled(first.body.executionArn);

    // THEN the second is refused naming the first; the record said UPDATING under the first's lease until it ended
    expect(second.status).toBe(409);
    expect(second.body.operation).toMatchObject({ kind: 'change', executionArn: first.body.executionArn });
    expect(directEnd.status).toBe('FAILED');
    expect(during).toMatchObject({ status: 'UPDATING', tier: 'professional', lease: { kind: 'change', executionArn: first.body.executionArn } });
    expect(firstEnd.status).toBe('SUCCEEDED');
    const after = (await getTenant('pied-piper'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'business' });
    expect(after.lease).toBeUndefined();
    const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-pied-piper' }))).Stacks![0];
    expect(stack.Tags).toEqual(expect.arrayContaining([{ Key: 'tessera:tier', Value: 'business' }]));
    const changed = (await events('pied-piper')).filter((e) => e.detailType === 'Tenant Changed');
    expect(changed.map((e) => e.detail.tier)).toEqual(['business']);
    expect(after.executions.filter((e) => e.kind === 'change').map((e) => [e.executionArn, e.status])).toEqual([[first.body.executionArn, 'SUCCEEDED']]);
  });

  // s48: Begin change took the tier from its read before the lease; a tier change that ended in between was reverted.
  it('a tags-only change started from the console that read the tenant while a tier change held it deploys the tier that change left, once it ended', async () => {
    // GIVEN an ACTIVE professional tenant and the admin API's change to business, held at its tenant stack's deployment
    // (the record says professional until the stack update completes: check-stack.ts records the new tier)
    await onboarded('bachman', 'professional');
    let releaseDeploy!: () => void;
    const deployHeld = new Promise<void>((r) => (releaseDeploy = r));
    let deployReached!: () => void;
    const atDeploy = new Promise<void>((r) => (deployReached = r));
    let insideConsoleBegin = false;
    let tierChangeEnded: Awaited<ReturnType<typeof settled>> | undefined;
    lifecycle.platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (event.request?.tenantId !== 'bachman') return handler(event);
      if (name === 'deploy-blueprint' && event.blueprint === 'tenant' && event.request.requestId !== 'console-tags-1' && !tierChangeEnded) {
        deployReached();
        await deployHeld;
      }
      if (name !== 'begin-change' || event.request.requestId !== 'console-tags-1') return handler(event);
      insideConsoleBegin = true;
      try {
        return await handler(event);
      } finally {
        insideConsoleBegin = false;
      }
    };
    const tierChange = await api('PATCH', '/admin/tenants/bachman', { tier: 'business' });
    expect(tierChange.status).toBe(202);
    await atDeploy;
    // AND the tier change ends while the console change's Begin change reads the catalog, after its read of the record and
    // before its lease (the window of the race: the read saw professional under the tier change's lease)
    let caught = false;
    let readBeforeLease: TenantRecord | undefined;
    cleanups.push(inject('tier-change-ends-between-read-and-lease', (next, context) => async (args) => {
      if (insideConsoleBegin && context.commandName === 'HeadObjectCommand' && !caught) {
        caught = true;
        readBeforeLease = await getTenant('bachman');
        releaseDeploy();
        tierChangeEnded = await settled(tierChange.body.executionArn);
      }
      return next(args);
    }));
    // WHEN a change of the tenant's tags alone is started directly (the console, StartExecution: it takes the lease itself)
    const tagsOnly = await lifecycle.platform.startExecution('change', { request: { tenantId: 'bachman', requestId: 'console-tags-1' }, change: { tags: { CostCenter: '4711' } } });
    const tagsEnd = await settled(tagsOnly.executionArn);
    // THEN the console change met the tier change running, which then ended business
    expect(readBeforeLease).toMatchObject({ status: 'UPDATING', tier: 'professional', lease: { executionArn: tierChange.body.executionArn } });
    expect(tierChangeEnded?.status).toBe('SUCCEEDED');
    // AND it deployed business with the tags (was: professional again, the tier change silently reverted, and recorded so)
    expect(tagsEnd.status).toBe('SUCCEEDED');
    const after = (await getTenant('bachman'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'business', tags: { CostCenter: '4711' } });
    const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-bachman' }))).Stacks![0];
    expect(stack.Tags).toEqual(expect.arrayContaining([{ Key: 'tessera:tier', Value: 'business' }, { Key: 'CostCenter', Value: '4711' }]));
    // AND the history has the tier change only once: the console change changed no tier
    expect(after.executions.filter((e) => e.tierChange).map((e) => [e.executionArn, e.tierChange])).toEqual([[tierChange.body.executionArn, { from: 'professional', to: 'business' }]]);
    const changed = (await events('bachman')).filter((e) => e.detailType === 'Tenant Changed').map((e) => [e.detail.previousTier, e.detail.tier]);
    expect(changed).toEqual([['professional', 'business'], ['business', 'business']]);
  });

  it('offboards a tenant whose suspension was accepted just before: the OFFBOARDED record carries no failure; a resume of OFFBOARDED is refused and changes nothing', async () => {
    await onboarded('hooli-xyz', 'starter');
    // GIVEN a suspension accepted (its lease taken) and the offboarding requested while it runs
    let releaseSuspend!: () => void;
    const suspendHeld = new Promise<void>((r) => (releaseSuspend = r));
    lifecycle.platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (name === 'set-status' && event.request?.tenantId === 'hooli-xyz') await suspendHeld;
      return handler(event);
    };
    const suspend = await api('POST', '/admin/tenants/hooli-xyz/suspend');
    expect(suspend.status).toBe(202);
    const early = await api('DELETE', '/admin/tenants/hooli-xyz');
    expect(early.status).toBe(409);
    expect(early.body.operation.kind).toBe('suspend');
    releaseSuspend();
    expect((await settled(suspend.body.executionArn)).status).toBe('SUCCEEDED');

    // WHEN the offboarding is requested again, and a suspension started directly races it
    const offboard = await api('DELETE', '/admin/tenants/hooli-xyz');
    expect(offboard.status).toBe(202);
    const racing = await lifecycle.platform.startExecution('status', { request: { tenantId: 'hooli-xyz', requestId: 'console-suspend-2' }, action: 'suspend' });
    await settled(racing.executionArn);
    expect((await settled(offboard.body.executionArn)).status).toBe('SUCCEEDED');

    // THEN
    const offboarded = (await getTenant('hooli-xyz'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    expect(offboarded.failure).toBeUndefined();
    expect(offboarded.lease).toBeUndefined();

    // AND a resume of OFFBOARDED is refused, through the API and directly, and the record is untouched
    const resume = await api('POST', '/admin/tenants/hooli-xyz/resume');
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toBe('tenant "hooli-xyz" is OFFBOARDED, so a resumption cannot start: an offboarded tenant is only kept to be read (tessera tenants show hooli-xyz); to start again, onboard a new tenant under another id (ids are never reused)');
    const directResume = await lifecycle.platform.startExecution('status', { request: { tenantId: 'hooli-xyz', requestId: 'console-resume-1' }, action: 'resume' });
    expect((await settled(directResume.executionArn)).status).toBe('FAILED');
    expect(await getTenant('hooli-xyz')).toEqual(offboarded);
  });
});

describe('replays and re-runs', () => {
  it('treats the original onboarding request replayed twice after OFFBOARDED as a no-op: no new account, none closed under an ACTIVE tenant', async () => {
    // GIVEN an account tenant onboarded and offboarded (its account queued for closure)
    const first = await onboarded('dunder', 'enterprise');
    const off = await api('DELETE', '/admin/tenants/dunder');
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    const offboarded = (await getTenant('dunder'))!;
    const queued = await closures();
    const requests = lifecycle.platform.fixture.organizations.requests().length;

    // WHEN the original request is replayed twice through the API and twice as a bus replay (StartExecution with the request as input)
    const replays = [await api('POST', '/admin/tenants', onboarding('dunder', 'enterprise')), await api('POST', '/admin/tenants', onboarding('dunder', 'enterprise'))];
    const busReplays = [];
    for (let i = 0; i < 2; i++) busReplays.push(await settled((await lifecycle.platform.startExecution('onboard', onboarding('dunder', 'enterprise'))).executionArn));

    // THEN nothing starts, nothing is written, no account is requested, the closure queue is as it was
    for (const r of replays) expect(r).toMatchObject({ status: 200, body: { status: 'OFFBOARDED' } });
    expect(busReplays.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await getTenant('dunder')).toEqual(offboarded);
    expect(lifecycle.platform.fixture.organizations.requests()).toHaveLength(requests);
    expect(await closures()).toEqual(queued);
    const active = await Promise.all(queued.map(async (c) => (await getTenant(c.tenantId))?.status));
    expect(active).not.toContain('ACTIVE');
    expect(queued.map((c) => c.accountId)).toContain(first.accountId);
  });

  it('resumes a FAILED onboarding through the API (POST /retry) and through the CLI (tessera tenants retry), each a new execution', async () => {
    // GIVEN two onboardings that failed at Allocate network (a terminal fault once each)
    failing('UpdateItemCommand', (input) => input.ExpressionAttributeNames?.['#vpcCidr'] === 'vpcCidr' && /^initech|^vandelay/.test(String(input.Key?.tenantId)), 'AccessDeniedException', 2);
    const a = await api('POST', '/admin/tenants', onboarding('initech', 'starter'));
    const b = await api('POST', '/admin/tenants', onboarding('vandelay', 'starter'));
    expect((await settled(a.body.executionArn)).status).toBe('FAILED');
    expect((await settled(b.body.executionArn)).status).toBe('FAILED');
    expect(await getTenant('initech')).toMatchObject({ status: 'FAILED', failure: { step: 'Allocate network', kind: 'onboard' } });

    // WHEN
    const viaApi = await api('POST', '/admin/tenants/initech/retry', {});
    const viaCli = await tessera('tenants', 'retry', 'vandelay', '--watch', '--interval', '0.2');

    // THEN
    expect(viaApi.status).toBe(202);
    expect(viaApi.body.executionArn).not.toBe(a.body.executionArn);
    expect((await settled(viaApi.body.executionArn)).status).toBe('SUCCEEDED');
    expect(viaCli.stderr).toBe('');
    expect(viaCli.code).toBe(0);
    expect(viaCli.stdout).toMatch(/vandelay: onboarding retried/);
    expect(viaCli.stdout).toMatch(/onboard succeeded in [\d.]+ s — tenant vandelay is ACTIVE/);
    for (const id of ['initech', 'vandelay']) {
      const record = (await getTenant(id))!;
      expect(record).toMatchObject({ status: 'ACTIVE' });
      expect(record.failure).toBeUndefined();
      expect(record.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
    }
  });

  // Before organization.accountEmail the admin email was the account's root email: a second account tenant of one admin
  // failed EMAIL_ALREADY_EXISTS at Check account, and the admin could reset the root password of an account of the platform's.
  it('onboards a second account tenant whose first admin is the first one\'s: each account has a root email of the platform\'s', async () => {
    // GIVEN an account tenant, and a second one whose first admin is the same person
    await onboarded('sterling', 'enterprise');
    const second = await api('POST', '/admin/tenants', onboarding('cooper', 'enterprise', { adminEmail: 'admin@sterling.example.com' }));
    // WHEN it runs
    expect((await settled(second.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN both are ACTIVE in accounts of their own, whose root emails are organization.accountEmail's, not the admin's
    const [sterling, cooper] = [(await getTenant('sterling'))!, (await getTenant('cooper'))!];
    const rootEmail = (id: string) => config.organization.accountEmail!.replace('{tenantId}', id);
    expect(cooper).toMatchObject({ status: 'ACTIVE', adminEmail: 'admin@sterling.example.com', accountEmail: rootEmail('cooper') });
    expect(cooper.accountId).not.toBe(sterling.accountId);
    const emails = new Map(((await orgs().send(new ListAccountsCommand({}))).Accounts ?? []).map((a) => [a.Id, a.Email]));
    expect([emails.get(sterling.accountId), emails.get(cooper.accountId)]).toEqual([rootEmail('sterling'), rootEmail('cooper')]);
    expect([...emails.values()]).not.toContain('admin@sterling.example.com');
  });

  it('resumes an onboarding whose execution was stopped (StopExecution): the status-change rule ends its operation, and a retry finishes it', async () => {
    // GIVEN an onboarding stopped while it waits on Organizations
    lifecycle.platform.fixture.organizations.hold();
    const start = await api('POST', '/admin/tenants', onboarding('prestige', 'enterprise'));
    await until('prestige', (r) => Boolean(r?.createAccountRequestId), 'a CreateAccount request');
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: start.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    // THEN the operation is ended as that execution's failure, its slot given back
    const failed = await until('prestige', (r) => r?.status === 'FAILED', 'FAILED');
    expect(failed.lease).toBeUndefined();
    expect(failed.failure).toMatchObject({ kind: 'onboard', reason: expect.stringMatching(/ABORTED/) });
    expect(failed.createAccountRequestId).toBeDefined();
    expect(await slotHolders()).not.toContain('prestige');
    // WHEN Organizations finishes and the onboarding is retried: the pending request is picked up, not made twice
    await lifecycle.platform.fixture.organizations.release();
    const requests = lifecycle.platform.fixture.organizations.requests().length;
    const retry = await api('POST', '/admin/tenants/prestige/retry', {});
    expect((await settled(retry.body.executionArn)).status).toBe('SUCCEEDED');
    expect(lifecycle.platform.fixture.organizations.requests()).toHaveLength(requests);
    expect(await getTenant('prestige')).toMatchObject({ status: 'ACTIVE' });
  });
});

describe('at-least-once steps and dead leases (hostile lc1)', () => {
  it('an onboarding stopped after its quarantine came off, its status-change event missed: the next request that ends the lease records FAILED saying the account may be open (it cannot check); a retry ends ACTIVE', async () => {
    // GIVEN the status-change rule misses this stop (no event delivered)
    const rule = lifecycle.platform.onStatusChange.splice(0);
    cleanups.push(() => void lifecycle.platform.onStatusChange.push(...rule));
    let detached = false;
    let markDetached!: () => void;
    const detachDone = new Promise<void>((r) => { markDetached = r; });
    cleanups.push(inject('hang-after-detach', (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'DetachPolicyCommand' && !detached) {
        detached = true;
        markDetached();
        await new Promise(() => undefined); // the Lambda never returns
      }
      return out;
    }));
    const start = await api('POST', '/admin/tenants', onboarding('lumon', 'enterprise'));
    // The quarantine came off and the Lambda hangs (the middleware's signal, not a poll that gave up after 30 s and went on);
    // an execution that ended before fails the test at once.
    await heldOrEnded(detachDone, start.body.executionArn, 'DetachPolicy');
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: start.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await settled(start.body.executionArn)).status).toBe('ABORTED');
    const stopped = (await getTenant('lumon'))!;
    expect(stopped).toMatchObject({ status: 'ACTIVE', lease: { kind: 'onboard' } });
    expect(await quarantined(stopped.accountId!)).toBe(false);
    // WHEN a suspension meets the dead lease (the admin API has no Organizations access)
    const suspend = await api('POST', '/admin/tenants/lumon/suspend');
    // THEN the onboarding is ended as FAILED, and the record says the account was not checked (not that it is fenced)
    expect(suspend).toMatchObject({ status: 409, body: { error: { code: 'invalid_status' } } });
    const after = (await getTenant('lumon'))!;
    expect(after).toMatchObject({ status: 'FAILED', failure: { kind: 'onboard', reason: expect.stringMatching(/ended ABORTED\b.*found by suspend.*account \d{12} may be without its quarantine SCP/) } });
    expect(after.lease).toBeUndefined();
    expect(await quarantined(after.accountId!)).toBe(false);
    // AND a retry finishes the onboarding: ACTIVE, its account open as an ACTIVE tenant's
    const retry = await api('POST', '/admin/tenants/lumon/retry', {});
    expect((await settled(retry.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('lumon')).toMatchObject({ status: 'ACTIVE' });
    expect(await quarantined(after.accountId!)).toBe(false);
  });

  it('Activate tenant run twice for one execution (Step Functions\' at-least-once Tasks): the tenant ends ACTIVE, its account open, the execution SUCCEEDED', async () => {
    // GIVEN the invocation Step Functions keeps is held at its ACTIVE write while a second one writes ACTIVE and reaches the quarantine
    let event: Record<string, unknown> | undefined;
    lifecycle.platform.workflows.wrap = (name, handler) => async (input: any) => {
      if (name === 'activate-tenant' && input.request?.tenantId === 'hooli' && !event) event = input;
      return handler(input);
    };
    let releaseWrite!: () => void;
    const writeGate = new Promise<void>((r) => (releaseWrite = r));
    let releaseList!: () => void;
    const listGate = new Promise<void>((r) => (releaseList = r));
    let heldWrite = false;
    let secondAtList = false;
    let armList = false;
    // Resolved by the middleware when each invocation reaches the point it is held at (no poll of the flags).
    let firstHeld!: () => void;
    const firstAtWrite = new Promise<void>((r) => { firstHeld = r; });
    let secondHeld!: () => void;
    const secondAtListGate = new Promise<void>((r) => { secondHeld = r; });
    cleanups.push(inject('activate-twice', (next, context) => async (args) => {
      const input = args.input as Record<string, any>;
      if (context.commandName === 'UpdateItemCommand' && input.Key?.tenantId === 'hooli' && input.ExpressionAttributeValues?.[':status'] === 'ACTIVE' && input.ExpressionAttributeValues?.[':expect0'] === 'PROVISIONING') {
        if (!heldWrite) {
          heldWrite = true;
          firstHeld();
          await writeGate;
        } else armList = true;
      }
      if (context.commandName === 'ListPoliciesForTargetCommand' && armList && !secondAtList) {
        secondAtList = true;
        secondHeld();
        await listGate;
      }
      return next(args);
    }));
    const start = await api('POST', '/admin/tenants', onboarding('hooli', 'enterprise'));
    await heldOrEnded(firstAtWrite, start.body.executionArn, 'its ACTIVE write');
    const { handler: activate } = await import('../../lambdas/lifecycle/activate-tenant.js');
    const second = activate(event as never).then((v) => ({ ok: v }), (e: Error) => ({ error: e.name }));
    // The second invocation is at its ListPoliciesForTarget; should it fail before (no list), say so instead of hanging.
    const early = await Promise.race([secondAtListGate.then(() => undefined), second]);
    expect(early, 'the second Activate tenant ended before it reached the quarantine check').toBeUndefined();
    // WHEN the first write goes on (it finds ACTIVE written by its own execution), then the second
    releaseWrite();
    const end = await settled(start.body.executionArn);
    releaseList();
    await second;
    // THEN
    expect(end.status).toBe('SUCCEEDED');
    const record = (await getTenant('hooli'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', executions: [expect.objectContaining({ kind: 'onboard', status: 'SUCCEEDED' })] });
    expect(record.lease).toBeUndefined();
    expect(await quarantined(record.accountId!)).toBe(false);
  });

  it('a usage key created by an attempt that failed before recording it is the key of the retry; offboarding leaves no key of the tenant', async () => {
    failing('CreateUsagePlanKeyCommand', () => true, 'AccessDeniedException', 1);
    const start = await api('POST', '/admin/tenants', onboarding('keyfault', 'starter'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    const failed = (await getTenant('keyfault'))!;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Issue usage key' } });
    const [unrecorded, ...others] = await apiKeysOf('keyfault');
    expect(others).toEqual([]);
    const retry = await api('POST', '/admin/tenants/keyfault/retry', {});
    expect((await settled(retry.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await getTenant('keyfault'))!.usageKey!.id).toBe(unrecorded);
    expect(await apiKeysOf('keyfault')).toEqual([unrecorded]);
    const off = await api('DELETE', '/admin/tenants/keyfault');
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await apiKeysOf('keyfault')).toEqual([]);
  });

  it('two DELETEs at once: one starts the offboarding (202), the other answers with it (200), as a DELETE during an offboarding does', async () => {
    await onboarded('stark', 'starter');
    const [a, b] = await Promise.all([api('DELETE', '/admin/tenants/stark'), api('DELETE', '/admin/tenants/stark')]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(a.body.executionArn).toBe(b.body.executionArn);
    expect((await settled(a.body.executionArn)).status).toBe('SUCCEEDED');
  });
});

describe('concurrent requests', () => {
  it('gives one execution to the same new request sent twice at once, and 409 to another request for the same id', async () => {
    const [a, b] = await Promise.all([api('POST', '/admin/tenants', onboarding('globex', 'starter')), api('POST', '/admin/tenants', onboarding('globex', 'starter'))]);
    const other = await api('POST', '/admin/tenants', onboarding('globex', 'starter', { requestId: 'req-globex-other' }));
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(a.body.executionArn).toBe(b.body.executionArn);
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'tenant_exists', param: 'tenantId' } } });
    expect((await settled(a.body.executionArn)).status).toBe('SUCCEEDED');
    expect([...lifecycle.platform.executions.values()].filter((e) => e.workflow === 'onboard' && tenantOf(e.input) === 'globex')).toHaveLength(1);
  });

  it('makes one CreateAccount and claims one VPC range when a step runs twice at once for the same execution (a Lambda retried after a timeout)', async () => {
    // GIVEN an account onboarding held at Create account, its lease taken
    lifecycle.platform.fixture.organizations.hold();
    let releaseCreate!: () => void;
    const createHeld = new Promise<void>((r) => (releaseCreate = r));
    let createEvent: any;
    lifecycle.platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (name === 'create-account' && event.request?.tenantId === 'massive-dyn' && !createEvent) {
        createEvent = event;
        await createHeld;
      }
      return handler(event);
    };
    const requestsBefore = lifecycle.platform.fixture.organizations.requests().length;
    const start = await api('POST', '/admin/tenants', onboarding('massive-dyn', 'enterprise'));
    await until('massive-dyn', () => Boolean(createEvent), 'Create account');
    // WHEN the step runs twice at once for the same execution
    const [{ handler: createAccount }, { handler: allocate }] = await Promise.all([import('../../lambdas/lifecycle/create-account.js'), import('../../lambdas/lifecycle/allocate-network.js')]);
    const twice = await Promise.allSettled([createAccount(createEvent), createAccount(createEvent)]);
    releaseCreate();
    await until('massive-dyn', (r) => Boolean(r?.createAccountRequestId), 'a CreateAccount request');
    await lifecycle.platform.fixture.organizations.release();
    expect((await settled(start.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN one account request was made, and the execution ended with one account
    expect(twice.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect(lifecycle.platform.fixture.organizations.requests().length - requestsBefore).toBe(1);
    // AND allocating the network again, twice at once, keeps the one range it has
    const active = (await getTenant('massive-dyn'))!;
    await Promise.all([allocate({ ...createEvent, request: { ...createEvent.request } }).catch(() => undefined), allocate({ ...createEvent }).catch(() => undefined)]);
    expect((await getTenant('massive-dyn'))!.vpcCidr).toBe(active.vpcCidr);
    const { cidrClaimsOf } = await import('../../lambdas/shared/control-table.js');
    expect(await cidrClaimsOf('massive-dyn')).toEqual([active.vpcCidr]);
  });

  it('resumes a failed offboarding when DELETE is sent again; the tenant stays OFFBOARDING (not served) in between', async () => {
    await onboarded('cyberdyne', 'starter');
    failing('CreateDBSnapshotCommand', () => true, 'AccessDeniedException', 1);
    const first = await api('DELETE', '/admin/tenants/cyberdyne');
    expect((await settled(first.body.executionArn)).status).toBe('FAILED');
    const stopped = (await getTenant('cyberdyne'))!;
    expect(stopped).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'offboard', step: 'Snapshot database' } });
    expect(stopped.lease).toBeUndefined();
    const again = await api('DELETE', '/admin/tenants/cyberdyne');
    expect(again).toMatchObject({ status: 202, body: { resumed: 'Snapshot database' } });
    const againEnd = await settled(again.body.executionArn);
    expect(againEnd.status, JSON.stringify({ end: againEnd, record: await getTenant('cyberdyne') }).slice(0, 3000)).toBe('SUCCEEDED');
    const offboarded = (await getTenant('cyberdyne'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    expect(offboarded.failure).toBeUndefined();
    expect(await api('DELETE', '/admin/tenants/cyberdyne')).toMatchObject({ status: 200, body: { status: 'OFFBOARDED' } });
  });

  it('resumes an offboarding that failed after its stacks were deleted: the snapshot and the export are not made again, the account is retired', async () => {
    // GIVEN an account-mode offboarding that fails at Retire account, after the stack and its database are gone
    const onboardedRecord = await onboarded('dundee', 'enterprise');
    const accountId = onboardedRecord.accountId!;
    failing('MoveAccountCommand', (input) => input.AccountId === accountId, 'AccessDeniedException', 1);
    const first = await api('DELETE', '/admin/tenants/dundee');
    expect((await settled(first.body.executionArn)).status).toBe('FAILED');
    const stopped = (await getTenant('dundee'))!;
    expect(stopped).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Retire account' } });
    const { export: exported, databaseSnapshot } = stopped.offboarding!;
    expect(exported).toMatchObject({ prefix: expect.stringMatching(/^dundee\//), verifiedAt: expect.any(String) });
    expect(databaseSnapshot).toMatchObject({ instance: onboardedRecord.stackOutputs.DatabaseInstanceId, archiveSnapshotId: expect.stringMatching(/^tessera-dundee-final-\d+-archive$/) });
    // WHEN DELETE is sent again (the instance no longer exists: a new CreateDBSnapshot would fail DBInstanceNotFound)
    const again = await api('DELETE', '/admin/tenants/dundee');
    expect(again).toMatchObject({ status: 202, body: { resumed: 'Retire account' } });
    const againEnd = await settled(again.body.executionArn);
    // THEN it finishes: OFFBOARDED, the account in Suspended with its closure queued, the same export and snapshot
    expect(againEnd.status, JSON.stringify({ end: againEnd, record: await getTenant('dundee') }).slice(0, 3000)).toBe('SUCCEEDED');
    const offboarded = (await getTenant('dundee'))!;
    expect(offboarded).toMatchObject({ status: 'OFFBOARDED', offboarding: { export: exported, databaseSnapshot } });
    const parent = (await orgs().send(new ListParentsCommand({ ChildId: accountId }))).Parents![0].Id!;
    expect((await orgs().send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parent }))).OrganizationalUnit!.Name).toBe('Suspended');
    expect((await closures()).filter((c) => c.accountId === accountId)).toHaveLength(1);
    // one export in the archive (one manifest), not a second copy of the bucket
    const { ListObjectsV2Command, S3Client } = await import('@aws-sdk/client-s3');
    const listed = await new S3Client({ credentials: lifecycle.platform.fixture.platform, forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'tessera-archive', Prefix: 'dundee/' }));
    expect((listed.Contents ?? []).filter((o) => o.Key!.endsWith('/manifest.json')).map((o) => o.Key)).toEqual([`${exported!.prefix}manifest.json`]);
  });

  it('resumes an offboarding whose last write (OFFBOARDED) failed: the same stores and key deletion, OFFBOARDED', async () => {
    await onboarded('wernham', 'starter');
    failing('UpdateItemCommand', (input) => input.Key?.tenantId === 'wernham' && input.ExpressionAttributeValues?.[':status'] === 'OFFBOARDED', 'AccessDeniedException', 1);
    const first = await api('DELETE', '/admin/tenants/wernham');
    expect((await settled(first.body.executionArn)).status).toBe('FAILED');
    const stopped = (await getTenant('wernham'))!;
    expect(stopped).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Finish offboarding' } });
    const again = await api('DELETE', '/admin/tenants/wernham');
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    const offboarded = (await getTenant('wernham'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    // The inventory runs again: only the times counted from now (keptUntil, the key's dueAt, and the key entry's note,
    // which names the day its queue ends) move on, later.
    const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
    // Revoke tenant identities runs again too: it finds nothing left, and says when it checked and in which run (checkedAt, executionArns).
    const withoutTimes = (o: TenantRecord['offboarding']) =>
      JSON.parse(JSON.stringify(o, (k, v) => (k === 'keptUntil' || k === 'dueAt' || k === 'checkedAt' || k === 'executionArns' ? undefined : k === 'note' && typeof v === 'string' ? v.replace(ISO_TIME, '<time>') : v)));
    expect(withoutTimes(offboarded.offboarding)).toEqual(withoutTimes(stopped.offboarding));
    expect(offboarded.offboarding!.identities!.executionArns).toEqual([...stopped.offboarding!.identities!.executionArns, again.body.executionArn]);
    expect(Date.parse(offboarded.offboarding!.keyDeletion!.dueAt!)).toBeGreaterThanOrEqual(Date.parse(stopped.offboarding!.keyDeletion!.dueAt!));
  });

  it('refuses what the admin API can refuse before anything starts: unknown fields, control characters, reserved and unusable ids, a PATCH that changes nothing', async () => {
    const executions = lifecycle.platform.executions.size;
    const unknown = await api('POST', '/admin/tenants', { ...onboarding('wonka', 'starter'), isolation: 'account' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'unknown_parameter', param: 'isolation' } } });
    const control = await api('POST', '/admin/tenants', onboarding('wonka', 'starter', { name: 'Wonka\nIndustries' }));
    expect(control).toMatchObject({ status: 400, body: { error: { param: 'name', message: expect.stringMatching(/control characters/) } } });
    for (const id of ['account-baseline', 'lifecycle-ops', 'starter', 'a--b', 'x'.repeat(25)]) {
      const res = await api('POST', '/admin/tenants', onboarding(id, 'starter'));
      expect(res.status, id).toBe(400);
      expect(res.body.error.param, id).toBe('tenantId');
    }
    await onboarded('wonka', 'starter');
    expect(await api('PATCH', '/admin/tenants/wonka', { tier: 'starter' })).toMatchObject({ status: 400, body: { error: { code: 'nothing_to_change', param: 'tier' } } });
    expect(await api('PATCH', '/admin/tenants/wonka', { name: 'Wonka Ltd' })).toMatchObject({ status: 400, body: { error: { code: 'nothing_to_change' } } });
    expect(await api('PATCH', '/admin/tenants/wonka', { tier: 'enterprise' })).toMatchObject({ status: 400, body: { error: { code: 'isolation_change', param: 'tier' } } });
    expect(await api('PATCH', '/admin/tenants/wonka', { tier: 'professional', color: 'red' })).toMatchObject({ status: 400, body: { error: { code: 'unknown_parameter', param: 'color' } } });
    expect(lifecycle.platform.executions.size).toBe(executions + 1); // only the onboarding of wonka
    // The status workflow started directly with an action that is not a status change: refused, nothing written but the
    // record's lastRefusal (s36b; before, nothing at all), updatedAt included: the last refusal's step and reason
    const before = await getTenant('wonka');
    for (const action of ['offboard', 'onboard']) {
      const direct = await lifecycle.platform.startExecution('status', { request: { tenantId: 'wonka', requestId: `console-${action}` }, action });
      expect((await settled(direct.executionArn)).status).toBe('FAILED');
    }
    const { lastRefusal, ...after } = (await getTenant('wonka'))!;
    expect(after).toEqual(before);
    expect(lastRefusal).toMatchObject({ requestId: 'console-onboard', step: expect.any(String), reason: expect.stringContaining('onboard') });
  });
});

describe('nothing orphaned', () => {
  it('finds the account Organizations finished after the onboarding was marked FAILED, retires it and queues its closure on DELETE', async () => {
    // GIVEN an onboarding that fails while Organizations is still creating its account
    lifecycle.platform.fixture.organizations.hold();
    failing('DescribeCreateAccountStatusCommand', () => true, 'AccessDeniedException', 1);
    const start = await api('POST', '/admin/tenants', onboarding('soylent', 'enterprise'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    const failed = (await getTenant('soylent'))!;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Check account' } });
    expect(failed.accountId).toBeUndefined();
    const requestId = failed.createAccountRequestId!;
    expect(requestId).toMatch(/^car-/);
    await lifecycle.platform.fixture.organizations.release();

    // WHEN
    const off = await api('DELETE', '/admin/tenants/soylent');
    expect(off.status).toBe(202);
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');

    // THEN the account was found through its request id, moved to Suspended and its closure queued
    const offboarded = (await getTenant('soylent'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    expect(offboarded.accountId).toMatch(/^\d{12}$/);
    expect(offboarded.createAccountRequestId).toBeUndefined();
    const parent = (await orgs().send(new ListParentsCommand({ ChildId: offboarded.accountId! }))).Parents![0].Id!;
    expect((await orgs().send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parent }))).OrganizationalUnit!.Name).toBe('Suspended');
    expect((await closures()).map((c) => c.accountId)).toContain(offboarded.accountId);
  });

  it('refuses a stack with the tenant\'s name created by hand, and leaves that stack untouched', async () => {
    // GIVEN a stack tessera-umbrella made by someone else in the workload account
    const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
    const handMade = await cfn.send(new CreateStackCommand({
      StackName: 'tessera-umbrella', EnableTerminationProtection: true,
      TemplateBody: JSON.stringify({ Resources: { Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/hand-made/umbrella', Type: 'String', Value: 'mine' } } } }),
    }));
    const before = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-umbrella' }))).Stacks![0];

    // WHEN
    const start = await api('POST', '/admin/tenants', onboarding('umbrella', 'starter'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');

    // THEN refused at Deploy blueprint, naming why; the stack is as it was
    expect(await getTenant('umbrella')).toMatchObject({
      status: 'FAILED', failure: { step: 'Deploy blueprint', reason: expect.stringMatching(/StackNotOwned: stack tessera-umbrella .* was not created by Tessera's workflow for tenant umbrella: its tag tessera:tenant-id is absent/) },
    });
    const after = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-umbrella' }))).Stacks![0];
    expect(after.StackId).toBe(handMade.StackId);
    expect(after).toMatchObject({ StackStatus: before.StackStatus, EnableTerminationProtection: true, Tags: before.Tags });
    expect(after.LastUpdatedTime).toEqual(before.LastUpdatedTime);
  });
});

describe('faults', () => {
  it('fails an onboarding whose ACTIVE write fails with the account still fenced; the re-run reaches ACTIVE and lifts the fence', async () => {
    // GIVEN the registry refuses the write that makes the tenant ACTIVE (once)
    failing('UpdateItemCommand', (input) => input.Key?.tenantId === 'tyrell' && input.ExpressionAttributeValues?.[':status'] === 'ACTIVE' && input.ExpressionAttributeValues?.[':expect0'] === 'PROVISIONING', 'AccessDeniedException', 1);
    const start = await api('POST', '/admin/tenants', onboarding('tyrell', 'enterprise'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    const failed = (await getTenant('tyrell'))!;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Activate tenant', kind: 'onboard' } });
    expect(await quarantined(failed.accountId!)).toBe(true);

    // WHEN re-run (the same request again)
    const rerun = await api('POST', '/admin/tenants', onboarding('tyrell', 'enterprise'));
    expect(rerun.status).toBe(202);
    expect((await settled(rerun.body.executionArn)).status).toBe('SUCCEEDED');

    // THEN
    const active = (await getTenant('tyrell'))!;
    expect(active.status).toBe('ACTIVE');
    expect(active.accountId).toBe(failed.accountId);
    expect(await quarantined(active.accountId!)).toBe(false);
  });

  it('an onboarding whose Tenant Activated fails after its last write: ACTIVE, the history and the execution SUCCEEDED saying the announcement is owed (never FAILED, never a Tenant Lifecycle Failed), and tessera tenants retry sends it once', async () => {
    const outage = failing('PutEventsCommand', (input) => input.Entries?.[0]?.DetailType === 'Tenant Activated' && JSON.parse(input.Entries[0].Detail).tenantId === 'nakatomi', 'AccessDeniedException');
    const start = await api('POST', '/admin/tenants', onboarding('nakatomi', 'starter'));
    const end = await settled(start.body.executionArn);
    // lcleft (s16): was FAILED while the registry said SUCCEEDED; the execution now says what the registry says, in a state naming the owed announcement
    expect(end.status).toBe('SUCCEEDED');
    const progress = await api('GET', `/admin/tenants/nakatomi/execution?executionArn=${encodeURIComponent(start.body.executionArn)}`);
    expect(progress.body).toMatchObject({ executionStatus: 'SUCCEEDED', status: 'ACTIVE', owedAnnouncements: [{ detailType: 'Tenant Activated', error: expect.stringMatching(/injected/) }] });
    expect(progress.body.steps.map((st: { name: string }) => st.name)).toContain('Took effect, announcement owed');
    const record = (await getTenant('nakatomi'))!;
    expect(record.status).toBe('ACTIVE');
    expect(record.lease).toBeUndefined();
    expect(record.executions.find((e) => e.executionArn === start.body.executionArn)).toMatchObject({ status: 'SUCCEEDED', reason: expect.stringMatching(/announcement Tenant Activated was not sent.*injected.*tessera tenants retry nakatomi/) });
    expect(record.owedAnnouncements).toMatchObject([{ detailType: 'Tenant Activated', executionArn: start.body.executionArn, error: expect.stringMatching(/injected/) }]);
    expect((await events('nakatomi')).map((e) => e.detailType)).not.toContain('Tenant Lifecycle Failed');
    // WHEN the bus is back and the operator retries
    outage.removed();
    const retry = await api('POST', '/admin/tenants/nakatomi/retry', {});
    // THEN the owed announcement goes out, once
    expect(retry).toMatchObject({ status: 200, body: { status: 'ACTIVE', announced: ['Tenant Activated'] } });
    expect((await getTenant('nakatomi'))!.owedAnnouncements).toBeUndefined();
    expect((await events('nakatomi')).filter((e) => e.detailType === 'Tenant Activated')).toHaveLength(1);
    expect((await api('POST', '/admin/tenants/nakatomi/retry', {})).status).toBe(409);
  });
});

describe('an onboarding request delivered twice (EventBridge delivers at least once)', () => {
  it('the second execution of the same request, while the first runs it, is a no-op that names the running one: no refusal recorded or announced, no second account; the first finishes', async () => {
    // GIVEN an account-mode onboarding waiting on Organizations
    lifecycle.platform.fixture.organizations.hold();
    const start = await api('POST', '/admin/tenants', onboarding('raviga', 'enterprise'));
    expect(start.status).toBe(202);
    await until('raviga', (r) => Boolean(r?.createAccountRequestId), 'a CreateAccount request');
    const requests = lifecycle.platform.fixture.organizations.requests().length;

    // WHEN the same request is delivered again, as the Tenant Onboarding Requested rule starts it (StartExecution with the request as input)
    const again = await settled((await lifecycle.platform.startExecution('onboard', onboarding('raviga', 'enterprise'))).executionArn);

    // THEN it ends SUCCEEDED at "Nothing to do", naming the execution running the request; nothing is written for it
    expect(again.status).toBe('SUCCEEDED');
    expect(JSON.parse(again.output ?? '{}').registration).toEqual({ action: 'done', status: 'PROVISIONING', runningExecution: start.body.executionArn });
    const during = (await getTenant('raviga'))!;
    expect(during.lastRefusal).toBeUndefined();
    expect(during.executions.map((e) => e.executionArn)).toEqual([start.body.executionArn]);
    expect((await events('raviga')).filter((e) => e.detailType === 'Tenant Lifecycle Failed')).toEqual([]);
    expect(lifecycle.platform.fixture.organizations.requests()).toHaveLength(requests);

    // AND the first finishes
    await lifecycle.platform.fixture.organizations.release();
    expect((await settled(start.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await getTenant('raviga'))?.status).toBe('ACTIVE');
  });
});
