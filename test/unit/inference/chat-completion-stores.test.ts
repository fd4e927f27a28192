import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ChunkAssembler, listPage, storeMessagesOf } from '../../../lambdas/inference/endpoints/chat-completions-stored.js';
import { encodeChatCompletionBody, MemoryChatCompletionStore, nextStoredAt, type ChatCompletionStore, type ChatCompletionSummary, type StoredChatCompletion } from '../../../lambdas/inference/stores/chat-completion-store.js';
import { CHAT_COMPLETION_KEY_PREFIX, DynamoDbChatCompletionStore } from '../../../lambdas/inference/stores/dynamodb-chat-completion-store.js';
import { FileChatCompletionStore } from '../../../lambdas/inference/stores/file-chat-completion-store.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { tempDir } from '../../support/temp-dirs.js';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
afterAll(() => ddb.restore());
beforeEach(() => ddb.reset());

const ID = (n: number) => `chatcmpl-${n.toString(16).padStart(24, '0')}`;
const later = () => Math.floor(Date.now() / 1000) + 3600;
const item = (n: number, extra: Partial<StoredChatCompletion> = {}): StoredChatCompletion => ({
  tenantId: 'acme', id: ID(n), created: 1_700_000_000 + n, model: 'openai-compatible/default', metadata: {}, caller: { userId: 'u1' },
  completion: { id: ID(n), object: 'chat.completion', choices: [] }, messages: [{ id: `${ID(n)}-0`, role: 'user', content: 'Hi' }], expiresAt: later(), ...extra,
});

describe('listPage: OpenAI\'s list parameters of GET /v1/chat/completions', () => {
  it('orders by when the gateway stored them (storedAt, ms), not the upstream\'s created (whole seconds): those stored in one second list in the order they were stored; one stored without storedAt by its created; after stays a stable cursor', () => {
    const same: ChatCompletionSummary[] = [
      { id: ID(9), created: 1, storedAt: 1_000, model: 'm', metadata: {} },
      { id: ID(1), created: 1, storedAt: 1_002, model: 'm', metadata: {} },
      { id: ID(5), created: 1, storedAt: 1_001, model: 'm', metadata: {} },
      { id: ID(7), created: 2, model: 'm', metadata: {} }, // stored before storedAt was kept: 2000 ms
    ];
    expect(listPage(same, {}).ids).toEqual([ID(9), ID(5), ID(1), ID(7)]);
    expect(listPage(same, { order: 'desc' }).ids).toEqual([ID(7), ID(1), ID(5), ID(9)]);
    expect(listPage(same, { after: ID(5), limit: '1' })).toEqual({ ids: [ID(1)], hasMore: true });
  });

  it('nextStoredAt: epoch ms, past every one the process gave before (the same millisecond, a clock set back)', () => {
    const a = nextStoredAt(5_000_000_000_000);
    const b = nextStoredAt(5_000_000_000_000);
    const c = nextStoredAt(4_000_000_000_000);
    expect([a, b > a, c > b]).toEqual([5_000_000_000_000, true, true]);
  });

  const all: ChatCompletionSummary[] = [
    { id: ID(3), created: 30, model: 'a', metadata: { topic: 'x', run: '1' } },
    { id: ID(1), created: 10, model: 'b', metadata: { topic: 'y' } },
    { id: ID(2), created: 20, model: 'a', metadata: { topic: 'x' } },
  ];
  it('asc by created by default, limit 20', () => {
    expect(listPage(all, {})).toEqual({ ids: [ID(1), ID(2), ID(3)], hasMore: false });
    expect(listPage(all, { order: 'desc' }).ids).toEqual([ID(3), ID(2), ID(1)]);
  });
  it('filters by model and every metadata[key]=value given', () => {
    expect(listPage(all, { model: 'a' }).ids).toEqual([ID(2), ID(3)]);
    expect(listPage(all, { 'metadata[topic]': 'x' }).ids).toEqual([ID(2), ID(3)]);
    expect(listPage(all, { 'metadata[topic]': 'x', 'metadata[run]': '1' }).ids).toEqual([ID(3)]);
    expect(listPage(all, { 'metadata[constructor]': '' }).ids).toEqual([]);
  });
  it('pages by after and limit', () => {
    expect(listPage(all, { limit: '1' })).toEqual({ ids: [ID(1)], hasMore: true });
    expect(listPage(all, { limit: '1', after: ID(1) })).toEqual({ ids: [ID(2)], hasMore: true });
    expect(listPage(all, { limit: '1', after: ID(2), order: 'asc' })).toEqual({ ids: [ID(3)], hasMore: false });
    expect(listPage(all, { after: ID(3), order: 'desc' })).toEqual({ ids: [ID(2), ID(1)], hasMore: false });
  });
  it.each([
    [{ order: 'up' }, 'order'], [{ limit: '0' }, 'limit'], [{ limit: '101' }, 'limit'], [{ after: '' }, 'after'],
    [{ after: ID(9) }, 'after'], [{ status: 'x' }, 'status'],
  ])('a bad parameter is a 400 naming it: %j', (query, param) => {
    const e = (() => { try { listPage(all, query as Record<string, string>); return undefined; } catch (x) { return x; } })() as GatewayError;
    expect(e).toBeInstanceOf(GatewayError);
    expect([e.status, e.param]).toEqual([400, param]);
  });
});

describe('storeMessagesOf and ChunkAssembler', () => {
  it('messages as ChatCompletionStoreMessages: ids <id>-<index>, content text, content_parts for a parts array', () => {
    expect(storeMessagesOf('chatcmpl-1', [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ])).toEqual([
      { id: 'chatcmpl-1-0', role: 'user', content: 'a', name: null, content_parts: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
      { id: 'chatcmpl-1-1', role: 'assistant', content: null, name: null, content_parts: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });
  it('assembles chunks into the whole completion: content, tool calls by index, finish reasons', () => {
    const a = new ChunkAssembler();
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, index = 0) => ({ id: 'x', object: 'chat.completion.chunk' as const, created: 1, model: 'm', choices: [{ index, delta, finish_reason: finish, logprobs: null }] }) as never;
    a.add(chunk({ role: 'assistant', content: 'Hel' }));
    a.add(chunk({ content: 'lo' }, 'stop'));
    a.add(chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }, null, 1));
    a.add(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, 'tool_calls', 1));
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    expect(a.completion('chatcmpl-1', 5, 'm', usage)).toMatchObject({
      id: 'chatcmpl-1', object: 'chat.completion', created: 5, model: 'm', usage,
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' },
        { index: 1, message: { content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' },
      ],
    });
  });
});

describe.each([
  { name: 'memory', make: (): ChatCompletionStore => new MemoryChatCompletionStore() },
  { name: 'files', make: (): ChatCompletionStore => new FileChatCompletionStore(tempDir('chat-store-')) },
])('the $name store', ({ make }) => {
  it('keeps per tenant: put, get, list, setMetadata, delete; another tenant\'s id and an expired one are not found', async () => {
    const s = make();
    await s.put(item(1, { metadata: { a: '1' } }));
    await s.put(item(2, { tenantId: 'globex' }));
    await s.put(item(3, { expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    expect((await s.get('acme', ID(1)))).toMatchObject({ id: ID(1), metadata: { a: '1' }, caller: { userId: 'u1' }, messages: [{ id: `${ID(1)}-0` }] });
    expect(await s.get('acme', ID(2))).toBeUndefined();
    expect(await s.get('acme', ID(3))).toBeUndefined();
    expect((await s.list('acme')).map((c) => c.id)).toEqual([ID(1)]);
    await s.put(item(4, { storedAt: 1_700_000_004_321 }));
    expect((await s.list('acme')).find((c) => c.id === ID(4))).toEqual({ id: ID(4), created: 1_700_000_004, storedAt: 1_700_000_004_321, model: 'openai-compatible/default', metadata: {} });
    expect((await s.setMetadata('acme', ID(4), { c: '3' }))?.storedAt).toBe(1_700_000_004_321);
    expect((await s.list('acme')).find((c) => c.id === ID(4))?.storedAt).toBe(1_700_000_004_321);
    expect((await s.setMetadata('acme', ID(1), { b: '2' }))?.metadata).toEqual({ b: '2' });
    expect(await s.setMetadata('acme', ID(2), {})).toBeUndefined();
    expect(await s.delete('acme', ID(2))).toBe(false);
    expect(await s.delete('acme', ID(1))).toBe(true);
    expect(await s.get('acme', ID(1))).toBeUndefined();
    expect(await s.get('globex', ID(2))).toBeDefined();
  });

  it('a delete racing a metadata update: the deleted completion stays deleted (the update finds none or comes first)', async () => {
    const s = make();
    for (let n = 1; n <= 10; n++) {
      await s.put(item(n));
      // The DELETE of one request and the metadata update of another, at once (serve's worker threads share the files).
      const [deleted, updated] = await Promise.all([s.delete('acme', ID(n)), s.setMetadata('acme', ID(n), { late: 'update' })]);
      expect(deleted).toBe(true);
      expect(updated === undefined || updated.metadata.late === 'update').toBe(true);
      expect(await s.get('acme', ID(n))).toBeUndefined();
    }
    expect(await s.list('acme')).toEqual([]);
  });
});

describe('DynamoDbChatCompletionStore', () => {
  const store = () => new DynamoDbChatCompletionStore('responses', async () => doc);

  it('puts one item under the tenant\'s partition, sort key the chatcmpl- id, with the list\'s attributes and the gzipped body', async () => {
    ddb.on(PutCommand).resolves({});
    await store().put(item(1, { metadata: { a: '1' }, storedAt: 1_700_000_001_234 }));
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ TableName: 'responses', Item: { tenantId: 'acme', responseId: ID(1), created: 1_700_000_001, storedAt: 1_700_000_001_234, model: 'openai-compatible/default', metadata: { a: '1' } } });
    expect(put.Item!.body).toBeInstanceOf(Uint8Array);
    expect(CHAT_COMPLETION_KEY_PREFIX).toBe('chatcmpl-');
    for (const other of ['resp_', 'conv_', 'batch_', 'file-']) expect(other.startsWith(CHAT_COMPLETION_KEY_PREFIX)).toBe(false);
  });

  it('lists by a Query of the tenant\'s partition on the chatcmpl- prefix, every page, without the bodies', async () => {
    ddb.on(QueryCommand)
      .resolvesOnce({ Items: [{ responseId: ID(1), created: 1, storedAt: 1_234, model: 'm', metadata: { a: '1' }, expiresAt: later() }], LastEvaluatedKey: { tenantId: 'acme', responseId: ID(1) } })
      .resolvesOnce({ Items: [{ responseId: ID(2), created: 2, model: 'm', expiresAt: later() }] });
    expect(await store().list('acme')).toEqual([{ id: ID(1), created: 1, storedAt: 1_234, model: 'm', metadata: { a: '1' } }, { id: ID(2), created: 2, model: 'm', metadata: {} }]);
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)', ExpressionAttributeValues: { ':t': 'acme', ':p': 'chatcmpl-' } });
    expect(calls[0]!.ProjectionExpression).not.toContain('body');
    expect(calls[0]!.ProjectionExpression).toContain('storedAt');
    expect(calls[1]!.ExclusiveStartKey).toEqual({ tenantId: 'acme', responseId: ID(1) });
  });

  it('gets as the tenant, refusing an expired item; an id that is not a chatcmpl- id is never read', async () => {
    const it1 = item(1);
    ddb.on(GetCommand).resolvesOnce({ Item: { tenantId: 'acme', responseId: ID(1), created: 1, model: 'm', metadata: {}, expiresAt: later(), body: encodeChatCompletionBody(it1) } })
      .resolvesOnce({ Item: { tenantId: 'acme', responseId: ID(1), created: 1, model: 'm', metadata: {}, expiresAt: 1, body: encodeChatCompletionBody(it1) } });
    expect(await store().get('acme', ID(1))).toMatchObject({ id: ID(1), messages: it1.messages, completion: it1.completion });
    expect(await store().get('acme', ID(1))).toBeUndefined();
    expect(await store().get('acme', 'resp_abc')).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ Key: { tenantId: 'acme', responseId: ID(1) }, ConsistentRead: true });
  });

  it('updates the metadata and deletes on condition the item exists and has not expired; a failed condition is not found', async () => {
    ddb.on(UpdateCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    ddb.on(DeleteCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} })).resolves({});
    expect(await store().setMetadata('acme', ID(1), { a: '1' })).toBeUndefined();
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({ UpdateExpression: 'SET #md = :m', ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now', ExpressionAttributeValues: { ':m': { a: '1' } } });
    expect(await store().delete('acme', ID(1))).toBe(false);
    expect(await store().delete('acme', ID(1))).toBe(true);
  });
});
