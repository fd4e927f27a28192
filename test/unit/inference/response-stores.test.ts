import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbResponseStore } from '../../../lambdas/inference/stores/dynamodb-response-store.js';
import { FileResponseStore } from '../../../lambdas/inference/stores/file-response-store.js';
import { MemoryResponseStore } from '../../../lambdas/inference/stores/memory-response-store.js';
import { newId } from '../../../lambdas/inference/responses/ids.js';
import { tempDir } from '../../support/temp-dirs.js';
import { MAX_STORED_BYTES, ResponseTooLargeError, decodeStoredBody, type StoredResponse } from '../../../lambdas/inference/stores/response-store.js';

const now = () => Math.floor(Date.now() / 1000);
const item = (tenantId: string, responseId: string, expiresAt = now() + 3600): StoredResponse => ({
  tenantId, responseId, expiresAt, response: { id: responseId, object: 'response' }, inputItems: [{ id: 'msg_1', type: 'message' }], messages: [{ role: 'user', content: 'Hi' }],
});

describe.each([
  { name: 'MemoryResponseStore', make: () => new MemoryResponseStore() },
  { name: 'FileResponseStore', make: () => new FileResponseStore(tempDir('tessera-responses-')) },
])('$name', ({ make }) => {
  const id = newId('resp');
  it('returns a tenant\'s own response, never another tenant\'s', async () => {
    const s = make();
    const mine = item('acme', id);
    await s.put(mine);
    expect(await s.get('acme', id)).toEqual(mine);
    expect(await s.get('globex', id)).toBeUndefined();
    expect(await s.delete('globex', id)).toBe(false);
    expect(await s.get('acme', id)).toBeDefined();
  });

  it('an expired response is gone for get and delete', async () => {
    const s = make();
    await s.put(item('acme', id, now() - 1));
    expect(await s.get('acme', id)).toBeUndefined();
    expect(await s.delete('acme', id)).toBe(false);
  });

  it('delete answers whether there was one', async () => {
    const s = make();
    await s.put(item('acme', id));
    expect(await s.delete('acme', id)).toBe(true);
    expect(await s.delete('acme', id)).toBe(false);
  });

  it('a body over the limit compressed is refused (the same limit as DynamoDB\'s item)', async () => {
    const big = { ...item('acme', id), messages: [{ role: 'user' as const, content: randomBytes(MAX_STORED_BYTES).toString('base64') }] };
    await expect(make().put(big)).rejects.toBeInstanceOf(ResponseTooLargeError);
  });
  it('keeps a background response\'s stream events in order, read on from a cursor, never another tenant\'s; closed by the last chunk; gone with the response or when they expire', async () => {
    const s = make();
    const rid = newId('resp');
    await s.put(item('acme', rid));
    const ev = (n: number) => ({ type: n === 3 ? 'response.completed' : 'response.output_text.delta', sequence_number: n, delta: 'x'.repeat(n) });
    expect(await s.readEvents!('acme', rid, 0)).toMatchObject({ events: [], ended: false, exists: false });
    await s.appendEvents!('acme', rid, { chunk: 0, events: [ev(0), ev(1)], ended: false, expiresAt: now() + 60 });
    const first = await s.readEvents!('acme', rid, 0);
    expect(first).toMatchObject({ events: [ev(0), ev(1)], ended: false, exists: true });
    expect((await s.readEvents!('globex', rid, 0)).events).toEqual([]);
    await s.appendEvents!('acme', rid, { chunk: 1, events: [ev(2), ev(3)], ended: true, expiresAt: now() + 60 });
    expect(await s.readEvents!('acme', rid, first.cursor)).toMatchObject({ events: [ev(2), ev(3)], ended: true });
    expect((await s.readEvents!('acme', rid, 0)).events).toEqual([ev(0), ev(1), ev(2), ev(3)]);
    expect(await s.delete('acme', rid)).toBe(true);
    expect(await s.readEvents!('acme', rid, 0)).toMatchObject({ events: [], exists: false });
    const old = newId('resp');
    await s.appendEvents!('acme', old, { chunk: 0, events: [ev(0)], ended: true, expiresAt: now() - 1 });
    expect(await s.readEvents!('acme', old, 0)).toMatchObject({ events: [], exists: false });
  });
});

describe.each([
  { name: 'MemoryResponseStore', make: () => ({ s: new MemoryResponseStore(), dir: undefined }) },
  { name: 'FileResponseStore', make: () => { const dir = tempDir('tessera-responses-'); return { s: new FileResponseStore(dir), dir }; } },
])('$name: a background run writing after its response was deleted', ({ make }) => {
  const ev = (n: number) => ({ type: n === 2 ? 'response.completed' : 'response.output_text.delta', sequence_number: n, delta: `secret ${n}` });
  it('keeps none of its events: the chunks after the delete (its last, which closes the log) are not written, and no events file is left', async () => {
    const { s, dir } = make();
    const rid = newId('resp');
    await s.put(item('acme', rid));
    await s.appendEvents!('acme', rid, { chunk: 0, events: [ev(0)], ended: false, expiresAt: now() + 60 });
    expect(await s.delete('acme', rid)).toBe(true);
    // The run notices the delete at its next poll (2 s on another worker): until then it writes on, then closes its log.
    await s.appendEvents!('acme', rid, { chunk: 1, events: [ev(1), ev(2)], ended: false, expiresAt: now() + 60 });
    await s.appendEvents!('acme', rid, { chunk: 2, events: [], ended: true, expiresAt: now() + 60 });
    expect(await s.readEvents!('acme', rid, 0)).toMatchObject({ events: [], exists: false });
    if (dir) expect(readdirSync(join(dir, 'acme'))).toEqual([]);
  });

  it('a first chunk for a response that is not stored (deleted before the run\'s first write) is not kept either', async () => {
    const { s, dir } = make();
    const rid = newId('resp');
    await s.put(item('acme', rid));
    await s.delete('acme', rid);
    await s.appendEvents!('acme', rid, { chunk: 0, events: [ev(0)], ended: true, expiresAt: now() + 60 });
    expect(await s.readEvents!('acme', rid, 0)).toMatchObject({ events: [], exists: false });
    if (dir) expect(readdirSync(join(dir, 'acme'))).toEqual([]);
  });
});

describe('retry markers of a long-running tessera serve', () => {
  const hash = (c: string) => c.repeat(64);

  it('MemoryResponseStore drops the expired markers when it writes one: its map holds the live window only', async () => {
    const s = new MemoryResponseStore();
    const markers = (s as unknown as { markers: Map<string, unknown> }).markers;
    await s.putRetryMarker('acme', hash('a'), { responseId: newId('resp'), expiresAt: now() - 1 });
    await s.putRetryMarker('globex', hash('b'), { responseId: newId('resp'), expiresAt: now() - 1 });
    const live = newId('resp');
    await s.putRetryMarker('acme', hash('c'), { responseId: live, expiresAt: now() + 900 });
    expect(markers.size).toBe(1);
    expect((await s.retryMarker('acme', hash('c')))?.responseId).toBe(live);
  });

  it('FileResponseStore removes the tenant\'s expired marker files when it writes one, keeping the live ones and the responses', async () => {
    const dir = tempDir('tessera-responses-');
    const first = new FileResponseStore(dir);
    const id = newId('resp');
    await first.put(item('acme', id));
    await first.putRetryMarker('acme', hash('a'), { responseId: newId('resp'), expiresAt: now() - 1 });
    await first.putRetryMarker('acme', hash('b'), { responseId: id, expiresAt: now() + 900 });
    // Another worker (or the next serve on the state dir) writing a marker prunes, as this one would a minute later.
    await new FileResponseStore(dir).putRetryMarker('acme', hash('c'), { responseId: newId('resp'), expiresAt: now() + 900 });
    expect(readdirSync(join(dir, 'acme')).sort()).toEqual([`${id}.json.gz`, `retry-${hash('b')}.json`, `retry-${hash('c')}.json`]);
  });
});

describe('FileResponseStore paths', () => {
  it('an id that is not the gateway\'s names no file: a path from a request cannot leave the directory', async () => {
    const dir = tempDir('tessera-responses-');
    const s = new FileResponseStore(dir);
    await s.put(item('acme', newId('resp')));
    expect(await s.get('acme', '../acme/x')).toBeUndefined();
    expect(await s.get('..', newId('resp'))).toBeUndefined();
    expect(await s.delete('acme', '../../etc/passwd')).toBe(false);
  });

  it('two stores on one directory (two worker threads) see each other\'s responses', async () => {
    const dir = tempDir('tessera-responses-');
    const id = newId('resp');
    await new FileResponseStore(dir).put(item('acme', id));
    expect((await new FileResponseStore(dir).get('acme', id))?.responseId).toBe(id);
  });
});

describe('DynamoDbResponseStore (SDK mocked)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const asked: string[] = [];
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
  const store = new DynamoDbResponseStore('tessera-responses', async (tenantId) => (asked.push(tenantId), doc));
  beforeEach(() => {
    ddb.reset();
    asked.length = 0;
  });
  afterAll(() => ddb.restore());

  it('puts the keys, expiresAt and the gzipped body, with the tenant\'s client', async () => {
    ddb.on(PutCommand).resolves({});
    await store.put(item('acme', 'resp_1', 2_000_000_000));
    const input = ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(input).toMatchObject({ TableName: 'tessera-responses', Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: 2_000_000_000 } });
    expect(decodeStoredBody(input.Item!.body as Uint8Array)).toEqual({ response: { id: 'resp_1', object: 'response' }, inputItems: [{ id: 'msg_1', type: 'message' }], messages: [{ role: 'user', content: 'Hi' }] });
    expect(asked).toEqual(['acme']);
  });

  it('reads with the tenant key (consistent), and refuses an expired item DynamoDB has not deleted yet', async () => {
    const { encodeStoredBody } = await import('../../../lambdas/inference/stores/response-store.js');
    const body = encodeStoredBody(item('acme', 'resp_1'));
    ddb.on(GetCommand).resolvesOnce({ Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: now() + 60, body } }).resolvesOnce({ Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: now() - 60, body } });
    expect((await store.get('acme', 'resp_1'))?.response).toEqual({ id: 'resp_1', object: 'response' });
    expect(await store.get('acme', 'resp_1')).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: 'resp_1' }, ConsistentRead: true });
  });

  it('deletes only an existing, unexpired item; a failed condition is "not found"', async () => {
    ddb.on(DeleteCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await store.delete('acme', 'resp_1')).toBe(true);
    expect(await store.delete('acme', 'resp_1')).toBe(false);
    expect(ddb.commandCalls(DeleteCommand)[0].args[0].input).toMatchObject({ Key: { tenantId: 'acme', responseId: 'resp_1' }, ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now' });
  });

  it('a response id that is a stream events item\'s key (events#<id>#<n>) reads, deletes and follows nothing: no GetItem, DeleteItem or Query is sent', async () => {
    const { gzipSync } = await import('node:zlib');
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const eventsItem = { tenantId: 'acme', responseId: 'events#resp_1#000000000', expiresAt: now() + 60, body: gzipSync(JSON.stringify([{ type: 'response.created', sequence_number: 0 }])) };
    ddb.on(GetCommand).resolves({ Item: eventsItem });
    ddb.on(DeleteCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await store.get('acme', 'events#resp_1#000000000')).toBeUndefined();
    expect(await store.delete('acme', 'events#resp_1#000000000')).toBe(false);
    expect(await store.readEvents('acme', 'resp_1#0', 0)).toMatchObject({ events: [], exists: false });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('an id no tenant can have asks for no session', async () => {
    expect(await store.get('../acme', 'resp_1')).toBeUndefined();
    expect(asked).toEqual([]);
  });
  it('keeps stream events as items events#<id>#<n> of the tenant\'s partition (gzipped JSON), a chunk over the item limit split in parts, the last part marked ended; reads them with one consistent Query from the cursor', async () => {
    ddb.on(PutCommand).resolves({});
    const big = (n: number) => ({ type: 'response.output_text.delta', sequence_number: n, delta: randomBytes(250 * 1024).toString('base64') });
    await store.appendEvents('acme', 'resp_1', { chunk: 2, events: [big(0), big(1), big(2), big(3)], ended: true, expiresAt: 2_000_000_000 });
    const items = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!);
    expect(items.map((i) => i.responseId)).toEqual(['events#resp_1#000002000', 'events#resp_1#000002001', 'events#resp_1#000002002', 'events#resp_1#000002003']);
    expect(items.map((i) => i.ended)).toEqual([undefined, undefined, undefined, true]);
    expect(items.every((i) => i.tenantId === 'acme' && i.expiresAt === 2_000_000_000 && (i.body as Uint8Array).length <= MAX_STORED_BYTES)).toBe(true);
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    ddb.on(QueryCommand).resolves({ Items: items.slice(2) });
    const read = await store.readEvents('acme', 'resp_1', 2002);
    expect(read).toMatchObject({ ended: true, cursor: 2004, exists: true });
    expect(read.events.map((e) => e.sequence_number)).toEqual([2, 3]);
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({ ConsistentRead: true, ExpressionAttributeValues: { ':t': 'acme', ':from': 'events#resp_1#000002002', ':to': 'events#resp_1#999999999' } });
    expect(asked.every((t) => t === 'acme')).toBe(true);
  });

  it('reads every page of the log: a Query answers at most 1 MB, LastEvaluatedKey naming where the next page starts', async () => {
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const { gzipSync } = await import('node:zlib');
    const ev = (n: number) => ({ type: n === 3 ? 'response.completed' : 'response.output_text.delta', sequence_number: n, delta: 'x' });
    const itemOf = (n: number, events: unknown[], ended = false) => ({ tenantId: 'acme', responseId: `events#resp_1#${String(n).padStart(9, '0')}`, expiresAt: now() + 60, body: gzipSync(JSON.stringify(events)), ...(ended ? { ended: true } : {}) });
    ddb.on(QueryCommand)
      .resolvesOnce({ Items: [itemOf(0, [ev(0), ev(1)])], LastEvaluatedKey: { tenantId: 'acme', responseId: 'events#resp_1#000000000' } })
      .resolvesOnce({ Items: [itemOf(1000, [ev(2), ev(3)], true)] });
    const read = await store.readEvents('acme', 'resp_1', 0);
    expect(read.events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3]);
    expect(read).toMatchObject({ ended: true, cursor: 1001, exists: true });
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ ExclusiveStartKey: { tenantId: 'acme', responseId: 'events#resp_1#000000000' }, ConsistentRead: true });
  });
});
