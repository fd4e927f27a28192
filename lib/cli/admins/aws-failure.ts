import { CliError } from '../cli-error.js';
import { errorName, firstLine, isAccessDenied, isConnectionError, isCredentialsError, missingProfileOf } from '../aws-errors.js';

/** The AWS error code of `e`: the SDK's `name`, or Node's `code` for network errors. */
export const awsErrorName = errorName;

/**
 * Translates an AWS SDK error of one call into a one-line CliError (exit 1): which call failed,
 * what it means and the fix. AccessDenied names the IAM permission the call needs.
 * Classification is lib/cli/aws-errors.ts's, shared with `tessera doctor`.
 * @param call the API operation, e.g. `sso:CreatePermissionSet`
 * @param permission the IAM action(s) to grant, e.g. `sso:CreatePermissionSet`
 * @param profile the `--profile` of the run (its client's `config.profile`): one in neither shared file is said so (exit 2), as
 *   by every command (aws-errors.ts missingProfileOf); without it AWS_PROFILE's
 */
export async function awsFailure(call: string, permission: string, e: unknown, profile?: string): Promise<CliError> {
  if (e instanceof CliError) return e;
  const name = errorName(e);
  const message = firstLine(e);
  const head = `${call} failed: ${name}${message && message !== name ? `: ${message}` : ''}`;
  if (isCredentialsError(e)) {
    const missing = await missingProfileOf(profile);
    if (missing) return new CliError(`${head}\n  ${missing}`, 2, { type: 'credentials_error', code: 'profile_not_found' }, e);
    return new CliError(`${head}\n  no AWS credentials: pass --profile <profile> (the management account's, or the Identity Center delegated administrator's) or set AWS_PROFILE`, 1, { type: 'credentials_error', code: 'no_credentials' }, e);
  }
  if (isConnectionError(e)) return new CliError(`${head}\n  the endpoint cannot be reached: check the network, the proxy and AWS_ENDPOINT_URL`, 1, { type: 'connection_error', code: name }, e);
  if (isAccessDenied(e)) {
    return new CliError(`${head}\n  your credentials may not make this call: they need ${permission} (Identity Center is administered from the management account or its delegated administrator account)`, 1, undefined, e);
  }
  // The SDK's error as the cause: `--json` reports its name, HTTP status and request id (json-error.ts).
  return new CliError(head, 1, undefined, e);
}

/** Runs one AWS call; any SDK error becomes `awsFailure(call, permission, e, profile)`. */
export async function call<T>(name: string, permission: string, send: () => Promise<T>, profile?: string): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw await awsFailure(name, permission, e, profile);
  }
}
