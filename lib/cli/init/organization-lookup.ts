import { DescribeOrganizationCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CliError } from '../cli-error.js';
import { clientProfile, missingProfileOf } from '../aws-errors.js';
import { HTTP_TIMEOUTS } from '../../aws-http-timeouts.js';

/** What `tessera init --from-organization` reads about the caller's organization. */
export interface OrganizationFacts {
  /** `o-…`, from DescribeOrganization `Organization.Id`. */
  organizationId: string;
  /** `r-…`, from ListRoots (an organization has exactly one root). */
  rootId: string;
  /** From DescribeOrganization `Organization.MasterAccountId`. */
  managementAccountId: string;
}

/**
 * The Organizations client of `--from-organization`: the credentials of `profile` (`tessera init --profile`), else the SDK's
 * default chain; Organizations answers in us-east-1 for the aws partition, whatever the region.
 */
export function organizationsClient(profile?: string): OrganizationsClient {
  return new OrganizationsClient({ region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1', ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } });
}

/**
 * Reads the organization id, root id and management account id with the caller's credentials:
 * Organizations DescribeOrganization (any member account may call it) and ListRoots (only the
 * management account or a delegated administrator may). Read-only.
 * @param client @default - a client for the SDK's default credentials; Organizations answers in
 *   us-east-1 for the aws partition, whatever the region
 * @throws CliError (exit 1) naming the call that failed, what the error means and the fix
 */
export async function readOrganization(client: OrganizationsClient = organizationsClient()): Promise<OrganizationFacts> {
  const described = await call('DescribeOrganization', () => client.send(new DescribeOrganizationCommand({})), clientProfile(client));
  const roots = await call('ListRoots', () => client.send(new ListRootsCommand({})), clientProfile(client));
  const organizationId = described.Organization?.Id;
  const managementAccountId = described.Organization?.MasterAccountId;
  const rootId = roots.Roots?.[0]?.Id;
  if (!organizationId || !managementAccountId || !rootId) {
    throw new CliError('--from-organization: Organizations answered without an organization id, management account id or root id: give --organization-id, --root-id and --management-account-id instead', 1);
  }
  return { organizationId, rootId, managementAccountId };
}

async function call<T>(operation: string, send: () => Promise<T>, profile: string | undefined): Promise<T> {
  try {
    return await send();
  } catch (e) {
    // A --profile (or AWS_PROFILE) in neither shared file is said so (exit 2), as by every command (aws-errors.ts missingProfileOf).
    const missing = (e as Error).name === 'CredentialsProviderError' ? await missingProfileOf(profile) : undefined;
    if (missing) throw new CliError(`--from-organization: Organizations ${operation} failed: ${missing}`, 2);
    throw new CliError(`--from-organization: Organizations ${operation} failed: ${explain(operation, e as Error)}`, 1);
  }
}

/** One line: what the error means and what to do; AWS's error names from the Organizations API reference. */
function explain(operation: string, e: Error): string {
  const flags = 'or give --organization-id, --root-id and --management-account-id instead of --from-organization';
  switch (e.name) {
    case 'AWSOrganizationsNotInUseException':
      return `your account is not a member of an organization: create one in the management account (aws organizations create-organization), ${flags}`;
    case 'AccessDeniedException':
      return operation === 'ListRoots'
        ? `access denied: ListRoots answers only in the management account or for a delegated administrator; use credentials of the management account (organizations:ListRoots), ${flags}`
        : `access denied: your credentials need organizations:DescribeOrganization, ${flags}`;
    case 'CredentialsProviderError':
      return `no AWS credentials found: pass --profile <profile> or set AWS_PROFILE (aws sso login --profile <profile>), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ${flags}`;
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
      return `your credentials are expired or invalid (${e.name}): refresh them (aws sso login), ${flags}`;
    case 'TooManyRequestsException':
      return `throttled by Organizations: try again in a minute, ${flags}`;
    default:
      return `${e.name}: ${e.message.split('\n')[0]} (${flags})`;
  }
}
