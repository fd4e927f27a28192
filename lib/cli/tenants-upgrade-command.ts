import { Command } from 'commander';
import { AllowReplacement, ALLOW_REPLACEMENT_REASON_RULE, UPGRADE_REQUEST_ID } from '../tenant-record.js';
import { defaultRequestId, UPGRADE_ID, type UpgradeProgress, type UpgradeStarted } from '../upgrade-progress.js';
import { AdminApiError, type AdminClient } from './admin-client.js';
import { lostStartAnswer } from './admin-api-errors.js';
import { adminTarget } from './admin-target.js';
import { CliError } from './cli-error.js';
import { followUntilEnd, printSteps, secondsBetween, stdoutColour } from './execution-watch.js';
import { pollSeconds } from './option-parsers.js';
import { requestErrorMap } from '../request-issues.js';

const print = (s: string) => process.stdout.write(`${s}\n`);

/** `tessera tenants upgrade`'s first lines: what started (or, for the same request again, what it found), its request and its execution. */
export function upgradeStartedLines(out: UpgradeStarted): string {
  const what = `upgrade of tier ${out.tier} to ${out.blueprintVersion}`;
  return `${out.note ? `${what}: ${out.note}` : `${what} started`} — request ${out.requestId}\nupgrade ${out.upgradeId} (execution ${out.executionArn})`;
}

/** The tenants the map run has done so far (GET /admin/upgrades/{upgradeId} `tenants`), one line; undefined before the map run started. */
export function tenantCountsLine(p: Pick<UpgradeProgress, 'tenants'>): string | undefined {
  const t = p.tenants;
  if (!t) return undefined;
  const failed = t.failed + t.timedOut + t.aborted;
  // Refused and skipped tenants' child executions SUCCEED: only the summary at the end tells them from the upgraded ones.
  return `  … tenants: ${t.succeeded + failed} of ${t.total} done (${t.succeeded} succeeded, ${failed} failed), ${t.running} running, ${t.pending} pending`;
}

/**
 * Whether an upgrade did all it was asked: its execution SUCCEEDED, its summary was read, and no tenant failed or was
 * refused (a refused tenant stays on its version). Skipped tenants (changed since the upgrade listed them) do not count.
 */
export function upgradeSucceeded(p: UpgradeProgress): boolean {
  return p.executionStatus === 'SUCCEEDED' && p.summary !== undefined && p.summary.failed === 0 && p.summary.refused === 0;
}

/**
 * The end of an upgrade as lines for a terminal: how it ended and in how long (the execution's own times), the summary
 * (upgraded, refused, skipped, failed, each refused, failed and skipped tenant with its reason), or the execution's error,
 * and what to run next.
 */
export function upgradeEndLines(p: UpgradeProgress): string[] {
  const took = secondsBetween(p.startDate, p.stopDate);
  const head = `upgrade ${p.executionStatus.toLowerCase().replace('_', ' ')}${took ? ` in${took}` : ''} — tier ${p.tier} to ${p.blueprintVersion}`;
  const s = p.summary;
  if (!s) {
    const counts = p.tenants ? `: ${p.tenants.succeeded + p.tenants.failed + p.tenants.timedOut + p.tenants.aborted} of ${p.tenants.total} tenants done (${p.tenants.succeeded} succeeded, ${p.tenants.failed + p.tenants.timedOut + p.tenants.aborted} failed)` : '';
    const lines = [`${head}${counts}`];
    if (p.error || p.cause) lines.push(`  ${[p.error, p.cause].filter(Boolean).join(': ')}`);
    if (p.summaryError) lines.push(`  its summary could not be read (${[p.summaryError.Error, p.summaryError.Cause].filter(Boolean).join(': ')}); the result files are under upgrades/${p.requestId}/results/ in the lifecycle work bucket`);
    lines.push(`next: tessera tenants list --tier ${p.tier} shows each tenant's blueprint version; tessera tenants show <id> a tenant's failed step and reason`);
    return lines;
  }
  const lines = [`${head}: ${s.upgraded} upgraded, ${s.refused} refused, ${s.skipped} skipped, ${s.failed} failed`];
  for (const r of s.refusals) lines.push(`  refused ${r.tenantId}: ${r.reason ?? '(no reason recorded)'}`);
  for (const f of s.failures) lines.push(`  failed ${f.tenantId}: ${[f.error, f.cause].filter(Boolean).join(': ') || '(no error recorded)'}`);
  for (const k of s.skips) lines.push(`  skipped ${k.tenantId}: ${k.reason ?? '(no reason recorded)'}`);
  const unlisted = s.refused - s.refusals.length + s.failed - s.failures.length + s.skipped - s.skips.length;
  if (unlisted > 0) lines.push(`  … and ${unlisted} more not listed here: ${s.manifest ?? `the result files under upgrades/${p.requestId}/results/`}`);
  if (s.refused) lines.push(`next: a refused tenant stays on its version (its change set would replace or remove a stateful resource: tessera tenants show <id>); to accept that, tessera tenants update <id> --blueprint-version ${p.blueprintVersion} --allow-replacement "<why>"`);
  if (s.failed) lines.push(`next: tessera tenants show <id> names a failed tenant's step and reason; the upgrade again (a new --request-id) retries every tenant of the tier not on ${p.blueprintVersion}`);
  return lines;
}

/** What a watch that ends before its upgrade does says after its reason: the upgrade goes on, and how to follow it again. */
export const upgradeGoesOn = (upgradeId: string) =>
  `the upgrade goes on in Step Functions (ending the watch stops nothing): tessera tenants upgrade --follow ${upgradeId} follows it again`;

/**
 * Follows an upgrade (`GET /admin/upgrades/{upgradeId}`) until its execution ends, in `tessera tenants watch`'s style: the
 * execution announced once with how long it has been running, each step as it finishes with its duration, how many
 * tenants were listed, the tenants done whenever that changes, and the end (upgradeEndLines). With `json`, one JSON object
 * per line: each step, `{ listed }`, `{ tenants }`, and the end as `{ upgrade: <the progress without its steps> }`.
 *
 * A watch that ends before the upgrade says that the upgrade goes on and how to follow it again (upgradeGoesOn, through
 * followUntilEnd, the loop `tessera tenants watch` shares): an upgrade of a large tier runs for hours, longer than an
 * Identity Center session (TesseraPlatformAdmin's: 4 hours), and a Ctrl-C could be taken for a cancel, as in tools whose
 * watch is the operation.
 * - Ctrl-C (SIGINT, while it waits or polls): that line on stderr, process.exitCode 130 (as a shell reports a SIGINT); a
 *   second Ctrl-C ends the process at once (Node's default);
 * - a poll that fails once the upgrade was read (credentials that expired, the network, a throttle): its error, then that line.
 * @param started the upgrade is known to exist (POST /admin/upgrades answered it): its first poll's failure says it goes on too @default false
 * @returns the last progress read (its executionStatus is not RUNNING), or undefined after Ctrl-C
 * @throws CliError the first poll's error as it is (an unknown upgradeId, the admin API unreachable) unless `started`; a later one's with upgradeGoesOn
 */
export async function watchUpgrade(api: AdminClient, upgradeId: string, intervalMs: number, json: boolean, colour = stdoutColour(), started = false): Promise<UpgradeProgress | undefined> {
  const printed = new Set<number>();
  let announced = false;
  let listed = false;
  let counts = '';
  return followUntilEnd({
    poll: () => api.call<UpgradeProgress>('GET', `/admin/upgrades/${encodeURIComponent(upgradeId)}`),
    intervalMs, started, what: `upgrade ${upgradeId}`, json, goesOn: () => upgradeGoesOn(upgradeId),
    answered: (p) => {
      if (!json && !announced && p.executionStatus === 'RUNNING') {
        announced = true;
        const since = secondsBetween(p.startDate, Date.now());
        print(`upgrade running${since ? ` for${since}` : ''} — tier ${p.tier} to ${p.blueprintVersion}`);
      }
      printSteps(p.steps, printed, json, colour, print);
      if (p.listed !== undefined && !listed) {
        listed = true;
        print(json ? JSON.stringify({ listed: p.listed }) : `  … ${p.listed} tenant${p.listed === 1 ? '' : 's'} of tier ${p.tier} listed (ACTIVE or UPDATING, not on ${p.blueprintVersion})`);
      }
      const line = p.executionStatus === 'RUNNING' ? tenantCountsLine(p) : undefined;
      if (line && JSON.stringify(p.tenants) !== counts) {
        counts = JSON.stringify(p.tenants);
        print(json ? JSON.stringify({ tenants: p.tenants }) : line);
      }
      if (p.executionStatus === 'RUNNING') return undefined;
      const { steps: _steps, ...upgrade } = p;
      print(json ? JSON.stringify({ upgrade }) : upgradeEndLines(p).join('\n'));
      return p;
    },
  });
}

/** An admin API deployed before the upgrade routes answers them with API Gateway's 403 Missing Authentication Token (no such resource). */
function predatesRoute(e: unknown, route: string): unknown {
  if (!(e instanceof AdminApiError) || e.code !== 'MissingAuthenticationToken') return e;
  return new CliError(`${e.message}\nIf the URL is right, the admin API predates ${route}: deploy TesseraPlatform of this checkout (npx tessera --version), `
    + 'or start the upgrade with aws stepfunctions start-execution as the upgrade guide of that version says (docs/upgrading-and-teardown.md)', 1, e.errorClass, e);
}

/**
 * `tessera tenants upgrade --tier <tier> --blueprint-version <version> [--allow-replacement <why>] [--request-id <key>] [--watch]`:
 * the rolling upgrade of a tier (`POST /admin/upgrades`), and `--follow <upgradeId>` for one already started. Checked before
 * any call: the two options or --follow (not both), the request id (UPGRADE_REQUEST_ID: it names the work prefix) and the
 * reason (AllowReplacement). With --watch (or --follow) the exit code is 1 unless the upgrade did all it was asked (upgradeSucceeded).
 */
export function tenantsUpgradeCommand(): Command {
  return new Command('upgrade')
    .description('roll every ACTIVE (or UPDATING) tenant of a tier not on a blueprint version to it: the rolling upgrade, 5 tenants at a time, stopping when more than 10% fail; --follow follows one already started')
    .option('--tier <tier>', 'the tier whose tenants are upgraded')
    .option('--blueprint-version <version>', 'the blueprint version to roll them to (one the blueprint catalog publishes for the tier)')
    .option('--allow-replacement <reason>', `let a tenant's change replace or remove a stateful resource (database, bucket, key, cache, vault, cluster, namespace); the reason, ${ALLOW_REPLACEMENT_REASON_RULE}, is recorded; without it such a tenant is refused and stays on its version`)
    .option('--request-id <key>', 'idempotency key: the same key again answers with that upgrade instead of starting another; names its work prefix upgrades/<key>/ (1-80 characters of A-Z a-z 0-9 . _ -; default: <tier>-<version>-<time>, printed)')
    .option('--follow <upgradeId>', 'follow an upgrade already started (its upgradeId or requestId) instead of starting one')
    .option('--watch', 'follow the upgrade until it ends: each step, the tenants done, the summary (exit 1 unless every listed tenant was upgraded or skipped)')
    .option('--interval <seconds>', 'watch poll interval', pollSeconds, 5)
    .action(async (o, cmd: Command) => {
      if (o.follow !== undefined) {
        const given = ['tier', 'blueprintVersion', 'allowReplacement', 'requestId'].filter((k) => o[k] !== undefined);
        if (given.length) throw new CliError(`--follow ${o.follow} follows an upgrade already started: it does not go with ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
        // Checked here: '.' and '..' are path segments the URL resolves (GET /admin/ for '..'), and '' leaves the segment out;
        // API Gateway answered those 403 Missing Authentication Token, which read as an admin API that predates the route.
        if (!UPGRADE_ID.test(o.follow) || /^\.\.?$/.test(o.follow)) {
          throw new CliError(`--follow = ${JSON.stringify(String(o.follow).slice(0, 100))}: not an upgradeId; give the upgradeId tessera tenants upgrade printed (upgrade <upgradeId> (execution …)) or the upgrade's request id: 1-80 characters of A-Z, a-z, 0-9, ".", "_" and "-"`);
        }
        const { api, json } = adminTarget(cmd);
        let p: UpgradeProgress | undefined;
        try {
          p = await watchUpgrade(api, o.follow, o.interval * 1000, json);
        } catch (e) {
          throw predatesRoute(e, 'GET /admin/upgrades/{upgradeId}');
        }
        if (p && !upgradeSucceeded(p)) process.exitCode = 1;
        return;
      }
      const missing = [o.tier === undefined && '--tier <tier>', o.blueprintVersion === undefined && '--blueprint-version <version>'].filter(Boolean);
      if (missing.length) throw new CliError(`tessera tenants upgrade: give ${missing.join(' and ')} (or --follow <upgradeId> to follow an upgrade already started)`);
      if (o.allowReplacement !== undefined) {
        const checked = AllowReplacement.safeParse({ reason: o.allowReplacement }, { error: requestErrorMap });
        if (!checked.success) throw new CliError(`--allow-replacement: reason = ${JSON.stringify(o.allowReplacement)}: ${checked.error.issues[0].message}`);
      }
      if (o.requestId !== undefined && !UPGRADE_REQUEST_ID.test(o.requestId)) {
        throw new CliError(`--request-id = ${JSON.stringify(o.requestId.slice(0, 100))}: must be 1-80 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit (it names the upgrade's work prefix upgrades/<key>/)`);
      }
      const { api, json } = adminTarget(cmd);
      const requestId: string = o.requestId ?? defaultRequestId(o.tier, o.blueprintVersion);
      let out: UpgradeStarted;
      try {
        out = await api.call<UpgradeStarted>('POST', '/admin/upgrades', {
          tier: o.tier, blueprintVersion: o.blueprintVersion, requestId, ...(o.allowReplacement !== undefined ? { allowReplacement: { reason: o.allowReplacement } } : {}),
        });
      } catch (e) {
        // No answer, or a 5xx: the upgrade may have started under the request id made here, which is said (lostStartAnswer).
        throw lostStartAnswer(predatesRoute(e, 'POST /admin/upgrades'), o.requestId === undefined ? requestId : undefined, 'upgrade', `tessera tenants upgrade --follow ${requestId}`);
      }
      print(json ? JSON.stringify(out) : upgradeStartedLines(out));
      if (!o.watch) return;
      const p = await watchUpgrade(api, out.upgradeId, o.interval * 1000, json, stdoutColour(), true);
      if (p && !upgradeSucceeded(p)) process.exitCode = 1;
    });
}
