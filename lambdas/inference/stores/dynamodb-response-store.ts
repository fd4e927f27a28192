import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventsChunk, EventsRead, StreamEvent } from '../responses/background-events.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { MAX_STORED_BYTES, bodyOf, decodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type RetryMarker, type StoredResponse } from './response-store.js';
import { conditionFailed, versionedUpdate } from './versioned-update.js';

/**
 * Stored responses in the platform's responses table: partition key `tenantId`, sort key
 * `responseId`, TTL attribute `expiresAt` (epoch seconds), the Response, its input items and its
 * conversation as one gzipped JSON attribute `body` (binary; under 390 KiB, so the item stays
 * under DynamoDB's 400 KB). Every call uses the tenant's client (`docFor(tenantId)`): in the
 * Lambdas a session of the tenant-data role tagged with the tenant, whose policy
 * (`dynamodb:LeadingKeys`) reaches only items whose partition key is that tenant, so another
 * tenant's response is out of reach whatever id is asked for. DynamoDB deletes expired items
 * lazily (within days): reads refuse them too.
 */
/** How many times update() reads and writes again when another writer changed the response in between. */
const UPDATE_ATTEMPTS = 5;

/** The sort key of a background response's events item number `n` (appendEvents). */
const eventsKey = (responseId: string, n: number) => `events#${responseId}#${String(n).padStart(9, '0')}`;

/**
 * Whether `responseId` can be a response's own sort key: not one holding `#`, the separator of the other items kept in
 * a tenant's partition beside its responses (`events#<responseId>#<n>`: appendEvents). An id from a request path
 * (`GET` or `DELETE /v1/responses/events%23resp_…%23000000000`) was otherwise a GetItem of such an item, read as a
 * stored response that has no Response (the route's readsModel threw: a 500 instead of the unknown id's 404), and a
 * DeleteItem of it would cut a background stream short. No id the gateway makes has `#`; the file store takes only
 * `resp_` ids (isResponseId), the memory store keeps events apart from responses.
 */
const responseKey = (responseId: string) => typeof responseId === 'string' && responseId.length > 0 && !responseId.includes('#');

export class DynamoDbResponseStore implements ResponseStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async put(item: StoredResponse): Promise<void> {
    const doc = await this.docFor(item.tenantId);
    await doc.send(new PutCommand({ TableName: this.table, Item: this.itemOf(item, 0) }));
  }

  async get(tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
    return (await this.read(tenantId, responseId))?.item;
  }

  /** The marker's item: `responseId` `retry#<SHA-256 hex>` (no response id has `#`), `target` the response, `expiresAt` the table's TTL. */
  async putRetryMarker(tenantId: string, requestHash: string, marker: RetryMarker): Promise<void> {
    if (!isTenantId(tenantId)) return;
    await (await this.docFor(tenantId)).send(new PutCommand({ TableName: this.table, Item: { tenantId, responseId: `retry#${requestHash}`, target: marker.responseId, expiresAt: marker.expiresAt } }));
  }

  async retryMarker(tenantId: string, requestHash: string): Promise<RetryMarker | undefined> {
    if (!isTenantId(tenantId)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: `retry#${requestHash}` }, ConsistentRead: true }));
    const item = out.Item;
    return item && typeof item.target === 'string' && typeof item.expiresAt === 'number' && !expired(item.expiresAt) ? { responseId: item.target, expiresAt: item.expiresAt } : undefined;
  }

  /**
   * Reads the response (strongly consistent), applies `change`, and writes the result on condition that the item's
   * `version` (a number attribute, 0 or absent on an item written by put) is still the one read; when another writer
   * came in between (a cancel during a background run's settle), reads and applies again, up to UPDATE_ATTEMPTS times.
   * @throws Error after UPDATE_ATTEMPTS lost races
   */
  async update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined> {
    return versionedUpdate(() => this.read(tenantId, responseId), change, async (next, version) => void (await (await this.docFor(tenantId)).send(new PutCommand({
      TableName: this.table, Item: this.itemOf(next, version + 1),
      ConditionExpression: version === 0 ? 'attribute_exists(responseId) AND attribute_not_exists(#v)' : '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' }, ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': version } }),
    }))), UPDATE_ATTEMPTS, `response ${responseId} of tenant ${tenantId}`);
  }

  /** The table item of a response (`version` only past 0: an item put once has none). */
  private itemOf(item: StoredResponse, version: number) {
    return {
      tenantId: item.tenantId, responseId: item.responseId, expiresAt: item.expiresAt, createdAt: Math.floor(Date.now() / 1000), body: encodeWithinLimit(bodyOf(item)),
      ...(version > 0 ? { version } : {}),
    };
  }

  private async read(tenantId: string, responseId: string): Promise<{ item: StoredResponse; version: number } | undefined> {
    if (!isTenantId(tenantId) || !responseKey(responseId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId }, ConsistentRead: true }));
    const item = out.Item;
    if (!item || typeof item.expiresAt !== 'number' || expired(item.expiresAt)) return undefined;
    return { item: { tenantId, responseId, expiresAt: item.expiresAt, ...decodeStoredBody(item.body as Uint8Array) }, version: typeof item.version === 'number' ? item.version : 0 };
  }

  /**
   * A chunk of a background response's stream events as items of the response's partition beside it, sort key
   * `events#<responseId>#<n>` (n = chunk × 1000 + part, 9 digits: the items sort in the order written), the events as
   * gzipped JSON `body`, `ended` on the log's last item, `expiresAt` (TTL). A chunk over MAX_STORED_BYTES compressed
   * (DynamoDB's 400 KB item) is split in parts of fewer events; one event over it alone cannot be kept (Error).
   * One PutItem per part: the run writes a chunk at most every EVENTS_FLUSH_MS.
   */
  async appendEvents(tenantId: string, responseId: string, chunk: EventsChunk): Promise<void> {
    const doc = await this.docFor(tenantId);
    const parts: Array<{ events: StreamEvent[]; body: Buffer }> = [];
    const split = (events: StreamEvent[]) => {
      const body = gzipSync(JSON.stringify(events));
      if (body.length <= MAX_STORED_BYTES) return void parts.push({ events, body });
      if (events.length === 1) throw new Error(`stream event ${events[0]!.sequence_number} of response ${responseId} takes ${Math.ceil(body.length / 1024)} KiB compressed, over the ${MAX_STORED_BYTES / 1024} KiB an item may take`);
      const half = Math.ceil(events.length / 2);
      split(events.slice(0, half));
      split(events.slice(half));
    };
    split(chunk.events);
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      await doc.send(new PutCommand({ TableName: this.table, Item: { tenantId, responseId: eventsKey(responseId, chunk.chunk * 1000 + i), expiresAt: chunk.expiresAt, body: part.body, ...(last && chunk.ended ? { ended: true } : {}) } }));
    }
  }

  /**
   * `cursor`: the number (eventsKey) of the next item; a strongly consistent Query of the items from it, every page
   * (DynamoDB answers at most 1 MB a page, `LastEvaluatedKey` then naming where the next starts: a long run's log, or a
   * few items near the 400 KB item limit, is more than one page, and a reader that took the first page for the whole log
   * refused a `starting_after` past it as "past the last event").
   */
  async readEvents(tenantId: string, responseId: string, cursor: number): Promise<EventsRead> {
    if (!isTenantId(tenantId) || !responseKey(responseId)) return { events: [], ended: false, cursor, exists: false };
    const doc = await this.docFor(tenantId);
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(new QueryCommand({
        TableName: this.table, ConsistentRead: true,
        KeyConditionExpression: 'tenantId = :t AND responseId BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':t': tenantId, ':from': eventsKey(responseId, cursor), ':to': eventsKey(responseId, 999_999_999) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    const events: StreamEvent[] = [];
    let ended = false;
    let next = cursor;
    for (const item of items) {
      if (typeof item.expiresAt !== 'number' || expired(item.expiresAt)) return { events: [], ended: false, cursor, exists: false };
      events.push(...(JSON.parse(gunzipSync(item.body as Uint8Array).toString('utf8')) as StreamEvent[]));
      ended ||= item.ended === true;
      next = Number(String(item.responseId).slice(-9)) + 1;
    }
    return { events, ended, cursor: next, exists: cursor > 0 || events.length > 0 };
  }

  async delete(tenantId: string, responseId: string): Promise<boolean> {
    if (!isTenantId(tenantId) || !responseKey(responseId)) return false;
    const doc = await this.docFor(tenantId);
    try {
      // Only an item that exists and has not expired counts as deleted; an expired one is left to TTL.
      await doc.send(new DeleteCommand({
        TableName: this.table, Key: { tenantId, responseId },
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
      }));
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }
}
