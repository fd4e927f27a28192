import { createHash } from 'node:crypto';
import type { ExecutionStep } from '../lambdas/admin/execution-steps.js';
import type { UpgradeSummary } from '../lambdas/lifecycle/summarize-upgrade.js';

export type { UpgradeSummary } from '../lambdas/lifecycle/summarize-upgrade.js';

/**
 * `POST /admin/upgrades`' answer (lambdas/admin/upgrade-routes.ts): 202 for an upgrade it started; 200 for the same
 * request again (its requestId), with the execution that request started and a `note`.
 */
export interface UpgradeStarted {
  /** The execution's name, which `GET /admin/upgrades/{upgradeId}` takes (upgradeExecutionName of the requestId). */
  upgradeId: string;
  /** The request's key (the body's `requestId`): it names the work prefix `upgrades/<requestId>/` of the lifecycle work bucket. */
  requestId: string;
  executionArn: string;
  tier: string;
  blueprintVersion: string;
  allowReplacement?: { reason: string };
  /** Who started the upgrade (lib/tenant-record.ts UpgradeExecutionInput `actor`); absent on an upgrade started before it was recorded. */
  actor?: string;
  /** Step Functions' status of the execution: `RUNNING` in a 202; a replay's may be `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`. */
  executionStatus: string;
  startDate?: string;
  /** A replay: `upgrade already running`, or that the request already ran and nothing started. */
  note?: string;
}

/**
 * The tenants of the upgrade's Distributed Map run as Step Functions counts its items (DescribeMapRun `itemCounts`): one
 * item per tenant listed. `succeeded` counts the upgraded, refused and skipped tenants alike (each child execution of those
 * SUCCEEDS: lambdas/lifecycle/summarize-upgrade.ts), which only the summary tells apart, once the run has ended.
 */
export interface UpgradeTenantCounts {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
}

/** One state of the upgrade execution, as `tessera tenants watch` prints a tenant's (lambdas/admin/execution-steps.ts stepsOfHistory). */
export type UpgradeStep = ExecutionStep;

/**
 * `GET /admin/upgrades/{upgradeId}` (lambdas/admin/upgrade-routes.ts): one rolling upgrade, from what its execution records
 * (DescribeExecution, GetExecutionHistory) and its map run (DescribeMapRun).
 */
export interface UpgradeProgress extends Omit<UpgradeStarted, 'note'> {
  stopDate?: string;
  /** How many tenants *List tier tenants* listed (its output's `tenants.count`), once it has run. */
  listed?: number;
  /** The Distributed Map run of *Upgrade each tenant*, once it started (the history's MapRunStarted). */
  mapRunArn?: string;
  /** Its item counts (UpgradeTenantCounts), while it runs and after; absent before it started. */
  tenants?: UpgradeTenantCounts;
  /** Why the map run's counts are missing (DescribeMapRun failed), when they are. */
  tenantsError?: string;
  /**
   * The execution's output `summary` (*Summarize upgrade*: upgraded, refused, skipped and failed tenants, naming the refused,
   * skipped and failed ones), once it SUCCEEDED. An execution that failed (the map's failure tolerance exceeded) has none.
   */
  summary?: UpgradeSummary;
  /** The output's `summaryError` ({ Error, Cause }): the summary could not be read; the result files are in the work bucket. */
  summaryError?: { Error?: string; Cause?: string };
  /** The execution's error and cause when it FAILED, TIMED_OUT or was ABORTED (DescribeExecution). */
  error?: string;
  cause?: string;
  steps: UpgradeStep[];
}

/**
 * What can name an upgrade in `GET /admin/upgrades/{upgradeId}` and `tessera tenants upgrade --follow`: an execution name
 * upgradeExecutionName gives, or a requestId (UPGRADE_REQUEST_ID): 1-80 characters of `A-Z a-z 0-9 . _ -`. Anything else
 * names no upgrade (the route's 404).
 */
export const UPGRADE_ID = /^[A-Za-z0-9_.-]{1,80}$/;

/** Step Functions execution names the upgrade's are kept to: the characters CloudWatch Logs takes (the state machine logs ALL). */
const LOGGABLE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The execution name of the upgrade with `requestId`: the requestId itself when it is 1-80 characters of `A-Z a-z 0-9 _ -`;
 * otherwise (a `.`: `starter-0.2.0`) each other character as `_`, cut at 71, then `-` and the first 8 hex digits of the
 * requestId's SHA-256 (`starter-0.2.0` → `starter-0_2_0-e2af56e1`), so that `a.b` and `a_b` stay two executions. Step
 * Functions names an execution with any character but whitespace, brackets, wildcards and a few specials, but "to enable
 * logging with CloudWatch Logs, the name should only contain 0-9, A-Z, a-z, - and _" (StartExecution, `name`), and
 * tessera-upgrade logs ALL. Deterministic: the same
 * requestId again names the same execution, and Step Functions keeps a name for 90 days after its execution closed.
 */
export function upgradeExecutionName(requestId: string): string {
  if (LOGGABLE_NAME.test(requestId)) return requestId;
  return `${requestId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 71)}-${createHash('sha256').update(requestId).digest('hex').slice(0, 8)}`;
}

/**
 * A requestId made for a request that sent none (POST /admin/upgrades without requestId or Idempotency-Key, `tessera tenants
 * upgrade` without --request-id): `<tier>-<version>-<base36 ms>`, each character the requestId may not hold as `_`, `u` before
 * it when it would not start with a letter or digit (UPGRADE_REQUEST_ID). The time is kept whole and `<tier>-<version>` cut to
 * fit the 80 characters: a tier name has up to 31 and a version up to 64, and cutting the whole at 80 cut the time instead,
 * so every made requestId of that tier and version was the same one, and the next upgrade was the first one's replay
 * ("this request already ran; nothing started").
 * @param now the time it stands for (ms since the epoch) @default Date.now()
 * @returns 1-80 characters matching UPGRADE_REQUEST_ID, ending with `-` and `now` in base 36
 */
export function defaultRequestId(tier: string, blueprintVersion: string, now = Date.now()): string {
  const time = now.toString(36);
  const named = `${tier}-${blueprintVersion}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const prefix = /^[A-Za-z0-9]/.test(named) ? named : `u${named}`;
  return `${prefix.slice(0, 80 - 1 - time.length)}-${time}`;
}
