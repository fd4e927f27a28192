import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hash } from 'node:crypto';
import { MAIL_MARKER_PREFIX } from './environment.js';

/**
 * How long a mail marker is kept: 30 days, in seconds. Longer than every way the same event comes
 * back: EventBridge's 6 hours of delivery retries, Lambda's two retries (within the 6-hour event
 * age), and `tessera dlq redrive` from the dead-letter queue, which keeps a message 14 days.
 */
export const MAIL_MARKER_TTL_SECONDS = 30 * 24 * 60 * 60;

/**
 * The usage-table key of the marker "the mail of event `eventId` to `address` is sent or being sent":
 * `alert-mail#<event id>#<SHA-256 of the address, lowercase hex>` (the address is not stored in the
 * clear; it is hashed exactly as Cognito gives it).
 */
export const mailMarkerId = (eventId: string, address: string) => `${MAIL_MARKER_PREFIX}${eventId}#${hash('sha256', address, 'hex')}`;

/** A marker this invocation wrote: its key and the `claimedAt` that identifies this claim. */
export interface MailClaim {
  readonly id: string;
  readonly claimedAt: string;
}

/**
 * Once-per-address markers of the budget alert mail, items of the gateway's usage table (partition
 * key `id`, TTL attribute `expiresAt` in epoch seconds), written with the mail Lambda's own role
 * (its `AlertMailMarkers` statement: PutItem and DeleteItem of `alert-mail#*` items only).
 */
export class MailMarkers {
  constructor(private readonly usageTable: string, private readonly doc: DynamoDBDocumentClient, private readonly now: () => Date = () => new Date()) {}

  /**
   * Claims the mail of `eventId` to `address`: one PutItem under `attribute_not_exists(id)`, so of
   * every delivery of the same event (EventBridge's, Lambda's retries, a DLQ redrive) exactly one
   * claims it until it is released or expires (MAIL_MARKER_TTL_SECONDS).
   * @returns the claim; undefined when the marker exists (the address was mailed, or is being mailed)
   * @throws any DynamoDB error other than ConditionalCheckFailedException
   */
  async claim(eventId: string, address: string): Promise<MailClaim | undefined> {
    const now = this.now();
    const claim = { id: mailMarkerId(eventId, address), claimedAt: now.toISOString() };
    try {
      await this.doc.send(new PutCommand({
        TableName: this.usageTable,
        Item: { ...claim, expiresAt: Math.floor(now.getTime() / 1000) + MAIL_MARKER_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(id)',
      }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw e;
    }
    return claim;
  }

  /**
   * Deletes the marker of `claim` (its mail was not sent), so that the next delivery mails the
   * address. Conditional on `claimedAt` being this claim's: a marker another invocation wrote since
   * is left alone.
   * @throws any DynamoDB error other than ConditionalCheckFailedException
   */
  async release(claim: MailClaim): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({
        TableName: this.usageTable, Key: { id: claim.id },
        ConditionExpression: 'claimedAt = :at', ExpressionAttributeValues: { ':at': claim.claimedAt },
      }));
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException')) throw e;
    }
  }
}
