import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newConversationId } from '../../lambdas/inference/endpoints/conversations.js';
import { DuplicateConversationItemError, type ConversationItem, type StoredConversation } from '../../lambdas/inference/stores/conversation-store.js';
import { DynamoDbConversationStore } from '../../lambdas/inference/stores/dynamodb-conversation-store.js';
import { createResponsesTable } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The DynamoDB conversation store's writes against DynamoDB's semantics (moto): an item and its id's
 * pointer are written together, the pointer under `attribute_not_exists`, so two writers of one item id
 * cannot both succeed; and, with aws-sdk-client-mock between the store and moto, what a write that
 * fails after the positions are reserved leaves: listing and retrieval agree on every item.
 */
const TABLE = 'tessera-conv-store';
let moto: MotoServer;
let real: DynamoDBDocumentClient;
beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createResponsesTable(TABLE);
  real = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(async () => moto?.stop());

const now = () => Math.floor(Date.now() / 1000);
const conv = (): StoredConversation => ({ tenantId: 'acme', conversationId: newConversationId(), createdAt: now(), metadata: {}, expiresAt: now() + 3600 });
const msg = (id: string): ConversationItem => ({ id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: id }] });
const ids = (items: ConversationItem[] | undefined) => items?.map((i) => i.id);

/** Listing, paging after each item and retrieval by id tell one story: every listed item is retrievable, and only those. */
async function consistent(store: DynamoDbConversationStore, c: StoredConversation, tried: string[]): Promise<string[]> {
  const listed = ids(await store.all('acme', c.conversationId))!;
  const paged = ids((await store.list('acme', c.conversationId, { order: 'desc', limit: 100 }))!.items)!;
  expect(paged).toEqual([...listed].reverse());
  for (const id of tried) expect(await store.getItem('acme', c.conversationId, id), id).toEqual(listed.includes(id) ? msg(id) : undefined);
  for (const id of listed) await expect(store.list('acme', c.conversationId, { order: 'asc', limit: 1, after: id })).resolves.toBeDefined();
  return listed;
}

describe('DynamoDbConversationStore in moto: writes conditioned on the item id', () => {

  it('one item id added by 5 writers at once: added once, the others refused as duplicates', async () => {
    const c = conv();
    await store().create(c, [msg('first')]);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => store().append('acme', c.conversationId, [msg('same')])));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toMatchObject({ index: 0, itemId: 'same' });
    expect(await consistent(store(), c, ['first', 'same'])).toEqual(['first', 'same']);
  });

  it('10 appends of 3 items at once: 30 items, none lost or doubled, each append together and in order', async () => {
    const c = conv();
    await store().create(c, []);
    await Promise.all(Array.from({ length: 10 }, (_, t) => store().append('acme', c.conversationId, [msg(`t${t}-a`), msg(`t${t}-b`), msg(`t${t}-c`)])));
    const all = ids(await store().all('acme', c.conversationId))!;
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
    for (let at = 0; at < 30; at += 3) {
      const t = all[at]!.split('-')[0];
      expect(all.slice(at, at + 3)).toEqual([`${t}-a`, `${t}-b`, `${t}-c`]);
    }
  });

  it('an append of 60 items (two transactions) whose second holds an id the conversation has: nothing of it kept, the duplicate named', async () => {
    const c = conv();
    await store().create(c, [msg('held')]);
    const items = Array.from({ length: 60 }, (_, i) => msg(i === 55 ? 'held' : `n${i}`));
    const e = await store().append('acme', c.conversationId, items).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DuplicateConversationItemError);
    expect(e).toMatchObject({ index: 55, itemId: 'held' });
    expect(await consistent(store(), c, ['held', 'n0', 'n49', 'n50'])).toEqual(['held']);
    // the ids of the undone items are free again
    expect(await store().append('acme', c.conversationId, [msg('n0')])).toBe(true);
  });

  it('an item deleted by 3 callers at once: one true, the item and its pointer gone, its id free again', async () => {
    const c = conv();
    await store().create(c, [msg('a'), msg('b')]);
    const results = await Promise.all([1, 2, 3].map(() => store().deleteItem('acme', c.conversationId, 'a')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await consistent(store(), c, ['a', 'b'])).toEqual(['b']);
    expect(await store().append('acme', c.conversationId, [msg('a')])).toBe(true);
    expect(ids(await store().all('acme', c.conversationId))).toEqual(['b', 'a']);
  });
});

describe('DynamoDbConversationStore: a write that fails after the positions are reserved (aws-sdk-client-mock in front of moto)', () => {
  /** A document client that forwards to moto, except the writes `fail` picks, which throw as a lost connection would. */
  function failing(fail: (command: string, input: Record<string, unknown>) => boolean) {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const mock = mockClient(doc);
    const forward = <I extends object>(name: string, Command: new (input: I) => any) => mock.on(Command as never).callsFake(async (input: I) => {
      if (fail(name, input as Record<string, unknown>)) throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      return real.send(new Command(input));
    });
    forward('Get', GetCommand);
    forward('Put', PutCommand);
    forward('Update', UpdateCommand);
    forward('Delete', DeleteCommand);
    forward('Query', QueryCommand);
    forward('TransactWrite', TransactWriteCommand);
    return { store: new DynamoDbConversationStore(TABLE, async () => doc), restore: () => mock.restore() };
  }

  it('the write of the items fails: the append is refused and leaves no item without its pointer (listing and retrieval agree); the same items can be added again, once', async () => {
    const c = conv();
    await store().create(c, [msg('before')]);
    // the first write after the reservation: the transaction (or, written one by one, an id's pointer)
    let failed = false;
    const { store: broken, restore } = failing((name, input) => {
      const pointer = name === 'Put' && String((input.Item as Record<string, unknown>)?.responseId).includes('#id#');
      if (failed || !(name === 'TransactWrite' || pointer)) return false;
      return (failed = true);
    });
    try {
      await expect(broken.append('acme', c.conversationId, [msg('x1'), msg('x2')])).rejects.toThrow('socket hang up');
    } finally {
      restore();
    }
    const listed = await consistent(store(), c, ['before', 'x1', 'x2']);
    expect(listed.filter((id) => id.startsWith('x'))).toEqual([]);
    expect(await store().append('acme', c.conversationId, [msg('x1'), msg('x2')])).toBe(true);
    expect(await consistent(store(), c, ['before', 'x1', 'x2'])).toEqual(['before', 'x1', 'x2']);
  });

  it('a writer stopped between the transactions of a 60-item append (its undo fails too): the first 50 items are there whole, the rest not, and every route agrees', async () => {
    const c = conv();
    await store().create(c, []);
    let transactions = 0;
    const { store: broken, restore } = failing((name) => name === 'TransactWrite' && ++transactions >= 2);
    const items = Array.from({ length: 60 }, (_, i) => msg(`n${i}`));
    try {
      await expect(broken.append('acme', c.conversationId, items)).rejects.toThrow('socket hang up');
    } finally {
      restore();
    }
    const listed = await consistent(store(), c, ['n0', 'n49', 'n50', 'n59']);
    expect(listed).toEqual(items.slice(0, 50).map((i) => i.id));
    // the items kept are the conversation's: an id among them is a duplicate, one after them is not
    await expect(store().append('acme', c.conversationId, [msg('n49')])).rejects.toBeInstanceOf(DuplicateConversationItemError);
    expect(await store().append('acme', c.conversationId, [msg('n50')])).toBe(true);
  });
});

function store() {
  return new DynamoDbConversationStore(TABLE, async () => real);
}
