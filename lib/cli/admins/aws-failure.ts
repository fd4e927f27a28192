import { CliError } from '../cli-error.js';

const ACCESS_DENIED = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnrecognizedClientException|InvalidClientTokenId|ExpiredToken|ExpiredTokenException)$/;
const NO_CREDENTIALS = /Could not load credentials|profile .* could not be found|Unable to locate credentials/i;
const NO_CONNECTION = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'TimeoutError']);

/** The AWS error code of `e`: the SDK's `name`, or Node's `code` for network errors. */
export function awsErrorName(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  return err?.code && NO_CONNECTION.has(err.code) ? err.code : (err?.cause?.code && NO_CONNECTION.has(err.cause.code) ? err.cause.code : (err?.name ?? 'Error'));
}

/**
 * Translates an AWS SDK error of one call into a one-line CliError (exit 1): which call failed,
 * what it means and the fix. AccessDenied names the IAM permission the call needs.
 * @param call the API operation, e.g. `sso:CreatePermissionSet`
 * @param permission the IAM action(s) to grant, e.g. `sso:CreatePermissionSet`
 */
export function awsFailure(call: string, permission: string, e: unknown): CliError {
  if (e instanceof CliError) return e;
  const name = awsErrorName(e);
  const message = ((e as Error | undefined)?.message ?? String(e)).split('\n')[0].trim();
  const head = `${call} failed: ${name}${message && message !== name ? `: ${message}` : ''}`;
  if (name === 'CredentialsProviderError' || NO_CREDENTIALS.test(message)) {
    return new CliError(`${head}\n  no AWS credentials: pass --profile <profile> (the management account's, or the Identity Center delegated administrator's) or set AWS_PROFILE`, 1);
  }
  if (NO_CONNECTION.has(name)) return new CliError(`${head}\n  the endpoint cannot be reached: check the network, the proxy and AWS_ENDPOINT_URL`, 1);
  if (ACCESS_DENIED.test(name) || /not authorized to perform/i.test(message)) {
    return new CliError(`${head}\n  your credentials may not make this call: they need ${permission} (Identity Center is administered from the management account or its delegated administrator account)`, 1);
  }
  return new CliError(head, 1);
}

/** Runs one AWS call; any SDK error becomes `awsFailure(call, permission, e)`. */
export async function call<T>(name: string, permission: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw awsFailure(name, permission, e);
  }
}
