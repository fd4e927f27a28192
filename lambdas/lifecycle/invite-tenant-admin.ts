import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { invitesByDefault, type AdminInvite, type TenantRecord } from '../../lib/tenant-record.js';
import { CognitoCallError, CognitoTenantUsers, retryableCognitoError, type EmitEvent } from '../identity/cognito-tenant-users.js';
import { IdentityError } from '../identity/identity-error.js';
import { TENANT_USER_EVENTS, tenantUserEventDetail } from '../identity/identity-events.js';
import type { TenantUser } from '../identity/tenant-users.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, noUserPoolReason } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { catchReason } from './catch-reason.js';
import type { LifecycleState } from './state.js';

/** The `by` of what this step records and of its `Tenant User Created` event. */
export const INVITE_ACTOR = 'onboarding';

/** The step's input: the onboarding's state, and on the Catch's second run the error of the first (`$.inviteError`). */
export interface InviteState extends LifecycleState {
  /**
   * Set by the state machine's Catch of *Invite tenant admin* (`{ Error, Cause }`: its retries ran out, or an error it
   * does not know): this run records that failure on the tenant (`adminInvite` FAILED) and the onboarding goes on.
   */
  inviteError?: { Error: string; Cause?: string };
}

/** What the step returns into the state machine (`$.adminInvite`): the record's `adminInvite` without its bookkeeping. */
export type InviteOutcome = Pick<AdminInvite, 'state' | 'email' | 'userId' | 'found' | 'reason'>;

/** The outcome of the Cognito work, before it is recorded. */
type Outcome = Pick<AdminInvite, 'state' | 'userId' | 'found' | 'reason' | 'eventError'>;

/** The command that invites `email` as `tenantId`'s admin once it is ACTIVE (the way to retry a failed invitation). */
export const inviteCommand = (tenantId: string, email: string) => `tessera users invite --tenant ${tenantId} --email ${email} --role admin`;

/** Addresses compared as Cognito compares the pool's usernames by default (case-insensitively). */
const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * *Invite tenant admin*, the onboarding step just before *Activate tenant* (the tenant's resources are up; the
 * onboarding still holds the lease, so what it records is on the tenant before it says ACTIVE): invites `adminEmail`
 * into the platform's Cognito pool as the tenant's first admin (CognitoTenantUsers.invite: AdminCreateUser, Cognito
 * mails the temporary password, then the `tenant-admin` group; `Tenant User Created` on the bus, `by` `onboarding`),
 * and records what happened on the tenant (`adminInvite`, lib/tenant-record.ts AdminInvite). Never fails the
 * onboarding for the invitation: the tenant is usable without it, the record says why it was not made, and
 * `tessera users invite … --role admin` remains the way to make it.
 * - done already (the record says INVITED for this address: a retried Task or onboarding): nothing is called;
 * - not asked (`inviteAdmin: false`), or no pool and not asked: SKIPPED, no Cognito call; asked (`true`) without a
 *   pool (an execution started outside the admin API, which refuses it): FAILED, no Cognito call;
 * - UsernameExistsException (AdminCreateUser sent again after its answer was lost, or the user made by hand): the user is
 *   read back (AdminGetUser, AdminListGroupsForUser): this tenant's admin → INVITED with `found`; this tenant's in no
 *   role group (the lost answer: the group was never joined) → put in `tenant-admin`, INVITED with `found`; this
 *   tenant's with another role, or disabled → FAILED naming it (no role is raised silently); another tenant's → FAILED
 *   naming that tenant (the registry is read by platform admins only; the 409 `email_unavailable` tenant admins can
 *   see does not name it);
 * - a refusal (an address Cognito refuses, AccessDenied, a missing pool or group): FAILED with Cognito's words;
 * - throttling or a Cognito server fault: thrown under a name RETRYABLE_ERRORS lists (retryableCognitoError), so the state
 *   machine's Retry runs the step again; when those run out, its Catch runs this step once more with `inviteError`,
 *   which records FAILED with that error;
 * - `Tenant User Created` that EventBridge refuses does not undo the user: recorded as `eventError`.
 * Registry errors (the lease lost: TenantBusy) are thrown as in every step.
 * @returns InviteOutcome (`$.adminInvite`)
 */
export const handler = lifecycleHandler('Invite tenant admin', async (state: InviteState): Promise<InviteOutcome> => {
  const tenantId = state.request.tenantId;
  const record = await requireTenant(tenantId);
  const email = record.adminEmail;
  if (record.adminInvite?.state === 'INVITED' && sameAddress(record.adminInvite.email, email)) return outcomeOf(record.adminInvite);
  const save = (outcome: Outcome) => recordInvite(record, state, outcome);
  if (state.inviteError) {
    return save({ state: 'FAILED', reason: `the invitation of ${email} failed (${catchReason(state.inviteError, 600)}); the onboarding went on without it: once the tenant is ACTIVE, ${inviteCommand(tenantId, email)}` });
  }
  const pool = process.env[ENV.userPoolId];
  const asked = record.inviteAdmin ?? state.request.inviteAdmin;
  const noPool = pool ? '' : noUserPoolReason();
  if (!(asked ?? invitesByDefault(pool))) {
    return save({ state: 'SKIPPED', reason: asked === false ? `inviteAdmin is false in the onboarding request: no user was invited; once the tenant is ACTIVE, ${inviteCommand(tenantId, email)}` : noPool });
  }
  if (!pool) return save({ state: 'FAILED', reason: `inviteAdmin is true, but ${noPool}` });
  const events: { error?: string } = {};
  // The user is made whatever EventBridge says: its refusal is recorded on the tenant (eventError), not thrown.
  const emit: EmitEvent = async (detailType, detail) => {
    try {
      await emitLifecycleEvent(detailType, detail);
    } catch (e) {
      events.error = `${(e as Error).name}: ${(e as Error).message}`;
      logger.error('tenant admin invited, but its event was not put on the bus', { tenantId, detailType, error: e as Error });
    }
  };
  // No status fence (the admin API's invite refuses a tenant that is not served): the onboarding's lease is the fence,
  // no offboarding can start while it is held, and the tenant is PROVISIONING until *Activate tenant*, next.
  const users = new CognitoTenantUsers(platformClient(CognitoIdentityProviderClient), pool, emit);
  let outcome: Outcome;
  try {
    outcome = await invite(users, tenantId, email, emit);
  } catch (e) {
    outcome = refused(e);
  }
  return save(events.error && outcome.state === 'INVITED' ? { ...outcome, eventError: events.error } : outcome);
});

/** AdminCreateUser (+ group); a user that exists is read back and judged (see the handler). */
async function invite(users: CognitoTenantUsers, tenantId: string, email: string, emit: EmitEvent): Promise<Outcome> {
  try {
    const user = await users.invite(tenantId, { email, role: 'admin' }, INVITE_ACTOR);
    return { state: 'INVITED', userId: user.id };
  } catch (e) {
    if (!(e instanceof IdentityError) || !['user_exists', 'email_unavailable'].includes(e.code)) throw e;
    if (e.code === 'email_unavailable') {
      const owner = await users.ownerOf(email);
      const where = owner ? `tenant "${owner}"` : owner === null ? 'the platform pool outside any tenant (no custom:tenant_id)' : 'the platform pool (it was gone when read back)';
      return { state: 'FAILED', reason: `${email} is already a user of ${where}, and a user belongs to one tenant: the first admin of tenant "${tenantId}" was not invited; once it is ACTIVE, invite another address: ${inviteCommand(tenantId, '<address>')}` };
    }
  }
  const found = await users.find(tenantId, email);
  let user: TenantUser = found;
  if (!found.enabled) {
    return { state: 'FAILED', userId: found.id, reason: `${email} is a user of tenant "${tenantId}" already, but disabled (user ${found.id}): not enabled again by the onboarding; remove it (tessera users remove --tenant ${tenantId} --user ${found.id}) and invite it again` };
  }
  if (found.roleGroups.length === 0) {
    // Made by an earlier AdminCreateUser whose answer was lost (the SDK's retry met it), its group never joined: joined now.
    user = await users.setRole(tenantId, found.id, 'admin', INVITE_ACTOR);
  } else if (found.role !== 'admin') {
    const has = found.role ? `role ${found.role}` : `the groups ${found.roleGroups.join(', ')}, which hold no single role`;
    return { state: 'FAILED', userId: found.id, reason: `${email} is a user of tenant "${tenantId}" already, with ${has}, not admin (user ${found.id}): its role is not raised by the onboarding; tessera users set-role --tenant ${tenantId} --user ${found.id} --role admin` };
  }
  // Found made (AdminCreateUser's answer lost): its `Tenant User Created` may never have been sent. At least once, as every announcement.
  await emit(TENANT_USER_EVENTS.created, { ...tenantUserEventDetail(user, INVITE_ACTOR, new Date()) });
  return { state: 'INVITED', userId: user.id, found: true };
}

/**
 * A failed Cognito call: throttling and server faults are thrown for the Retry, under a name it matches
 * (retryableCognitoError: a CognitoCallError's own name matches no retrier); refusals become FAILED with their words;
 * anything else is thrown.
 */
function refused(e: unknown): Outcome {
  if (e instanceof CognitoCallError) {
    const retry = retryableCognitoError(e);
    if (retry) throw retry;
    return { state: 'FAILED', reason: `${e.message}; the first admin was not invited` };
  }
  if (e instanceof IdentityError) return { state: 'FAILED', reason: `${e.message} (${e.code}); the first admin was not invited` };
  throw e;
}

/** Writes `adminInvite` (under the onboarding's lease, as every write of the step) and returns the outcome. */
async function recordInvite(record: TenantRecord, state: InviteState, outcome: Outcome): Promise<InviteOutcome> {
  const invite: AdminInvite = { ...outcome, email: record.adminEmail, by: INVITE_ACTOR, at: new Date().toISOString(), ...(state.executionArn ? { executionArn: state.executionArn } : {}) };
  if (invite.state !== 'INVITED') logger.warn('tenant admin not invited', { tenantId: record.tenantId, state: invite.state, reason: invite.reason });
  await updateTenant(record.tenantId, { adminInvite: invite });
  return outcomeOf(invite);
}

const outcomeOf = (a: AdminInvite): InviteOutcome => ({
  state: a.state, email: a.email, ...(a.userId ? { userId: a.userId } : {}), ...(a.found ? { found: true } : {}), ...(a.reason ? { reason: a.reason } : {}),
});
