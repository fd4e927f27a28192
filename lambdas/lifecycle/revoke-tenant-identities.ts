import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { OffboardingRecord, TenantRecord } from '../../lib/tenant-record.js';
import { CognitoCallError, CognitoTenantUsers, retryableCognitoError, type PendingUserEvents } from '../identity/cognito-tenant-users.js';
import { DynamoDbApiKeyStore } from '../identity/stores/dynamodb-api-key-store.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, noUserPoolReason, platformConfig, requireEnv } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import type { LifecycleState } from './state.js';

/** The tenant API keys table (GATEWAY_ENV.apiKeysTable, spelled out: this file must not import the gateway). */
export const API_KEYS_TABLE_ENV = 'TESSERA_API_KEYS_TABLE';

/** The events' `by` for changes made by this step. */
export const OFFBOARDING_ACTOR = 'offboarding';

/** What the step returns into the state machine (the offboarding workflow keeps it at `$.identities`). */
export interface RevokedIdentities {
  tenantId: string;
  /** API key records deleted by this run (0 when a previous run deleted them). */
  apiKeys: { deleted: number };
  /**
   * Users disabled by this run, or disabled by an earlier run that stopped before their event and announced by this
   * one (`offboarding.pendingUserEvents`; 0 when a previous run did both) and, when any, `gone`: users listed but deleted before
   * this run disabled them (AdminDisableUser UserNotFoundException: nothing left to revoke, no event), or why users were left alone: the
   * platform has no Cognito pool (TESSERA_USER_POOL_ID unset) because an external identity
   * provider (gateway.jwt) owns the users.
   */
  users: { disabled: number; gone?: number } | { skipped: string };
}

/**
 * Offboarding, right after *Begin offboarding*: revokes every identity of the tenant, so that
 * nothing can call the gateway as the tenant again, before its data and stacks go.
 * 1. Deletes the tenant's API key records from the keys table (DynamoDbApiKeyStore.deleteAll:
 *    Query on the partition `tenantId`, BatchWriteItem deletes, again until a Query finds nothing;
 *    key writes are fenced on the registry status, OFFBOARDING since *Begin offboarding*, so none
 *    lands after that), with the platform's own
 *    credentials (offboarding is a platform operation; the step's role holds Query and
 *    BatchWriteItem on the keys table). A deleted key fails its next lookup; an authorizer that
 *    cached it stops accepting it within its cache TTL (≤ 60 s).
 * 2. Disables every enabled user of the tenant in the platform pool (CognitoTenantUsers.disableAll:
 *    AdminUserGlobalSignOut, then AdminDisableUser, then one `Tenant User Disabled` event each, `by`
 *    `offboarding`; signed out first so that a failed sign-out leaves the user enabled, listed and
 *    done again by the retried run). Each listed user is recorded at `offboarding.pendingUserEvents` before it is
 *    disabled and cleared once its event was sent (pendingOnRecord): a run stopped between the two (a failed PutEvents,
 *    a timeout) leaves it there, and the next run sends the event of every recorded user Cognito shows disabled
 *    (before, such a user was never listed again nor announced). A user deleted after the listing counts as done (`gone`). Users are disabled, not deleted: they stay listed for the audit trail. An ID
 *    token issued before stays valid until it expires (1 hour), but the gateway serves no tenant
 *    that is OFFBOARDING.
 * 3. Records each part in the registry as soon as it is done (`offboarding.identities`: recordRevoked), the keys
 *    before the users, as the other offboarding steps record what they did; a resumed run adds what it found.
 * Idempotent: a second run deletes and disables nothing and returns zeros (its record adds 0 and its `checkedAt`).
 * Input: LifecycleState (`request.tenantId`, `executionArn`). Output: RevokedIdentities.
 * @throws Error naming TESSERA_API_KEYS_TABLE (or TESSERA_EVENT_BUS with a pool) when unset,
 *   before any change; the store's error for the state machine's Retry/Catch; a Cognito call's
 *   (its message names the call and Cognito's exception): a throttle (TooManyRequestsException),
 *   a server fault (InternalErrorException) or a broken connection under a name the Retry matches
 *   (retryableCognitoError), so the step runs again (it is idempotent); a refusal (AccessDenied, a
 *   missing pool) as CognitoCallError, which no Retry matches: the Catch records it at once.
 */
export const handler = lifecycleHandler('Revoke tenant identities', async (state: LifecycleState): Promise<RevokedIdentities> => {
  const tenantId = state.request.tenantId;
  const keys = new DynamoDbApiKeyStore(requireEnv(API_KEYS_TABLE_ENV), unscopedDocumentClient());
  const pool = process.env[ENV.userPoolId];
  if (pool) requireEnv(ENV.eventBus); // fail before the first change, not after
  const deleted = await keys.deleteAll(tenantId);
  const afterKeys = await recordRevoked(tenantId, state.executionArn, { apiKeysDeleted: deleted });
  if (!pool) {
    // With gateway.jwt the tenant's users live in the external identity provider; without it (a local platform) there are none.
    const skipped = platformConfig().gateway.jwt ? `${noUserPoolReason()}: disable the tenant's users there` : noUserPoolReason();
    await recordRevoked(tenantId, state.executionArn, { users: { skipped } });
    return { tenantId, apiKeys: { deleted }, users: { skipped } };
  }
  const users = new CognitoTenantUsers(platformClient(CognitoIdentityProviderClient), pool, emitLifecycleEvent);
  let done: { disabled: number; gone: number };
  try {
    done = await users.disableAll(tenantId, OFFBOARDING_ACTOR, pendingOnRecord(tenantId, afterKeys.offboarding));
  } catch (e) {
    // CognitoCallError matches no Retry: a throttle or server fault is thrown under a name the Retry lists.
    throw (e instanceof CognitoCallError && retryableCognitoError(e)) || e;
  }
  await recordRevoked(tenantId, state.executionArn, { users: done });
  return { tenantId, apiKeys: { deleted }, users: done.gone ? done : { disabled: done.disabled } };
});

/**
 * Records one part of the revocation in the registry (`offboarding.identities`, OffboardingRecord), on the record read
 * again (strongly consistent) so that what other writes of this step left (`pendingUserEvents`) stays: `apiKeysDeleted`
 * added to `apiKeys.deleted`, the users disabled (and found gone) added to `users`, or `users.skipped` set; the part's
 * `checkedAt` set to now (the run found none left) and the execution added to `executionArns` once. Written under the
 * execution's lease (updateTenant's default holder). Keys deleted by a run whose record write then failed are not
 * counted by the next run, which finds none (it records 0 and its own `checkedAt`).
 * @returns the record as written
 * @throws what requireTenant and updateTenant throw (TenantNotFound, TenantBusy when the lease is not this execution's)
 */
export async function recordRevoked(tenantId: string, executionArn: string | undefined, part: { apiKeysDeleted: number } | { users: { disabled: number; gone?: number } | { skipped: string } }): Promise<TenantRecord> {
  const record = await requireTenant(tenantId);
  const offboarding = record.offboarding ?? { liftedProtections: [] };
  const before = offboarding.identities;
  const checkedAt = new Date().toISOString();
  const executionArns = [...(before?.executionArns ?? [])];
  if (executionArn && !executionArns.includes(executionArn)) executionArns.push(executionArn);
  const apiKeys = 'apiKeysDeleted' in part
    ? { deleted: (before?.apiKeys.deleted ?? 0) + part.apiKeysDeleted, checkedAt }
    : before?.apiKeys ?? { deleted: 0, checkedAt };
  let users = before?.users;
  if ('users' in part) {
    if ('skipped' in part.users) users = { skipped: part.users.skipped, checkedAt };
    else {
      const earlier = users && 'disabled' in users ? users : { disabled: 0, gone: undefined };
      const gone = (earlier.gone ?? 0) + (part.users.gone ?? 0);
      users = { disabled: earlier.disabled + part.users.disabled, ...(gone ? { gone } : {}), checkedAt };
    }
  }
  return updateTenant(tenantId, { offboarding: { ...offboarding, identities: { apiKeys, ...(users ? { users } : {}), executionArns } } });
}

/**
 * The offboarding's PendingUserEvents: `offboarding.pendingUserEvents` of the tenant record (`offboarding` as the step
 * read it, written whole with the list: only the offboarding's own steps write it, one at a time, under the lease),
 * one entry `{ userId, intendedAt }` per user; the list is removed when it empties. Writes are made one after another
 * (disableAll works on 4 users at once), each awaited by its caller, which gets its own error.
 * @throws what updateTenant throws (TenantBusy when the execution no longer holds the lease), from record and clear
 */
export function pendingOnRecord(tenantId: string, offboarding: OffboardingRecord | undefined): PendingUserEvents {
  const earlier = offboarding?.pendingUserEvents ?? [];
  let list = [...earlier];
  let writes: Promise<unknown> = Promise.resolve();
  const write = (change: (current: typeof list) => typeof list): Promise<void> => {
    const next = writes.catch(() => undefined).then(async () => {
      list = change(list);
      const { pendingUserEvents: _, ...rest } = offboarding ?? { liftedProtections: [] };
      await updateTenant(tenantId, { offboarding: { ...rest, ...(list.length ? { pendingUserEvents: list } : {}) } });
    });
    writes = next;
    return next;
  };
  return {
    recorded: () => earlier.map((p) => p.userId),
    record: (userIds) => {
      const intendedAt = new Date().toISOString();
      return write((current) => [...current, ...userIds.filter((id) => !current.some((p) => p.userId === id)).map((userId) => ({ userId, intendedAt }))]);
    },
    clear: (userId) => write((current) => current.filter((p) => p.userId !== userId)),
  };
}
