import { AccountClient } from '@aws-sdk/client-account';
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
let pendingOrgSession: Promise<AwsCredentialIdentity> | undefined;

/** The management account's session, kept 10 minutes; concurrent first calls share one AssumeRole (a failed one is not kept). */
async function organizationCredentials(): Promise<AwsCredentialIdentity | undefined> {
  const arn = process.env[ENV.organizationRoleArn];
  if (!arn) return undefined;
  if (orgSession && orgSession.until >= Date.now()) return orgSession.credentials;
  pendingOrgSession ??= assumeRole({ roleArn: arn, sessionName: 'tessera-lifecycle' })
    .then((credentials) => {
      orgSession = { credentials, until: Date.now() + 10 * 60_000 };
      return credentials;
    })
    .finally(() => (pendingOrgSession = undefined));
  return pendingOrgSession;
}

/** Organizations in the management account; `maxAttempts: 1` for a call that must not be sent twice (CreateAccount). */
export async function organizationsClient(options: { maxAttempts?: number } = {}): Promise<OrganizationsClient> {
  const credentials = await organizationCredentials();
  if (options.maxAttempts !== undefined) {
    return credentials ? clientWith(OrganizationsClient, credentials, options) : platformClientWith(OrganizationsClient, { maxAttempts: options.maxAttempts });
  }
  return credentials ? clientWith(OrganizationsClient, credentials) : platformClient(OrganizationsClient);
}

/**
 * The Account Management API (account:EnableRegion, account:GetRegionOptStatus for a member account) in the management
 * account, through the same session as {@link organizationsClient}: those calls with an `AccountId` must come from the
 * organization's management account (or a delegated administrator), with trusted access for `account.amazonaws.com`
 * (AWS Account Management API Reference, EnableRegion, `AccountId`). Its endpoint is global (the SDK's ruleset resolves
 * every region of the `aws` partition to account.us-east-1.amazonaws.com).
 */
export async function accountClient(): Promise<AccountClient> {
  const credentials = await organizationCredentials();
  return credentials ? clientWith(AccountClient, credentials) : platformClient(AccountClient);
}

export class ProvisioningRoleNotReadyError extends Error {
  override readonly name = 'ProvisioningRoleNotReady';
}

/** Length of a provisioning-role session (chained from the management session: at most an hour). */
const PROVISIONING_SESSION_SECONDS = 900;
/**
 * A provisioning session is reused until this long before it expires: more than the longest
 * lifecycle Lambda timeout (export-tenant-data, 10 minutes; constructs/tenant-lifecycle.ts), so a
 * step never starts with a session that could end before the step does.
 */
export const PROVISIONING_SESSION_RENEW_MARGIN_MS = 11 * 60_000;

/** Provisioning sessions by account, tenant, step and the management session chained from. */
const provisioningSessions = new Map<string, { credentials: AwsCredentialIdentity; renewAt: number }>();
const pendingProvisioning = new Map<string, Promise<AwsCredentialIdentity>>();

/**
 * Drops the sessions past their renewal time, on every new session: a warm Lambda that works through
 * many tenants (process-quota-requests) keeps only the sessions it may still hand out, and with them
 * the SDK clients made from them (aws-clients.ts keeps those per credentials object, weakly).
 */
function forgetRenewedSessions(now = Date.now()): void {
  for (const [key, kept] of provisioningSessions) if (kept.renewAt <= now) provisioningSessions.delete(key);
}

/** How many provisioning sessions are kept (tests). */
export function keptProvisioningSessionCount(): number {
  return provisioningSessions.size;
}

/** Forgets every session kept so far, the management account's and the provisioning ones (tests that mock STS per test). */
export function forgetSessions(): void {
  orgSession = undefined;
  pendingOrgSession = undefined;
  provisioningSessions.clear();
  pendingProvisioning.clear();
}

/**
 * Credentials of the provisioning role in `accountId`; the session is named after the tenant and
 * the step (CloudTrail records it). No session tags: the role Organizations creates in a vended
 * account trusts the management account for `sts:AssumeRole` only, and tags would also need
 * `sts:TagSession` in that trust (AWS refuses the call otherwise).
 *
 * The session is kept and handed out again for the same account, tenant and step (the same session
 * name) until PROVISIONING_SESSION_RENEW_MARGIN_MS before it expires: a step polled repeatedly
 * (*Check blueprint*) or re-run in a warm Lambda does not call STS each time. Concurrent first calls
 * share one AssumeRole; a failed one is not kept. `fresh: true` always calls STS (*Verify
 * provisioning access*, whose point is that the role can be assumed now). `sessionPolicy` (JSON) narrows the session to
 * what it allows (STS `Policy`: the role Organizations creates has AdministratorAccess, a step that needs a few actions
 * asks for those only); sessions with another policy are kept apart.
 * @throws ProvisioningRoleNotReadyError when STS answers AccessDenied (a new account's role)
 */
export async function tenantAccountCredentials(accountId: string, tenantId: string, step: string, options: { fresh?: boolean; sessionPolicy?: string } = {}): Promise<AwsCredentialIdentity> {
  const management = await organizationCredentials();
  const key = JSON.stringify([accountId, tenantId, step, management?.accessKeyId ?? null, options.sessionPolicy ?? null]);
  const kept = options.fresh ? undefined : provisioningSessions.get(key);
  if (kept && kept.renewAt > Date.now()) return kept.credentials;
  let pending = options.fresh ? undefined : pendingProvisioning.get(key);
  if (!pending) {
    pending = assumeProvisioningRole(accountId, tenantId, step, management, options.sessionPolicy).then((credentials) => {
      const expires = credentials.expiration?.getTime() ?? Date.now() + PROVISIONING_SESSION_SECONDS * 1000;
      forgetRenewedSessions();
      provisioningSessions.set(key, { credentials, renewAt: expires - PROVISIONING_SESSION_RENEW_MARGIN_MS });
      return credentials;
    });
    if (!options.fresh) {
      const shared = pending.finally(() => pendingProvisioning.delete(key));
      pendingProvisioning.set(key, shared);
      pending = shared;
    }
  }
  return pending;
}

async function assumeProvisioningRole(accountId: string, tenantId: string, step: string, management: AwsCredentialIdentity | undefined, policy?: string): Promise<AwsCredentialIdentity> {
  const config = platformConfig();
  try {
    return await assumeRole({
      roleArn: roleArn(partition(), accountId, config.roles.provisioningRoleName),
      sessionName: `tessera-${tenantId}-${step}`,
      credentials: management,
      durationSeconds: PROVISIONING_SESSION_SECONDS,
      policy,
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
