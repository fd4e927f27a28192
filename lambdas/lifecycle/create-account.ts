import { CreateAccountCommand } from '@aws-sdk/client-organizations';
import { tenantAccountEmail } from '../../lib/tenant-account-email.js';
import { TENANT_ID_TAG, TIER_TAG } from '../../lib/tenant-naming.js';
import { awsTags } from '../../lib/tenant-tags.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { AccountCreationFailedError, isTransientError } from '../shared/errors.js';
import { accountFailureAdvice } from './check-account-status.js';
import { carried, resolvePendingAccount, rootEmailOf, tenantAccountName } from './pending-account.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { LifecycleState } from './state.js';

export interface AccountProgress {
  state: 'IN_PROGRESS' | 'SUCCEEDED' | 'RETRY';
  accountId?: string;
  reason?: string;
  /**
   * The account requests of this execution that failed for a transient reason (TRANSIENT_ACCOUNT_FAILURES) and were asked
   * again, oldest first: carried from *Check account* through *Create account* and back (the state machine's `$.account`),
   * so the retries are bounded (MAX_TRANSIENT_ACCOUNT_FAILURES, check-account-status.ts) and the failure names them.
   */
  transientFailures?: TransientAccountFailure[];
}

/** One CreateAccount request that Organizations failed for a transient reason. */
export interface TransientAccountFailure {
  /** CreateAccountStatus `Id`, when known. */
  requestId?: string;
  /** Its FailureReason (`CONCURRENT_ACCOUNT_MODIFICATION`, `INTERNAL_FAILURE`), or why *Check account* asked for a new request. */
  reason: string;
  /** ISO time *Check account* read it. */
  at: string;
}

/**
 * Asks Organizations for the tenant's account, once. The call is claimed first by a conditional
 * write (`createAccountClaim`, only when the record has no account, request or claim), so a
 * retried or concurrent invocation never makes a second CreateAccount — Organizations would
 * refuse the second one's email anyway, failing the onboarding. A claim left without a request id
 * (the invocation died between the claim and the registry write) is resolved through
 * ListCreateAccountStatus by account name before anyone calls again.
 *
 * The account's root email is the platform's (`organization.accountEmail` with the tenant id, recorded on the claim as
 * `accountEmail`), never the tenant admin's: whoever receives the root email can reset the root password of an account
 * in the platform's organization. The admin gets their Identity Center or Cognito user as before.
 *
 * The account is tagged `tessera:tenant-id` and `tessera:tier`, and with the tenant's own tags (`tags` of the record:
 * lib/tenant-tags.ts), so the account's costs carry them as cost allocation tags.
 * @throws Error naming organization.accountEmail when the config has none (the schema requires it for account tiers)
 */
export const handler = lifecycleHandler('Create account', async (state: LifecycleState & { account?: AccountProgress }): Promise<AccountProgress> => {
  let record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  const inProgress: AccountProgress = { state: 'IN_PROGRESS', ...carried(state.account) };
  if (record.createAccountRequestId) return inProgress;
  const orgs = await organizationsClient();
  if (record.createAccountClaim) {
    const pending = await resolvePendingAccount(orgs, record);
    if (pending.state === 'SUCCEEDED' && pending.accountId && !pending.requestId) {
      // No request listed, but the tenant's account stands (found by name and email): adopt it.
      await updateTenant(record.tenantId, { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
      return { state: 'SUCCEEDED', accountId: pending.accountId };
    }
    if (pending.requestId) {
      await updateTenant(record.tenantId, { createAccountRequestId: pending.requestId });
      return inProgress;
    }
    // A claim Organizations has no request for: the earlier call never reached it. Claim anew.
  }
  const template = platformConfig().organization.accountEmail;
  if (template === undefined) {
    throw new Error(`organization.accountEmail is not set: tenant ${record.tenantId}'s account needs a root email of the platform's (a template with {tenantId}); set it in the config and deploy`);
  }
  const accountEmail = tenantAccountEmail(template, record.tenantId);
  try {
    record = await updateTenant(record.tenantId, { createAccountClaim: { at: new Date().toISOString(), executionArn: state.executionArn }, accountEmail }, {
      expectUpdatedAt: record.updatedAt,
    });
  } catch (e) {
    // Another invocation claimed the account request at the same moment: it makes the call, this one polls.
    if ((e as Error).name === 'RegistryContention') return inProgress;
    throw e;
  }
  // One attempt only: CreateAccount is not idempotent, and an SDK retry after a timeout would ask
  // for a second account (refused for its email, and recorded instead of the first). A failed call
  // leaves the claim, which the next attempt resolves through ListCreateAccountStatus.
  let out;
  try {
    out = await (await organizationsClient({ maxAttempts: 1 })).send(new CreateAccountCommand({
      Email: accountEmail,
      AccountName: tenantAccountName(record.tenantId),
      RoleName: platformConfig().roles.provisioningRoleName,
      IamUserAccessToBilling: 'DENY',
      // Tessera's tags, then the tenant's own (lib/tenant-tags.ts: none starts `tessera:`, so ours cannot be overridden).
      Tags: [{ Key: TENANT_ID_TAG, Value: record.tenantId }, { Key: TIER_TAG, Value: record.tier }, ...awsTags(record.tags)],
    }));
  } catch (e) {
    throw await refused(e, record);
  }
  const requestId = out.CreateAccountStatus?.Id;
  if (!requestId) throw new Error(`CreateAccount for tenant ${record.tenantId} returned no request id`);
  await updateTenant(record.tenantId, { createAccountRequestId: requestId });
  return inProgress;
});

/**
 * A CreateAccount that Organizations answered with a refusal (a client fault that is not transient: isTransientError)
 * made no account request: the claim is taken off the record, so Record failure does not report "an account request may
 * be pending" and the offboarding does not wait for one (retire-account.ts CLAIM_SETTLE_MS). A refusal for the
 * organization's quota of accounts (ConstraintViolationException `ACCOUNT_NUMBER_LIMIT_EXCEEDED`, AWS Organizations API
 * Reference, CreateAccount) becomes AccountCreationFailed with what to do (accountFailureAdvice, as the asynchronous
 * `ACCOUNT_LIMIT_EXCEEDED`); any other ConstraintViolationException names its Reason. A transient error, or no answer (a
 * timeout, a connection reset), keeps the claim: the call may have reached Organizations, and the next attempt resolves it.
 * @returns the error to throw
 */
async function refused(e: unknown, record: TenantRecord): Promise<unknown> {
  const fault = (e as { $fault?: string }).$fault;
  if (fault !== 'client' || isTransientError(e)) return e;
  await updateTenant(record.tenantId, { createAccountClaim: undefined });
  const { name, message, Reason: reason } = e as Error & { Reason?: string };
  if (name !== 'ConstraintViolationException') return e;
  const advice = reason === 'ACCOUNT_NUMBER_LIMIT_EXCEEDED' ? accountFailureAdvice('ACCOUNT_LIMIT_EXCEEDED', record) : '';
  return new AccountCreationFailedError(`Organizations refused CreateAccount for tenant ${record.tenantId} (${rootEmailOf(record)}): ${name}${reason ? ` (${reason})` : ''}: ${message}${advice}`);
}
