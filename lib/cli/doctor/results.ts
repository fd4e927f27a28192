import { describeAwsError } from '../aws-errors.js';
import type { AccountClients, CheckResult, CheckStatus } from './types.js';

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
