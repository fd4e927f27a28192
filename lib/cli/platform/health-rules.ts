// The rules of `tessera platform health`: what each source's answer means for an operator now. Pure functions of the
// answers and the clock (`now`, epoch ms), so each rule is tested without AWS or the admin API.
import type { ModelShutdownFinding } from '../../config/model-lifecycle.js';
import { printable } from '../../printable.js';
import { shutdownFix } from '../../config/model-lifecycle.js';
import { operationBoundSeconds } from '../../lifecycle-workflow-timeouts.js';
import type { DriftRow } from '../../tenant-list-page.js';
import { isLifecycleEntry, STRANDED_STATUSES, type LifecycleExecution, type TenantRecord } from '../../tenant-record.js';
import type { DeadLetterQueueInfo } from '../dlq/queues.js';

/** How much a finding needs an operator: `fail` now, `warn` soon, `info` to know. */
export type Severity = 'fail' | 'warn' | 'info';

/** The sources `tessera platform health` reads, in the order it prints them. */
export const HEALTH_SOURCES = ['dlq', 'registry', 'lifecycle', 'drift', 'dr', 'upgrades', 'models', 'closures'] as const;
export type HealthSource = (typeof HEALTH_SOURCES)[number];

/** One line of `tessera platform health`. */
export interface HealthFinding {
  readonly severity: Severity;
  /** Which source found it. */
  readonly source: HealthSource;
  /** The tenant, queue or model it is about, when one. */
  readonly subject?: string;
  /** What is wrong, one line. */
  readonly what: string;
  /** Since when (ISO 8601), when the source says. */
  readonly since?: string;
  /** The command (or step) that acts on it. */
  readonly action?: string;
}

const DAY_MS = 86_400_000;

/**
 * The drift schedule's period: the drift workflow runs daily (constructs/tenant-lifecycle.ts: `cron(0 3 * * ? *)`, 03:00
 * UTC, unless `driftSchedule` says otherwise). A check older than twice this missed a run.
 */
export const DRIFT_PERIOD_MS = DAY_MS;

/**
 * How old a DR-tier tenant's latest restore test may be: the restore tests run monthly (constructs/tenant-dr-restore-testing.ts
 * restoreTestSchedule, the 2nd at 05:00-05:59 UTC, at the tenant's backup minute; docs/resilience.md "A monthly restore test"), so a month of 31 days plus
 * 3 days of slack for the job's own run (2-3 hours) and its result's recording.
 */
export const RESTORE_TEST_MAX_AGE_MS = 34 * DAY_MS;

const iso = (ms: number) => new Date(ms).toISOString();
const ago = (from: string | number, now: number) => {
  const s = Math.max(0, Math.round((now - (typeof from === 'number' ? from : Date.parse(from))) / 1000));
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
};
const hours = (seconds: number) => (seconds % 86_400 === 0 ? `${seconds / 86_400} d` : seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`);

/**
 * The dead-letter queues (`tessera dlq list`'s listDeadLetterQueues): a queue with visible messages is a `fail` (each is an
 * event or invocation that was not processed), its oldest message's age (a peek: a lower bound) the since; AWS service
 * events (which cannot be replayed) get the purge, the rest the redrive. Messages only in flight (a redrive or a peek
 * holding them) are `info`.
 * @param options the options that find the same queues again (dlq-command.ts sameQueuesOptions)
 */
export function dlqFindings(queues: readonly DeadLetterQueueInfo[], now: number, options = ''): HealthFinding[] {
  const out: HealthFinding[] = [];
  for (const q of queues) {
    if (q.visible > 0) {
      out.push({
        severity: 'fail', source: 'dlq', subject: q.name,
        what: `${q.name} holds ${q.visible} message(s)${q.source ? ` (${q.source})` : ''}${q.awsServiceEvents ? `, ${q.awsServiceEvents} of those peeked AWS service events that cannot be replayed` : ''}`,
        ...(q.oldestAgeSeconds !== undefined ? { since: iso(now - q.oldestAgeSeconds * 1000) } : {}),
        action: q.awsServiceEvents
          ? `tessera dlq list ${q.name}${options} --peek 5; fix what refused them, then tessera dlq purge ${q.name}${options} --yes`
          : `tessera dlq list ${q.name}${options} --peek 5; tessera dlq redrive ${q.name}${options} --dry-run, then without --dry-run`,
      });
    } else if (q.inFlight > 0) {
      out.push({ severity: 'info', source: 'dlq', subject: q.name, what: `${q.name}: ${q.inFlight} message(s) in flight (a redrive or a peek holds them; visible again if not deleted)`, action: `tessera dlq list ${q.name}${options}` });
    }
  }
  return out;
}

/**
 * Tenants in FAILED (an onboarding that failed: never served) and OFFBOARDING with no operation holding them (an
 * offboarding that stopped: access stays stopped): both `fail`, resumed by `tessera tenants retry <id>`. A tenant in a
 * status only a lease holder sets (UPDATING: STRANDED_STATUSES) with no lease: `fail`, ended by the next request
 * (`tessera tenants update <id> --repair`).
 */
export function registryFindings(tenants: readonly TenantRecord[]): HealthFinding[] {
  const out: HealthFinding[] = [];
  for (const t of tenants) {
    const reason = t.failure ? `: ${t.failure.step}: ${t.failure.reason.split('\n')[0]!.slice(0, 200)}` : '';
    if (t.status === 'FAILED') {
      out.push({ severity: 'fail', source: 'registry', subject: t.tenantId, what: `tenant ${t.tenantId} is FAILED${reason}`, since: t.failure?.at ?? t.updatedAt, action: `tessera tenants show ${t.tenantId}; tessera tenants retry ${t.tenantId}` });
    } else if (t.status === 'OFFBOARDING' && !t.lease) {
      out.push({ severity: 'fail', source: 'registry', subject: t.tenantId, what: `tenant ${t.tenantId}: its offboarding stopped (OFFBOARDING, no operation running)${reason}`, since: t.failure?.at ?? t.updatedAt, action: `tessera tenants show ${t.tenantId}; tessera tenants retry ${t.tenantId}` });    } else if (STRANDED_STATUSES.has(t.status) && !t.lease) {
      // A lease removed by hand (or lost): no request is refused for it any more, the next one ends it first (lease.ts strandedOperation).
      out.push({ severity: 'fail', source: 'registry', subject: t.tenantId, what: `tenant ${t.tenantId} is ${t.status} with no operation holding it (no lease: removed outside Tessera, or lost); the next request records its operation failed and goes on`, since: t.updatedAt, action: `tessera tenants show ${t.tenantId}; tessera tenants update ${t.tenantId} --repair` });
    }
  }
  return out;
}

/**
 * Operations that outlived their workflow (operationBoundSeconds: the state machine's timeout, lib/lifecycle-workflow-timeouts.ts):
 * a history entry still RUNNING, or the tenant's lease still held, longer than that (`fail`: Step Functions has ended the
 * execution, the registry never heard; every other operation on the tenant is refused while the lease is held), and a
 * lease whose own history entry has ended (`fail`: held by an operation that is over). One line per operation (its
 * requestId), the lease's and the entry's together.
 */
export function lifecycleFindings(tenants: readonly TenantRecord[], now: number): HealthFinding[] {
  const out: HealthFinding[] = [];
  for (const t of tenants) {
    const seen = new Set<string>();
    const lease = t.lease;
    if (lease) {
      // The lease's own entry is the one of its execution: a retried onboarding runs under the onboarding's requestId again
      // (lambdas/admin/admin-api.ts retryOnboarding), so the first entry with that requestId is the attempt that FAILED.
      // Before, the retry's lease was reported held by an operation that had ended, with "release the lease" as the action.
      const entry = t.executions.findLast((e) => e.kind === lease.kind && (e.executionArn ? e.executionArn === lease.executionArn : e.requestId === lease.requestId));
      const bound = operationBoundSeconds(lease.kind);
      const held = now - Date.parse(lease.acquiredAt);
      if (entry && entry.status !== 'RUNNING') {
        seen.add(lease.executionArn);
        out.push({ severity: 'fail', source: 'lifecycle', subject: t.tenantId, what: `tenant ${t.tenantId}: the lease of ${lease.kind} ${lease.requestId} is still held, but that operation ended ${entry.status}${entry.endedAt ? ` at ${entry.endedAt}` : ''}: every other operation on the tenant is refused`, since: lease.acquiredAt, action: `tessera tenants show ${t.tenantId} (execution ${lease.executionArn}); release the lease as docs/tenant-lifecycle.md "One operation per tenant: the lease" says` });
      } else if (held > bound * 1000) {
        seen.add(lease.executionArn);
        out.push({ severity: 'fail', source: 'lifecycle', subject: t.tenantId, what: `tenant ${t.tenantId}: ${lease.kind} ${lease.requestId} has held the lease for ${ago(lease.acquiredAt, now)}, longer than its workflow's timeout (${hours(bound)}): Step Functions has ended it and the registry was not told; every other operation on the tenant is refused`, since: lease.acquiredAt, action: `tessera tenants show ${t.tenantId} (execution ${lease.executionArn})` });
      }
    }
    for (const e of t.executions) {
      if (!isLifecycleEntry(e) || e.status !== 'RUNNING' || seen.has(e.executionArn ?? (e.requestId === lease?.requestId ? lease.executionArn : ''))) continue;
      const bound = operationBoundSeconds(e.kind);
      if (now - Date.parse(e.startedAt) <= bound * 1000) continue;
      out.push({ severity: 'fail', source: 'lifecycle', subject: t.tenantId, what: `tenant ${t.tenantId}: ${e.kind} ${e.requestId} recorded RUNNING for ${ago(e.startedAt, now)}, longer than its workflow's timeout (${hours(bound)}): its execution has ended and the registry was not told`, since: e.startedAt, action: `tessera tenants show ${t.tenantId}${e.executionArn ? ` (execution ${e.executionArn})` : ''}${lease || STRANDED_STATUSES.has(t.status) ? '' : '; no lease holds the tenant, so the next operation that takes its lease records this entry FAILED'}` });
    }
  }
  return out;
}

/**
 * Drift (`GET /admin/drift`'s rows, what `tessera tenants drift` reads), for ACTIVE tenants (the drift workflow checks those
 * only): DRIFTED `warn` (repair: `tessera tenants update <id> --repair`); UNKNOWN, a latest check that failed, a check older
 * than twice the schedule's period (DRIFT_PERIOD_MS) or none at all `warn` (check now: `tessera tenants drift --detect <id>`).
 * Tenants never checked whose records were created within that window (`createdAt`, when the records were read) have not
 * missed a run yet: one `info` line for them all (nothing for an operator to do: the daily run checks them), how many and which (`tessera tenants drift` names them as never checked),
 * with `tessera tenants drift --detect` (checks every ACTIVE tenant now). They were left out, so health said nothing of
 * tenants whose drift no one knew.
 */
export function driftFindings(rows: readonly DriftRow[], now: number, createdAt: ReadonlyMap<string, string> = new Map()): HealthFinding[] {
  const out: HealthFinding[] = [];
  const stale = 2 * DRIFT_PERIOD_MS;
  const recent: string[] = [];
  for (const r of rows) {
    if (r.status !== 'ACTIVE') continue;
    const detect = `tessera tenants drift --detect ${r.tenantId}`;
    if (r.drift === 'DRIFTED') {
      out.push({ severity: 'warn', source: 'drift', subject: r.tenantId, what: `tenant ${r.tenantId}: ${r.driftedResources} resource(s) drifted from the blueprint`, since: r.checkedAt, action: `tessera tenants drift ${r.tenantId}; tessera tenants update ${r.tenantId} --repair` });
      continue;
    }
    if (r.failedCheck) {
      out.push({ severity: 'warn', source: 'drift', subject: r.tenantId, what: `tenant ${r.tenantId}: the latest drift check failed: ${r.failedCheck.error.split('\n')[0]!.slice(0, 200)}`, since: r.failedCheck.at, action: detect });
      continue;
    }
    if (r.drift === 'NOT_CHECKED' || !r.checkedAt) {
      const created = createdAt.get(r.tenantId);
      if (created && now - Date.parse(created) <= stale) {
        recent.push(r.tenantId);
        continue;
      }
      out.push({ severity: 'warn', source: 'drift', subject: r.tenantId, what: `tenant ${r.tenantId}: drift never checked (the drift run is daily)`, ...(created ? { since: created } : {}), action: detect });
    } else if (now - Date.parse(r.checkedAt) > stale) {
      out.push({ severity: 'warn', source: 'drift', subject: r.tenantId, what: `tenant ${r.tenantId}: drift last checked ${ago(r.checkedAt, now)} ago, more than twice the daily schedule: the drift run missed it`, since: r.checkedAt, action: detect });
    } else if (r.drift === 'UNKNOWN') {
      out.push({ severity: 'warn', source: 'drift', subject: r.tenantId, what: `tenant ${r.tenantId}: drift UNKNOWN (the detection failed before any stack was checked)`, since: r.checkedAt, action: `tessera tenants drift ${r.tenantId}; ${detect}` });
    }
  }
  if (recent.length) {
    const ids = `${recent.slice(0, 3).join(', ')}${recent.length > 3 ? ` and ${recent.length - 3} more` : ''}`;
    out.push({ severity: 'info', source: 'drift', what: `${recent.length} ACTIVE tenant(s) created within the last ${hours(stale / 1000)} never checked for drift (${ids}): their drift is unknown until the daily drift run reaches them`, action: 'tessera tenants drift --detect' });
  }
  return out;
}

const FAILED_RESTORE = new Set(['FAILED', 'ABORTED']);
const FAILED_VALIDATION = new Set(['FAILED', 'TIMED_OUT']);

/**
 * Disaster recovery: each tenant whose DR blueprint is ACTIVE (its tier has DR) and is not OFFBOARDED: its latest restore
 * test (disasterRecovery.latestRestoreTest, recorded from AWS Backup's `Restore Job State Change`, docs/resilience.md) `fail`
 * when the job ended FAILED or ABORTED or its validation FAILED or TIMED_OUT; `warn` when it is older than
 * RESTORE_TEST_MAX_AGE_MS, or none is recorded though the DR blueprint was deployed longer ago than that. A DR stack whose
 * update and rollback failed (`updateRollbackFailed`) is a `fail` too: CloudFormation refuses every update of it.
 * @param config the platform config file the action names (failover-plan needs it) @default '<file>'
 */
export function drFindings(tenants: readonly TenantRecord[], now: number, config = '<file>'): HealthFinding[] {
  const out: HealthFinding[] = [];
  for (const t of tenants) {
    const dr = t.disasterRecovery;
    if (!dr || dr.status !== 'ACTIVE' || t.status === 'OFFBOARDED') continue;
    const plan = `tessera tenants failover-plan ${t.tenantId} --config ${config}`;
    if (dr.updateRollbackFailed) {
      out.push({ severity: 'fail', source: 'dr', subject: t.tenantId, what: `tenant ${t.tenantId}: DR stack ${dr.stackName} (${dr.region}) is UPDATE_ROLLBACK_FAILED: ${dr.updateRollbackFailed.reason.split('\n')[0]!.slice(0, 200)}`, since: dr.updateRollbackFailed.at, action: `continue the stack's rollback (docs/resilience.md); ${plan}` });
    }
    const test = dr.latestRestoreTest;
    if (!test) {
      if (now - Date.parse(dr.updatedAt) > RESTORE_TEST_MAX_AGE_MS) out.push({ severity: 'warn', source: 'dr', subject: t.tenantId, what: `tenant ${t.tenantId}: no restore test recorded (they run monthly, the 2nd at 05:00 UTC)`, since: dr.updatedAt, action: plan });
      continue;
    }
    const validation = test.validationStatus && FAILED_VALIDATION.has(test.validationStatus) ? `validation ${test.validationStatus}` : undefined;
    if (FAILED_RESTORE.has(test.status) || validation) {
      out.push({ severity: 'fail', source: 'dr', subject: t.tenantId, what: `tenant ${t.tenantId}: the latest restore test (job ${test.restoreJobId}) ${validation ?? test.status}${test.message ? `: ${test.message.split('\n')[0]!.slice(0, 200)}` : ''}`, since: test.at, action: plan });
    } else if (now - Date.parse(test.at) > RESTORE_TEST_MAX_AGE_MS) {
      out.push({ severity: 'warn', source: 'dr', subject: t.tenantId, what: `tenant ${t.tenantId}: the latest restore test is ${ago(test.at, now)} old (they run monthly): a month was missed`, since: test.at, action: plan });
    }
  }
  return out;
}

/**
 * DR regions `allowedRegions` does not list (the `--config` given: the config about to be deployed, or the one deployed).
 * Taken out, the guardrail SCP `DenyOutsideAllowedRegions` denies every call there, so:
 * - a tenant (not OFFBOARDED, with an account) whose record names a DR region outside them (`disasterRecovery.region`,
 *   kept whatever the DR stack's status: a move to a tier without DR keeps the stack RETAINED there until offboarding) is
 *   refused at *Check rebuilt stack* for every offboarding, change and rolling upgrade run (`DrRegionNotAllowed`,
 *   lambdas/lifecycle/rebuilt-stack.ts drRebuildOf, which tests the same fields): `fail`, the way on keeping the region
 *   until the tenant is offboarded;
 * - a DR key waiting in the key deletion queue (`offboarding.drKeyDeletion` QUEUED) in such a region is never scheduled:
 *   the daily *Process key deletion queue* fails on it each day: `fail`, keeping the region until it is scheduled;
 * - an emptied DR container there whose removal was refused (`offboarding.retainedStores[]` with `drRegion`,
 *   `removalRefused`, no `removedAt`) is retried by that run each day, and fails: `fail`, one line per tenant and region.
 * One line per tenant and cause. Nothing is judged without `--config` (platformHealth says so in an `info` line): the
 * embedded default's regions are no estate's.
 * @param allowedRegions the config's `allowedRegions`
 * @param config the config file as the lines name it
 */
export function drRegionFindings(tenants: readonly TenantRecord[], allowedRegions: readonly string[], config: string): HealthFinding[] {
  const out: HealthFinding[] = [];
  const allowed = new Set(allowedRegions);
  const listed = `allowedRegions of ${config} (${allowedRegions.join(', ')})`;
  const deploy = 'deploy TesseraOrganization (its guardrail SCP lists allowedRegions) and TesseraPlatform with it';
  for (const t of tenants) {
    const dr = t.disasterRecovery;
    if (t.status !== 'OFFBOARDED' && t.accountId && dr?.region && !allowed.has(dr.region)) {
      out.push({
        severity: 'fail', source: 'dr', subject: t.tenantId,
        what: `tenant ${t.tenantId}'s DR region ${dr.region} (DR stack ${dr.stackName} ${dr.status}) is not in ${listed}: deployed so, the guardrail SCP denies every call there and each offboarding, change or upgrade of the tenant is refused at Check rebuilt stack (DrRegionNotAllowed)`,
        since: dr.updatedAt,
        action: `keep ${dr.region} in allowedRegions (put it back and ${deploy}, if it is out already); take it out once no tenant keeps its DR there: offboard ${t.tenantId} first while ${dr.region} is allowed (tessera tenants delete ${t.tenantId} --yes): a move to a tier without DR keeps its DR stack RETAINED in ${dr.region}, and one to another DR region is refused`,
      });
    }
    const key = t.offboarding?.drKeyDeletion;
    if (key?.state === 'QUEUED' && !allowed.has(key.region)) {
      out.push({
        severity: 'fail', source: 'dr', subject: t.tenantId,
        what: `tenant ${t.tenantId}: its DR key ${key.keyArn ?? key.key ?? ''} waits in the key deletion queue (due ${key.dueAt ?? 'unknown'}) in ${key.region}, which is not in ${listed}: deployed so, the daily Process key deletion queue cannot schedule it there and fails on it each day`,
        ...(key.dueAt ? { since: key.dueAt } : {}),
        action: `keep ${key.region} in allowedRegions (put it back and ${deploy}, if it is out already) until the key is scheduled: tessera tenants show ${t.tenantId} (offboarding.drKeyDeletion SCHEDULED, the first daily run after ${key.dueAt ?? 'its dueAt'})`,
      });
    }
    // An emptied DR container whose removal was refused (a vault still holding a recovery point): the daily run tries it
    // again in its region each day (process-key-deletion-queue.ts retryContainersLeft) until it is removed.
    const left = (t.offboarding?.retainedStores ?? []).filter((r) => r.drRegion && !allowed.has(r.drRegion) && r.removalRefused && !r.removedAt);
    for (const region of new Set(left.map((r) => r.drRegion!))) {
      const ids = left.filter((r) => r.drRegion === region).map((r) => `${r.store} ${r.id}`);
      out.push({
        severity: 'fail', source: 'dr', subject: t.tenantId,
        what: `tenant ${t.tenantId}: the removal of its emptied DR ${ids.length > 1 ? 'containers' : 'container'} ${ids.join(', ')} in ${region} is retried by the daily key deletion run, and ${region} is not in ${listed}: deployed so, each retry fails`,
        action: `keep ${region} in allowedRegions (put it back and ${deploy}, if it is out already) until tessera tenants show ${t.tenantId} records them removed (offboarding.retainedStores[].removedAt)`,
      });
    }
  }
  return out;
}

/** Dotted versions compared part by part, numerically where both parts are numbers: negative when `a` is older. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x.localeCompare(y);
  }
  return 0;
}

const latestOf = (t: TenantRecord, kind: LifecycleExecution['kind']) => t.executions.filter((e) => e.kind === kind).at(-1);

/**
 * Rolling upgrades, from the tenants' history: a tenant whose latest upgrade run is RUNNING `info` (an upgrade in progress;
 * one past its bound is lifecycleFindings'), FAILED with no change or upgrade that succeeded after it `warn` (the tenant
 * stays on its previous version). Tenants (not OFFBOARDED) on an older blueprint version than `latest` (the catalog's newest
 * for every tier: each TesseraPlatform deployment publishes its own version for all the tiers of its config), one `info`
 * line per tier, with the upgrade that moves them.
 * @param latest the platform's blueprint version (`GET /admin/tiers`' blueprintVersion); undefined: not compared
 */
export function upgradeFindings(tenants: readonly TenantRecord[], latest: string | undefined): HealthFinding[] {
  const out: HealthFinding[] = [];
  const behind = new Map<string, string[]>();
  for (const t of tenants) {
    if (t.status === 'OFFBOARDED') continue;
    const last = latestOf(t, 'upgrade');
    if (last?.status === 'RUNNING') {
      out.push({ severity: 'info', source: 'upgrades', subject: t.tenantId, what: `tenant ${t.tenantId}: a rolling upgrade's run (${last.requestId}) is in progress`, since: last.startedAt, action: `tessera tenants watch ${t.tenantId}` });
    } else if (last?.status === 'FAILED' && !t.executions.some((e) => (e.kind === 'upgrade' || e.kind === 'change') && e.status === 'SUCCEEDED' && e.startedAt > last.startedAt)) {
      out.push({ severity: 'warn', source: 'upgrades', subject: t.tenantId, what: `tenant ${t.tenantId}: its rolling upgrade run ${last.requestId} FAILED${last.failedStep ? ` at ${last.failedStep}` : ''}${last.reason ? `: ${last.reason.split('\n')[0]!.slice(0, 200)}` : ''}; it stays on ${t.blueprintVersion ?? 'its version'}`, since: last.endedAt ?? last.startedAt, action: `tessera tenants show ${t.tenantId}; the upgrade again with a new --request-id retries it` });
    }
    if (latest && t.blueprintVersion && compareVersions(t.blueprintVersion, latest) < 0) behind.set(t.tier, [...(behind.get(t.tier) ?? []), t.tenantId]);
  }
  for (const [tier, ids] of [...behind].sort(([a], [b]) => a.localeCompare(b))) {
    out.push({ severity: 'info', source: 'upgrades', subject: tier, what: `tier ${tier}: ${ids.length} tenant(s) on a blueprint version older than the catalog's ${latest} (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`, action: `tessera tenants upgrade --tier ${tier} --blueprint-version ${latest}` });
  }
  return out;
}

/** The model catalog's shutdown findings (lib/config/model-lifecycle.ts modelShutdownFindings) as lines, their severity kept (no since: the message names the shutdown day); the fix is shutdownFix's. */
export function modelFindings(findings: readonly ModelShutdownFinding[]): HealthFinding[] {
  return findings.map((f) => ({ severity: f.severity, source: 'models', subject: f.modelId, what: f.message, action: shutdownFix(f) }));
}

/**
 * Account closures (account mode, after offboarding: the tenant's `accountClosure`, the closure queue's word on it,
 * docs/tenant-lifecycle.md "Account closures"): NEEDS_OPERATOR `fail` (set aside after 5 failed attempts: close it by
 * hand); QUEUED with an error `warn` (the daily run tries again); QUEUED `info` (waiting for the daily run or the quota).
 */
export function closureFindings(tenants: readonly TenantRecord[]): HealthFinding[] {
  const out: HealthFinding[] = [];
  for (const t of tenants) {
    const c = t.accountClosure;
    if (!c || c.state === 'CLOSED') continue;
    const tried = c.attempts ? ` after ${c.attempts} attempt(s)` : '';
    const error = c.error ? `: ${c.error.split('\n')[0]!.slice(0, 200)}` : '';
    if (c.state === 'NEEDS_OPERATOR') {
      out.push({ severity: 'fail', source: 'closures', subject: t.tenantId, what: `tenant ${t.tenantId}: closure of account ${c.accountId} set aside${tried}${error}`, since: c.at, action: `fix the cause, then aws organizations close-account --account-id ${c.accountId} (from the management account)` });
    } else if (c.error) {
      out.push({ severity: 'warn', source: 'closures', subject: t.tenantId, what: `tenant ${t.tenantId}: closure of account ${c.accountId} failed${tried}${error}; the daily run tries again`, since: c.at, action: `tessera tenants show ${t.tenantId}` });
    } else {
      out.push({ severity: 'info', source: 'closures', subject: t.tenantId, what: `tenant ${t.tenantId}: closure of account ${c.accountId} queued${c.note ? ` (${c.note.split('\n')[0]!.slice(0, 200)})` : ''}`, since: c.at });
    }
  }
  return out;
}

/** A source that could not be read: a `fail` line naming it, the error and, when given, what to try (never a silent skip: its findings are unknown). */
export function unreadable(source: HealthSource, what: string, error: unknown, action?: string): HealthFinding {
  const message = error instanceof Error ? error.message : String(error);
  return { severity: 'fail', source, what: `${what}: not read: ${message.split('\n')[0]!.slice(0, 400)}`, ...(action ? { action } : {}) };
}

/**
 * `rules` applied to `items` (the registry's tenants, the drift rows) so that one item the rules cannot judge (an admin
 * API answer off its schema: a record without its `executions`, a failure whose `reason` is no string) is one `fail` line
 * naming it and the error, and the others are still judged. Each item is first judged alone (the rules are linear: cheap),
 * then the judgeable ones together (upgradeFindings groups tenants by tier). Before, one such record threw a TypeError out of
 * the command: no line at all, not even the sources already read.
 * @param name the item as the fail line names it (`tenant acme`)
 */
export function judgeEach<T>(items: readonly T[], source: HealthSource, name: (item: T) => string, rules: (items: readonly T[]) => HealthFinding[]): HealthFinding[] {
  const judgeable: T[] = [];
  const odd: HealthFinding[] = [];
  for (const item of items) {
    try {
      rules([item]);
      judgeable.push(item);
    } catch (e) {
      let subject: string;
      try {
        subject = name(item);
      } catch {
        subject = 'an item';
      }
      odd.push({ severity: 'fail', source, subject, what: `${subject}: the admin API's answer for it could not be judged (not as its schema says): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.split('\n')[0]!.slice(0, 400) });
    }
  }
  return [...odd, ...rules(judgeable)];
}

/** The counts of each severity. */
export function summarize(findings: readonly HealthFinding[]): Record<Severity, number> {
  const counts = { fail: 0, warn: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** The exit code: 1 when anything fails, else 0 (2, cannot run, is the command's own: a usage or config error). */
export const healthExitCode = (findings: readonly HealthFinding[]): 0 | 1 => (findings.some((f) => f.severity === 'fail') ? 1 : 0);

/** The findings for a terminal: one line each (severity, source, what, since, then `→ action`), and the summary. */
export function healthLines(findings: readonly HealthFinding[], checked: readonly string[]): string[] {
  const rank = { fail: 0, warn: 1, info: 2 } as const;
  const sorted = [...findings].sort((a, b) => rank[a.severity] - rank[b.severity] || HEALTH_SOURCES.indexOf(a.source) - HEALTH_SOURCES.indexOf(b.source));
  // printable: what, since and action quote what the sources say (a CloudFormation reason, a restore job's message, a closure's
  // error, a queue's tag); before, an escape sequence in one drove the terminal and a `\r` printed over the line.
  const lines = sorted.map((f) => `${f.severity.padEnd(4)}  ${f.source.padEnd(9)} ${printable(f.what)}${f.since ? ` (since ${printable(f.since)})` : ''}${f.action ? `\n      → ${printable(f.action)}` : ''}`);
  const c = summarize(findings);
  lines.push(`${c.fail} fail, ${c.warn} warn, ${c.info} info (checked: ${checked.join(', ')})${c.fail || c.warn ? '' : ': nothing needs an operator now'}`);
  return lines;
}
