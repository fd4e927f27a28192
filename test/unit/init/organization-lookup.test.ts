import { DescribeOrganizationCommand, ListRootsCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { readOrganization } from '../../../lib/cli/init/organization-lookup.js';

const organizations = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
afterEach(() => organizations.reset());

function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

async function cliError(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('readOrganization (--from-organization)', () => {
  it('reads the organization id and management account (DescribeOrganization) and the root (ListRoots)', async () => {
    // GIVEN
    organizations.on(DescribeOrganizationCommand).resolves({ Organization: { Id: 'o-a1b2c3d4e5', MasterAccountId: '123456789012' } });
    organizations.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-ab12', Name: 'Root' }] });
    // WHEN
    const facts = await readOrganization(new OrganizationsClient({ region: 'us-east-1' }));
    // THEN
    expect(facts).toEqual({ organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12', managementAccountId: '123456789012' });
    expect(organizations.commandCalls(DescribeOrganizationCommand)).toHaveLength(1);
    expect(organizations.commandCalls(ListRootsCommand)).toHaveLength(1);
  });

  it.each([
    ['DescribeOrganization', 'AWSOrganizationsNotInUseException', /DescribeOrganization failed: your account is not a member of an organization: create one/],
    ['DescribeOrganization', 'AccessDeniedException', /DescribeOrganization failed: access denied: your credentials need organizations:DescribeOrganization/],
    ['ListRoots', 'AccessDeniedException', /ListRoots failed: access denied: ListRoots answers only in the management account or for a delegated administrator/],
    ['DescribeOrganization', 'CredentialsProviderError', /no AWS credentials found: pass --profile <profile> or set AWS_PROFILE/],
    ['DescribeOrganization', 'ExpiredTokenException', /credentials are expired or invalid \(ExpiredTokenException\)/],
    ['ListRoots', 'ServiceException', /ListRoots failed: ServiceException: ServiceException \(or give --organization-id/],
  ])('%s failing with %s: exit 1, names the call, the meaning and the fix', async (operation, name, message) => {
    // GIVEN
    organizations.on(DescribeOrganizationCommand).resolves({ Organization: { Id: 'o-a1b2c3d4e5', MasterAccountId: '123456789012' } });
    organizations.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-ab12' }] });
    organizations.on(operation === 'ListRoots' ? ListRootsCommand : DescribeOrganizationCommand).rejects(awsError(name));
    // WHEN
    const error = await cliError(readOrganization(new OrganizationsClient({ region: 'us-east-1' })));
    // THEN
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^--from-organization: Organizations /);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/give --organization-id, --root-id and --management-account-id instead of --from-organization/);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('an answer without a root: exit 1, says to give the flags', async () => {
    organizations.on(DescribeOrganizationCommand).resolves({ Organization: { Id: 'o-a1b2c3d4e5', MasterAccountId: '123456789012' } });
    organizations.on(ListRootsCommand).resolves({ Roots: [] });
    const error = await cliError(readOrganization(new OrganizationsClient({ region: 'us-east-1' })));
    expect(error.message).toMatch(/answered without an organization id, management account id or root id/);
  });
});
