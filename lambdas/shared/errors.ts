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

/** Error names the state machines retry with exponential backoff (throttling and contention). */
export const RETRYABLE_ERRORS = [
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ConcurrentModificationException',
  'ProvisioningRoleNotReady',
  'StackBusy',
] as const;

/** Errors no retry can fix: the execution records them and stops. */
export const TERMINAL_ERRORS = ['InvalidRequest', 'TenantConflict', 'TenantNotFound', 'AccountCreationFailed', 'StackFailed', 'NetworkPoolExhausted', 'QuotaExceeded', 'ExportIncomplete'] as const;
