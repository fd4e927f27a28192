// `--detailed-exitcode` of `tessera tenants apply` and `tessera tenants drift`: exit codes a GitOps pipeline can branch on,
// with Terraform's meaning (https://developer.hashicorp.com/terraform/cli/commands/plan#detailed-exitcode):
// 0 succeeded with nothing to do, 1 error, 2 succeeded and there is something to do (changes, drift).
import { Option } from 'commander';
import type { DriftRow } from '../tenant-list-page.js';

/** The flag as typed. */
export const DETAILED_EXITCODE = '--detailed-exitcode';

/** The exit codes of {@link DETAILED_EXITCODE}: Terraform's `plan -detailed-exitcode`. */
export const DETAILED = { nothing: 0, error: 1, changes: 2 } as const;
export type DetailedExitCode = (typeof DETAILED)[keyof typeof DETAILED];

/** The option, with what 2 means for the command (`meaning`: "changes are pending ...", "a tenant is drifted ..."). */
export const detailedExitcodeOption = (meaning: string) => new Option(DETAILED_EXITCODE,
  `exit codes for CI, as terraform plan -detailed-exitcode: 0 succeeded with nothing to do; 1 any error (a usage or file error too, which exits 2 without this flag); 2 succeeded and ${meaning}. --json says it too (exitCode)`);

/**
 * Whether the command line asks for {@link DETAILED_EXITCODE} (before a `--`): then every failure of the run exits 1
 * (see {@link detailedFailureCode}). Read from the arguments, not from commander, so that a refusal commander makes
 * before the command runs (an unknown option, a missing `-f`) is covered too.
 * @param args the arguments after `tessera`
 */
export function asksDetailedExitcode(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes(DETAILED_EXITCODE);
}

/**
 * A failure's exit code under {@link DETAILED_EXITCODE}: 2 (a usage or config error, an invalid tenants file) becomes 1,
 * because 2 then means "succeeded, with changes" and a pipeline would read the error as changes pending; any other code
 * is kept (1 stays 1; 0 is no failure).
 */
export const detailedFailureCode = (code: number): number => (code === 2 ? DETAILED.error : code);

/** One tenant that makes `tessera tenants drift --detailed-exitcode` exit 2, and why. */
export interface DriftOrUnknown {
  tenantId: string;
  /** The tenant's lifecycle status (ACTIVE, SUSPENDED, ...). */
  status: string;
  /** Its drift status as listed: DRIFTED, UNKNOWN, NOT_CHECKED, or IN_SYNC with a failed latest check. */
  drift: DriftRow['drift'];
  /** Why it counts, in words. */
  why: string;
}

/**
 * The tenants whose drift makes `tessera tenants drift --detailed-exitcode` exit 2, in `rows`' order:
 * - `DRIFTED` and `UNKNOWN`, whatever the tenant's status (the last check's verdict, kept in the registry);
 * - `NOT_CHECKED` of an `ACTIVE` tenant: the drift workflow checks it (daily, or `--detect`) and has not yet, so its drift
 *   is unknown. A `NOT_CHECKED` tenant of another status (ONBOARDING, UPDATING, SUSPENDED, FAILED, OFFBOARDING) does not
 *   count: drift is checked on ACTIVE tenants only (lambdas/lifecycle/list-drift-tenants.ts), so it has no drift to
 *   report, and a FAILED onboarding would otherwise hold every run at 2;
 * - any tenant whose latest check failed (`failedCheck`, the listed status being the check before it): its drift now is
 *   unknown, even when that earlier check was `IN_SYNC`.
 * `IN_SYNC` without a failed check does not count. An `OFFBOARDED` tenant never counts: its stacks are deleted, so the
 * drift its record keeps is of stacks that no longer exist and no check will ever replace it. The admin API's list leaves
 * OFFBOARDED tenants out; one named (`tessera tenants drift <id>`) is answered with its last record, and a DRIFTED one
 * exited 2 on every run, for good.
 */
export function driftOrUnknown(rows: ReadonlyArray<Pick<DriftRow, 'tenantId' | 'status' | 'drift' | 'failedCheck'>>): DriftOrUnknown[] {
  const out: DriftOrUnknown[] = [];
  for (const r of rows) {
    if (r.status === 'OFFBOARDED') continue;
    const failed = r.failedCheck ? `its latest check, at ${r.failedCheck.at}, failed` : undefined;
    const why = r.drift === 'DRIFTED' ? ['drifted', failed]
      : r.drift === 'UNKNOWN' ? ['the check could not say', failed]
        : failed ? [`${failed}: drift unknown since`]
          : r.drift === 'NOT_CHECKED' && r.status === 'ACTIVE' ? ['ACTIVE, not checked yet']
            : undefined;
    if (why) out.push({ tenantId: r.tenantId, status: r.status, drift: r.drift, why: why.filter(Boolean).join('; ') });
  }
  return out;
}

/**
 * The line `tessera tenants drift --detailed-exitcode` prints last (text output): the exit code and the tenants that make
 * it 2 (`acme DRIFTED (drifted)`), or that none does among the `listed` tenants.
 */
export function driftExitLine(counted: readonly DriftOrUnknown[], listed: number): string {
  if (!counted.length) return `exit 0 (--detailed-exitcode): no drift among the ${listed} tenant${listed === 1 ? '' : 's'} listed`;
  return `exit 2 (--detailed-exitcode): drift or drift unknown: ${counted.map((c) => `${c.tenantId} ${c.drift} (${c.why})`).join(', ')}`;
}
