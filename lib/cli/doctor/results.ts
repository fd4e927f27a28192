import { describeAwsError, isAccessDenied } from '../aws-errors.js';
import { CliError } from '../cli-error.js';
import type { AccountClients, CheckResult, CheckStatus, DoctorReport } from './types.js';

/** Builds one check line; `fix` is kept only for `fail` and `warn`. */
export function result(id: string, title: string, status: CheckStatus, detail: string, extra: { fix?: string; account?: string; region?: string } = {}): CheckResult {
  return {
    id, title, status, detail,
    ...(status !== 'pass' && extra.fix ? { fix: extra.fix } : {}),
    ...(extra.account ? { account: extra.account } : {}),
    ...(extra.region ? { region: extra.region } : {}),
  };
}

/** The line of a check that needs an account doctor cannot read: a fail with the bootstrap/trust reason and fix. */
export function unreadable(id: string, title: string, access: Extract<AccountClients, { ok: false }>, account: string, region: string): CheckResult {
  return result(id, title, 'fail', `not checked: ${access.detail}`, { fix: access.fix, account, region });
}

/** The line of a check whose read call failed unexpectedly (throttling, an endpoint error...). */
export function callFailed(id: string, title: string, call: string, e: unknown, fix: string, where: { account?: string; region?: string } = {}): CheckResult {
  return result(id, title, 'fail', describeAwsError(call, e), { fix, ...where });
}

/**
 * The fix of a line whose read call failed: `grant` when AWS refused the call for a permission (isAccessDenied: IAM, an
 * SCP, a role's trust, an unknown key); for any other failure (throttling, a server error, an answer that is not the
 * service's: an emulator without the call, a proxy) a grant changes nothing, so the fix is a rerun and `lookYourself`,
 * the AWS CLI command that reads the same (ses-checks.ts's rule). Before, these lines said `grant …` for every failure:
 * moto's HTML answer to Bedrock's GetFoundationModelAvailability was "fix: grant bedrock:GetFoundationModelAvailability".
 * @param grant the fix for a refusal, e.g. `grant bedrock:GetFoundationModelAvailability to role …`
 * @param lookYourself the command that reads the same, e.g. `in account 111122223333: aws bedrock get-foundation-model-availability …`
 */
export function grantOrRerun(e: unknown, grant: string, lookYourself: string): string {
  return isAccessDenied(e) ? grant : `rerun doctor; if it persists, see AWS's answer: ${lookYourself}`;
}

/**
 * Doctor cannot go on (no credentials, the endpoint unreachable, a config or flag it cannot use):
 * a CliError whose message is the one line on stderr, as before (`<detail>: <fix>`), carrying the
 * failing line `--json` prints as the whole report ({@link stoppedReport}).
 */
export class DoctorStopped extends CliError {
  /** The lines that need no AWS, made although doctor stopped and printed with the stop: the Config line, then the checks of runner.ts OFFLINE_GROUPS. */
  readonly offline: CheckResult[] = [];
  constructor(readonly check: CheckResult, exitCode: 1 | 2, message = check.fix ? `${check.detail}: ${check.fix}` : check.detail) {
    super(message, exitCode);
  }
}

/**
 * `--json`'s report when doctor stopped: one `fail` line naming the cause (a DoctorStopped's; for
 * another error, its message on a `doctor` line), in the shape of every report.
 */
export function stoppedReport(e: unknown): DoctorReport {
  const check = e instanceof DoctorStopped ? e.check
    : result('doctor', 'Doctor', 'fail', e instanceof Error ? e.message : String(e), { fix: 'run it again with --debug for the stack trace, and report it' });
  const checks = [check, ...(e instanceof DoctorStopped ? e.offline : [])];
  return { checks, summary: { pass: checks.filter((c) => c.status === 'pass').length, fail: checks.filter((c) => c.status === 'fail').length, warn: checks.filter((c) => c.status === 'warn').length } };
}
