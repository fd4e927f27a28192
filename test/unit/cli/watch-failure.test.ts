import { afterEach, describe, expect, it, vi } from 'vitest';
import { STEP_NAME_COLUMN } from '../../../lib/cli/execution-watch.js';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import { tenantDetails } from '../../../lib/cli/format.js';
import { stepMark, watch } from '../../../lib/cli/tenants-command.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/**
 * Found by a platform engineer trying the README (s22): a failed onboarding's watch printed `✓ Failed at Check account`
 * (the Pass state a Catch goes through exits normally) and neither watch nor show said what to run next.
 */
const steps = [
  { name: 'Register tenant', seconds: 0.4, status: 'DONE' },
  { name: 'Check account', seconds: 1.2, status: 'FAILED' },
  { name: 'Failed at Check account', seconds: 0, status: 'DONE' },
  { name: 'Record failure', seconds: 0.3, status: 'DONE' },
  { name: 'Onboard failed', status: 'FAILED' },
];
const progress = (reason: string) => ({
  status: 'FAILED', kind: 'onboard', executionStatus: 'FAILED', steps,
  failure: { step: 'Check account', reason, kind: 'onboard' },
});

async function watched(reason: string, colour = false): Promise<string[]> {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  const api = { call: async () => progress(reason) } as unknown as AdminClient;
  await watch(api, 'acme', 1, false, undefined, colour);
  vi.restoreAllMocks();
  return out.join('').split('\n');
}

afterEach(() => vi.restoreAllMocks());

describe('tessera tenants watch of a failed onboarding', () => {
  it('marks the failed step and the "Failed at" state with ✗, not ✓', async () => {
    const lines = await watched('CreateAccount failed: INTERNAL_FAILURE');
    expect(lines.find((l) => l.includes('Failed at Check account'))).toMatch(/^ {2}✗ Failed at Check account/);
    expect(lines.find((l) => l.includes(' Check account ') && !l.includes('Failed at'))).toMatch(/^ {2}✗ /);
    expect(lines.find((l) => l.includes('Record failure'))).toMatch(/^ {2}✓ /);
  });

  it('says the next step: tessera tenants retry, with --admin-email after EMAIL_ALREADY_EXISTS', async () => {
    expect(await watched('CreateAccount failed: INTERNAL_FAILURE')).toContain('next: remove the cause above, then run tessera tenants retry acme (steps already done are skipped)');
    expect((await watched('CreateAccount failed: EMAIL_ALREADY_EXISTS')).find((l) => l.startsWith('next: '))).toMatch(/^next: tessera tenants retry acme --admin-email <another email> \(the admin email is the new AWS account's root email/);
  });

  it('colours ✗ red only when colour is on', () => {
    expect(stepMark({ name: 'Failed at Check account', status: 'DONE' }, true)).toBe('\u001b[31m✗\u001b[39m');
    expect(stepMark({ name: 'Check account', status: 'FAILED' }, false)).toBe('✗');
    expect(stepMark({ name: 'Record failure', status: 'DONE' }, true)).toBe('✓');
  });
});

describe('tessera tenants watch of a step its Retry policy retried', () => {
  it('marks it ✓ and says after how many attempts (text and --json)', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const answer = { status: 'ACTIVE', kind: 'onboard', executionStatus: 'SUCCEEDED', steps: [{ name: 'Deploy baseline', seconds: 40, status: 'DONE', attempts: 2 }, { name: 'Issue key', seconds: 1, status: 'DONE' }] };
    const api = { call: async () => answer } as unknown as AdminClient;
    await watch(api, 'acme', 1, false, undefined, false);
    await watch(api, 'acme', 1, true, undefined, false);
    vi.restoreAllMocks();
    const lines = out.join('').split('\n');
    expect(lines).toContain(`  ✓ ${'Deploy baseline'.padEnd(STEP_NAME_COLUMN)} 40.0 s after 2 attempts`);
    expect(lines).toContain(`  ✓ ${'Issue key'.padEnd(STEP_NAME_COLUMN)} 1.0 s`);
    expect(lines).toContain(JSON.stringify({ step: 'Deploy baseline', status: 'DONE', seconds: 40, attempts: 2 }));
    expect(lines).toContain(JSON.stringify({ step: 'Issue key', status: 'DONE', seconds: 1 }));
  });
});

describe('tessera tenants watch of an execution stopped or timed out while a step ran', () => {
  const lines = async (answer: object, json = false) => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    await watch({ call: async () => answer } as unknown as AdminClient, 'acme', 1, json, undefined, false);
    vi.restoreAllMocks();
    return out.join('').split('\n');
  };
  const aborted = {
    status: 'PROVISIONING', kind: 'onboard', executionStatus: 'ABORTED', startDate: '2026-12-04T10:00:00.000Z', stopDate: '2026-12-04T10:00:31.000Z', steps: [
      { name: 'Register tenant', seconds: 1, status: 'DONE' },
      { name: 'Deploy baseline', seconds: 30, status: 'ABORTED', error: 'Operator', cause: 'stopped to fix the blueprint' },
    ],
  };

  it('prints the step ✗ as aborted with the execution, where it stopped and why, and the next command (no failure recorded yet)', async () => {
    const out = await lines(aborted);
    expect(out).toContain(`  ✗ ${'Deploy baseline'.padEnd(STEP_NAME_COLUMN)} 30.0 s (aborted with the execution)`);
    expect(out).toContain('onboard aborted in 31.0 s — tenant acme is PROVISIONING');
    expect(out).toContain('stopped at "Deploy baseline": execution aborted: Operator (stopped to fix the blueprint)');
    expect(out).toContain('next: remove the cause above, then run tessera tenants retry acme (steps already done are skipped)');
    expect(await lines(aborted, true)).toContain(JSON.stringify({ step: 'Deploy baseline', status: 'ABORTED', seconds: 30, error: 'Operator', cause: 'stopped to fix the blueprint' }));
  });

  it('a timed-out change: ✗ timed out with the execution, and the recorded failure\'s next step once end-stopped-execution recorded it', async () => {
    const timedOut = { status: 'ACTIVE', kind: 'change', executionStatus: 'TIMED_OUT', steps: [{ name: 'Wait for the stack', seconds: 900, status: 'TIMED_OUT' }] };
    const out = await lines(timedOut);
    expect(out).toContain(`  ✗ ${'Wait for the stack'.padEnd(STEP_NAME_COLUMN)} 900.0 s (timed out with the execution)`);
    expect(out.find((l) => l.startsWith('stopped at'))).toBe('stopped at "Wait for the stack": execution timed out');
    expect(out.find((l) => l.startsWith('next: '))).toMatch(/^next: the tenant stays on its previous tier and version; .*tessera tenants update acme/);
    const recorded = await lines({ ...timedOut, failure: { step: 'Wait for the stack', reason: 'execution TIMED_OUT at "Wait for the stack" without recording its outcome', kind: 'change' } });
    expect(recorded).toContain('failed at "Wait for the stack": execution TIMED_OUT at "Wait for the stack" without recording its outcome');
    expect(recorded.filter((l) => l.startsWith('next: '))).toHaveLength(1);
    expect(recorded.some((l) => l.startsWith('stopped at'))).toBe(false);
  });
});

// s28: `tenants watch --json` printed one object per step and nothing at the end, so a script could tell how the
// execution ended only from the exit code, never why or what to run next.
describe('tessera tenants watch --json at the end of the execution', () => {
  const jsonLines = async (answer: object) => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    await watch({ call: async () => answer } as unknown as AdminClient, 'acme', 1, true, undefined, false);
    vi.restoreAllMocks();
    return out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  };

  it('ends with { execution } holding the recorded failure and the next command, without the steps', async () => {
    const failure = { step: 'Check account', reason: 'CreateAccount failed: EMAIL_ALREADY_EXISTS', at: '2026-12-03T06:01:00.000Z', kind: 'onboard' };
    const lines = await jsonLines({ status: 'FAILED', kind: 'onboard', executionStatus: 'FAILED', startDate: '2026-12-03T06:00:00.000Z', stopDate: '2026-12-03T06:01:00.000Z', failure, steps: [{ name: 'Check account', seconds: 60, status: 'FAILED' }] });
    expect(lines[0]).toEqual({ step: 'Check account', status: 'FAILED', seconds: 60 });
    const end = lines.at(-1)!.execution as Record<string, unknown>;
    expect(lines).toHaveLength(2);
    expect(end).toMatchObject({ status: 'FAILED', kind: 'onboard', executionStatus: 'FAILED', failure });
    expect(end.next).toMatch(/^tessera tenants retry acme --admin-email <another email>/);
    expect(end).not.toHaveProperty('steps');
    expect(end).not.toHaveProperty('stoppedAt');
  });

  it('an aborted execution with no failure recorded yet: stoppedAt and next', async () => {
    const lines = await jsonLines({ status: 'PROVISIONING', kind: 'onboard', executionStatus: 'ABORTED', steps: [{ name: 'Deploy baseline', seconds: 30, status: 'ABORTED', error: 'Operator', cause: 'stopped to fix the blueprint' }] });
    const end = lines.at(-1)!.execution as Record<string, unknown>;
    expect(end.stoppedAt).toEqual({ step: 'Deploy baseline', reason: 'execution aborted: Operator (stopped to fix the blueprint)' });
    expect(end.next).toBe('remove the cause above, then run tessera tenants retry acme (steps already done are skipped)');
  });

  it('a succeeded execution: its status and no next', async () => {
    const lines = await jsonLines({ status: 'ACTIVE', kind: 'onboard', executionStatus: 'SUCCEEDED', steps: [{ name: 'Issue key', seconds: 1, status: 'DONE' }] });
    expect(lines.at(-1)).toEqual({ execution: { status: 'ACTIVE', kind: 'onboard', executionStatus: 'SUCCEEDED' } });
  });
});

describe('tessera tenants show of a failed tenant', () => {
  const record = (extra: Partial<TenantRecord>): TenantRecord => ({
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'account', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001',
    status: 'FAILED', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
  } as TenantRecord);

  it('prints the next step after the failure', () => {
    const failed = tenantDetails(record({ failure: { step: 'Check account', reason: 'EMAIL_ALREADY_EXISTS', at: '2026-12-03T06:01:00.000Z', kind: 'onboard' } }));
    expect(failed).toMatch(/^next {8}tessera tenants retry acme --admin-email <another email>/m);
    const change = tenantDetails(record({ status: 'ACTIVE', failure: { step: 'Deploy blueprint', reason: 'ChangeRefused', at: '2026-12-03T06:01:00.000Z', kind: 'change' } }));
    expect(change).toMatch(/^next {8}the tenant stays on its previous tier and version; remove the cause above, then run the change again: tessera tenants update acme /m);
    expect(tenantDetails(record({ status: 'ACTIVE' }))).not.toMatch(/^next/m);
  });

  it('keeps a failure reason with line breaks, ANSI escapes or a bidi override on its line, escaped (s31q: the history and failure lines printed it raw, the actor and requestReason beside it escaped)', () => {
    const reason = 'StackFailed: Resource handler returned message: "bad\r\nfailure     forged" \u001b[2J\u202Eeno';
    const shown = tenantDetails(record({
      failure: { step: 'Deploy tenant stack', reason, at: '2026-12-03T06:01:00.000Z', kind: 'onboard' },
      executions: [{ kind: 'onboard', requestId: 'req-acme-0001', startedAt: '2026-12-03T06:00:00.000Z', status: 'FAILED', failedStep: 'Deploy\ntenant stack', reason, actor: 'admin:arn:aws:iam::111111111111:user/ops' }],
    }));
    const lines = shown.split('\n');
    expect(lines.filter((l) => l.startsWith('failure'))).toEqual(['failure     Deploy tenant stack: StackFailed: Resource handler returned message: "bad\\r\\nfailure     forged" \\u001b[2J\\u202eeno']);
    expect(lines.at(-1)).toBe('  2026-12-03T06:00:00.000Z  onboard  FAILED by admin:arn:aws:iam::111111111111:user/ops at "Deploy\\ntenant stack": StackFailed: Resource handler returned message: "bad\\r\\nfailure     forged" \\u001b[2J\\u202eeno');
    expect(shown).not.toMatch(/[\u001b\r\u202e]/);
  });
});

// s27: a change that ended while its tenant stack was still UPDATE_IN_PROGRESS records failure.stackUpdating, resolved by
// a later drift check (drift.standing when it recorded the stack's tier). Watch and show said `the tenant stays on its
// previous tier and version` of it, and neither said whether the update had been resolved.
describe('tessera tenants watch and show of a change whose stack was still updating', () => {
  const CHANGE = 'arn:aws:states:us-east-1:111111111111:execution:tessera-change:change-acme-1';
  const updating = { stack: 'tessera-acme', status: 'UPDATE_IN_PROGRESS', tier: 'professional', blueprintVersion: '1.0.0' };
  const failure = { step: 'Wait for the stack', reason: 'execution ABORTED at "Wait for the stack"; stack tessera-acme is still UPDATE_IN_PROGRESS …', at: '2026-12-04T10:00:31.000Z', kind: 'change' as const, executionArn: CHANGE };
  const resolved = (recorded: boolean) => ({ ...updating, resolved: { at: '2026-12-05T03:00:00.000Z', stackStatus: recorded ? 'UPDATE_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE', recorded } });
  const watchLines = async (stackUpdating: object) => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const answer = { status: 'ACTIVE', kind: 'change', executionStatus: 'ABORTED', steps: [{ name: 'Wait for the stack', seconds: 30, status: 'ABORTED' }], failure: { ...failure, stackUpdating } };
    await watch({ call: async () => answer } as unknown as AdminClient, 'acme', 1, false, undefined, false);
    vi.restoreAllMocks();
    return out.join('').split('\n');
  };
  const record = (extra: Partial<TenantRecord>): TenantRecord => ({
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'account', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001', blueprintVersion: '1.0.0',
    status: 'ACTIVE', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
  } as TenantRecord);

  it('watch: the pending update after the failure, and the drift check as the next step', async () => {
    const out = await watchLines(updating);
    const at = out.findIndex((l) => l.startsWith('failed at "Wait for the stack"'));
    expect(out[at + 1]).toBe('stack tessera-acme was UPDATE_IN_PROGRESS to tier professional, version 1.0.0 when the operation ended; not resolved yet: the registry keeps its tier and version until a drift check finds the update ended');
    expect(out[at + 2]).toBe('next: the stack\'s update goes on in CloudFormation: tessera tenants drift --detect acme records the tier and version it ends on (the daily drift run does too); until then tessera tenants update acme to the recorded tier or version is refused (409 stack_update_pending)');
  });

  it('watch: a resolved update says how it ended; recorded, nothing to run again; rolled back, the change\'s own next step', async () => {
    const recorded = await watchLines(resolved(true));
    expect(recorded).toContain('stack tessera-acme was UPDATE_IN_PROGRESS to tier professional, version 1.0.0 when the operation ended; resolved 2026-12-05T03:00:00.000Z by the drift check: UPDATE_COMPLETE, its tier and version recorded');
    expect(recorded).toContain('next: nothing to run again: the stack completed its update after the change ended, and the drift check of 2026-12-05T03:00:00.000Z recorded its tier and version');
    const rolledBack = await watchLines(resolved(false));
    expect(rolledBack).toContain('stack tessera-acme was UPDATE_IN_PROGRESS to tier professional, version 1.0.0 when the operation ended; resolved 2026-12-05T03:00:00.000Z by the drift check: UPDATE_ROLLBACK_COMPLETE, the recorded tier and version kept');
    expect(rolledBack.find((l) => l.startsWith('next: '))).toMatch(/^next: the tenant stays on its previous tier and version; /);
  });

  it('show: the pending update under the failure, its next step, and the drift check\'s catch-up (from → to, when)', () => {
    const pending = tenantDetails(record({ failure: { ...failure, stackUpdating: updating } })).split('\n');
    const at = pending.findIndex((l) => l.startsWith('failure     Wait for the stack: '));
    expect(pending[at + 1]).toBe('  stack tessera-acme was UPDATE_IN_PROGRESS to tier professional, version 1.0.0 when the operation ended; not resolved yet: the registry keeps its tier and version until a drift check finds the update ended');
    expect(pending[at + 2]).toMatch(/^next {8}the stack's update goes on in CloudFormation: tessera tenants drift --detect acme /);
    expect(pending.some((l) => l.startsWith('caught up'))).toBe(false);
    const standing = { at: '2026-12-05T03:00:00.000Z', stack: 'tessera-acme', stackStatus: 'UPDATE_COMPLETE', from: { tier: 'starter', blueprintVersion: '1.0.0' }, to: { tier: 'professional', blueprintVersion: '1.0.0' }, executionArn: CHANGE };
    const caughtUp = tenantDetails(record({ tier: 'professional', failure: { ...failure, stackUpdating: resolved(true) }, drift: { status: 'IN_SYNC', checkedAt: '2026-12-05T03:00:00.000Z', stacks: [], resources: [], standing } }));
    expect(caughtUp).toContain('\n  stack tessera-acme was UPDATE_IN_PROGRESS to tier professional, version 1.0.0 when the operation ended; resolved 2026-12-05T03:00:00.000Z by the drift check: UPDATE_COMPLETE, its tier and version recorded\n');
    expect(caughtUp).toMatch(/^next {8}nothing to run again: /m);
    expect(caughtUp).toContain(`\ncaught up   2026-12-05T03:00:00.000Z: stack tessera-acme was UPDATE_COMPLETE on tier professional, version 1.0.0 while the record said tier starter, version 1.0.0 (its update completed after ${CHANGE} ended): recorded; the usage key follows it into that tier's usage plan (see the usage key line when that move is pending)`);
    expect(caughtUp).not.toContain('\nusage key');
    const withNamespace = tenantDetails(record({ tier: 'professional', drift: { status: 'IN_SYNC', checkedAt: '2026-12-05T03:00:00.000Z', stacks: [], resources: [], standing: { ...standing, namespace: 'namespace stack tessera-acme-namespace not deployed; tessera tenants update acme --repair deploys it' } } }));
    expect(withNamespace.split('\n').find((l) => l.startsWith('caught up'))).toMatch(/usage plan \(see the usage key line when that move is pending\); namespace stack tessera-acme-namespace not deployed; tessera tenants update acme --repair deploys it$/);
  });

  it('show: a usage key move owed after a standing was recorded says the edge still enforces the old plan, since when, why, and what moves it', () => {
    const shown = tenantDetails(record({ tier: 'professional', usageKey: { id: 'k1', value: 'v', plan: 'plan-s', movePending: { tier: 'professional', at: '2026-12-05T03:00:00.000Z', error: 'TooManyRequestsException: Rate exceeded' } } }));
    expect(shown).toContain('\nusage key   NOT in the usage plan of tier professional: the move is pending since 2026-12-05T03:00:00.000Z (TooManyRequestsException: Rate exceeded); until it is made the edge enforces the plan the key is in. The next drift check moves it (tessera tenants drift --detect acme), or the next change');
    expect(tenantDetails(record({ tier: 'professional', usageKey: { id: 'k1', value: 'v', plan: 'plan-p' } }))).not.toContain('\nusage key');
  });
});

// Found by a platform engineer trying the README (s22): create's help did not say what the admin email is for; since the
// accounts' root email became organization.accountEmail (lambdas/lifecycle/create-account.ts CreateAccount Email), the
// help said the old thing until s36s found it: it must say the admin email is never the account's root email.
describe('tessera tenants create --help', () => {
  it('says --admin-email is the tenant administrator, never the AWS account\'s root email (organization.accountEmail)', async () => {
    const { tenantsCommand } = await import('../../../lib/cli/tenants-command.js');
    const create = tenantsCommand().commands.find((c) => c.name() === 'create')!;
    const help = create.options.find((o) => o.long === '--admin-email')!.description;
    expect(help).toMatch(/^tenant administrator .*never the root email of the tenant's AWS account .*which is organization\.accountEmail/);
    expect(help).not.toMatch(/EMAIL_ALREADY_EXISTS/);
  });
});

describe('tessera tenants watch of an onboarding whose invitation was skipped', () => {
  // s40h: `✓ Invite tenant admin` and `onboard succeeded`, with nothing of the SKIPPED invitation tenants show reports.
  it('says the invitation the onboarding recorded after the end line', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const answer = { status: 'ACTIVE', kind: 'onboard', executionStatus: 'SUCCEEDED', steps: [{ name: 'Invite tenant admin', seconds: 0, status: 'DONE' }],
      adminInvite: { state: 'SKIPPED', email: 'ops@acme.example.com', by: 'onboarding', at: '2026-12-06T11:32:16.917Z', reason: 'the platform has no user pool' } };
    await watch({ call: async () => answer } as unknown as AdminClient, 'acme', 1, false, undefined, false);
    vi.restoreAllMocks();
    const lines = out.join('').split('\n');
    expect(lines.slice(-3)).toEqual(['onboard succeeded — tenant acme is ACTIVE', 'admin invite SKIPPED ops@acme.example.com: the platform has no user pool', '']);
  });
});
