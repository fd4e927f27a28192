import { unparsedAnswer } from '../../lambdas/shared/unparsed-answer.js';
import { askedProfile, missingProfile } from './aws-profiles.js';

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

/**
 * When a run asked for a profile (`profile`, the `--profile` given, else AWS_PROFILE) that neither shared file holds: the line
 * saying so (aws-profiles.ts missingProfile: the files looked in, the profiles they hold). The SDK's CredentialsProviderError
 * for it says only "Could not load credentials from any providers". Undefined when no profile was asked or it exists.
 */
export async function missingProfileOf(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const asked = askedProfile(profile, env);
  return asked && missingProfile(asked.name, asked.source, env);
}

/** The profile an AWS SDK client was made with (`new XClient({ profile })`, the `--profile` of the run), or undefined. */
export function clientProfile(client: unknown): string | undefined {
  return (client as { config?: { profile?: unknown } } | undefined)?.config?.profile as string | undefined;
}

/** First line of the error's message (SDK messages can run to several lines). */
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] || errorName(e)).trim();
}

/**
 * One line for a failed call: `<Call> failed: <Code>: <message>`, and what it usually means. An answer the SDK could not
 * parse as the service's (unparsedAnswer: its SyntaxError or XML parser error) is said as such, with the endpoint (the one
 * the request went to when the client recorded it, else AWS_ENDPOINT_URL) and the HTTP status, not the parser's words.
 * @param call the API action, e.g. `organizations:DescribeOrganization`
 * @param missing for a credentials error, the line saying the profile asked for is in neither shared file
 *   (`await missingProfileOf(profile)`: the shared files are read asynchronously, by the SDK's reader); without it a
 *   credentials error is said as the SDK's (a profile it names, or none found)
 */
export function describeAwsError(call: string, e: unknown, missing?: string): string {
  const unparsed = unparsedAnswer(e);
  if (unparsed) {
    // Not the service's answer (an HTML page, a proxy's error, an emulator without the call): the SDK's parser message
    // ("Unexpected token 'T', "The get_fo"... is not valid JSON") named neither the endpoint nor the cause.
    const override = process.env.AWS_ENDPOINT_URL;
    const { url, configured } = unparsed.called ?? { url: override, configured: Boolean(override) };
    const where = url ? ` ${url}${configured && override && url === override.replace(/\/+$/, '') ? ' (AWS_ENDPOINT_URL)' : ''}` : '';
    return `${call} failed: the endpoint${where} answered${unparsed.status === undefined ? '' : ` HTTP ${unparsed.status}`} with a body that is not the service's answer (${configured ? 'an emulator without this call, such as moto, or a proxy' : 'a proxy between this machine and AWS?'})`;
  }
  const name = errorName(e);
  const message = firstLine(e);
  const head = `${call} failed: ${name}${message && message !== name ? `: ${message}` : ''}`;
  if (isConnectionError(e)) return `${head} (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)`;
  if (isCredentialsError(e)) {
    if (missing) return `${head} (${missing})`;
    // The SDK names a profile it could not use ("Could not resolve credentials using profile: [name] …"): that one is the cause, not a missing profile.
    const named = /profile: \[([^\]]+)\]/.exec(message)?.[1];
    return `${head} (${named ? `profile ${named} has no usable credentials: check its name in ~/.aws/config and ~/.aws/credentials, or run aws sso login --profile ${named}` : 'no credentials: set AWS_PROFILE or pass --profile'})`;
  }
  if (isAccessDenied(e)) return `${head} (your credentials may not make this call: grant ${call} or use ReadOnlyAccess)`;
  return head;
}
