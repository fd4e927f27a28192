import {
  GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, ReceiveMessageCommand, SQSClient, SQSServiceException,
} from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminApiError, type AdminClient } from '../../../lib/cli/admin-client.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { platformCommand, type HealthIo, type HealthReport } from '../../../lib/cli/platform-command.js';
import {
  closureFindings, compareVersions, dlqFindings, driftFindings, drFindings, drRegionFindings, healthExitCode, healthLines, lifecycleFindings, registryFindings,
  upgradeFindings, unreadable,
} from '../../../lib/cli/platform/health-rules.js';
import { WORKFLOW_TIMEOUT_SECONDS } from '../../../lib/lifecycle-workflow-timeouts.js';
import type { DriftRow } from '../../../lib/tenant-list-page.js';
import { TenantRecord } from '../../../lib/tenant-record.js';
import { mockStrict } from '../../support/strict-mock.js';
import { removeTempDirs, tempDir } from '../../support/temp-dirs.js';

afterAll(removeTempDirs);

const NOW = Date.parse('2026-12-05T12:00:00.000Z');
const H = 3_600_000;
const D = 24 * H;
const at = (ms: number) => new Date(ms).toISOString();

/** A registry record as the admin API lists it, `status` ACTIVE unless given. */
function tenant(id: string, extra: Record<string, unknown> = {}): TenantRecord {
  return TenantRecord.parse({
    tenantId: id, name: id, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${id}.example.com`, status: 'ACTIVE', blueprintVersion: '1.4.0',
    requestId: `req-${id}-0001`, createdAt: at(NOW - 90 * D), updatedAt: at(NOW - 10 * D), ...extra,
  });
}
const running = (kind: string, requestId: string, startedAt: number) => ({ kind, requestId, startedAt: at(startedAt), status: 'RUNNING', executionArn: `arn:aws:states:us-east-1:123456789012:execution:tessera-x:${requestId}` });
const lease = (kind: string, requestId: string, acquiredAt: number) => ({ kind, requestId, executionArn: `arn:aws:states:us-east-1:123456789012:execution:tessera-x:${requestId}`, acquiredAt: at(acquiredAt), previousStatus: 'ACTIVE' });

describe('the rules of tessera platform health', () => {
  it('a DLQ with messages fails, since its oldest message, with the redrive (the purge for AWS service events); in flight only is info; empty says nothing', () => {
    const q = { name: 'tessera-dlq-lifecycle', url: 'https://sqs/q', arn: 'arn:q', visible: 3, inFlight: 0, oldestAgeSeconds: 7200, source: 'lifecycle events', awsServiceEvents: 0 };
    expect(dlqFindings([q, { ...q, name: 'tessera-dlq-b', visible: 0, inFlight: 2, oldestAgeSeconds: undefined }, { ...q, name: 'tessera-dlq-c', visible: 0 }], NOW)).toEqual([
      { severity: 'fail', source: 'dlq', subject: 'tessera-dlq-lifecycle', what: 'tessera-dlq-lifecycle holds 3 message(s) (lifecycle events)', since: at(NOW - 2 * H), action: 'tessera dlq list tessera-dlq-lifecycle --peek 5; tessera dlq redrive tessera-dlq-lifecycle --dry-run, then without --dry-run' },
      { severity: 'info', source: 'dlq', subject: 'tessera-dlq-b', what: 'tessera-dlq-b: 2 message(s) in flight (a redrive or a peek holds them; visible again if not deleted)', action: 'tessera dlq list tessera-dlq-b' },
    ]);
    expect(dlqFindings([{ ...q, awsServiceEvents: 2 }], NOW, ' --region eu-west-1')[0]!.action).toBe('tessera dlq list tessera-dlq-lifecycle --region eu-west-1 --peek 5; fix what refused them, then tessera dlq purge tessera-dlq-lifecycle --region eu-west-1 --yes');
  });

  it('FAILED tenants and stopped offboardings fail with the retry; an offboarding still running does not', () => {
    const failed = tenant('bad', { status: 'FAILED', failure: { step: 'Deploy blueprint', reason: 'CREATE_FAILED: quota', at: at(NOW - 3 * H) } });
    const stopped = tenant('gone', { status: 'OFFBOARDING' });
    const offboarding = tenant('going', { status: 'OFFBOARDING', lease: lease('offboard', 'r-going', NOW - H), executions: [running('offboard', 'r-going', NOW - H)] });
    const stranded = tenant('lost', { status: 'UPDATING', updatedAt: at(NOW - 2 * D) });
    const updating = tenant('busy', { status: 'UPDATING', lease: { kind: 'change', executionArn: 'arn:x', requestId: 'r', acquiredAt: at(NOW - H), previousStatus: 'ACTIVE' } });
    expect(registryFindings([stranded, updating])).toEqual([
      { severity: 'fail', source: 'registry', subject: 'lost', what: 'tenant lost is UPDATING with no operation holding it (no lease: removed outside Tessera, or lost); the next request records its operation failed and goes on', since: at(NOW - 2 * D), action: 'tessera tenants show lost; tessera tenants update lost --repair' },
    ]);
    expect(registryFindings([failed, stopped, offboarding, tenant('okay')])).toEqual([
      { severity: 'fail', source: 'registry', subject: 'bad', what: 'tenant bad is FAILED: Deploy blueprint: CREATE_FAILED: quota', since: at(NOW - 3 * H), action: 'tessera tenants show bad; tessera tenants retry bad' },
      { severity: 'fail', source: 'registry', subject: 'gone', what: 'tenant gone: its offboarding stopped (OFFBOARDING, no operation running)', since: at(NOW - 10 * D), action: 'tessera tenants show gone; tessera tenants retry gone' },
    ]);
  });

  it('an operation RUNNING longer than its own workflow\'s timeout fails; within it, nothing (the bound is per kind)', () => {
    expect(WORKFLOW_TIMEOUT_SECONDS).toMatchObject({ change: 86_400, status: 900, onboard: 172_800, upgrade: 604_800 });
    const within = tenant('aaa', { executions: [running('change', 'r-a', NOW - 23 * H), running('upgrade', 'r-a2', NOW - 6 * D)] });
    const past = tenant('bbb', { executions: [running('change', 'r-b', NOW - 25 * H)] });
    const suspend = tenant('ccc', { executions: [running('suspend', 'r-c', NOW - 20 * 60_000)] });
    const found = lifecycleFindings([within, past, suspend], NOW);
    expect(found.map((f) => [f.subject, f.severity, f.since])).toEqual([['bbb', 'fail', at(NOW - 25 * H)], ['ccc', 'fail', at(NOW - 20 * 60_000)]]);
    expect(found[0]!.what).toBe('tenant bbb: change r-b recorded RUNNING for 1d 1h, longer than its workflow\'s timeout (1 d): its execution has ended and the registry was not told');
    expect(found[1]!.what).toContain('longer than its workflow\'s timeout (15 min)');
    // s38m: the action said only "tessera tenants show", for an entry nothing would ever end
    expect(found[0]!.action).toBe('tessera tenants show bbb (execution arn:aws:states:us-east-1:123456789012:execution:tessera-x:r-b); no lease holds the tenant, so the next operation that takes its lease records this entry FAILED');
  });

  it('a lease past its operation\'s bound, or held by an operation that ended, fails once per operation (the lease and its RUNNING entry together)', () => {
    const stuck = tenant('stuck', { status: 'UPDATING', lease: lease('upgrade', 'r-up', NOW - 8 * D), executions: [running('upgrade', 'r-up', NOW - 8 * D)] });
    const ended = tenant('ended', { lease: lease('change', 'r-ch', NOW - 2 * H), executions: [{ kind: 'change', requestId: 'r-ch', startedAt: at(NOW - 2 * H), endedAt: at(NOW - H), status: 'FAILED' }] });
    const fresh = tenant('fresh', { status: 'UPDATING', lease: lease('change', 'r-f', NOW - H), executions: [running('change', 'r-f', NOW - H)] });
    const found = lifecycleFindings([stuck, ended, fresh], NOW);
    expect(found.map((f) => f.subject)).toEqual(['stuck', 'ended']);
    expect(found[0]!.what).toBe('tenant stuck: upgrade r-up has held the lease for 8d 0h, longer than its workflow\'s timeout (7 d): Step Functions has ended it and the registry was not told; every other operation on the tenant is refused');
    expect(found[1]!.what).toBe(`tenant ended: the lease of change r-ch is still held, but that operation ended FAILED at ${at(NOW - H)}: every other operation on the tenant is refused`);
  });

  it('a retried onboarding (the same requestId, a new execution) holds its lease while it runs: no finding (s31u: before, its FAILED first attempt was read as the lease\'s operation, "release the lease")', () => {
    const arn = (n: string) => `arn:aws:states:us-east-1:123456789012:execution:tessera-onboard:${n}`;
    const retried = tenant('again', {
      status: 'PROVISIONING', lease: { ...lease('onboard', 'req-again-0001', NOW - H), executionArn: arn('second'), previousStatus: 'FAILED' },
      executions: [{ kind: 'onboard', requestId: 'req-again-0001', executionArn: arn('first'), startedAt: at(NOW - 2 * D), endedAt: at(NOW - D), status: 'FAILED' },
        { ...running('onboard', 'req-again-0001', NOW - H), executionArn: arn('second') }],
    });
    expect(lifecycleFindings([retried], NOW)).toEqual([]);
    // the same retry past its bound: one line (the lease's and its RUNNING entry together), not the first attempt's
    const stuck = lifecycleFindings([retried], NOW + 3 * D);
    expect(stuck.map((f) => f.what)).toEqual([expect.stringContaining('onboard req-again-0001 has held the lease for 3d 1h')]);
    // its lease outlived the retry that ended: that one's end is named
    const ended = tenant('again', { ...retried, executions: [retried.executions[0]!, { ...retried.executions[1]!, status: 'SUCCEEDED', endedAt: at(NOW - 60_000) }] });
    expect(lifecycleFindings([ended], NOW)[0]!.what).toContain(`ended SUCCEEDED at ${at(NOW - 60_000)}`);
  });

  it('the lines show what the sources quote with its control characters escaped (s31u: an escape sequence in a CloudFormation reason drove the terminal, a \\r printed over the line)', () => {
    const failed = tenant('esc', { status: 'FAILED', failure: { step: 'Deploy\u001b[2J blueprint', reason: 'CREATE_FAILED\u001b[32m ok\rfail  nothing', at: at(NOW - H) } });
    const closing = tenant('shut', { status: 'OFFBOARDED', accountClosure: { accountId: '123456789012', state: 'QUEUED', at: at(NOW - H), error: 'Throttled\u009b31m', attempts: 1 } });
    const lines = healthLines([...registryFindings([failed]), ...closureFindings([closing])], ['registry']);
    expect(lines.join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(lines[0]!.split('\n')[0]).toBe(`fail  registry  tenant esc is FAILED: Deploy\\u001b[2J blueprint: CREATE_FAILED\\u001b[32m ok\\rfail  nothing (since ${at(NOW - H)})`);
    expect(lines.join('\n')).toContain('failed after 1 attempt(s): Throttled\\u009b31m');
  });

  it('drift: DRIFTED warns with the repair; a check older than twice the daily period, a failed one, or none (on a tenant older than that) warns with --detect', () => {
    const row = (tenantId: string, extra: Partial<DriftRow>): DriftRow => ({ tenantId, tier: 'starter', status: 'ACTIVE', drift: 'IN_SYNC', checkedAt: at(NOW - H), driftedResources: 0, ...extra });
    const rows = [
      row('drifted', { drift: 'DRIFTED', driftedResources: 2 }), row('fresh', {}), row('old', { checkedAt: at(NOW - 49 * H) }), row('day', { checkedAt: at(NOW - 47 * H) }),
      row('never', { drift: 'NOT_CHECKED', checkedAt: undefined }), row('new', { drift: 'NOT_CHECKED', checkedAt: undefined }),
      row('broke', { failedCheck: { at: at(NOW - H), error: 'Throttling' } }), row('paused', { status: 'SUSPENDED', drift: 'DRIFTED' }),
    ];
    const found = driftFindings(rows, NOW, new Map([['never', at(NOW - 90 * D)], ['new', at(NOW - D)]]));
    expect(found.map((f) => [f.subject, f.severity, f.action])).toEqual([
      ['drifted', 'warn', 'tessera tenants drift drifted; tessera tenants update drifted --repair'],
      ['old', 'warn', 'tessera tenants drift --detect old'],
      ['never', 'warn', 'tessera tenants drift --detect never'],
      ['broke', 'warn', 'tessera tenants drift --detect broke'],
      [undefined, 'info', 'tessera tenants drift --detect'],
    ]);
    // Tenants created within the 48 h are not each a missed run, but their drift is unknown: one line says how many (it said nothing).
    expect(found.at(-1)!.what).toBe('1 ACTIVE tenant(s) created within the last 2 d never checked for drift (new): their drift is unknown until the daily drift run reaches them');
  });

  it('DR: a failed restore test or validation fails; one older than a month and slack, or none after that long, warns; a tenant without DR is not read', () => {
    const dr = (latestRestoreTest?: object, updatedAt = at(NOW - 100 * D)) => ({ disasterRecovery: { region: 'us-west-2', stackName: 'tessera-x-dr', status: 'ACTIVE', updatedAt, ...(latestRestoreTest ? { latestRestoreTest } : {}) } });
    const test = (status: string, ago: number, extra = {}) => ({ restoreJobId: 'job-1', status, at: at(NOW - ago), ...extra });
    const found = drFindings([
      tenant('failed', dr(test('FAILED', 3 * D, { message: 'subnet gone' }))), tenant('invalid', dr(test('COMPLETED', 3 * D, { validationStatus: 'TIMED_OUT' }))),
      tenant('old', dr(test('COMPLETED', 35 * D))), tenant('okay', dr(test('COMPLETED', 33 * D))), tenant('untested', dr()), tenant('newdr', dr(undefined, at(NOW - 5 * D))), tenant('nodr'),
    ], NOW, 'tessera.config.json');
    expect(found.map((f) => [f.subject, f.severity])).toEqual([['failed', 'fail'], ['invalid', 'fail'], ['old', 'warn'], ['untested', 'warn']]);
    expect(found[0]).toMatchObject({ what: 'tenant failed: the latest restore test (job job-1) FAILED: subnet gone', since: at(NOW - 3 * D), action: 'tessera tenants failover-plan failed --config tessera.config.json' });
    expect(found[1]!.what).toBe('tenant invalid: the latest restore test (job job-1) validation TIMED_OUT');
  });

  // A DR region taken out of allowedRegions was met only at Check rebuilt stack (DrRegionNotAllowed), after the deploy, and by
  // the daily key deletion run failing in it: nothing said so before the config change.
  it('DR regions: a tenant whose recorded DR region allowedRegions does not list fails (whatever its DR stack\'s status), and so does a DR key queued for deletion there or a DR container whose removal is retried there; OFFBOARDED tenants and listed regions say nothing', () => {
    const dr = (region: string, status = 'ACTIVE') => ({ accountId: '333333333333', disasterRecovery: { region, stackName: 'tessera-x-dr', status, updatedAt: at(NOW - 5 * D) } });
    const queued = (region: string, state = 'QUEUED') => ({ status: 'OFFBOARDED', offboarding: { drKeyDeletion: { state, region, keyArn: `arn:aws:kms:${region}:333333333333:key/k-1`, dueAt: at(NOW + 20 * D) } } });
    const found = drRegionFindings([
      tenant('west', dr('us-west-2')), tenant('kept', dr('us-west-2', 'RETAINED')), tenant('leaving', { ...dr('us-west-2', 'REMOVED'), status: 'OFFBOARDING' }),
      tenant('gone', { ...dr('us-west-2', 'REMOVED'), status: 'OFFBOARDED' }), tenant('listed', dr('eu-west-1')), tenant('nodr'),
      tenant('keyq', queued('us-west-2')), tenant('keysched', queued('us-west-2', 'SCHEDULED')), tenant('keyok', queued('eu-west-1')),
    ], ['us-east-1', 'eu-west-1'], 'next.config.yaml');
    expect(found.map((f) => [f.subject, f.severity, f.source])).toEqual([['west', 'fail', 'dr'], ['kept', 'fail', 'dr'], ['leaving', 'fail', 'dr'], ['keyq', 'fail', 'dr']]);
    expect(found[0]).toEqual({
      severity: 'fail', source: 'dr', subject: 'west', since: at(NOW - 5 * D),
      what: 'tenant west\'s DR region us-west-2 (DR stack tessera-x-dr ACTIVE) is not in allowedRegions of next.config.yaml (us-east-1, eu-west-1): deployed so, the guardrail SCP denies every call there and each offboarding, change or upgrade of the tenant is refused at Check rebuilt stack (DrRegionNotAllowed)',
      action: 'keep us-west-2 in allowedRegions (put it back and deploy TesseraOrganization (its guardrail SCP lists allowedRegions) and TesseraPlatform with it, if it is out already); take it out once no tenant keeps its DR there: offboard west first while us-west-2 is allowed (tessera tenants delete west --yes): a move to a tier without DR keeps its DR stack RETAINED in us-west-2, and one to another DR region is refused',
    });
    expect(found[3]!.what).toBe(`tenant keyq: its DR key arn:aws:kms:us-west-2:333333333333:key/k-1 waits in the key deletion queue (due ${at(NOW + 20 * D)}) in us-west-2, which is not in allowedRegions of next.config.yaml (us-east-1, eu-west-1): deployed so, the daily Process key deletion queue cannot schedule it there and fails on it each day`);
    expect(found[3]!.action).toMatch(/^keep us-west-2 in allowedRegions .* until the key is scheduled: tessera tenants show keyq/);
    // an emptied DR vault whose removal the daily run retries there: one line; one removed since says nothing
    const vault = (removed: boolean) => ({ store: 'backup-vault', id: 'tessera-vlt-dr', disposition: 'expires', holdsKey: false, drRegion: 'us-west-2', removalRefused: `${at(NOW - D)}: InvalidRequestException: vault not empty`, ...(removed ? { removedAt: at(NOW) } : {}) });
    const stores = (removed: boolean) => ({ status: 'OFFBOARDED', offboarding: { drKeyDeletion: { state: 'SCHEDULED', region: 'us-west-2' }, retainedStores: [vault(removed)] } });
    const containers = drRegionFindings([tenant('vlt', stores(false)), tenant('vltdone', stores(true))], ['us-east-1'], 'next.config.yaml');
    expect(containers.map((f) => [f.subject, f.severity, f.what])).toEqual([['vlt', 'fail', 'tenant vlt: the removal of its emptied DR container backup-vault tessera-vlt-dr in us-west-2 is retried by the daily key deletion run, and us-west-2 is not in allowedRegions of next.config.yaml (us-east-1): deployed so, each retry fails']]);
    // every region listed: nothing
    expect(drRegionFindings([tenant('west', dr('us-west-2')), tenant('keyq', queued('us-west-2')), tenant('vlt', stores(false))], ['us-east-1', 'us-west-2'], 'c.yaml')).toEqual([]);
  });

  it('upgrades: a run in progress is info, a failed one warns until a later change succeeded; tenants behind the catalog are one info line per tier', () => {
    const failedRun = { kind: 'upgrade', requestId: 'up-1', startedAt: at(NOW - 2 * D), endedAt: at(NOW - 2 * D + H), status: 'FAILED', failedStep: 'Deploy blueprint', reason: 'UPDATE_ROLLBACK_COMPLETE' };
    const found = upgradeFindings([
      tenant('inprog', { status: 'UPDATING', executions: [running('upgrade', 'up-2', NOW - H)] }), tenant('failed', { executions: [failedRun] }),
      tenant('fixed', { executions: [failedRun, { kind: 'change', requestId: 'c-1', startedAt: at(NOW - D), endedAt: at(NOW - D + H), status: 'SUCCEEDED' }] }),
      tenant('current', { blueprintVersion: '1.10.0' }), tenant('gone', { status: 'OFFBOARDED' }),
    ], '1.10.0');
    expect(found.map((f) => [f.subject, f.severity])).toEqual([['inprog', 'info'], ['failed', 'warn'], ['starter', 'info']]);
    expect(found[1]!.what).toBe('tenant failed: its rolling upgrade run up-1 FAILED at Deploy blueprint: UPDATE_ROLLBACK_COMPLETE; it stays on 1.4.0');
    expect(found[2]).toEqual({ severity: 'info', source: 'upgrades', subject: 'starter', what: 'tier starter: 3 tenant(s) on a blueprint version older than the catalog\'s 1.10.0 (inprog, failed, fixed)', action: 'tessera tenants upgrade --tier starter --blueprint-version 1.10.0' });
    expect([compareVersions('1.4.0', '1.10.0') < 0, compareVersions('1.10.0', '1.10.0'), compareVersions('2.0.0', '1.10.0') > 0]).toEqual([true, 0, true]);
  });

  it('account closures: set aside fails with the close-account by hand, failed warns, queued is info, closed says nothing', () => {
    const c = (state: string, extra = {}) => ({ status: 'OFFBOARDED', isolation: 'account', accountClosure: { accountId: '111122223333', state, at: at(NOW - D), ...extra } });
    const found = closureFindings([tenant('aaa', c('NEEDS_OPERATOR', { attempts: 5, error: 'AccessDenied' })), tenant('bbb', c('QUEUED', { attempts: 1, error: 'Timeout' })), tenant('ccc', c('QUEUED')), tenant('ddd', c('CLOSED'))]);
    expect(found.map((f) => [f.subject, f.severity])).toEqual([['aaa', 'fail'], ['bbb', 'warn'], ['ccc', 'info']]);
    expect(found[0]).toMatchObject({ what: 'tenant aaa: closure of account 111122223333 set aside after 5 attempt(s): AccessDenied', action: 'fix the cause, then aws organizations close-account --account-id 111122223333 (from the management account)' });
  });

  it('the exit code is 1 when anything fails (an unreadable source counts), else 0; the lines end with the summary', () => {
    const warn = { severity: 'warn', source: 'drift', what: 'w' } as const;
    expect([healthExitCode([]), healthExitCode([warn]), healthExitCode([warn, unreadable('dlq', 'dead-letter queues', new Error('AccessDenied'))])]).toEqual([0, 0, 1]);
    expect(healthLines([], ['registry']).at(-1)).toBe('0 fail, 0 warn, 0 info (checked: registry): nothing needs an operator now');
  });
});

const sqs = mockStrict(SQSClient, 'sqs', SQSServiceException);

describe('tessera platform health: the sources read, the lines, --json and the exit code', () => {
  let routes: Record<string, unknown>;
  let out: string[];
  beforeEach(() => {
    sqs.reset();
    out = [];
    routes = { '/admin/tenants': { tenants: [] }, '/admin/drift': { tenants: [] }, '/admin/tiers': { tiers: [], blueprintVersion: '1.4.0' } };
  });
  afterEach(() => { process.exitCode = undefined; });

  /** The admin API as a table of GET answers; an Error answer is thrown. */
  const api = { call: async (method: string, path: string) => {
    expect(method).toBe('GET');
    const answer = routes[path];
    if (answer instanceof Error) throw answer;
    return answer;
  } } as unknown as AdminClient;
  const io: HealthIo = { out: (t) => out.push(t), now: () => NOW, sqs: async () => new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }), api: () => api };

  async function run(...args: string[]): Promise<number> {
    const program = new Command('tessera').option('--api-url <url>').option('--region <region>').option('--json').exitOverride();
    program.addCommand(platformCommand(io));
    await program.parseAsync(['node', 'tessera', 'platform', 'health', ...args]);
    return Number(process.exitCode ?? 0);
  }
  const queue = (visible: number) => {
    const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/tessera-dlq-lifecycle';
    sqs.on(ListQueuesCommand).resolves({ QueueUrls: [url] });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:123456789012:tessera-dlq-lifecycle', ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: '0' } });
    sqs.on(ListQueueTagsCommand).resolves({ Tags: { 'tessera:dlq-source': 'lifecycle events' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: visible ? [{ MessageId: 'm1', Body: '{}', Attributes: { SentTimestamp: String(NOW - 2 * H) } }] : [] });
  };

  it('a healthy platform: exit 0, the summary says nothing needs an operator', async () => {
    queue(0);
    expect(await run('--as-of', '2026-06-01')).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines.filter((l) => /^(fail|warn) /.test(l))).toEqual([]);
    expect(lines.at(-1)).toMatch(/^0 fail, 0 warn, \d+ info \(checked: dead-letter queues \(tessera-dlq-\*\), registry, drift, model catalog \(embedded default, as of 2026-06-01\)\): nothing needs an operator now$/);
  });

  it('a DLQ message and a FAILED tenant: fail lines with what, since and the command, exit 1; --json has the same findings', async () => {
    queue(1);
    routes['/admin/tenants'] = { tenants: [tenant('bad', { status: 'FAILED', failure: { step: 'Deploy blueprint', reason: 'boom', at: at(NOW - H) } })] };
    expect(await run('--as-of', '2026-06-01')).toBe(1);
    expect(out[0]!.split('\n').slice(0, 4)).toEqual([
      `fail  dlq       tessera-dlq-lifecycle holds 1 message(s) (lifecycle events) (since ${at(NOW - 2 * H)})`,
      '      → tessera dlq list tessera-dlq-lifecycle --peek 5; tessera dlq redrive tessera-dlq-lifecycle --dry-run, then without --dry-run',
      `fail  registry  tenant bad is FAILED: Deploy blueprint: boom (since ${at(NOW - H)})`,
      '      → tessera tenants show bad; tessera tenants retry bad',
    ]);
    out = [];
    expect(await run('--as-of', '2026-06-01', '--json')).toBe(1);
    const report = JSON.parse(out[0]!) as HealthReport;
    expect(report.findings.filter((f) => f.severity === 'fail').map((f) => f.subject)).toEqual(['tessera-dlq-lifecycle', 'bad']);
    expect(report).toMatchObject({ checkedAt: at(NOW), summary: { fail: 2, warn: 0 } });
  });

  it('a source that cannot be read is a fail line naming it and its error; the others are still read', async () => {
    sqs.on(ListQueuesCommand).rejects(Object.assign(new Error('User is not authorized to perform sqs:ListQueues'), { name: 'AccessDenied' }));
    routes['/admin/tenants'] = new AdminApiError(403, 'User is not authorized to access this resource');
    routes['/admin/drift'] = { tenants: [{ tenantId: 'xxx', tier: 'starter', status: 'ACTIVE', drift: 'DRIFTED', checkedAt: at(NOW - H), driftedResources: 1 }] };
    expect(await run('--as-of', '2026-06-01')).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('fail  dlq       dead-letter queues (tessera-dlq-*): not read: sqs:ListQueues (prefix tessera-dlq-) failed: AccessDenied');
    // Every line names what acts on it, an unread source too (a new user's last look: the dlq lines had no → line).
    out = [];
    await run('--as-of', '2026-06-01', '--json');
    const dlq = JSON.parse(out.join('\n')).findings.find((f: { source: string }) => f.source === 'dlq');
    expect(dlq.action).toMatch(/^tessera dlq list once SQS answers: the platform account's credentials \(--profile\), its home region \(--region\); AWS_ENDPOINT_URL for the local platform's moto$/);
    expect(text).toContain('fail  registry  the registry (GET /admin/tenants): FAILED tenants, stuck operations, DR restore tests, upgrades and account closures: not read: User is not authorized to access this resource');
    expect(text).toContain('warn  drift     tenant xxx: 1 resource(s) drifted from the blueprint');
  });

  it('a record or drift row off its schema is one fail line naming it; the others are still judged (s31u: before, a TypeError ended the command with no line)', async () => {
    queue(0);
    const bad = tenant('bad', { status: 'FAILED', failure: { step: 'Deploy blueprint', reason: 'boom', at: at(NOW - H) } });
    routes['/admin/tenants'] = { tenants: [{ tenantId: 'nohist', status: 'ACTIVE', tier: 'starter' }, bad, { ...tenant('odd'), status: 'FAILED', failure: { step: 'x', reason: 42, at: at(NOW) } }] };
    routes['/admin/drift'] = { tenants: [{ tenantId: 'broke', tier: 'starter', status: 'ACTIVE', drift: 'IN_SYNC', checkedAt: at(NOW - H), driftedResources: 0, failedCheck: { at: at(NOW), error: null } },
      { tenantId: 'xxx', tier: 'starter', status: 'ACTIVE', drift: 'DRIFTED', checkedAt: at(NOW - H), driftedResources: 1 }] };
    expect(await run('--as-of', '2026-06-01')).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('fail  registry  tenant nohist: the admin API\'s answer for it could not be judged (not as its schema says): TypeError: ');
    expect(text).toContain('fail  registry  tenant odd: the admin API\'s answer for it could not be judged');
    expect(text).toContain('fail  registry  tenant bad is FAILED: Deploy blueprint: boom');
    expect(text).toContain('fail  drift     tenant broke\'s drift row: the admin API\'s answer for it could not be judged');
    expect(text).toContain('warn  drift     tenant xxx: 1 resource(s) drifted from the blueprint');
    expect(text.split('\n').at(-1)).toMatch(/^4 fail, 1 warn, /);
    out = [];
    expect(await run('--as-of', '2026-06-01', '--json')).toBe(1);
    expect((JSON.parse(out[0]!) as HealthReport).findings.filter((f) => f.severity === 'fail').map((f) => f.subject)).toEqual(['tenant nohist', 'tenant odd', 'bad', "tenant broke's drift row"]);
  });

  it('--config: a tenant whose DR region the config\'s allowedRegions no longer lists is a fail line naming it, exit 1, the check in `checked`; without --config an info line says the regions were not compared', async () => {
    queue(0);
    const file = join(tempDir('health-config-'), 'next.config.json');
    writeFileSync(file, JSON.stringify({ allowedRegions: ['us-east-1', 'eu-west-1'] }));
    routes['/admin/tenants'] = { tenants: [tenant('west', { accountId: '333333333333', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-west-dr', status: 'ACTIVE', updatedAt: at(NOW - 5 * D), latestRestoreTest: { restoreJobId: 'j', status: 'COMPLETED', at: at(NOW - D) } } })] };
    expect(await run('--as-of', '2026-06-01', '--config', file)).toBe(1);
    const text = out.join('\n');
    expect(text).toContain(`fail  dr        tenant west's DR region us-west-2 (DR stack tessera-west-dr ACTIVE) is not in allowedRegions of ${file} (us-east-1, eu-west-1)`);
    expect(text.split('\n').at(-1)).toContain(`DR regions against allowedRegions (${file})`);
    out = [];
    // the embedded default's regions are no estate's: without --config nothing is judged, and a line says so
    expect(await run('--as-of', '2026-06-01')).toBe(0);
    expect(out.join('\n')).toContain('info  dr        the tenants\' DR regions were not compared with allowedRegions: no --config\n      → before taking a region out of allowedRegions, tessera platform health --config <the config you will deploy>');
  });

  it('--as-of judges the model catalog\'s shutdowns from that day (the embedded catalog\'s openai/gpt-4o-mini fails after 2027-01-14); a bad day cannot run (exit 2)', async () => {
    queue(0);
    expect(await run('--as-of', '2027-02-01')).toBe(1);
    expect(out.join('\n')).toMatch(/^fail  models    openai\/gpt-4o-mini \(upstream gpt-4o-mini\) was shut down on 2027-01-14/m);
    await expect(run('--as-of', '2027-02-30')).rejects.toEqual(new CliError('--as-of 2027-02-30: expected a calendar day YYYY-MM-DD, e.g. --as-of 2027-01-14', 2));
  });
});
