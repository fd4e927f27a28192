import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, paginateScan, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../lib/aws-pages.js';
import { DROP_UNDEFINED, platformDocumentClient } from './document-clients.js';
import { ENV, requireEnv } from './environment.js';
import { retryConflicts, sendTransaction } from './transactions.js';

/**
 * The lifecycle control table: the account-creation semaphore, CIDR allocations, the
 * account-closure queue and the onboarding request ids' claims. Separate from the registry so that tenant listings never see it.
 */
export const doc = () => platformDocumentClient(DROP_UNDEFINED);
const table = () => requireEnv(ENV.controlTable);

const SLOTS_ID = 'account-creation-slots';

/** Takes one of `cap` account-creation slots for `holder`; false when all are taken (re-entrant). */
export async function acquireSlot(holder: string, cap: number): Promise<boolean> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(),
      Key: { id: SLOTS_ID },
      UpdateExpression: 'ADD holders :h',
      ConditionExpression: 'attribute_not_exists(holders) OR size(holders) < :cap OR contains(holders, :holder)',
      ExpressionAttributeValues: { ':h': new Set([holder]), ':cap': cap, ':holder': holder },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

export async function releaseSlot(holder: string): Promise<void> {
  await doc().send(new UpdateCommand({
    TableName: table(), Key: { id: SLOTS_ID }, UpdateExpression: 'DELETE holders :h', ExpressionAttributeValues: { ':h': new Set([holder]) },
  }));
}

export async function slotHolders(): Promise<string[]> {
  const out = await doc().send(new GetCommand({ TableName: table(), Key: { id: SLOTS_ID }, ConsistentRead: true }));
  return [...((out.Item?.holders as Set<string> | undefined) ?? [])];
}

/**
 * The index of the tier's CIDR pool to try next: `next` of the control item `cidr-next#<tier>`
 * (a consistent GetItem; 0 when no block was handed out yet). Only a read: the counter moves on
 * past a block once the block is claimed (passPoolIndex), so a write sent again after a lost answer
 * never moves it twice. Before, an `ADD next 1` that the SDK sent again after its answer was lost
 * counted twice, and the block in between was never handed out. The item's value is what the ADD
 * counter left (the number of blocks handed out), read the same way: allocated blocks stay as they are.
 */
export async function nextPoolIndex(tier: string): Promise<number> {
  const out = await doc().send(new GetCommand({ TableName: table(), Key: { id: `cidr-next#${tier}` }, ConsistentRead: true }));
  return Number(out.Item?.next ?? 0);
}

/**
 * Moves the tier's pool counter past `index` once its block is claimed (by this tenant or another):
 * `SET next = index + 1`, conditional on `next` being `index` (or absent, for index 0). The condition failing
 * leaves it as it is: this write sent again after a lost answer (the counter is past `index` already, however far
 * others moved it meanwhile), another run that passed the same index, or a counter moved back to a block given back
 * (returnPoolIndex) while this run claimed a later one. The counter moves one block at a time, never over a block
 * that is free: before, the condition was `next <= index`, under which a write that read the counter before it moved
 * back to a given-back block carried it over that block again.
 */
export async function passPoolIndex(tier: string, index: number): Promise<void> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `cidr-next#${tier}` }, UpdateExpression: 'SET #n = :after',
      ConditionExpression: 'attribute_not_exists(#n) OR #n = :index',
      ExpressionAttributeNames: { '#n': 'next' }, ExpressionAttributeValues: { ':index': index, ':after': index + 1 },
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/**
 * Moves the tier's pool counter back to `index`, a block just given back (releaseCidr) that the counter had passed:
 * `SET next = index`, conditional on `next` being past it. The next allocation claims that block, then walks past the
 * claimed blocks after it (claimNextBlock passes a block another tenant holds), so no block is handed out twice (the
 * claim decides) and a block given back is not lost. Before, a range claimed by one of two runs of the same tenant at
 * once and given back (the other run's range was recorded) stayed behind the counter, handed out to no one, for good.
 * The condition failing (the counter is at or before `index` already) leaves it as it is; sent again after a lost
 * answer, it moves the counter back again at most, which the next allocation walks forward.
 */
export async function returnPoolIndex(tier: string, index: number): Promise<void> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `cidr-next#${tier}` }, UpdateExpression: 'SET #n = :index',
      ConditionExpression: '#n > :index',
      ExpressionAttributeNames: { '#n': 'next' }, ExpressionAttributeValues: { ':index': index },
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/**
 * Records `cidr` as allocated to `tenantId`; false when another tenant holds it. A claim `tenantId` holds already
 * answers true: the SDK sends a PutItem again after a lost answer, and the conditional put that took effect the first
 * time then fails its condition. Read as another tenant's, the range was claimed for the tenant and never used nor
 * given back (a block of the tier's pool lost for good), while *Allocate network* went on to the next one.
 */
export async function claimCidr(cidr: string, tenantId: string): Promise<boolean> {
  try {
    await doc().send(new PutCommand({
      TableName: table(), Item: { id: `cidr#${cidr}`, tenantId }, ConditionExpression: 'attribute_not_exists(id)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return (e.Item?.tenantId as { S?: string } | undefined)?.S === tenantId;
    throw e;
  }
}

/**
 * Deletes the claim of `cidr` if `tenantId` holds it (conditional on the claim's tenant: another tenant's claim, or none,
 * is left as it is). Used for a range the tenant claimed and does not use, and at offboarding once its VPC is gone.
 */
export async function releaseCidr(cidr: string, tenantId: string): Promise<void> {
  try {
    await doc().send(new DeleteCommand({ TableName: table(), Key: { id: `cidr#${cidr}` }, ConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId } }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/**
 * The blocks of the tier's pool given back at offboarding and not handed out again: the string set `blocks` of the
 * control item `cidr-free#<tier>` (a consistent GetItem; [] when none). A listed block is a hint, the claim
 * (`cidr#<range>`) decides: a block is listed after its claim was deleted (listReleasedCidr), taken off the list in the
 * same transaction that claims it (claimReleasedCidr), and a listed block someone claims otherwise (the pool's counter
 * walking over it) is taken off only while it is claimed (dropClaimedCidr). One item per tier, so an allocation reads
 * one item however many blocks came back (a set of up to 1,024 /22 ranges is about 16 KB of the item's 400 KB).
 */
export async function releasedCidrs(tier: string): Promise<string[]> {
  const out = await doc().send(new GetCommand({ TableName: table(), Key: { id: `cidr-free#${tier}` }, ConsistentRead: true }));
  return [...((out.Item?.blocks as Set<string> | undefined) ?? [])];
}

/**
 * Lists `cidr`, whose claim its holder has just deleted (releaseCidr), among the tier's released blocks (`ADD` to the
 * set: sent again, the same set). Listing a block someone holds is harmless: the allocation that meets it finds it
 * claimed and takes it off the list.
 */
export async function listReleasedCidr(tier: string, cidr: string): Promise<void> {
  await retryConflicts(() => doc().send(new UpdateCommand({
    TableName: table(), Key: { id: `cidr-free#${tier}` }, UpdateExpression: 'ADD #b :c',
    ExpressionAttributeNames: { '#b': 'blocks' }, ExpressionAttributeValues: { ':c': new Set([cidr]) },
  })));
}

/**
 * Claims a released block for `tenantId` and takes it off the tier's list, in one transaction (TransactWriteItems: the
 * claim's put conditional on no claim, the list's `DELETE` conditional on the block being listed), so two allocations
 * that read the same list never both get it, and a Lambda that ends between the two writes cannot leave a block
 * claimed and listed or neither. The SDK sends the transaction again after a lost answer with the same
 * ClientRequestToken, which DynamoDB answers as the first (idempotent for 10 minutes).
 * @returns `claimed` (also when `tenantId` held the claim already: the list is then cleared of it), `held` (another
 *   tenant holds the claim: the caller takes the block off the list, dropClaimedCidr), `gone` (no longer listed:
 *   another allocation took it)
 */
export async function claimReleasedCidr(tier: string, cidr: string, tenantId: string): Promise<'claimed' | 'held' | 'gone'> {
  try {
    await sendTransaction(doc(), new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: table(), Item: { id: `cidr#${cidr}`, tenantId }, ConditionExpression: 'attribute_not_exists(id)' } },
        {
          Update: {
            TableName: table(), Key: { id: `cidr-free#${tier}` }, UpdateExpression: 'DELETE #b :c', ConditionExpression: 'contains(#b, :cidr)',
            ExpressionAttributeNames: { '#b': 'blocks' }, ExpressionAttributeValues: { ':c': new Set([cidr]), ':cidr': cidr },
          },
        },
      ],
    }));
    return 'claimed';
  } catch (e) {
    if (!(e instanceof TransactionCanceledException)) throw e;
    const [claim, listed] = e.CancellationReasons ?? [];
    if (claim?.Code === 'ConditionalCheckFailed') {
      const holder = await doc().send(new GetCommand({ TableName: table(), Key: { id: `cidr#${cidr}` }, ConsistentRead: true }));
      if (holder.Item?.tenantId !== tenantId) return 'held';
      await dropClaimedCidr(tier, cidr);
      return 'claimed';
    }
    if (listed?.Code === 'ConditionalCheckFailed') return 'gone';
    throw e;
  }
}

/**
 * Takes `cidr` off the tier's released blocks while it is claimed (a transaction: a ConditionCheck that the claim
 * exists, and the list's `DELETE`). A block released again in between (no claim when the transaction runs) stays
 * listed: taken off unconditionally, it would be free, behind the pool's counter and listed nowhere, for good.
 */
export async function dropClaimedCidr(tier: string, cidr: string): Promise<void> {
  try {
    await sendTransaction(doc(), new TransactWriteCommand({
      TransactItems: [
        { ConditionCheck: { TableName: table(), Key: { id: `cidr#${cidr}` }, ConditionExpression: 'attribute_exists(id)' } },
        { Update: { TableName: table(), Key: { id: `cidr-free#${tier}` }, UpdateExpression: 'DELETE #b :c', ExpressionAttributeNames: { '#b': 'blocks' }, ExpressionAttributeValues: { ':c': new Set([cidr]) } } },
      ],
    }));
  } catch (e) {
    if (!(e instanceof TransactionCanceledException) || e.CancellationReasons?.[0]?.Code !== 'ConditionalCheckFailed') throw e;
  }
}

/** The ranges claimed by `tenantId` (a consistent scan of the claims). */
export async function cidrClaimsOf(tenantId: string): Promise<string[]> {
  const claims = await itemsWithPrefix<{ id: string; tenantId: string }>('cidr#');
  return claims.filter((c) => c.tenantId === tenantId).map((c) => c.id.slice('cidr#'.length)).sort();
}

/**
 * Claims onboarding request id `requestId` for `tenantId` (`onboard-request#<requestId>`): one
 * conditional write, no lookup across tenants. A request id names one onboarding request, as an
 * idempotency key does: the same id again for the same tenant is that request (its claim is
 * found as its own, also after the tenant was offboarded); for another tenant it is refused.
 * Answers undefined when the claim is the tenant's, else the tenant that holds it. Records
 * onboarded before the claim existed hold none: their ids are claimed by the next request that
 * uses one.
 */
export async function claimOnboardingRequest(requestId: string, tenantId: string): Promise<string | undefined> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `onboard-request#${requestId}` },
      UpdateExpression: 'SET tenantId = :t, claimedAt = if_not_exists(claimedAt, :now)',
      ConditionExpression: 'attribute_not_exists(tenantId) OR tenantId = :t',
      ExpressionAttributeValues: { ':t': tenantId, ':now': new Date().toISOString() },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return undefined;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return (e.Item?.tenantId as { S?: string } | undefined)?.S ?? '(another tenant)';
    throw e;
  }
}

/**
 * Gives back `tenantId`'s claim of `requestId` when its onboarding never started (Step Functions
 * refused the start and the record was removed): the request did not run, so the id is free again.
 * An UpdateItem (REMOVE) conditional on the claim being the tenant's; a no-op otherwise.
 */
export async function releaseOnboardingRequest(requestId: string, tenantId: string): Promise<void> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `onboard-request#${requestId}` }, UpdateExpression: 'REMOVE tenantId, claimedAt',
      ConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId },
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

export interface ClosureItem {
  id: string;
  accountId: string;
  tenantId: string;
  /**
   * `CLOSING`: claimed by a run that calls CloseAccount (counts against the quota from `claimedAt`);
   * a claim older than CLOSURE_CLAIM_EXPIRY_MS (lifecycle/account-closure.ts) is one whose run ended before it recorded the answer.
   * `NEEDS_OPERATOR`: CloseAccount failed MAX_CLOSURE_ATTEMPTS times; set aside (the daily run only checks whether it was closed by hand).
   */
  status: 'QUEUED' | 'CLOSING' | 'CLOSED' | 'NEEDS_OPERATOR';
  queuedAt: string;
  /** When a run claimed it (`CLOSING`). */
  claimedAt?: string;
  closedAt?: string;
  /** CloseAccount calls that failed (other than the quota's refusal), and runs that ended holding the claim. */
  attempts?: number;
  /** The latest failure: `<error name>: <message>`. */
  lastError?: string;
  /**
   * The token of the write that last settled a claim (requeueClosure, setClosureAside: a UUID per call). The SDK sends
   * a write again with the same token after a lost answer; the retry, refused by its own first attempt, knows it by it.
   */
  settledBy?: string;
  /** A `CLOSED` entry whose tenant's record says so (`accountClosure.state` CLOSED): later runs no longer check it. */
  recordedOnTenant?: boolean;
}

export async function enqueueClosure(accountId: string, tenantId: string): Promise<void> {
  try {
    await doc().send(new PutCommand({
      TableName: table(),
      Item: { id: `closure#${accountId}`, accountId, tenantId, status: 'QUEUED', queuedAt: new Date().toISOString() } satisfies ClosureItem,
      ConditionExpression: 'attribute_not_exists(id)',
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e; // already queued or closed
  }
}

/** Every item whose id starts with `prefix` (a consistent scan: the queues are small). */
async function itemsWithPrefix<T>(prefix: string): Promise<T[]> {
  const items: T[] = [];
  const scan = paginateScan(pages(doc()), { TableName: table(), FilterExpression: 'begins_with(id, :p)', ExpressionAttributeValues: { ':p': prefix }, ConsistentRead: true });
  for await (const page of untilKeyRepeats(scan, (p) => p.LastEvaluatedKey)) items.push(...((page.Items ?? []) as T[]));
  return items;
}

export const closures = () => itemsWithPrefix<ClosureItem>('closure#');

/**
 * Claims a queued closure (`CLOSING`; it counts against the quota from now on) before its
 * CloseAccount call; false when another worker got it first. Not recorded `CLOSED` until
 * Organizations answered (recordClosed): a run that dies in between leaves a claim that the next
 * run finds expired and settles.
 */
export async function claimClosure(accountId: string, now = new Date()): Promise<boolean> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `closure#${accountId}` }, UpdateExpression: 'SET #s = :closing, claimedAt = :now',
      ConditionExpression: '#s = :queued', ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':closing': 'CLOSING', ':queued': 'QUEUED', ':now': now.toISOString() },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return true;
  } catch (e) {
    // The claim this call made, its answer lost: the SDK's retry finds the entry CLOSING with this call's own claimedAt.
    // Read as another worker's, the entry stayed claimed and untried until it expired, and the next run counted it a
    // failed attempt (ClosureInterrupted) on the entry and its tenant, though no CloseAccount was ever sent.
    if (e instanceof ConditionalCheckFailedException) {
      const old = e.Item as { status?: { S?: string }; claimedAt?: { S?: string } } | undefined;
      return old?.status?.S === 'CLOSING' && old.claimedAt?.S === now.toISOString();
    }
    throw e;
  }
}

/**
 * Records a closure `CLOSED` (closedAt now) if it is still in status `from`: claimed (`CLOSING`)
 * and answered by Organizations, or set aside (`NEEDS_OPERATOR`) and found closed, suspended or
 * gone. False when it was not in `from` (another run settled it).
 */
export async function recordClosed(accountId: string, from: 'CLOSING' | 'NEEDS_OPERATOR'): Promise<boolean> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `closure#${accountId}` }, UpdateExpression: 'SET #s = :closed, closedAt = :now REMOVE claimedAt',
      ConditionExpression: '#s = :from', ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':closed': 'CLOSED', ':from': from, ':now': new Date().toISOString() },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/**
 * Notes on a `CLOSED` closure that its tenant's record says it is closed (`recordedOnTenant`); nothing is written to
 * an entry in any other status (a condition failure is not an error).
 */
export async function markClosureRecorded(accountId: string): Promise<void> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `closure#${accountId}` }, UpdateExpression: 'SET recordedOnTenant = :yes',
      ConditionExpression: '#s = :closed', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':yes': true, ':closed': 'CLOSED' },
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/** The condition that a closure is still the claim a run read: `CLOSING` with that `claimedAt` (absent on an entry claimed before claims were dated). */
function stillClaimed(claimedAt: string | undefined) {
  return claimedAt === undefined
    ? { ConditionExpression: '#s = :closing AND attribute_not_exists(claimedAt)', values: { ':closing': 'CLOSING' } }
    : { ConditionExpression: '#s = :closing AND claimedAt = :claimedAt', values: { ':closing': 'CLOSING', ':claimedAt': claimedAt } };
}

/**
 * A write that settles the claim made (or read) at `claimedAt`, stamped with a token of its own
 * (`settledBy`, a UUID per call): answers the attempts the entry then holds, or undefined when the
 * entry is no longer that claim and the write that changed it is not this one (another run settled it:
 * nothing written). The write the SDK sent again after its answer was lost fails its condition (the
 * claim is gone, settled by its first attempt): the entry's `settledBy` (ReturnValuesOnConditionCheckFailure
 * ALL_OLD) then shows this call's token, and it answers as written. Before, that retry was read as
 * another run's settlement, and the tenant's `accountClosure` never got that attempt's error.
 */
async function settleClaim(accountId: string, claimedAt: string | undefined, update: { set: string; add?: string; values: Record<string, unknown> }): Promise<number | undefined> {
  const claim = stillClaimed(claimedAt);
  const token = randomUUID();
  try {
    const out = await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `closure#${accountId}` },
      UpdateExpression: `SET ${update.set}, settledBy = :token${update.add ? ` ADD ${update.add}` : ''} REMOVE closedAt, claimedAt`,
      ConditionExpression: claim.ConditionExpression,
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ...update.values, ...claim.values, ':token': token },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return Number(out.Attributes?.attempts ?? 0);
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) {
      const old = e.Item as { settledBy?: { S?: string }; attempts?: { N?: string } } | undefined;
      return old?.settledBy?.S === token ? Number(old.attempts?.N ?? 0) : undefined;
    }
    throw e;
  }
}

/**
 * Puts a claimed closure back in the queue, only while it is still the claim made (or read) at
 * `claimedAt`: refused for the quota or throttled (no `error`: it does not count as an attempt), or
 * failed with `error` (counted). Answers the attempts so far, or undefined when the entry is no
 * longer that claim (another run settled it: nothing written). Its own write sent again after a lost
 * answer is known as its own (settleClaim).
 */
export async function requeueClosure(accountId: string, claimedAt: string | undefined, error?: string): Promise<number | undefined> {
  return settleClaim(accountId, claimedAt, error
    ? { set: '#s = :queued, lastError = :error', add: 'attempts :one', values: { ':queued': 'QUEUED', ':error': error, ':one': 1 } }
    : { set: '#s = :queued', values: { ':queued': 'QUEUED' } });
}

/**
 * Sets a claimed closure aside for an operator (`NEEDS_OPERATOR`, the failure counted), only while
 * it is still the claim made at `claimedAt`: it failed too often to be tried again by itself.
 * Answers the attempts so far, or undefined when another run settled it (nothing written). Its own
 * write sent again after a lost answer is known as its own (settleClaim).
 */
export async function setClosureAside(accountId: string, claimedAt: string | undefined, error: string): Promise<number | undefined> {
  return settleClaim(accountId, claimedAt, { set: '#s = :aside, lastError = :error', add: 'attempts :one', values: { ':aside': 'NEEDS_OPERATOR', ':error': error, ':one': 1 } });
}

/**
 * A tenant key whose deletion waits until the last store under it has expired (VPC mode): the
 * daily job schedules it (ScheduleKeyDeletion) once `dueAt` has passed.
 */
export interface KeyDeletionItem {
  id: string;
  keyArn: string;
  accountId: string;
  tenantId: string;
  /** ISO date-time after which nothing under the key must stay readable. */
  dueAt: string;
  /** The key's region when it is not the home region: the tenant's DR key, in its DR region (absent: the tenant key). */
  region?: string;
  status: 'QUEUED' | 'SCHEDULED';
  queuedAt: string;
  scheduledAt?: string;
  deletionDate?: string;
  /**
   * SCHEDULED only: a container left empty under the key (the Backup vault, a log group) was not removed with the key's
   * scheduling (AWS Backup refuses a vault while it holds a recovery point: it deletes an expired one up to 8 hours after
   * its DeleteAt, and never one left `EXPIRED` once the role that made it is gone); each daily run tries it again
   * (removeEmptiedStores) until none is left, then removes this mark.
   */
  containersLeft?: boolean;
}

const keyDeletionId = (keyArn: string) => `key-deletion#${keyArn}`;

/** Queues (or re-dates, while still queued) the deletion of `keyArn`; false when it is already scheduled. */
export async function enqueueKeyDeletion(item: Pick<KeyDeletionItem, 'keyArn' | 'accountId' | 'tenantId' | 'dueAt' | 'region'>): Promise<boolean> {
  try {
    await doc().send(new PutCommand({
      TableName: table(),
      Item: { id: keyDeletionId(item.keyArn), ...item, status: 'QUEUED', queuedAt: new Date().toISOString() } satisfies KeyDeletionItem,
      ConditionExpression: 'attribute_not_exists(id) OR #s = :queued',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':queued': 'QUEUED' },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

export const keyDeletions = () => itemsWithPrefix<KeyDeletionItem>('key-deletion#');

/**
 * Marks a queued key deletion as scheduled; false when another run did it first. `containersLeft`: an emptied
 * container under the key is still there (KeyDeletionItem.containersLeft), for the next daily runs.
 */
export async function markKeyDeletionScheduled(keyArn: string, deletionDate: string | undefined, containersLeft = false): Promise<boolean> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: keyDeletionId(keyArn) },
      UpdateExpression: `SET #s = :scheduled, scheduledAt = :now, deletionDate = :date${containersLeft ? ', containersLeft = :left' : ''}`,
      ConditionExpression: '#s = :queued', ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':scheduled': 'SCHEDULED', ':queued': 'QUEUED', ':now': new Date().toISOString(), ':date': deletionDate ?? null, ...(containersLeft ? { ':left': true } : {}) },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/**
 * A key *Schedule key deletion* scheduled at once (never queued) whose emptied containers were not all removed: an
 * entry SCHEDULED with `containersLeft`, so the daily runs try them again. Written over an entry of the same key that
 * is SCHEDULED already (a retried offboarding), never over a QUEUED one (the daily job owns it).
 */
export async function recordKeyContainersLeft(item: Pick<KeyDeletionItem, 'keyArn' | 'accountId' | 'tenantId' | 'dueAt' | 'region' | 'deletionDate'>): Promise<boolean> {
  const now = new Date().toISOString();
  try {
    await doc().send(new PutCommand({
      TableName: table(),
      Item: { id: keyDeletionId(item.keyArn), ...item, status: 'SCHEDULED', queuedAt: now, scheduledAt: now, containersLeft: true } satisfies KeyDeletionItem,
      ConditionExpression: 'attribute_not_exists(id) OR #s = :scheduled',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':scheduled': 'SCHEDULED' },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/** Takes the `containersLeft` mark off a scheduled key's entry once every emptied container under it is removed. */
export async function clearKeyContainersLeft(keyArn: string): Promise<void> {
  await doc().send(new UpdateCommand({ TableName: table(), Key: { id: keyDeletionId(keyArn) }, UpdateExpression: 'REMOVE containersLeft' }));
}

/** Who holds a tier's rolling upgrade (`upgrade-tier#<tier>`): the execution POST /admin/upgrades started last for it. */
export interface UpgradeTierClaim {
  executionArn: string;
  requestId: string;
  blueprintVersion: string;
  /** When the claim was taken (ISO 8601). */
  claimedAt: string;
}

const attr = (item: Record<string, unknown> | undefined, name: string): string | undefined => (item?.[name] as { S?: string } | undefined)?.S;

/**
 * Claims the rolling upgrade of `tier` for `claim.executionArn` (item `upgrade-tier#<tier>`): one conditional UpdateItem,
 * so that of two POST /admin/upgrades of one tier at once only one starts its execution. The claim is taken when the item
 * holds none, holds this execution already (the same request again, or the SDK's retry of a write whose answer was lost),
 * or holds `ended`: an execution the caller found ended (DescribeExecution), whose claim was never given back (nothing
 * runs when an upgrade ends: a claim is released only by the next start that finds its execution ended).
 * @param ended the executionArn of the holder the caller found ended @default - none: only a free or own claim is taken
 * @returns undefined once the claim is this execution's; else the claim that holds the tier (the caller asks Step Functions whether its execution still runs)
 */
export async function claimUpgradeTier(tier: string, claim: Omit<UpgradeTierClaim, 'claimedAt'>, ended?: string): Promise<UpgradeTierClaim | undefined> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `upgrade-tier#${tier}` },
      UpdateExpression: 'SET executionArn = :e, requestId = :r, blueprintVersion = :v, claimedAt = :now',
      ConditionExpression: `attribute_not_exists(executionArn) OR executionArn = :e${ended === undefined ? '' : ' OR executionArn = :ended'}`,
      ExpressionAttributeValues: { ':e': claim.executionArn, ':r': claim.requestId, ':v': claim.blueprintVersion, ':now': new Date().toISOString(), ...(ended === undefined ? {} : { ':ended': ended }) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return undefined;
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
    const item = e.Item as Record<string, unknown> | undefined;
    return { executionArn: attr(item, 'executionArn') ?? '(unknown)', requestId: attr(item, 'requestId') ?? '(unknown)', blueprintVersion: attr(item, 'blueprintVersion') ?? '(unknown)', claimedAt: attr(item, 'claimedAt') ?? '(unknown)' };
  }
}

/** Gives back `tier`'s upgrade claim when its execution never started (Step Functions refused the start): a REMOVE conditional on the claim being `executionArn`'s; a no-op otherwise. */
export async function releaseUpgradeTier(tier: string, executionArn: string): Promise<void> {
  try {
    await doc().send(new UpdateCommand({
      TableName: table(), Key: { id: `upgrade-tier#${tier}` }, UpdateExpression: 'REMOVE executionArn, requestId, blueprintVersion, claimedAt',
      ConditionExpression: 'executionArn = :e', ExpressionAttributeValues: { ':e': executionArn },
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}
