import { describe, expect, it } from 'vitest';
import type { UpgradeProgress, UpgradeStarted } from '../../../lib/upgrade-progress.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * A tier's rolling upgrade took `aws stepfunctions start-execution` under a platform-account admin profile (the
 * operators' role may not start it). `tessera tenants upgrade` starts it through the admin API (POST /admin/upgrades) and
 * follows it (GET /admin/upgrades/{upgradeId}) in `tessera tenants watch`'s style. The answers below are the admin API's
 * (lambdas/admin/upgrade-routes.ts), served on loopback.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade:starter-2_0_0-m3x-1a2b3c4d';
const started: UpgradeStarted = { upgradeId: 'starter-2_0_0-m3x-1a2b3c4d', requestId: 'starter-2.0.0-m3x', executionArn: ARN, tier: 'starter', blueprintVersion: '2.0.0', executionStatus: 'RUNNING', startDate: '2026-12-05T10:00:00.000Z' };
const base = { ...started, startDate: '2026-12-05T10:00:00.000Z' };
const list = { name: 'List tier tenants', startedAt: '2026-12-05T10:00:00.000Z', endedAt: '2026-12-05T10:00:01.500Z', seconds: 1.5, status: 'DONE' as const };
const map = { name: 'Upgrade each tenant', startedAt: '2026-12-05T10:00:01.500Z', status: 'RUNNING' as const };
const summary = {
  upgraded: 9, refused: 1, skipped: 1, failed: 1, manifest: 's3://work/upgrades/starter-2.0.0-m3x/results/run/manifest.json',
  refusals: [{ tenantId: 'acme', reason: 'change set of tessera-acme would replace Database (AWS::RDS::DBInstance)' }],
  skips: [{ tenantId: 'hooli', reason: 'tenant "hooli" is on tier professional since the upgrade of tier starter to 2.0.0 listed it' }],
  failures: [{ tenantId: 'initech', error: 'States.TaskFailed', cause: 'Deploy blueprint: UPDATE_ROLLBACK_COMPLETE' }],
};
/** The progress the watch reads, poll by poll: listing done, the map running (twice the same counts, then more), ended. */
const polls = (end: Partial<UpgradeProgress>): UpgradeProgress[] => [
  { ...base, listed: 12, mapRunArn: 'arn:map', tenants: { total: 12, pending: 7, running: 5, succeeded: 0, failed: 0, timedOut: 0, aborted: 0 }, steps: [list, map] },
  { ...base, listed: 12, mapRunArn: 'arn:map', tenants: { total: 12, pending: 7, running: 5, succeeded: 0, failed: 0, timedOut: 0, aborted: 0 }, steps: [list, map] },
  { ...base, listed: 12, mapRunArn: 'arn:map', tenants: { total: 12, pending: 0, running: 3, succeeded: 8, failed: 1, timedOut: 0, aborted: 0 }, steps: [list, map] },
  {
    ...base, executionStatus: 'SUCCEEDED', stopDate: '2026-12-05T10:10:01.000Z', listed: 12, mapRunArn: 'arn:map',
    tenants: { total: 12, pending: 0, running: 0, succeeded: 11, failed: 1, timedOut: 0, aborted: 0 },
    steps: [list, { ...map, endedAt: '2026-12-05T10:10:00.000Z', seconds: 598.5, status: 'DONE' }, { name: 'Summarize upgrade', startedAt: '2026-12-05T10:10:00.000Z', seconds: 1, status: 'DONE' }, { name: 'Upgrade finished', startedAt: '2026-12-05T10:10:01.000Z', seconds: 0, status: 'DONE' }],
    ...end,
  } as UpgradeProgress,
];

let post: { status: number; body: unknown } = { status: 202, body: started };
let progress: UpgradeProgress[] = [];
const bodies: unknown[] = [];
const admin = fakeAdminApi((req) => {
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    return post;
  }
  afterGet?.();
  return gets.shift() ?? { status: 200, body: progress.length > 1 ? progress.shift() : progress[0] };
});
/** Answers to the next GETs before `progress` (an error), and what to do once a GET is answered (a Ctrl-C). */
let gets: Array<{ status: number; body: unknown }> = [];
let afterGet: (() => void) | undefined;
const { calls } = admin;

async function run(answers: { post?: { status: number; body: unknown }; progress?: UpgradeProgress[] }, ...args: string[]) {
  post = answers.post ?? { status: 202, body: started };
  progress = answers.progress ?? [];
  calls.length = 0;
  bodies.length = 0;
  try {
    return await runTesseraInProcess(admin.url, ...args);
  } finally {
    gets = [];
    afterGet = undefined;
  }
}

describe('tessera tenants upgrade', () => {
  it('starts the tier\'s upgrade (POST /admin/upgrades with a requestId made and printed) and follows it with --watch: steps, tenants listed, tenants done, the summary; exit 1 for a refused or failed tenant', async () => {
    const out = await run({ progress: polls({ summary }) }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--watch', '--interval', '0.1');
    // THEN the request: the tier, the version and a requestId the CLI made (<tier>-<version>-<time>)
    expect(bodies).toEqual([{ tier: 'starter', blueprintVersion: '2.0.0', requestId: expect.stringMatching(/^starter-2\.0\.0-[0-9a-z]+$/) }]);
    expect(calls[0]).toBe('POST /v1/admin/upgrades');
    expect(calls.slice(1).every((c) => c === `GET /v1/admin/upgrades/${started.upgradeId}`)).toBe(true);
    const lines = out.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual([`upgrade of tier starter to 2.0.0 started — request starter-2.0.0-m3x`, `upgrade ${started.upgradeId} (execution ${ARN})`]);
    expect(lines[2]).toMatch(/^upgrade running for \d+\.\d s — tier starter to 2\.0\.0$/);
    expect(lines.slice(3)).toEqual([
      '  ✓ List tier tenants                          1.5 s',
      '  … 12 tenants of tier starter listed (ACTIVE or UPDATING, not on 2.0.0)',
      '  … tenants: 0 of 12 done (0 succeeded, 0 failed), 5 running, 7 pending',
      '  … tenants: 9 of 12 done (8 succeeded, 1 failed), 3 running, 0 pending',
      '  ✓ Upgrade each tenant                        598.5 s',
      '  ✓ Summarize upgrade                          1.0 s',
      '  ✓ Upgrade finished                           0.0 s',
      'upgrade succeeded in 601.0 s — tier starter to 2.0.0: 9 upgraded, 1 refused, 1 skipped, 1 failed',
      '  refused acme: change set of tessera-acme would replace Database (AWS::RDS::DBInstance)',
      '  failed initech: States.TaskFailed: Deploy blueprint: UPDATE_ROLLBACK_COMPLETE',
      '  skipped hooli: tenant "hooli" is on tier professional since the upgrade of tier starter to 2.0.0 listed it',
      'next: a refused tenant stays on its version (its change set would replace or remove a stateful resource: tessera tenants show <id>); to accept that, tessera tenants update <id> --blueprint-version 2.0.0 --allow-replacement "<why>"',
      'next: tessera tenants show <id> names a failed tenant\'s step and reason; the upgrade again (a new --request-id) retries every tenant of the tier not on 2.0.0',
      '',
    ]);
    expect(out.code).toBe(1);
  });

  it('exits 0 when every listed tenant was upgraded or skipped; --request-id and --allow-replacement are sent as given', async () => {
    const clean = { ...summary, refused: 0, failed: 0, refusals: [], failures: [] };
    const out = await run({ progress: polls({ summary: clean }) }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--request-id', 'starter-2.0.0',
      '--allow-replacement', 'cache log groups move under vendedlogs', '--watch', '--interval', '0.1');
    expect(bodies).toEqual([{ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-2.0.0', allowReplacement: { reason: 'cache log groups move under vendedlogs' } }]);
    expect(out.stdout).toContain('upgrade succeeded in 601.0 s — tier starter to 2.0.0: 9 upgraded, 0 refused, 1 skipped, 0 failed\n');
    expect(out.code).toBe(0);
  });

  it('an upgrade that failed (the map\'s failure tolerance): the execution\'s error, the tenants done, what to run next; exit 1', async () => {
    const failed = polls({ executionStatus: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', cause: 'The specified tolerated failure threshold was exceeded', tenants: { total: 12, pending: 4, running: 0, succeeded: 6, failed: 2, timedOut: 0, aborted: 0 } });
    const out = await run({ progress: failed.slice(3) }, 'tenants', 'upgrade', '--follow', started.upgradeId);
    expect(calls).toEqual([`GET /v1/admin/upgrades/${started.upgradeId}`]);
    expect(out.stdout.split('\n').slice(-4)).toEqual([
      'upgrade failed in 601.0 s — tier starter to 2.0.0: 8 of 12 tenants done (6 succeeded, 2 failed)',
      '  States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded',
      'next: tessera tenants list --tier starter shows each tenant\'s blueprint version; tessera tenants show <id> a tenant\'s failed step and reason',
      '',
    ]);
    expect(out.code).toBe(1);
  });

  it('Ctrl-C while it follows: stops following, says the upgrade goes on and how to follow it again (stderr), exit 130; no call after', async () => {
    // GIVEN an upgrade that runs; the operator presses Ctrl-C once its first progress is printed (the watch waits 30 s for the next)
    afterGet = () => {
      afterGet = undefined;
      setTimeout(() => process.emit('SIGINT'), 50);
    };
    const out = await run({ progress: polls({ summary }).slice(0, 1) }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--watch', '--interval', '30');
    // THEN
    expect(out.code).toBe(130);
    expect(out.stdout).toContain('  … 12 tenants of tier starter listed');
    expect(out.stderr).toBe(`stopped following upgrade ${started.upgradeId} (Ctrl-C): the upgrade goes on in Step Functions (ending the watch stops nothing): tessera tenants upgrade --follow ${started.upgradeId} follows it again\n`);
    expect(calls).toEqual(['POST /v1/admin/upgrades', `GET /v1/admin/upgrades/${started.upgradeId}`]);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('--follow --json, Ctrl-C: the stop is one JSON error line on stderr (type interrupted, code watch_stopped); exit 130', async () => {
    afterGet = () => {
      afterGet = undefined;
      setTimeout(() => process.emit('SIGINT'), 50);
    };
    const out = await run({ progress: polls({ summary }).slice(0, 1) }, '--json', 'tenants', 'upgrade', '--follow', started.upgradeId, '--interval', '30');
    expect(out.code).toBe(130);
    for (const line of out.stdout.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
    expect(out.stderr.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ error: {
      message: `stopped following upgrade ${started.upgradeId} (Ctrl-C): the upgrade goes on in Step Functions (ending the watch stops nothing): tessera tenants upgrade --follow ${started.upgradeId} follows it again`,
      type: 'interrupted', code: 'watch_stopped',
    } }]);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('a poll that fails once the upgrade was read (an expired session during a long upgrade): its error, then that the upgrade goes on and how to follow it; an unknown upgradeId is said as the API says it', async () => {
    gets = [{ status: 200, body: polls({ summary })[0] }, { status: 403, body: { message: 'The security token included in the request is expired' } }];
    const out = await run({}, 'tenants', 'upgrade', '--follow', started.upgradeId, '--interval', '0.1');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^error: .*expired.*\nthe upgrade goes on in Step Functions \(ending the watch stops nothing\): tessera tenants upgrade --follow starter-2_0_0-m3x-1a2b3c4d follows it again\n$/s);
    // The first poll after the start answered it: the upgrade exists, and goes on
    gets = [{ status: 503, body: { message: 'Service Unavailable' } }];
    const first = await run({}, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--watch', '--interval', '0.1');
    expect([first.code, first.stderr]).toEqual([1, `error: Service Unavailable\n${'the upgrade goes on in Step Functions (ending the watch stops nothing)'}: tessera tenants upgrade --follow ${started.upgradeId} follows it again\n`]);
    gets = [{ status: 404, body: { error: { type: 'not_found_error', code: 'upgrade_not_found', param: 'upgradeId', message: 'upgradeId = "nope": no upgrade of that name' } } }];
    const unknown = await run({}, 'tenants', 'upgrade', '--follow', 'nope');
    expect([unknown.code, unknown.stderr]).toEqual([1, 'error: upgradeId = "nope": no upgrade of that name (upgrade_not_found, field upgradeId)\n']);
  });

  it('--json: the start answer, then one JSON object per step, { listed }, { tenants } and { upgrade } at the end', async () => {
    const out = await run({ progress: polls({ summary }) }, '--json', 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--watch', '--interval', '0.1');
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual(started);
    expect(lines.slice(1, 5)).toEqual([
      { step: 'List tier tenants', status: 'DONE', seconds: 1.5 }, { listed: 12 },
      { tenants: { total: 12, pending: 7, running: 5, succeeded: 0, failed: 0, timedOut: 0, aborted: 0 } },
      { tenants: { total: 12, pending: 0, running: 3, succeeded: 8, failed: 1, timedOut: 0, aborted: 0 } },
    ]);
    expect(lines.at(-1)).toEqual({ upgrade: expect.objectContaining({ executionStatus: 'SUCCEEDED', summary }) });
    expect(lines.at(-1).upgrade.steps).toBeUndefined();
  });

  it('the same request again: prints what the admin API found (already running), not "started"', async () => {
    const out = await run({ post: { status: 200, body: { ...started, note: 'upgrade already running' } } }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--request-id', 'starter-2.0.0-m3x');
    expect(out).toEqual({ code: 0, stdout: `upgrade of tier starter to 2.0.0: upgrade already running — request starter-2.0.0-m3x\nupgrade ${started.upgradeId} (execution ${ARN})\n`, stderr: '' });
  });

  it('the admin API\'s refusals, said as it says them (exit 1): a second upgrade of the tier, an unknown tier', async () => {
    const running = { error: { type: 'conflict_error', code: 'upgrade_in_progress', param: 'tier', message: 'tier "starter" is being upgraded: upgrade starter-a of tier starter to 2.0.0 (request starter-a, RUNNING since 2026-12-05T10:00:00.000Z) is running; another upgrade of the tier is refused until it ends (follow it with tessera tenants upgrade --follow starter-a, or GET /admin/upgrades/starter-a)' } };
    const busy = await run({ post: { status: 409, body: running } }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '1.0.0', '--watch');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('tessera tenants upgrade --follow starter-a');
    expect(busy.stderr).toContain('(upgrade_in_progress, field tier)');
    expect(calls).toEqual(['POST /v1/admin/upgrades']);
    const tier = await run({ post: { status: 400, body: { error: { type: 'invalid_request_error', code: 'unknown_tier', param: 'tier', message: 'tier = "startr": does not exist (did you mean starter?) (tiers: starter, professional, enterprise)' } } } },
      'tenants', 'upgrade', '--tier', 'startr', '--blueprint-version', '2.0.0');
    expect(tier.stderr).toContain('tier = "startr": does not exist (did you mean starter?)');
    expect(tier.code).toBe(1);
  });

  it('a start whose answer was lost (API Gateway\'s 504 after 29 s, a 5xx) names the request id the CLI made, to send it again or follow it; a refusal does not', async () => {
    const out = await run({ post: { status: 504, body: { message: 'Endpoint request timed out' } } }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0');
    const made = (bodies[0] as { requestId: string }).requestId;
    expect(made).toMatch(/^starter-2\.0\.0-[0-9a-z]+$/);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`error: Endpoint request timed out\nif the admin API received the request, the upgrade may have started: its request id is ${made}; the same command with --request-id ${made} answers with that upgrade (or starts it), tessera tenants upgrade --follow ${made} follows it\n`);
    // A refusal started nothing: said as the API says it; and a --request-id given is the operator's own
    const refused = await run({ post: { status: 400, body: { error: { type: 'invalid_request_error', code: 'unknown_tier', param: 'tier', message: 'tier = "startr": does not exist' } } } }, 'tenants', 'upgrade', '--tier', 'startr', '--blueprint-version', '2.0.0');
    expect(refused.stderr).not.toContain('request id');
    const given = await run({ post: { status: 504, body: { message: 'Endpoint request timed out' } } }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--request-id', 'mine-1');
    expect(given.stderr).toBe('error: Endpoint request timed out\n');
  });

  it('an admin API deployed before the route (API Gateway\'s 403 Missing Authentication Token) says so and how to upgrade instead', async () => {
    const out = await run({ post: { status: 403, body: { message: 'Missing Authentication Token' } } }, 'tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/the admin API predates POST \/admin\/upgrades: deploy TesseraPlatform of this checkout .*aws stepfunctions start-execution/);
  });

  it('refuses what it can check before any call (exit 2): a missing option, --follow with a start option or with what cannot name an upgrade, a request id or reason the API would refuse', async () => {
    const refused = [
      [['tenants', 'upgrade', '--tier', 'starter'], 'give --blueprint-version <version>'],
      [['tenants', 'upgrade', '--blueprint-version', '2.0.0'], 'give --tier <tier>'],
      [['tenants', 'upgrade', '--follow', 'x', '--tier', 'starter'], '--follow x follows an upgrade already started: it does not go with --tier'],
      [['tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--request-id', 'a b'], '--request-id = "a b": must be 1-80 characters of A-Z, a-z, 0-9'],
      [['tenants', 'upgrade', '--tier', 'starter', '--blueprint-version', '2.0.0', '--allow-replacement', 'ok'], '--allow-replacement: reason = "ok": must say why'],
      // '..' resolved to GET /admin/ and '.' or '' to /admin/upgrades/: API Gateway's 403, said as an admin API that predates the route
      [['tenants', 'upgrade', '--follow', '..'], '--follow = "..": not an upgradeId; give the upgradeId tessera tenants upgrade printed'],
      [['tenants', 'upgrade', '--follow', '.'], '--follow = ".": not an upgradeId'],
      [['tenants', 'upgrade', '--follow', ''], '--follow = "": not an upgradeId'],
      [['tenants', 'upgrade', '--follow', 'starter/2.0.0'], '--follow = "starter/2.0.0": not an upgradeId'],
    ] as const;
    for (const [args, said] of refused) {
      const out = await run({}, ...args);
      expect([args.join(' '), out.code]).toEqual([args.join(' '), 2]);
      expect(out.stderr).toContain(said);
    }
    expect(calls).toEqual([]);
  });
});
