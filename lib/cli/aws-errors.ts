/**
 * AWS SDK errors, read by name (the SDK sets `name` to the service's error code) and translated
 * into one line that says which call failed, what it means and what to do.
 */

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'AWSOrganizationsNotInUseException']);
const CONNECTION = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'TimeoutError', 'NetworkingError']);

/** The AWS error code of `e` (`name`, or `code` for Node's network errors). */
export function errorName(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  if (err?.code && CONNECTION.has(err.code)) return err.code;
  if (err?.cause?.code && CONNECTION.has(err.cause.code)) return err.cause.code;
  return err?.name ?? 'Error';
}

/** `AccessDenied` and its kin: the credentials may not make the call (IAM, SCP, or a role's trust). */
export function isAccessDenied(e: unknown): boolean {
  return ACCESS_DENIED.has(errorName(e)) || /not authorized to perform|AccessDenied/i.test((e as Error | undefined)?.message ?? '');
}

/** A missing resource: `ResourceNotFoundException`, `NoSuchEntity`, `ParameterNotFound`, `RepositoryNotFoundException`... */
export function isNotFound(e: unknown): boolean {
  return /NotFound|NoSuch|does not exist/i.test(errorName(e)) || (errorName(e) === 'ValidationError' && /does not exist/i.test((e as Error).message));
}

/** The endpoint could not be reached (DNS, connection, timeout). */
export function isConnectionError(e: unknown): boolean {
  return CONNECTION.has(errorName(e));
}

/** No credentials in the default provider chain or the named profile. */
export function isCredentialsError(e: unknown): boolean {
  const name = errorName(e);
  return name === 'CredentialsProviderError' || /Could not load credentials|profile .* could not be found|Unable to locate credentials/i.test((e as Error | undefined)?.message ?? '');
}

/** First line of the error's message (SDK messages can run to several lines). */
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] || errorName(e)).trim();
}

/**
 * One line for a failed call: `<Call> failed: <Code>: <message>`, and what it usually means.
 * @param call the API action, e.g. `organizations:DescribeOrganization`
 */
export function describeAwsError(call: string, e: unknown): string {
  const name = errorName(e);
  const message = firstLine(e);
  const head = `${call} failed: ${name}${message && message !== name ? `: ${message}` : ''}`;
  if (isConnectionError(e)) return `${head} (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)`;
  if (isCredentialsError(e)) {
    // The SDK names a profile it could not use ("Could not resolve credentials using profile: [name] …"): that one is the cause, not a missing profile.
    const profile = /profile: \[([^\]]+)\]/.exec(message)?.[1];
    return `${head} (${profile ? `profile ${profile} has no usable credentials: check its name in ~/.aws/config and ~/.aws/credentials, or run aws sso login --profile ${profile}` : 'no credentials: set AWS_PROFILE or pass --profile'})`;
  }
  if (isAccessDenied(e)) return `${head} (your credentials may not make this call: grant ${call} or use ReadOnlyAccess)`;
  return head;
}
