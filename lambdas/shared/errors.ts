/**
 * Errors whose `name` the state machines match: terminal ones are caught and recorded, the
 * retryable ones are retried with backoff. Messages name the field, value or resource at fault.
 */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequest';
}
export class AccountCreationFailedError extends Error {
  override readonly name = 'AccountCreationFailed';
}
/**
 * An account-creation wait ran past its bound (*Wait for account slot*, *Wait for account*): the
 * message names the CreateAccount request and its state, or the tenants holding the slots.
 */
export class AccountWaitTimedOutError extends Error {
  override readonly name = 'AccountWaitTimedOut';
}
/**
 * *Enable regions* cannot enable an opt-in region in the tenant's account (lambdas/lifecycle/enable-regions.ts): the
 * Account Management API refused (AccessDenied: no trusted access for account.amazonaws.com, or no grant), or the region
 * did not reach ENABLED within REGION_ENABLE_WAIT_MS. The message names the region, the account and the status.
 */
export class RegionOptInFailedError extends Error {
  override readonly name = 'RegionOptInFailed';
}
export class StackFailedError extends Error {
  override readonly name = 'StackFailed';
}
export class NetworkPoolExhaustedError extends Error {
  override readonly name = 'NetworkPoolExhausted';
}
/** One more tenant does not fit the target account's quotas; the message names each quota, usage, value and need. */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceeded';
}
/** A stack with the tenant's name that Tessera's workflow did not create for it (see stack-ownership.ts): never adopted or deleted. */
export class StackNotOwnedError extends Error {
  override readonly name = 'StackNotOwned';
}
/** Organizations is still creating an account the step must act on (retried for about an hour). */
export class AccountCreationPendingError extends Error {
  override readonly name = 'AccountCreationPending';
}
/**
 * Organizations answered a call about an account the tenant's CreateAccount request reported `SUCCEEDED` as if the account
 * did not exist (`TargetNotFoundException`, `ChildNotFoundException`, `AccountNotFoundException`): Organizations is
 * eventually consistent, and a new account may not be listed for a while after its request succeeded. *Quarantine account*
 * retries it (about 7 minutes, constructs/lifecycle-workflows.ts), then fails naming the account, the call and the error.
 */
export class AccountNotListedYetError extends Error {
  override readonly name = 'AccountNotListedYet';
}
/**
 * A change set would replace or remove a stateful resource and the request carried no
 * `allowReplacement` (lambdas/lifecycle/change-set-guard.ts): the change set was deleted, the
 * stack is untouched, the message names each resource.
 */
export class ChangeRefusedError extends Error {
  override readonly name = 'ChangeRefused';
}
export class StackBusyError extends Error {
  override readonly name = 'StackBusy';
}
/**
 * The offboarding export does not match its source: the verification pass found versions, delete
 * markers or archived objects that differ from the manifest. Nothing may be destroyed after it; the
 * message names the counts expected and found and the first differing keys.
 */
export class ExportIncompleteError extends Error {
  override readonly name = 'ExportIncomplete';
}
/** Offboarding: the tenant's database instance is gone and no archived final snapshot of it exists (snapshot-database.ts). */
export class SnapshotMissingError extends Error {
  override readonly name = 'SnapshotMissing';
}

/**
 * An account tenant's AWS account cannot be put in its tier's organizational unit (`tessera-<tier>`, one per configured
 * tier, made by the TesseraOrganization stack; lambdas/lifecycle/move-account.ts): the OU does not exist (a tier added to
 * the config since that stack was last deployed, or the OU deleted by hand), or Organizations does not know the account.
 * No retry can fix it: the message names the OU or the account, where the account stays, and the way on.
 */
export class AccountPlacementError extends Error {
  override readonly name = 'AccountPlacement';
}

/**
 * The tenant was rebuilt, whole or in part, in its DR region by the failover runbook (stack `tessera-<id>` there, from
 * the failover blueprint, or what else the runbook makes there: stack and DB instance `tessera-<id>-restored`;
 * lambdas/lifecycle/rebuilt-stack.ts drRebuildOf). Its offboarding and updates are by hand (docs/resilience.md): an
 * offboarding is refused at *Check rebuilt stack* (nothing done) and again at *Delete tenant stacks* (a rebuild that began
 * meanwhile), a change or repair at *Check rebuilt stack* too (check-rebuilt-stack.ts). The message names what was found (each stack and instance, its region and status), what was kept
 * and the way on (remove the rebuilt stacks, then run the operation again).
 */
export class TenantRebuiltInDrRegionError extends Error {
  override readonly name = 'TenantRebuiltInDrRegion';
}

/**
 * Error names the state machines retry with exponential backoff and jitter, after the SDK's own
 * three attempts: every throttling and transient error of every service the lifecycle calls.
 * - throttling, as the SDK classifies it (@smithy/service-error-classification THROTTLING_ERROR_CODES);
 * - transient (its TRANSIENT_ERROR_CODES) and each service's server faults (`$fault: 'server'`,
 *   5xx) and errors with the retryable trait, as the clients model them;
 * - codes of the query/XML-protocol services that the clients do not model as classes:
 *   CloudFormation and RDS `Throttling`, EC2 `RequestLimitExceeded`/`Unavailable`, S3 `SlowDown`,
 *   `InternalError`, `ServiceUnavailable`, `InternalFailure`;
 * - contention: Organizations `ConcurrentModificationException`, DynamoDB
 *   `TransactionConflictException`, and the registry's own read-modify-write conflict;
 * - waits of our own: a provisioning role not assumable yet, a stack busy with another operation.
 * test/unit/lifecycle/retryable-errors.test.ts derives the first two groups from the SDK clients
 * and fails when one is missing.
 */
export const RETRYABLE_ERRORS = [
  // throttling (SDK classification)
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'TransactionInProgressException',
  // transient, server faults and retryable traits
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalFailure', 'InternalError', 'ServiceUnavailable', 'Unavailable',
  'ServiceUnavailableException', 'InternalServerError', 'InternalServerException', 'InternalException', 'ServerException', 'ServiceException',
  'ServiceFailureException', 'DependencyFailureException', 'DependencyTimeoutException', 'KMSInternalException', 'KeyUnavailableException',
  'PolicyEvaluationException', 'IDPCommunicationErrorException', 'ReplicatedWriteConflictException', 'InternalErrorException',
  // contention
  'ConcurrentModificationException', 'TransactionConflictException', 'RegistryContention',
  // our own waits
  'ProvisioningRoleNotReady', 'StackBusy',
] as const;

/** Errors no retry can fix: the execution records them and stops. */
export const TERMINAL_ERRORS = ['InvalidRequest', 'TenantConflict', 'TenantBusy', 'TenantNotFound', 'StackNotOwned', 'AccountCreationFailed', 'AccountWaitTimedOut', 'StackFailed', 'NetworkPoolExhausted', 'QuotaExceeded', 'ExportIncomplete', 'SnapshotMissing', 'ChangeRefused', 'TenantRebuiltInDrRegion', 'AccountPlacement'] as const;

/**
 * Whether a failed AWS call may succeed if made again, as the SDK's own retry strategy classifies errors
 * (@smithy/service-error-classification): the retryable trait (`$retryable`), a server fault (`$fault:
 * 'server'`, any 5xx) or a 429, one of RETRYABLE_ERRORS' names (throttling, transient, contention), or a
 * broken connection (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`; `AbortError`). A refusal
 * (validation, AccessDenied, a quota such as SageMaker's ResourceLimitExceeded) is not: made again, it is refused again.
 */
export function isTransientError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: string; code?: string; $fault?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode ?? 0;
  return err.$retryable !== undefined || err.$fault === 'server' || status === 429 || status >= 500
    || (RETRYABLE_ERRORS as readonly string[]).includes(err.name ?? '') || err.name === 'AbortError'
    || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(err.code ?? '');
}
