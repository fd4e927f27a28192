import { Command, Option } from 'commander';
import { DRIFT_RUN_WINDOW_MINUTES, type DriftRow, type UnreadableTenant, type DriftRunExecution, type DriftRunStarted } from '../tenant-list-page.js';
import { printable } from '../printable.js';
import { AdminApiError } from './admin-api-errors.js';
import type { DriftRecord, LifecycleExecution } from '../tenant-record.js';
import { adminTarget } from './admin-target.js';
import { allDriftRows, describeUnreadable } from './all-tenants.js';
import { CliError } from './cli-error.js';
import { followUntilEnd } from './execution-watch.js';
import { DETAILED, detailedExitcodeOption, driftExitLine, driftOrUnknown, type DriftOrUnknown } from './detailed-exitcode.js';
import { standingText, table, usageKeyCorrectionText } from './format.js';
import { numberIn, pollSeconds, tenantIdArgument } from './option-parsers.js';
import type { AdminClient } from './admin-client.js';

/** Every page of `GET /admin/drift` (lambdas/admin/drift-routes.ts), the rows together. */
interface DriftList {
  tenants: DriftRow[];
}
/** `GET /admin/tenants/{id}/drift`. */
interface TenantDrift { tenantId: string; status: string; drift?: DriftRecord }

const print = (s: string) => process.stdout.write(`${s}\n`);

/** A record edited by hand into a shape the schema refuses is left out of the rows and named, one warning line each on stderr (as `tenants list`). */
const warnUnreadable = (records: UnreadableTenant[]) => {
  for (const u of records) process.stderr.write(`warning: left out of the drift list: ${describeUnreadable(u)}\n`);
};

/** Up to three ids of `rows`, then how many more (`acme, globex, initech and 2 more`). */
const someIds = (rows: readonly { tenantId: string }[]): string =>
  `${rows.slice(0, 3).map((r) => r.tenantId).join(', ')}${rows.length > 3 ? ` and ${rows.length - 3} more` : ''}`;

/**
 * The list's last line: how many tenants drifted, then how many a check could not say of (`UNKNOWN`) and how many were
 * never checked (`NOT_CHECKED`), each with its ids and what to run. A new platform's list said `0 of 1 tenant drifted`
 * of a tenant never checked, which read as a clean bill.
 * @param tenants the rows listed
 * @returns e.g. `0 of 2 tenants drifted; 1 never checked (acme: tessera tenants drift --detect checks …)`
 */
export function driftSummaryLine(tenants: readonly Pick<DriftRow, 'tenantId' | 'drift'>[]): string {
  const drifted = tenants.filter((t) => t.drift === 'DRIFTED').length;
  const unknown = tenants.filter((t) => t.drift === 'UNKNOWN');
  const never = tenants.filter((t) => t.drift === 'NOT_CHECKED');
  const parts = [`${drifted} of ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} drifted`];
  if (unknown.length) parts.push(`${unknown.length} of unknown drift (${someIds(unknown)}: the last check could not say; tessera tenants drift ${unknown.length === 1 ? unknown[0].tenantId : '<id>'} shows why)`);
  if (never.length) parts.push(`${never.length} never checked (${someIds(never)}: tessera tenants drift --detect checks every ACTIVE tenant now; the daily drift check does too)`);
  return parts.join('; ');
}

/** Every tenant's drift status as a table for a terminal. */
export function driftListLines(out: DriftList): string {
  if (!out.tenants.length) return 'no tenants';
  // A failed latest check leaves the check before it in place: said beside its time.
  const rows = out.tenants.map((t) => ({
    tenant: t.tenantId, tier: t.tier, status: t.status, drift: t.drift, resources: t.driftedResources,
    checked: `${t.checkedAt ?? 'never'}${t.failedCheck ? ` (check of ${t.failedCheck.at} failed)` : ''}`,
  }));
  return `${table(rows, ['tenant', 'tier', 'status', 'drift', 'resources', 'checked'])}\n${driftSummaryLine(out.tenants)}`;
}

/**
 * The tenant's lifecycle operations that ended (or started) after its drift was checked, newest
 * last: a repair, a change or an upgrade since then may have changed what the check found. A
 * skipped upgrade run changed nothing and does not count (as check-drift's supersedingOperation).
 */
export function operationsSinceCheck(drift: DriftRecord, executions: readonly LifecycleExecution[]): LifecycleExecution[] {
  return executions.filter((e) => e.status !== 'SKIPPED' && (e.endedAt ?? e.startedAt) > drift.checkedAt);
}

/** Whether a history entry is a repair: its request's `repair`, in full or in its digest (lib/change-digest.ts: older or larger requests keep only that). */
const isRepair = (e: LifecycleExecution) => Boolean((e.change ?? e.changeDigest)?.repair);

const describeOperation = (e: LifecycleExecution) => `${e.kind}${isRepair(e) ? ' (repair)' : ''} ${e.requestId} ${e.status === 'RUNNING' ? `running since ${e.startedAt}` : `${e.status} at ${e.endedAt ?? e.startedAt}`}`;

/**
 * One tenant's drift: status, time, each stack, then each drifted resource with its property paths,
 * then each resource the detection could not check (UNKNOWN) with its type and CloudFormation's reason.
 * The latest catch-up of the registry with the tenant stack (`standing`: its tier and version recorded) is named after the stacks.
 * With the tenant's `executions` (its registry record), an operation since the check is named: the
 * record is the check's, from before it, and a repair that succeeded is not offered again.
 */
export function tenantDriftLines(out: TenantDrift, executions?: readonly LifecycleExecution[]): string {
  const d = out.drift;
  if (!d) return `tenant ${out.tenantId}: drift not checked yet (the drift workflow runs daily; ACTIVE tenants only; tessera tenants drift --detect ${out.tenantId} checks now)`;
  const lines = [`tenant ${out.tenantId}: ${d.status} (checked ${d.checkedAt})`];
  if (d.failedCheck) lines.push(`  the latest check, at ${d.failedCheck.at}, failed: ${d.failedCheck.error}; what follows is the check of ${d.checkedAt}, the last that ran`);
  const since = executions ? operationsSinceCheck(d, executions) : [];
  if (since.length) {
    const others = since.length - 1;
    lines.push(`  since this check: ${describeOperation(since.at(-1)!)}${others ? ` (and ${others} earlier operation${others === 1 ? '' : 's'})` : ''}; what follows is what the check found before ${since.length === 1 ? 'it' : 'them'}: the next drift run (daily, 03:00 UTC, or now: tessera tenants drift --detect ${out.tenantId}) checks the stacks as they are now`);
  }
  for (const s of d.stacks) lines.push(`  stack ${s.stack}: ${s.status}${s.reason ? ` — ${s.reason}` : ''}`);
  const st = d.standing;
  if (st) {
    lines.push(`  registry caught up ${standingText(st)}`);
  }
  if (d.usageKey) lines.push(`  usage key corrected ${usageKeyCorrectionText(d.usageKey)}`);
  if (d.error) lines.push(`  error: ${d.error}`);
  if (d.resources.length) {
    lines.push(table(d.resources.map((r) => ({
      resource: r.logicalId, type: r.type, drift: r.status, stack: r.stack,
      differences: r.status === 'DELETED' ? '(deleted)' : r.differences.map((p) => `${p.path} ${p.type}`).join(', ') || '-',
    })), ['resource', 'type', 'drift', 'stack', 'differences']));
  }
  if (d.truncated) lines.push(`… and ${d.truncated} more drifted resource${d.truncated === 1 ? '' : 's'} (the registry keeps 100; see the stack's drift in the CloudFormation console)`);
  const unchecked = d.unchecked ?? [];
  if (unchecked.length) {
    const n = unchecked.length + (d.uncheckedTruncated ?? 0);
    lines.push(`not checked (${n} resource${n === 1 ? '' : 's'} CloudFormation could not check: their drift is unknown):`);
    lines.push(table(unchecked.map((r) => ({ resource: r.logicalId, type: r.type ?? '-', stack: r.stack, reason: r.reason ?? '(see the stack\'s reason)' })), ['resource', 'type', 'stack', 'reason']));
    if (d.uncheckedTruncated) lines.push(`… and ${d.uncheckedTruncated} more resource${d.uncheckedTruncated === 1 ? '' : 's'} not checked (the registry keeps 100)`);
  }
  const repaired = since.some((e) => isRepair(e) && e.status === 'SUCCEEDED');
  const running = since.some((e) => e.status === 'RUNNING');
  // The tenant stack itself deleted: a repair refuses to create it again (Deploy blueprint: empty data stores, a new key).
  const gone = d.stacks.find((st) => st.status === 'DELETED' && st.stack === `tessera-${out.tenantId}`);
  if (gone) lines.push(`stack ${gone.stack} was deleted outside Tessera: --repair cannot bring it back (it refuses to create a live tenant's stack again, which would start with an empty database and bucket under a new key); restore the data stores from their backups and snapshots, or offboard the tenant (docs/resilience.md: Drift)`);
  else if (d.status === 'DRIFTED' && !repaired && !running) lines.push(`repair: tessera tenants update ${out.tenantId} --repair (a drift-aware change set brings the resources back to the blueprint)`);
  return lines.join('\n');
}

/** What `tessera tenants drift --detect [<id>]` prints: the execution, and how to read its result through Tessera (no AWS CLI). */
export function driftStartedLines(out: DriftRunStarted, waiting = false): string {
  const what = out.tenantId ? `tenant ${out.tenantId}` : 'every ACTIVE tenant';
  const read = `tessera tenants drift${out.tenantId ? ` ${out.tenantId}` : ''}`;
  return [
    `drift check of ${what} started ${out.startDate}: execution ${out.executionArn}`,
    ...(waiting ? ['waiting for its result (a few minutes: DetectStackDrift on each stack)…'] : [
      `read the result when it has ended (a few minutes: DetectStackDrift on each stack): ${read} (it has ended once that shows a check, or a failed check, at or after ${out.startDate})`,
      'to follow a check to its end and print its result, start it with --detect --wait',
    ]),
  ].join('\n');
}

/** `--timeout` of `tenants drift --detect --wait`: 1 s to a day. @default 900 (15 minutes) */
const waitSeconds = numberIn(1, 86_400, 'seconds');

/** Whether a drift check (or a failed one) was recorded at or after `since` (ISO 8601): the check a run started then made. */
const checkedSince = (d: { checkedAt?: string; failedCheck?: { at: string } } | undefined, since: number) =>
  [d?.checkedAt, d?.failedCheck?.at].some((at) => at !== undefined && Date.parse(at) >= since);

/** A drift run's execution as `GET /admin/drift?executionArn=` answers it. */
export type DriftExecution = DriftRunExecution['execution'];

/** The statuses of an execution that has ended (DescribeExecution): RUNNING and PENDING_REDRIVE have not. */
const ENDED = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * What `waitForDrift` ends with: one tenant's drift, or every tenant's rows; `execution`, the run's execution as last read
 * (absent from an admin API older than `GET /admin/drift?executionArn=`); `unchecked`, the tenants (ACTIVE ones, for every
 * tenant) with no check or failed check recorded at or after the start when the execution had ended: its result is partial.
 */
export type DriftResult = ({ tenant: TenantDrift } | { tenants: DriftRow[] }) & { execution?: DriftExecution; unchecked: string[] };

/** The run's execution, or undefined from an admin API deployed before `GET /admin/drift?executionArn=` (its 400 unknown_parameter). */
async function driftExecution(api: AdminClient, executionArn: string): Promise<DriftExecution | undefined> {
  try {
    return (await api.call<DriftRunExecution>('GET', '/admin/drift', undefined, { executionArn })).execution;
  } catch (e) {
    if (e instanceof AdminApiError && e.status === 400 && e.code === 'unknown_parameter' && e.param === 'executionArn') return undefined;
    throw e;
  }
}

/**
 * Follows a drift check started by `POST /admin/drift` to its end: every `intervalMs` reads its execution (`GET
 * /admin/drift?executionArn=`, DescribeExecution), then the registry: `GET /admin/tenants/{id}/drift` (one tenant) or
 * every page of `GET /admin/drift` (every ACTIVE tenant). It ends when the tenant, or every tenant listed ACTIVE, has a check
 * or a failed check (`failedCheck.at`) recorded at or after the run's `startDate` (check-drift.ts writes one of the two for
 * each tenant it checks), or when the execution has ended (SUCCEEDED, FAILED, TIMED_OUT, ABORTED): the registry read after
 * that is all the run recorded, `unchecked` naming the tenants it left without a result. An admin API without the
 * execution's route is followed by the registry alone, as before. The loop is the watches' (execution-watch.ts
 * followUntilEnd): Ctrl-C (SIGINT) stops following with `stopped following the drift check <arn> (Ctrl-C): <it goes on,
 * how to read its result>` on stderr and process.exitCode 130, and a poll that fails says the same after its error.
 * @param started the answer of `POST /admin/drift` (DriftRunStarted)
 * @param options intervalMs between polls; timeoutMs the bound from the first poll, for an execution still running: the last
 *   poll is made at it (the wait before it cut short), then the wait gives up; json the Ctrl-C line as JSON (`--json`) @default false
 * @returns the registry's answer, the execution as last read and the tenants left unchecked; undefined after Ctrl-C
 * @throws CliError (exit 1) when the bound passes first with the execution still running: naming the execution, what has no
 *   result yet, and how to read the result later; an admin API error as it is, then that the check goes on
 */
export async function waitForDrift(api: AdminClient, started: DriftRunStarted, options: { intervalMs: number; timeoutMs: number; json?: boolean }): Promise<DriftResult | undefined> {
  const since = Date.parse(started.startDate);
  const deadline = Date.now() + options.timeoutMs;
  const read = `tessera tenants drift${started.tenantId ? ` ${started.tenantId}` : ''}`;
  let followExecution = true;
  type Poll = { execution?: DriftExecution; result: { tenant: TenantDrift } | { tenants: DriftRow[] }; waitingFor: string[] };
  return followUntilEnd<Poll, DriftResult>({
    what: `the drift check ${started.executionArn}`,
    json: options.json,
    goesOn: () => `the check goes on in Step Functions (ending the wait stops nothing): ${read} shows the registry's result once it has ended`,
    intervalMs: options.intervalMs,
    started: true,
    poll: async () => {
      // The execution before the registry: once it has ended, the registry read after it holds all the run recorded.
      const execution = followExecution ? await driftExecution(api, started.executionArn) : undefined;
      if (!execution) followExecution = false;
      if (started.tenantId) {
        const tenant = await api.call<TenantDrift>('GET', `/admin/tenants/${encodeURIComponent(started.tenantId)}/drift`);
        return { execution, result: { tenant }, waitingFor: checkedSince(tenant.drift, since) ? [] : [started.tenantId] };
      }
      const tenants = await allDriftRows(api, undefined, warnUnreadable);
      return { execution, result: { tenants }, waitingFor: tenants.filter((t) => t.status === 'ACTIVE' && !checkedSince(t, since)).map((t) => t.tenantId) };
    },
    answered: ({ execution, result, waitingFor }) => {
      const ended = !!execution && ENDED.includes(execution.status);
      if (!waitingFor.length || ended) return { ...result, ...(execution ? { execution } : {}), unchecked: waitingFor };
      return undefined;
    },
    // The last poll at the bound (followUntilEnd cuts the wait before it): it gave up after the poll before, when the
    // next was due after the bound, and with --timeout under --interval after the first poll, never polling at the bound.
    deadline: {
      at: deadline,
      passed: ({ execution, waitingFor }) => {
        const n = waitingFor.length;
        throw new CliError(`the drift check started ${started.startDate} (execution ${started.executionArn}) has recorded no result for ${started.tenantId ? `tenant ${started.tenantId}` : `${n} ACTIVE tenant${n === 1 ? '' : 's'} (${listed(waitingFor)})`} within --timeout ${options.timeoutMs / 1000} s; ${execution ? `its execution is still ${execution.status}` : 'it may still be running'} (DetectStackDrift takes minutes on a large stack): ${read} shows the registry's result once it has ended`, 1, { type: 'cli_error', code: 'drift_check_timeout' });
      },
    },
  });
}

/** Up to 10 tenant ids, then `…`. */
const listed = (ids: readonly string[]) => `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`;

/** A cause longer than this is cut in the terminal's message (Step Functions keeps up to 32,768 characters; --json has it whole). */
const CAUSE_SHOWN = 2_000;

/**
 * The tenants whose check in the run started at `since` (ms since the epoch) gave no verdict: the check recorded at or
 * after it is `UNKNOWN` (the detection failed, or could not check a resource: check-drift.ts), or it failed
 * (`failedCheck`, the verdict shown being an earlier check's). A run whose execution SUCCEEDED records such a check as its
 * result: `--detect --wait` exited 0 on it, as if drift had been checked.
 * @returns their ids, sorted as the result lists them; [] when every check made a verdict (IN_SYNC or DRIFTED)
 */
export function undeterminedSince(result: { tenant: TenantDrift } | { tenants: DriftRow[] }, since: number): string[] {
  const at = (t: string | undefined) => t !== undefined && Date.parse(t) >= since;
  if ('tenant' in result) {
    const d = result.tenant.drift;
    return d && (at(d.failedCheck?.at) || (d.status === 'UNKNOWN' && at(d.checkedAt))) ? [result.tenant.tenantId] : [];
  }
  return result.tenants.filter((t) => at(t.failedCheck?.at) || (t.drift === 'UNKNOWN' && at(t.checkedAt))).map((t) => t.tenantId);
}

/** The message of a drift run that ended with checks that gave no verdict (undeterminedSince): exit 1. */
export function undeterminedMessage(started: DriftRunStarted, tenants: readonly string[]): string {
  const n = tenants.length;
  const whose = started.tenantId ? `tenant ${started.tenantId}` : `${n} tenant${n === 1 ? '' : 's'} (${listed(tenants)})`;
  return `the drift check started ${started.startDate} could not say whether ${whose} drifted: the check failed or ended UNKNOWN (the reason is above); remove its cause, then tessera tenants drift --detect${started.tenantId ? ` ${started.tenantId}` : ''} --wait`;
}

/**
 * The message of a drift run whose execution ended FAILED, TIMED_OUT or ABORTED (`tessera tenants drift --detect --wait`, exit 1):
 * its status and time, Step Functions' error and cause (escaped for the terminal: lib/printable.ts; the cause cut at
 * CAUSE_SHOWN characters), what it left without a result, and how to start a new check.
 */
export function driftRunFailedMessage(started: DriftRunStarted, execution: DriftExecution, unchecked: readonly string[]): string {
  const cause = execution.cause === undefined ? undefined
    : execution.cause.length > CAUSE_SHOWN ? `${printable(execution.cause.slice(0, CAUSE_SHOWN))}… (${execution.cause.length - CAUSE_SHOWN} more characters: --json has it whole)` : printable(execution.cause);
  const why = [execution.error === undefined ? undefined : `error ${printable(execution.error)}`, cause === undefined ? undefined : `cause ${cause}`].filter(Boolean).join(': ') || 'no error or cause recorded';
  const n = unchecked.length;
  const left = started.tenantId
    ? (n ? `it recorded no result for tenant ${started.tenantId}` : `it recorded a result for tenant ${started.tenantId} (printed above)`)
    : (n ? `it recorded no result for ${n} ACTIVE tenant${n === 1 ? '' : 's'} (${listed(unchecked)}); what the registry holds is printed above (partial)` : 'every ACTIVE tenant has a result from it (printed above)');
  const again = `tessera tenants drift --detect${started.tenantId ? ` ${started.tenantId}` : ''} --wait`;
  return `the drift check started ${started.startDate} (execution ${started.executionArn}) ended ${execution.status}${execution.stopDate ? ` at ${execution.stopDate}` : ''}: ${why}; ${left}; start a new check with ${again} (a start in the same ${DRIFT_RUN_WINDOW_MINUTES}-minute window as this one is refused with drift_check_exists, which says when one can start)`;
}

/**
 * `tessera tenants drift [<id>]`: without an id, every tenant with its drift status (`--status`
 * filters; every page of the list, sorted by id); with one, that tenant's drifted resources. Through the admin API, like the other
 * tenant commands; `--json` prints the API's answer. `--detect` starts a check now (POST /admin/drift) of that tenant, or of
 * every ACTIVE tenant as the daily schedule does, instead of showing the last one's result. `--detailed-exitcode` exits 2
 * when a tenant listed (or the one named) is drifted or of unknown drift (detailed-exitcode.ts driftOrUnknown says which
 * count), 0 when none is, 1 on an error; it is refused with `--detect`, which starts a check and has no result yet.
 * `--detect --wait` exits 0 once each tenant checked has a verdict (IN_SYNC or DRIFTED), 1 when the run failed, left the
 * tenant named unchecked, or made a check that could not say (UNKNOWN, or failed: undeterminedSince).
 */
export function tenantsDriftCommand(): Command {
  return new Command('drift').description('drift of tenant stacks: every tenant\'s drift status, or one tenant\'s drifted resources (recorded by the daily drift workflow)')
    .argument('[id]', 'a tenant id: show its drifted resources', tenantIdArgument)
    .addOption(new Option('--status <status>', 'only tenants with this drift status').choices(['DRIFTED', 'IN_SYNC', 'UNKNOWN', 'NOT_CHECKED']))
    .option('--detect', 'start a drift check now (of the tenant, or of every ACTIVE tenant) instead of showing the last one\'s result; read it with tessera tenants drift [<id>] when it has ended, or add --wait')
    .option('--wait', 'with --detect: follow the check through the admin API until its result is recorded or its execution ends, then print it (as tessera tenants drift [<id>] does); exit 1 when the execution ended FAILED, TIMED_OUT or ABORTED, or a check it made ended UNKNOWN or failed')
    .option('--interval <seconds>', 'with --wait: poll interval', pollSeconds, 5)
    .option('--timeout <seconds>', 'with --wait: give up waiting for a check still running after this long, the last poll at it (exit 1; the check goes on)', waitSeconds, 900)
    .addOption(detailedExitcodeOption('a tenant listed (or the one named) is drifted or of unknown drift (which statuses count: below); refused with --detect'))
    .addHelpText('after', '\nWith --detailed-exitcode, of the tenants listed (after --status) or the one named: an OFFBOARDED tenant never counts (its stacks are deleted); DRIFTED and UNKNOWN count whatever the tenant\'s status otherwise; NOT_CHECKED counts for an ACTIVE tenant only (drift is checked on ACTIVE tenants only); a tenant whose latest check failed counts whatever the status kept from the check before it; IN_SYNC does not count. --json then prints { tenants, exitCode, driftOrUnknown } for the list (an array without the flag), and adds exitCode and driftOrUnknown to one tenant\'s answer.'
      + '\n\nWith --detect --wait: the check is followed through the admin API, its execution (GET /admin/drift?executionArn=<arn>) and the registry (GET /admin/tenants/<id>/drift, or GET /admin/drift for every ACTIVE tenant), until each tenant checked has a check, or a failed check, recorded after the run started, or the execution has ended; then its result is printed. An execution that ended FAILED, TIMED_OUT or ABORTED stops the wait at once: exit 1 with its status, error and cause, after what the registry holds (it may be partial), and how to start a new check. One that ended SUCCEEDED without a check of a tenant (made ACTIVE after the run listed the tenants) says so instead of waiting; exit 1 when that tenant is the one named. A check of the run that ended UNKNOWN or failed (its detection could not say: moto, which has no DetectStackDrift, ends every check so) exits 1 too, after the result, naming the tenants: exit 0 means every tenant checked has a verdict, IN_SYNC or DRIFTED. --json then prints NDJSON, as tessera tenants watch --json does: a line with the start ({ executionArn, startDate, tenantId? }), then a line { result, execution, unchecked? }, result being GET /admin/tenants/<id>/drift\'s answer, or { tenants } (every page of GET /admin/drift) for every tenant, execution the run\'s ({ executionArn, status, startDate, stopDate?, error?, cause? }), unchecked the tenants it left without a result. Past --timeout with the execution still RUNNING it exits 1 naming what has no result yet; the check goes on.')
    .action(async (id: string | undefined, o: { status?: string; detect?: boolean; wait?: boolean; interval: number; timeout: number; detailedExitcode?: boolean }, cmd: Command) => {
      if (o.detect && o.status) throw new CliError(`--detect with --status ${o.status}: --detect starts a check of one tenant or of every ACTIVE tenant; leave out --status (it filters the list of results)`, 2);
      if (o.detect && o.detailedExitcode) throw new CliError(`--detect with --detailed-exitcode: --detect starts a check and has no result yet; once it has ended (a few minutes), tessera tenants drift${id ? ` ${id}` : ''} --detailed-exitcode exits by its result`, 2);
      const detailed = Boolean(o.detailedExitcode);
      /** With --detailed-exitcode: the tenants that count, and the exit code set (2 when any does). */
      const verdict = (rows: Parameters<typeof driftOrUnknown>[0]): { exitCode: number; driftOrUnknown: DriftOrUnknown[] } => {
        const counted = driftOrUnknown(rows);
        const exitCode = counted.length ? DETAILED.changes : DETAILED.nothing;
        if (exitCode) process.exitCode = exitCode;
        return { exitCode, driftOrUnknown: counted };
      };
      if (o.wait && !o.detect) throw new CliError(`--wait without --detect: --wait follows a check --detect starts; tessera tenants drift${id ? ` ${id}` : ''} shows the last check's result`, 2);
      const { api, json } = adminTarget(cmd);
      if (o.detect) {
        const out = await api.call<DriftRunStarted>('POST', '/admin/drift', id ? { tenantId: id } : {});
        if (!o.wait) {
          print(json ? JSON.stringify(out, null, 2) : driftStartedLines(out));
          return;
        }
        // NDJSON, as tenants watch --json: the start, then the result.
        print(json ? JSON.stringify(out) : driftStartedLines(out, true));
        const result = await waitForDrift(api, out, { intervalMs: o.interval * 1000, timeoutMs: o.timeout * 1000, json });
        if (!result) return; // Ctrl-C: said on stderr, exit 130
        const { execution, unchecked } = result;
        const failed = execution && execution.status !== 'SUCCEEDED' && ENDED.includes(execution.status);
        if (json) {
          print(JSON.stringify({ result: 'tenant' in result ? result.tenant : { tenants: result.tenants }, ...(execution ? { execution } : {}), ...(unchecked.length ? { unchecked } : {}) }));
        } else {
          if (failed) print(`what the registry holds after the run ended ${execution.status}${unchecked.length ? ' (it may be partial)' : ''}:`);
          if ('tenants' in result) print(driftListLines({ tenants: result.tenants }));
          else {
            const record = result.tenant.drift ? await api.call<{ executions?: LifecycleExecution[] }>('GET', `/admin/tenants/${encodeURIComponent(result.tenant.tenantId)}`) : undefined;
            print(tenantDriftLines(result.tenant, record?.executions ?? []));
          }
          if (!failed && unchecked.length) {
            const n = unchecked.length;
            print(out.tenantId
              ? `the run ended ${execution!.status}${execution!.stopDate ? ` at ${execution!.stopDate}` : ''} without a check of tenant ${out.tenantId} (it was no longer ACTIVE when the run listed it): what is shown is an earlier check`
              : `the run ended ${execution!.status}${execution!.stopDate ? ` at ${execution!.stopDate}` : ''} without a check of ${n} ACTIVE tenant${n === 1 ? '' : 's'} (${listed(unchecked)}): the run checks the tenants ACTIVE when it started (one made ACTIVE since is checked by the next run); what is shown for ${n === 1 ? 'it' : 'them'} is an earlier check`);
          }
        }
        if (failed) throw new CliError(driftRunFailedMessage(out, execution, unchecked), 1, { type: 'cli_error', code: 'drift_check_failed' });
        // The one tenant asked for was not checked (no longer ACTIVE when the run listed it): the check asked for did not happen.
        if (out.tenantId && unchecked.length) process.exitCode = 1;
        // A check that ran and could not say (its detection failed: UNKNOWN, or a failed check beside an earlier verdict) is no result.
        const undetermined = undeterminedSince(result, Date.parse(out.startDate));
        if (undetermined.length) throw new CliError(undeterminedMessage(out, undetermined), 1, { type: 'cli_error', code: 'drift_undetermined' });
        return;
      }
      if (id) {
        const out = await api.call<TenantDrift>('GET', `/admin/tenants/${encodeURIComponent(id)}/drift`);
        const v = detailed ? verdict([{ tenantId: out.tenantId, status: out.status, drift: out.drift?.status ?? 'NOT_CHECKED', failedCheck: out.drift?.failedCheck }]) : undefined;
        const last = v ? `\n${driftExitLine(v.driftOrUnknown, 1)}` : '';
        if (json || !out.drift) {
          print(json ? JSON.stringify({ ...out, ...v }, null, 2) : `${tenantDriftLines(out)}${last}`);
          return;
        }
        // The tenant's operations since the check (a repair, a change, an upgrade): the record predates them.
        const record = await api.call<{ executions?: LifecycleExecution[] }>('GET', `/admin/tenants/${encodeURIComponent(id)}`);
        print(`${tenantDriftLines(out, record.executions ?? [])}${last}`);
        return;
      }
      // Every page (the API answers 100 rows a page), sorted by tenant id.
      const tenants = await allDriftRows(api, o.status, warnUnreadable);
      const v = detailed ? verdict(tenants) : undefined;
      if (json) print(JSON.stringify(v ? { tenants, ...v } : tenants, null, 2));
      else print(`${driftListLines({ tenants })}${v ? `\n${driftExitLine(v.driftOrUnknown, tenants.length)}` : ''}`);
    });
}
