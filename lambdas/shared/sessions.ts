import { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AwsCredentialIdentity } from '@smithy/types';
import { roleArn, tenantRoleName } from '../../lib/tenant-naming.js';
import { assumeRole, clientWith, platformClient, platformClientWith } from './aws-clients.js';
import { ENV, partition, platformConfig } from './environment.js';

/**
 * The platform's way into other accounts: Organizations APIs run in the management account
 * (through the TesseraOrganizationAccess role unless the platform is the management account);
 * tenant accounts are reached by chaining from there to the provisioning role, which
 * Organizations creates in every vended account and which trusts the management account.
 */

let orgSession: { credentials: AwsCredentialIdentity; until: number } | undefined;

async function organizationCredentials(): Promise<AwsCredentialIdentity | undefined> {
  const arn = process.env[ENV.organizationRoleArn];
  if (!arn) return undefined;
  if (!orgSession || orgSession.until < Date.now()) {
    const credentials = await assumeRole({ roleArn: arn, sessionName: 'tessera-lifecycle' });
    orgSession = { credentials, until: Date.now() + 10 * 60_000 };
  }
  return orgSession.credentials;
}

/** Organizations in the management account; `maxAttempts: 1` for a call that must not be sent twice (CreateAccount). */
export async function organizationsClient(options: { maxAttempts?: number } = {}): Promise<OrganizationsClient> {
  const credentials = await organizationCredentials();
  if (options.maxAttempts !== undefined) {
    return credentials ? clientWith(OrganizationsClient, credentials, options) : platformClientWith(OrganizationsClient, { maxAttempts: options.maxAttempts });
  }
  return credentials ? clientWith(OrganizationsClient, credentials) : platformClient(OrganizationsClient);
}

export class ProvisioningRoleNotReadyError extends Error {
  override readonly name = 'ProvisioningRoleNotReady';
}

/**
 * Credentials of the provisioning role in `accountId`; the session is named after the tenant and
 * the step (CloudTrail records it). No session tags: the role Organizations creates in a vended
 * account trusts the management account for `sts:AssumeRole` only, and tags would also need
 * `sts:TagSession` in that trust (AWS refuses the call otherwise).
 */
export async function tenantAccountCredentials(accountId: string, tenantId: string, step: string): Promise<AwsCredentialIdentity> {
  const config = platformConfig();
  try {
    return await assumeRole({
      roleArn: roleArn(partition(), accountId, config.roles.provisioningRoleName),
      sessionName: `tessera-${tenantId}-${step}`,
      credentials: await organizationCredentials(),
    });
  } catch (e) {
    // A new account's role can take a few minutes to become assumable; the state machine retries this.
    if ((e as Error).name === 'AccessDenied') throw new ProvisioningRoleNotReadyError(`${accountId}: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * The tenant's break-glass role, reached from the provisioning role with a SourceIdentity that
 * names the offboarding: the one automated, audited path to tenant objects (the data export).
 */
export async function tenantBreakGlassCredentials(accountId: string, tenantId: string): Promise<AwsCredentialIdentity> {
  const provisioning = await tenantAccountCredentials(accountId, tenantId, 'export');
  return assumeRole({
    roleArn: roleArn('aws', accountId, tenantRoleName(tenantId, 'break-glass')),
    sessionName: `tessera-${tenantId}-offboarding-export`,
    sourceIdentity: `tessera-offboarding-${tenantId}`,
    credentials: provisioning,
  });
}
