import { Command, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AllowReplacement, ALLOW_REPLACEMENT_REASON_RULE, IDEMPOTENCY_KEY, REQUEST_REASON, TENANT_STATUSES, type AdminInvite, type GatewayPolicy, type StackUpdating, type TenantRecord } from '../tenant-record.js';
import { AdminClient } from './admin-client.js';
import { printable } from '../printable.js';
import { lostStartAnswer } from './admin-api-errors.js';
import { allTenants, describeUnreadable } from './all-tenants.js';
import { CliError } from './cli-error.js';
import { gatewayPatch } from './gateway-patch.js';
import { collectTag, onboardBody } from './onboard-body.js';
import { editedTags, refuseUntagOfMissingKeys } from './tag-edits.js';
import { untilStartAnswered } from './interrupted-start.js';
import { adminInviteLine, stackUpdatingLine, table, tenantDetails, tenantListRows } from './format.js';
import { pollSeconds, tenantIdArgument } from './option-parsers.js';
import { adminTarget, profileOption } from './admin-target.js';
import { tenantsApplyCommand } from './tenants-apply-command.js';
import { tenantsDriftCommand } from './tenants-drift-command.js';
import { tenantsFailoverCommand } from './tenants-failover-command.js';
import { tenantsProviderKeyCommand } from './tenants-provider-key-command.js';
import { formatStatement } from './tenant-statement-format.js';
import { nextStepAfterFailure, offboardLines, onboardLines, type OnboardAnswer, retryLines, statusChangeLines, type OffboardAnswer, type RetryAnswer, type StatusChangeAnswer } from './lifecycle-answers.js';
import { monthProblem } from '../statements/schema.js';
import { followUntilEnd, printSteps, samePollLoop, secondsBetween, stdoutColour } from './execution-watch.js';
import { tenantsUpgradeCommand } from './tenants-upgrade-command.js';
import { requestErrorMap } from '../request-issues.js';
import { clipDisplay } from './display-width.js';

/** The most terminal columns of an execution's cause in a `watch` or `show` line (errorAndCause), `...` included. */
const CAUSE_COLUMNS = 300;

export { stepMark } from './execution-watch.js';

interface Progress {
  status: string;
  kind?: string;
  executionStatus?: string;
  /** When the execution started and stopped (ISO 8601, DescribeExecution's startDate and stopDate). */
  startDate?: string;
  stopDate?: string;
  currentStep?: string;
  /** The tenant's recorded failure (TenantRecord's), answered with the execution it is of. */
  failure?: { step: string; reason: string; kind?: string; stackUpdating?: StackUpdating };
  /** Announcements of this execution still owed (its operation took effect; PutEvents failed after it). */
  owedAnnouncements?: Array<{ detailType: string; error?: string }>;
  /** The first admin's invitation as this onboarding execution recorded it (*Invite tenant admin*: INVITED, FAILED or SKIPPED, and why). */
  adminInvite?: AdminInvite;
  /**
   * attempts: how many the state ran when more than one (its Retry policy retried it); status is the last one's outcome,
   * or ABORTED / TIMED_OUT (/ FAILED) when the execution ended while the step ran, with the execution's error and cause.
   */
  steps: Array<{ name: string; seconds?: number; status: string; attempts?: number; error?: string; cause?: string }>;
}

/**
 * An execution's error and cause as one line: `States.Timeout (cause…)`, the cause cut at CAUSE_COLUMNS terminal columns
 * (display-width.ts clipDisplay: a CJK cause was cut at 300 characters, 600 columns, and `slice` could split an emoji).
 */
function errorAndCause(error: string | undefined, cause: string | undefined): string {
  const c = cause && clipDisplay(cause, CAUSE_COLUMNS);
  return [error, c && (error ? `(${c})` : c)].filter(Boolean).join(' ');
}

/**
 * The step an execution stopped in when no failure is recorded for it (stopped, timed out, or failed without its Catch:
 * end-stopped-execution records it after the execution ended), as a failure: its step, and the execution's status,
 * error and cause as the reason.
 */
function stoppedAt(p: Progress): { step: string; reason: string } | undefined {
  if (p.failure || !p.executionStatus || !['ABORTED', 'TIMED_OUT', 'FAILED'].includes(p.executionStatus)) return undefined;
  const step = p.steps.findLast((s) => s.status === p.executionStatus) ?? p.steps.findLast((s) => s.status !== 'DONE');
  if (!step) return undefined;
  const detail = errorAndCause(step.error, step.cause);
  return { step: step.name, reason: `execution ${p.executionStatus.toLowerCase().replace('_', ' ')}${detail ? `: ${detail}` : ''}` };
}


const print = (s: string) => process.stdout.write(`${s}\n`);

const client = adminTarget;

/**
 * What a watch of a tenant's execution that ends before it says after its reason: the execution goes on, and how to
 * follow it again (`tenants watch` follows the tenant's latest execution: this one, as the tenant's lease lets no other
 * operation start while it runs).
 * @param kind the execution's kind as the admin API answers it (onboard, change, status, offboard) @default - `lifecycle`, before any answer
 */
export const executionGoesOn = (id: string, kind?: string) =>
  `the ${kind ?? 'lifecycle'} execution goes on in Step Functions (ending the watch stops nothing): tessera tenants watch ${id} follows it again`;

/**
 * Polls the latest execution (or `executionArn`) and prints each step as it finishes, with its duration. The
 * execution's duration is its own (startDate to stopDate, as Step Functions answers them), not the
 * time since this command started: a watch begun late, or of an execution already ended, said
 * `onboard succeeded in 0.1 s` of an execution that ran 1.6 s. A running execution is announced
 * once, with how long it has been running. A failure is printed with the command to run next. With `json`, one JSON
 * object per line: each step as it finishes, and the end as `{ execution: <the progress without its steps, with
 * stoppedAt { step, reason } when no failure is recorded for a stopped execution, and next: the command to run next
 * after a failure> }`, so a script reads how it ended from stdout as well as from the exit code.
 *
 * A watch that ends before the execution says that it goes on and how to follow it again (executionGoesOn), through
 * followUntilEnd, as `tenants upgrade --watch` does: Ctrl-C prints `stopped following tenant <id> (Ctrl-C): …` on
 * stderr and sets process.exitCode 130 (a second Ctrl-C quits at once); a poll that fails once the execution was read,
 * or at once when `executionArn` was given (the call that started it answered with it), gives its error and that line.
 * @param executionArn the execution to follow (`?executionArn=`), as the call that started it answered @default - the tenant's latest
 * @returns the last progress read (its executionStatus is not RUNNING), or undefined after Ctrl-C
 * @throws CliError the first poll's error as it is without `executionArn` (an unknown tenant, the admin API unreachable); a later one's with executionGoesOn
 */
export async function watch(api: AdminClient, id: string, intervalMs: number, json: boolean, executionArn?: string, colour = stdoutColour()): Promise<Progress | undefined> {
  const printed = new Set<number>();
  let waitSaidAt = -1;
  let announced = false;
  let kind: string | undefined;
  return followUntilEnd({
    poll: () => api.call<Progress>('GET', `/admin/tenants/${encodeURIComponent(id)}/execution`, undefined, { executionArn }),
    intervalMs, started: executionArn !== undefined, what: `tenant ${id}`, json, goesOn: () => executionGoesOn(id, kind),
    answered: (p) => {
      kind = p.kind ?? kind;
      if (!json && !announced && p.executionStatus === 'RUNNING') {
        announced = true;
        const since = secondsBetween(p.startDate, Date.now());
        print(`${p.kind ?? 'execution'} running${since ? ` for${since}` : ''} — tenant ${id} is ${p.status}`);
      }
      printSteps(p.steps, printed, json, colour, print, Boolean(p.executionStatus) && p.executionStatus !== 'RUNNING');
      // A poll loop says its `… wait for <x>` once, not at each of its polls.
      const runningAt = p.steps.findLastIndex((s) => s.status === 'RUNNING' && !/\?$/.test(s.name));
      const running = p.steps[runningAt];
      if (!json && running && /^Wait /.test(running.name) && !samePollLoop(p.steps, waitSaidAt, runningAt)) {
        print(`  … ${running.name.toLowerCase()}`);
        waitSaidAt = runningAt;
      }
      if (!p.executionStatus || p.executionStatus === 'RUNNING') return undefined;
      const stopped = stoppedAt(p);
      const next = p.failure ? nextStepAfterFailure(id, p.failure.kind ?? p.kind, p.failure.reason, p.failure.stackUpdating, p.failure.step)
        : stopped ? nextStepAfterFailure(id, p.kind, stopped.reason, undefined, stopped.step) : undefined;
      if (json) {
        const { steps: _steps, ...execution } = p;
        print(JSON.stringify({ execution: { ...execution, ...(stopped ? { stoppedAt: stopped } : {}), ...(next ? { next } : {}) } }));
        return p;
      }
      const took = secondsBetween(p.startDate, p.stopDate);
      print(`${p.kind ?? 'execution'} ${p.executionStatus.toLowerCase()}${took ? ` in${took}` : ''} — tenant ${id} is ${p.status}`);
      if (p.failure) {
        print(`failed at "${p.failure.step}": ${p.failure.reason}`);
        if (p.failure.stackUpdating) print(stackUpdatingLine(p.failure.stackUpdating));
      }
      if (stopped) print(`stopped at "${stopped.step}": ${stopped.reason}`);
      if (next) print(`next: ${next}`);
      // The step ends ✓ whatever the invitation became (it never fails the onboarding): SKIPPED or FAILED was said only by tenants show.
      if (p.adminInvite) print(`admin invite ${adminInviteLine(p.adminInvite)}`);
      for (const a of p.owedAnnouncements ?? []) print(`announcement ${a.detailType} not sent${a.error ? ` (${a.error})` : ''}: owed; send it with tessera tenants retry ${id}`);
      return p;
    },
  });
}

/**
 * The exit codes of `tenants watch` and of each `--watch` (exitAfterWatch; followUntilEnd's 130), as their help states
 * them. A usage error (a bad id or interval) exits 2 before anything is followed, as every command's does.
 */
const WATCH_EXIT_CODES = 'Exit codes: 0 when the execution SUCCEEDED; 1 otherwise (it ended FAILED, TIMED_OUT or ABORTED, or a poll failed: '
  + 'an unknown tenant, the admin API unreachable); 130 when Ctrl-C stopped the watch (the execution goes on).';

/** After a `--watch`: exit 1 unless the execution SUCCEEDED; a watch ended by Ctrl-C (undefined) keeps its 130. */
async function exitAfterWatch(watched: Promise<Progress | undefined>): Promise<void> {
  const p = await watched;
  if (p && p.executionStatus !== 'SUCCEEDED') process.exitCode = 1;
}

/**
 * Reads a gateway policy file (JSON: lib/tenant-record.ts GatewayPolicy) for `tenants gateway`.
 * @throws CliError (exit 2) naming the file: unreadable, not JSON (with the parser's position), or not a JSON object
 */
export async function readPolicyFile(file: string): Promise<Record<string, unknown>> {
  // The file replaces the whole policy: a partial one would reset every key it leaves out (--set/--unset keep them).
  const whole = 'the tenant\'s whole gateway policy (it replaces the current one; to change some keys and keep the others: --set key.path=value, --unset key.path)';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`--file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (e as Error).message})`}; give a JSON file holding ${whole}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--file ${file}: not valid JSON (${(e as Error).message}); the gateway policy is one JSON object`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`--file ${file}: holds ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}, not a JSON object; give one JSON object holding ${whole}`);
  return parsed as Record<string, unknown>;
}

/** The policy as lines for a terminal: each key set, with its value. */
function policyLines(policy: GatewayPolicy | undefined): string[] {
  const entries = Object.entries(policy ?? {}).filter(([, v]) => v !== undefined);
  if (!entries.some(([k]) => k === 'allowedOrigins')) entries.push(['allowedOrigins', 'none (no browser origin)']);
  return entries.map(([k, v]) => `  ${k.padEnd(26)}${Array.isArray(v) ? (v.length ? v.join(', ') : '[]') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}

/** A period's usage as the admin API answers it (lambdas/admin/usage-routes.ts). */
interface PeriodUsage { tokens: number; costUsd: number; requests: number }
interface TenantUsageAnswer {
  tenantId: string; day: string; month: string;
  usage?: { day: PeriodUsage; month: PeriodUsage };
  by?: 'user' | 'key' | 'tag'; incomplete?: boolean;
  /** `by=tag`: the month's requests that carried a tag past `tagsLimit` distinct tags (counted under none of those). */
  unrecordedRequests?: number;
  /** `by=tag`: the most distinct tags a tenant's month records (MAX_TAGS_PER_MONTH). */
  tagsLimit?: number;
  subjects?: Array<{ kind: 'user' | 'key' | 'tag'; id: string; day: PeriodUsage; month: PeriodUsage }>;
}

/** USD to the nano-dollar, the unit the gateway counts cost in: `0.000000400` for a 20-token embedding (6 decimals showed it as 0.000000). */
const usd9 = (n: number) => n.toFixed(9);

/** The line after a started onboarding or change without `--watch`: how to follow it to its end. */
const followLine = (id: string) => `\nfollow it: tessera tenants watch ${id} (or add --watch)`;

/**
 * `tessera tenants usage` as lines for a terminal: the tenant's day and month, or one row per user, key or request tag
 * (costs to 9 decimals), every value through printable (lib/printable.ts: a control character, line separator or
 * bidirectional override escaped). `--by tag` ends with how complete the list is: the requests of the month whose tag
 * was past the month's limit of distinct tags (`unrecordedRequests`, `incomplete`), and that a request counts under
 * each of its tags.
 */
export function usageLines(u: TenantUsageAnswer): string {
  if (!u.by) {
    const row = (period: string, p: PeriodUsage) => ({ period, tokens: p.tokens, 'cost usd': usd9(p.costUsd), requests: p.requests });
    return `${printable(`usage of tenant ${u.tenantId} (UTC)`)}\n${table([row(`today ${u.day}`, u.usage!.day), row(`month ${u.month}`, u.usage!.month)], ['period', 'tokens', 'cost usd', 'requests'])}`;
  }
  const subjects = u.subjects ?? [];
  const head = printable(`usage of tenant ${u.tenantId} by ${u.by}: ${subjects.length} ${u.by}${subjects.length === 1 ? '' : 's'} this month (${u.month}), today ${u.day} (UTC)`);
  const rows = subjects.map((s) => ({
    [u.by!]: s.id, 'tokens today': s.day.tokens, 'usd today': usd9(s.day.costUsd), 'requests today': s.day.requests,
    'tokens month': s.month.tokens, 'usd month': usd9(s.month.costUsd), 'requests month': s.month.requests,
  }));
  const lines = [head, ...(rows.length ? [table(rows, [u.by, 'tokens today', 'usd today', 'requests today', 'tokens month', 'usd month', 'requests month'])] : [])];
  if (u.by === 'tag') {
    const unrecorded = u.unrecordedRequests ?? 0;
    lines.push(printable(`incomplete: ${u.incomplete ? 'yes' : 'no'}; unrecorded requests: ${unrecorded} (a tag new to a month that has ${u.tagsLimit ?? 'its limit of'} distinct tags is not recorded${unrecorded ? '; those requests count under their other tags and in the tenant\'s' : ''})`));
    lines.push('note: a request counts in full under each of its tags (the rows may sum to more than the tenant\'s), one without tags under none');
  } else if (u.incomplete) lines.push(`note: some ${u.by}s of this month could not be listed (the tenant's month item reached DynamoDB's 400 KB); their usage is counted in the tenant's`);
  return lines.join('\n');
}

/** A repeatable option's values, in the order given. */
const repeatedOption = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--request-id`: the Idempotency-Key header's rule (IDEMPOTENCY_KEY). @throws CliError (exit 2) naming the value */
function checkRequestId(requestId: string | undefined): void {
  if (requestId !== undefined && !IDEMPOTENCY_KEY.test(requestId)) throw new CliError(`--request-id = ${JSON.stringify(requestId.slice(0, 100))}: must be 1-80 printable ASCII characters without spaces (it is sent as the Idempotency-Key header)`);
}

/** `--reason`, checked before any call as the admin API checks it (REQUEST_REASON). @throws CliError (exit 2) naming the value */
function checkedReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  const checked = REQUEST_REASON.safeParse(reason);
  // printable: the value quoted back must not apply the bidi override or line separator it is refused for
  if (!checked.success) throw new CliError(`--reason = ${printable(JSON.stringify(reason.slice(0, 100)))}: ${checked.error.issues[0].message}`);
  return reason;
}

export function tenantsCommand(): Command {
  const tenants = new Command('tenants').description('tenants: create (onboard), apply (tenants as code: -f tenants.yaml), list, show, update (change tier or version, or --repair), upgrade (a tier\'s rolling upgrade to a blueprint version), drift, failover-plan, gateway (set the gateway policy), provider-key (a tenant\'s own provider API key), usage, suspend, resume, delete (offboard), retry, watch')
    .addOption(profileOption());

  tenants.command('create').description('onboard a tenant (idempotent: the same --request-id again returns the same onboarding)')
    .requiredOption('--id <tenantId>', 'tenant id: lower-case DNS label, 3-24 characters')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--tier <tier>', 'tier name (see the platform config)')
    .requiredOption('--admin-email <email>', 'tenant administrator (the tenant\'s first user in the platform\'s Cognito pool, invited by email with --invite-admin); never the root email of the tenant\'s AWS account (account isolation), which is organization.accountEmail with {tenantId} replaced by the tenant id (an address of the platform\'s own)')
    .option('--invite-admin', 'invite --admin-email as the tenant\'s first admin (role admin) in the platform\'s Cognito pool just before the tenant becomes ACTIVE (Cognito mails a temporary password); the default with the platform\'s own pool')
    .option('--no-invite-admin', 'invite no one at onboarding (invite later: tessera users invite --tenant <id> --email <address> --role admin); the default with an external identity provider (gateway.jwt)')
    .option('--tag <Key=Value>', 'a tag of the tenant\'s own, repeatable (--tag CostCenter=4711 --tag Owner=team-x): on its AWS account (account tiers) and its stacks, whose resources CloudFormation tags with it; AWS tag rules (key 1-128, value 1-256 characters: letters, digits, spaces, _ . : / = + - @; at most 40; no aws: or tessera: key)', collectTag)
    .option('--request-id <requestId>', 'idempotency key (default: a new one, printed)')
    .option('--watch', 'follow the onboarding until it ends (exit 1 unless it succeeds, 130 on Ctrl-C)')
    .option('--interval <seconds>', 'watch poll interval', pollSeconds, 2)
    .action(async (o, cmd: Command) => {
      const requestId = o.requestId ?? `cli-${randomUUID()}`;
      const body = onboardBody(o, requestId);
      const { api, json } = client(cmd);
      // No answer, or a 5xx: the onboarding may have started under the request id made here (lostStartAnswer).
      const made = o.requestId === undefined ? requestId : undefined;
      const out = await untilStartAnswered(api.call<OnboardAnswer>('POST', '/admin/tenants', body)
        .catch((e: unknown) => { throw lostStartAnswer(e, made, 'onboarding', `tessera tenants watch ${o.id}`); }), requestId, 'onboarding', `tessera tenants watch ${o.id}`, { json });
      if (json) print(JSON.stringify({ ...out, requestId }));
      // The same request again answers with a note (nothing started) and, for one already onboarded, no execution to follow.
      else print(`${onboardLines(o.id, o.tier, out, requestId)}${o.watch || !out.executionArn ? '' : followLine(o.id)}`);
      if (o.watch && out.executionArn) await exitAfterWatch(watch(api, o.id, o.interval * 1000, json, out.executionArn));
    });

  tenants.command('list').description('list tenants')
    .addOption(new Option('--status <status>', 'only this status').choices([...TENANT_STATUSES]))
    .option('--tier <tier>', 'only this tier')
    .action(async (o, cmd: Command) => {
      const { api, json } = client(cmd);
      // A record edited by hand into a shape the schema refuses is left out and named, one warning line each on stderr.
      const tenants = await allTenants(api, { status: o.status, tier: o.tier }, (unreadable) => {
        for (const u of unreadable) process.stderr.write(`warning: left out of the list: ${describeUnreadable(u)}\n`);
      });
      if (json) print(JSON.stringify(tenants, null, 2));
      else print(tenants.length ? table(tenantListRows(tenants) as never, ['tenantId', 'tier', 'status', 'isolation', 'accountId', 'blueprintVersion', 'currentStep']) : 'no tenants');
    });

  tenants.command('show').description('show a tenant: status, resources, history').argument('<id>', 'tenant id', tenantIdArgument)
    .action(async (id: string, _o, cmd: Command) => {
      const { api, json } = client(cmd);
      const t = await api.call<TenantRecord>('GET', `/admin/tenants/${encodeURIComponent(id)}`);
      print(json ? JSON.stringify(t, null, 2) : tenantDetails(t));
    });

  tenants.command('update').description('change tier or roll to another blueprint version, or change the tenant\'s own tags; --repair re-applies the current one (reverts drift)').argument('<id>', 'tenant id', tenantIdArgument)
    .option('--tier <tier>', 'target tier: one of the same isolation mode and tenant network (network.tenantVpcPrefixLength, maxAzs, internetEgress) and, for a tenant with a DR stack, its DR region or no disaster recovery; another is refused (isolation_change, network_change, dr_region_change)')
    .option('--blueprint-version <version>', 'target blueprint version')
    .option('--tag <Key=Value>', 'add a tag of the tenant\'s own or change its value, repeatable (--tag CostCenter=4712): on every stack of the tenant, whose resources CloudFormation tags with it, and on its AWS account (account tiers); AWS tag rules as tenants create --tag', collectTag)
    .option('--untag <Key>', 'remove a tag of the tenant\'s own, repeatable (--untag Owner); a key it does not have is nothing to remove (exit 1 naming it when nothing else changes)', collectTag)
    .option('--repair', 're-apply the tenant\'s blueprint (same tier and version) through a drift-aware change set, bringing drifted resources back')
    .option('--allow-replacement <reason>', `let a change replace or remove a stateful resource (database, bucket, key, cache, vault, cluster, a namespace tier's namespace); the reason, ${ALLOW_REPLACEMENT_REASON_RULE}, is recorded`)
    .option('--request-id <key>', 'idempotency key, sent as Idempotency-Key: the same key again answers with that change instead of starting another (default: a new one, printed)')
    .option('--watch', 'follow the change until it ends (exit 1 unless it succeeds, 130 on Ctrl-C)')
    .option('--interval <seconds>', 'watch poll interval', pollSeconds, 2)
    .action(async (id: string, o, cmd: Command) => {
      const tagging = o.tag !== undefined || o.untag !== undefined;
      if (o.tier === undefined && o.blueprintVersion === undefined && !o.repair && !tagging) throw new CliError(`tessera tenants update ${id}: nothing to change; give --tier <tier> or --blueprint-version <version> (or both), --tag / --untag, or --repair`);
      if (o.repair && (o.tier !== undefined || o.blueprintVersion !== undefined || tagging)) throw new CliError(`tessera tenants update ${id}: --repair re-applies the current tier and version; it does not go with --tier, --blueprint-version, --tag or --untag`);
      // The flags alone first (exit 2 before any call): a --tag that is not Key=Value, a key both tagged and untagged.
      if (tagging) editedTags({}, o.tag, o.untag);
      if (o.allowReplacement !== undefined) {
        const checked = AllowReplacement.safeParse({ reason: o.allowReplacement }, { error: requestErrorMap });
        if (!checked.success) throw new CliError(`--allow-replacement: reason = ${JSON.stringify(o.allowReplacement)}: ${checked.error.issues[0].message}`);
      }
      if (o.requestId !== undefined && !IDEMPOTENCY_KEY.test(o.requestId)) throw new CliError(`--request-id = ${JSON.stringify(o.requestId.slice(0, 100))}: must be 1-80 printable ASCII characters without spaces (it is sent as the Idempotency-Key header)`);
      const { api, json } = client(cmd);
      const requestId: string = o.requestId ?? `cli-${randomUUID()}`;
      const made = o.requestId === undefined ? requestId : undefined;
      // --tag / --untag edit the tags the tenant has: read them, send the whole set (PATCH tags replaces them) with If-Match,
      // the read's ETag, so a tenant changed in between (another tags change) is refused 412, not overwritten.
      const read = tagging ? await api.getWithEtag<TenantRecord>(`/admin/tenants/${encodeURIComponent(id)}`) : undefined;
      const tags = read ? editedTags(read.body.tags, o.tag, o.untag) : undefined;
      if (read && o.tier === undefined && o.blueprintVersion === undefined) refuseUntagOfMissingKeys(id, read.body.tags, tags, o.untag);
      const out = await untilStartAnswered(api.call<{ executionArn: string; note?: string }>('PATCH', `/admin/tenants/${encodeURIComponent(id)}`, {
        tier: o.tier, blueprintVersion: o.blueprintVersion, ...(tags ? { tags } : {}), ...(o.repair ? { repair: true } : {}), ...(o.allowReplacement !== undefined ? { allowReplacement: { reason: o.allowReplacement } } : {}),
      }, {}, { 'idempotency-key': requestId, ...(read?.etag ? { 'if-match': read.etag } : {}) }).catch((e: unknown) => { throw lostStartAnswer(e, made, 'change', `tessera tenants watch ${id}`); }), requestId, 'change', `tessera tenants watch ${id}`, { json });
      print(json ? JSON.stringify({ ...out, requestId }) : `${out.note ? `change of ${id}: ${out.note}` : `change of ${id} started`} — request ${requestId}\nexecution ${out.executionArn}${o.watch ? '' : followLine(id)}`);
      if (o.watch) await exitAfterWatch(watch(api, id, o.interval * 1000, json, out.executionArn));
    });

  tenants.command('gateway').description('set a tenant\'s gateway policy (allowed browser origins, response storage, models, budgets, guardrails): change keys with --set/--unset (the others stay), or replace it whole with the JSON in --file')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .option('--file <policy.json>', 'JSON object: the whole gateway policy, replacing the current one (keys of GatewayPolicy; a key it does not know is refused, an absent one takes its default)')
    .option('--set <key.path=value>', 'set one key, keeping the others (repeatable): the value as JSON when it parses (true, 500, ["a","b"]), else as text; e.g. --set guardrails.redactPii=true', repeatedOption)
    .option('--unset <key.path>', 'remove one key, so that it takes its default (repeatable), e.g. --unset systemPrompt', repeatedOption)
    .option('--if-match <etag>', 'write only if the policy is still at this version (its ETag: "3" or 3; gatewayChange.version of tessera --json tenants show <id>, 0 when absent), or the tenant record unchanged since a read that answered this ETag (GET /admin/tenants/<id>); else nothing is written (412)')
    .option('--reason <text>', 'why, recorded with the change (gatewayChange.reason of the registry record)')
    .action(async (id: string, o, cmd: Command) => {
      const sets: string[] = o.set ?? [];
      const unsets: string[] = o.unset ?? [];
      const edits = sets.length + unsets.length > 0;
      if (o.file !== undefined && edits) throw new CliError('tessera tenants gateway takes --file (the whole policy) or --set/--unset (keys to change), not both');
      if (o.file === undefined && !edits) throw new CliError('tessera tenants gateway needs the option --file <policy.json> (the whole policy) or --set <key.path=value> / --unset <key.path> (keys to change)');
      const reason = checkedReason(o.reason);
      const body = edits ? gatewayPatch(sets, unsets) : await readPolicyFile(o.file);
      const { api, json } = client(cmd);
      const headers = { ...(edits ? { 'content-type': 'application/merge-patch+json' } : {}), ...(o.ifMatch !== undefined ? { 'if-match': /^\d+$/.test(o.ifMatch) ? `"${o.ifMatch}"` : o.ifMatch } : {}) };
      const out = await api.call<{ tenantId: string; status: string; gateway?: GatewayPolicy; version?: number; updatedAt: string }>(edits ? 'PATCH' : 'PUT', `/admin/tenants/${encodeURIComponent(id)}/gateway`, body, { reason }, headers);
      if (json) print(JSON.stringify(out, null, 2));
      else print([`gateway policy of ${id} ${edits ? 'changed' : 'replaced'} (${out.updatedAt}${out.version !== undefined ? `, ETag "${out.version}"` : ''}); the CORS origin index follows within seconds`, ...policyLines(out.gateway)].join('\n'));
    });

  tenants.command('usage').description('a tenant\'s gateway usage today and this month (tokens, cost, requests), or per user, key or request tag; with --month, its statement of that month')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .addOption(new Option('--by <subject>', 'one row per user or per key that used the gateway this month, or per request tag (x-tessera-tags) settled requests carried').choices(['user', 'key', 'tag']))
    .option('--month <YYYY-MM>', 'the month\'s statement: gateway by model, day, user and key, fine-tuning, infrastructure (Cost Explorer), total')
    .option('--csv', 'with --month: the statement as CSV (RFC 4180)')
    .action(async (id: string, o, cmd: Command) => {
      // `--month ""` is a month given (and refused), not a month left out: `!o.month` took it for today's counters.
      const month = o.month as string | undefined;
      if (o.csv && month === undefined) throw new CliError('--csv needs --month YYYY-MM (the CSV is a month\'s statement)');
      if (month !== undefined && o.by) throw new CliError(o.by === 'tag' ? '--by tag does not go with --month: usage by tag is this month\'s to date (the statement has no tags)' : '--by does not go with --month: the month\'s statement lists its users and keys itself');
      const problem = month !== undefined ? monthProblem(month) : undefined;
      if (problem) throw new CliError(`--month: ${problem}`);
      if (o.csv && cmd.optsWithGlobals().json) throw new CliError('--csv and --json each choose the output: give one');
      const { api, json } = client(cmd);
      if (month !== undefined) {
        const statement = await api.call<unknown>('GET', `/admin/tenants/${encodeURIComponent(id)}/usage`, undefined, { month, by: o.by });
        print(formatStatement(statement, o.csv ? 'csv' : json ? 'json' : 'text'));
        return;
      }
      const out = await api.call<TenantUsageAnswer>('GET', `/admin/tenants/${encodeURIComponent(id)}/usage`, undefined, { by: o.by });
      print(json ? JSON.stringify(out, null, 2) : usageLines(out));
    });

  for (const action of ['suspend', 'resume'] as const) {
    tenants.command(action).description(action === 'suspend' ? 'stop serving a tenant at once; keep every resource' : 'serve a suspended tenant again').argument('<id>', 'tenant id', tenantIdArgument)
      .option('--watch', `follow the ${action} until it ends (the tenant is ${action === 'suspend' ? 'SUSPENDED' : 'ACTIVE'} once it succeeds; exit 1 unless it does, 130 on Ctrl-C)`)
      .option('--interval <seconds>', 'watch poll interval', pollSeconds, 2)
      .option('--request-id <key>', `idempotency key, sent as Idempotency-Key: the same key again answers with that ${action} instead of starting another (default: a new one, printed)`)
      .option('--reason <text>', `why (1-500 characters): recorded on the ${action}'s history entry with who asked (tenants show) and carried by its Tenant ${action === 'suspend' ? 'Suspended' : 'Resumed'} event`)
      .action(async (id: string, o, cmd: Command) => {
        checkRequestId(o.requestId);
        const reason = checkedReason(o.reason);
        const { api, json } = client(cmd);
        const requestId: string = o.requestId ?? `cli-${randomUUID()}`;
        const made = o.requestId === undefined ? requestId : undefined;
        const out = await untilStartAnswered(api.call<StatusChangeAnswer>('POST', `/admin/tenants/${encodeURIComponent(id)}/${action}`, reason !== undefined ? { reason } : undefined, {}, { 'idempotency-key': requestId })
          .catch((e: unknown) => { throw lostStartAnswer(e, made, action, `tessera tenants watch ${id}`); }), requestId, action, `tessera tenants watch ${id}`, { json });
        // The 202's status is the tenant's while the execution runs (served as before); the line names the one it ends with.
        print(json ? JSON.stringify({ ...out, requestId }) : statusChangeLines(id, action, out, requestId));
        if (o.watch && out.executionArn) await exitAfterWatch(watch(api, id, o.interval * 1000, json, out.executionArn));
      });
  }

  tenants.command('delete').description('offboard: archive data, delete the stack (data stores kept), schedule key deletion, close the account').argument('<id>', 'tenant id', tenantIdArgument)
    .option('--yes', 'confirm; without it nothing happens')
    .option('--reason <text>', 'why (1-500 characters): recorded on the offboarding\'s history entry with who asked (tenants show) and carried by its Tenant Offboarded event')
    .option('--request-id <key>', 'idempotency key, sent as Idempotency-Key: the offboarding\'s request id; the same key again answers with that offboarding (default: a new one, printed)')
    .option('--watch', 'follow the offboarding until it ends (exit 1 unless it succeeds, 130 on Ctrl-C)')
    .option('--interval <seconds>', 'watch poll interval', pollSeconds, 2)
    .action(async (id: string, o, cmd: Command) => {
      checkRequestId(o.requestId);
      const reason = checkedReason(o.reason);
      const { api, json } = client(cmd);
      if (!o.yes) throw new CliError(`offboarding ${id} cannot be undone after the key deletion window: repeat with --yes`);
      const requestId: string = o.requestId ?? `cli-${randomUUID()}`;
      const made = o.requestId === undefined ? requestId : undefined;
      const out = await untilStartAnswered(api.call<OffboardAnswer>('DELETE', `/admin/tenants/${encodeURIComponent(id)}`, reason !== undefined ? { reason } : undefined, {}, { 'idempotency-key': requestId })
        .catch((e: unknown) => { throw lostStartAnswer(e, made, 'offboarding', `tessera tenants watch ${id}`); }), requestId, 'offboarding', `tessera tenants watch ${id}`, { json });
      print(json ? JSON.stringify({ requestId, ...out }) : offboardLines(id, out, requestId));
      // An OFFBOARDED tenant's answer names no execution: nothing to follow.
      if (o.watch && out.executionArn) await exitAfterWatch(watch(api, id, o.interval * 1000, json, out.executionArn));
    });

  tenants.command('retry').description('run a FAILED onboarding again (or resume a stopped offboarding) as a new execution; steps already done are skipped')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .option('--admin-email <email>', 'correct the recorded administrator email (e.g. after EMAIL_ALREADY_EXISTS); only while no account was created or requested with the old one')
    .option('--name <name>', 'correct the recorded display name')
    .option('--watch', 'follow the new execution until it ends (exit 1 unless it succeeds, 130 on Ctrl-C)')
    .option('--interval <seconds>', 'watch poll interval', pollSeconds, 2)
    .action(async (id: string, o, cmd: Command) => {
      const { api, json } = client(cmd);
      const body = Object.fromEntries(Object.entries({ adminEmail: o.adminEmail, name: o.name }).filter(([, v]) => v !== undefined));
      const out = await api.call<RetryAnswer>('POST', `/admin/tenants/${encodeURIComponent(id)}/retry`, body);
      print(json ? JSON.stringify(out) : retryLines(id, out));
      if (o.watch && out.executionArn) await exitAfterWatch(watch(api, id, o.interval * 1000, json, out.executionArn));
    });

  tenants.addCommand(tenantsApplyCommand());
  tenants.addCommand(tenantsUpgradeCommand());
  tenants.addCommand(tenantsDriftCommand());
  tenants.addCommand(tenantsFailoverCommand());
  tenants.addCommand(tenantsProviderKeyCommand());

  tenants.command('watch').description('follow the latest lifecycle execution of a tenant, step by step').argument('<id>', 'tenant id', tenantIdArgument)
    .option('--interval <seconds>', 'poll interval', pollSeconds, 2)
    .addHelpText('after', `\n${WATCH_EXIT_CODES}`)
    .action(async (id: string, o, cmd: Command) => {
      const { api, json } = client(cmd);
      await exitAfterWatch(watch(api, id, o.interval * 1000, json));
    });

  return tenants;
}
