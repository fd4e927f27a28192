import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { isResponseId, newId, responseIdOfItem, withItemIdsOf } from '../../../../lambdas/inference/responses/ids.js';
import { inputItemsOf, type InputItem } from '../../../../lambdas/inference/responses/input-items.js';
import { ItemNotFoundError, MAX_REFERENCED_RESPONSES, normalizeItemReferences, resolveItemReferences, withReferenceStandIns } from '../../../../lambdas/inference/responses/item-references.js';
import { itemsToMessages } from '../../../../lambdas/inference/responses/items-to-messages.js';
import { checkUniqueItemIds } from '../../../../lambdas/inference/responses/references.js';
import { DynamoDbResponseStore } from '../../../../lambdas/inference/stores/dynamodb-response-store.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';
import { encodeStoredBody, type StoredResponse } from '../../../../lambdas/inference/stores/response-store.js';
import { thrown } from './thrown.js';

const now = () => Math.floor(Date.now() / 1000);

/** A response stored as the create endpoint stores one: its ids made inside its item-id scope. */
function storedTurn(tenantId: string, text: string, expiresAt = now() + 3600): StoredResponse {
  const responseId = newId('resp');
  return withItemIdsOf(responseId, () => {
    const inputItems = inputItemsOf(`question before ${text}`);
    const output = [
      { id: newId('msg'), type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] },
      { id: newId('fc'), type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}', status: 'completed' },
    ];
    return { tenantId, responseId, expiresAt, response: { id: responseId, object: 'response', output }, inputItems, messages: [] };
  });
}
const outputOf = (s: StoredResponse) => s.response.output as InputItem[];
const ref = (id: string): InputItem => ({ type: 'item_reference', id });
const user = (text: string): InputItem => ({ id: `msg_user_${text}`, type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

/** A store with acme's and globex's turns, and a loader of `tenant`'s that counts its reads. */
async function storeWith(...turns: StoredResponse[]) {
  const store = new MemoryResponseStore();
  for (const t of turns) await store.put(t);
  const reads: string[] = [];
  const loadFor = (tenant: string) => (id: string) => {
    reads.push(id);
    return store.get(tenant, id);
  };
  return { store, reads, loadFor };
}

const rejected = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return thrown(() => {
      throw e;
    });
  }
  throw new Error('expected a 400');
};

describe('item ids derived from the response id (ids.ts)', () => {
  it('inside a response\'s scope, item ids are its 48 hex and a 4-hex index; outside, 48 random hex', () => {
    const id = newId('resp');
    expect(isResponseId(id)).toBe(true);
    const hex = id.slice(5);
    const ids = withItemIdsOf(id, () => [newId('msg'), newId('fc'), newId('fco'), newId('resp')]);
    expect(ids.slice(0, 3)).toEqual([`msg_${hex}0000`, `fc_${hex}0001`, `fco_${hex}0002`]);
    expect(ids[3]).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(ids[3]).not.toBe(id);
    for (const item of ids.slice(0, 3)) expect(responseIdOfItem(item)).toBe(id);
    const outside = newId('msg');
    expect(outside).toMatch(/^msg_[0-9a-f]{48}$/);
    expect(responseIdOfItem(outside)).toBeUndefined();
    for (const other of ['msg_1', 'msg_user_x', `msg_${hex}00`, `msg_${hex}0000f`, `msg_${hex.toUpperCase()}0000`, '']) expect(responseIdOfItem(other)).toBeUndefined();
  });

  it('concurrent responses keep their own scopes across awaits; past index ffff ids are random', async () => {
    const a = newId('resp');
    const b = newId('resp');
    const tick = () => new Promise((r) => setTimeout(r, 1));
    const make = (id: string) => withItemIdsOf(id, async () => {
      const out = [newId('msg')];
      await tick();
      out.push(newId('fc'));
      await tick();
      out.push(newId('msg'));
      return out;
    });
    const [ia, ib] = await Promise.all([make(a), make(b)]);
    expect(ia.map(responseIdOfItem)).toEqual([a, a, a]);
    expect(ib.map(responseIdOfItem)).toEqual([b, b, b]);
    expect(ia.map((x) => x.slice(-4))).toEqual(['0000', '0001', '0002']);
    const last = withItemIdsOf(a, () => {
      for (let i = 0; i < 0xffff; i++) newId('msg');
      return [newId('msg'), newId('msg')];
    });
    expect(last[0]).toBe(`msg_${a.slice(5)}ffff`);
    expect(responseIdOfItem(last[1])).toBeUndefined();
    expect(() => withItemIdsOf('resp_1', () => 1)).toThrow(/resp_ and 48 hex/);
  });
});

describe('item references: what is sent (normalizeItemReferences)', () => {
  it('writes {id} alone and {type:item_reference,id} as a reference; other items and a string input stay as they are', () => {
    const input = [{ role: 'user', content: 'Hi' }, { id: 'msg_a' }, { type: 'item_reference', id: 'msg_b' }, { id: 'msg_c', type: null }, { id: 'msg_d', role: 'assistant', content: 'Yes' }];
    expect(normalizeItemReferences(input)).toEqual([input[0], { type: 'item_reference', id: 'msg_a' }, { type: 'item_reference', id: 'msg_b' }, { type: 'item_reference', id: 'msg_c' }, input[4]]);
    expect(normalizeItemReferences('Hi')).toBe('Hi');
    expect(normalizeItemReferences(undefined)).toBeUndefined();
  });

  it('refuses a reference without a string id, or with another field, naming it', () => {
    expect(thrown(() => normalizeItemReferences([{ role: 'user', content: 'Hi' }, { type: 'item_reference' }]))).toMatchObject({ status: 400, param: 'input[1].id', code: 'missing_required_parameter', message: expect.stringMatching(/got none$/) });
    expect(thrown(() => normalizeItemReferences([{ type: 'item_reference', id: 7 }]))).toMatchObject({ param: 'input[0].id', code: 'invalid_type', message: expect.stringMatching(/got a number$/) });
    expect(thrown(() => normalizeItemReferences([{ type: 'item_reference', id: ['x'.repeat(1000)] }])).message).toMatch(/got a list$/);
    expect(thrown(() => normalizeItemReferences([{ type: 'item_reference', id: { a: 1 } }])).message).toMatch(/got an object$/);
    expect(thrown(() => normalizeItemReferences([{ type: 'item_reference', id: 'x'.repeat(257) }]))).toMatchObject({ param: 'input[0].id', message: expect.stringContaining('257 characters') });
    // A key ItemReference does not define: OpenAI's words for it (until 2026-12-07 unsupported_parameter, "input[0].role: an item_reference has only type and id").
    expect(thrown(() => normalizeItemReferences([{ type: 'item_reference', id: 'msg_a', role: 'assistant' }]))).toMatchObject({ param: 'input[0].role', code: 'unknown_parameter', message: "Unknown parameter: 'input[0].role'. An item_reference has only type and id" });
  });

  it('the checks before resolution see a stand-in at the reference\'s index, which maps; other items are still checked in place', () => {
    const items = inputItemsOf(normalizeItemReferences([{ type: 'item_reference', id: 'msg_a' }, { role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }]));
    expect(() => itemsToMessages(items)).toThrow(); // an unresolved reference is never mapped
    const e = thrown(() => itemsToMessages(withReferenceStandIns(items)));
    expect(e.param).toBe('input[1].content[0].file_id');
    expect(itemsToMessages(withReferenceStandIns([items[0]]))).toEqual([{ role: 'assistant', content: null }]);
  });
});

describe('item references: resolution from the caller\'s tenant\'s stored responses (resolveItemReferences)', () => {
  it('resolves the tenant\'s own output and input items, in place, reading each response once', async () => {
    const first = storedTurn('acme', 'Hei!');
    const second = storedTurn('acme', 'Hej!');
    const { reads, loadFor } = await storeWith(first, second);
    const [msg1, call1] = outputOf(first);
    const items = [user('a'), ref(msg1.id), ref(call1.id), ref(first.inputItems[0].id as string), user('b'), ref(outputOf(second)[0].id)];
    const resolved = await resolveItemReferences(items, loadFor('acme'));
    expect(resolved).toEqual([items[0], msg1, call1, first.inputItems[0], items[4], outputOf(second)[0]]);
    expect(reads.sort()).toEqual([first.responseId, second.responseId].sort());
    // What the model then sees: the first answer's text as an assistant message with its call.
    expect(itemsToMessages(resolved).slice(1, 3)).toEqual([
      { role: 'assistant', content: 'Hei!', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'user', content: [{ type: 'text', text: 'question before Hei!' }] },
    ]);
    // The resolved items are copies: changing them does not change what the store returned.
    (resolved[1].content as Array<{ text: string }>)[0].text = 'changed';
    expect((msg1.content as Array<{ text: string }>)[0].text).toBe('Hei!');
  });

  it('without references: the same items, nothing read', async () => {
    const { reads, loadFor } = await storeWith();
    const items = [user('a')];
    expect(await resolveItemReferences(items, loadFor('acme'))).toBe(items);
    expect(reads).toEqual([]);
  });

  it('another tenant\'s item is a 400 item_not_found naming input[i].id, worded as for an id nobody has', async () => {
    const theirs = storedTurn('globex', 'Our Q3 numbers');
    const { reads, loadFor } = await storeWith(theirs);
    const otherTenant = await rejected(resolveItemReferences([user('a'), ref(outputOf(theirs)[0].id)], loadFor('acme')));
    expect(otherTenant).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'input[1].id', code: 'item_not_found' });
    expect(otherTenant).toBeInstanceOf(ItemNotFoundError);
    expect((otherTenant as ItemNotFoundError).itemId).toBe(outputOf(theirs)[0].id);
    expect(otherTenant.message).toMatch(new RegExp(`^Item with id '${outputOf(theirs)[0].id}' not found \\(input\\[1\\]\\.id\\)`));
    expect(otherTenant.message).not.toMatch(/globex|tenant/i);
    expect(reads).toEqual([theirs.responseId]); // read as acme (the store's tenant-scoped get): nothing found
    // The same message for an item of a response nobody stored.
    const nobody = withItemIdsOf(newId('resp'), () => newId('msg'));
    const unknown = await rejected(resolveItemReferences([user('a'), ref(nobody)], loadFor('acme')));
    expect(unknown.message.replace(nobody, 'X')).toBe(otherTenant.message.replace(outputOf(theirs)[0].id, 'X'));
  });

  it('unknown ids are 400s: a response that holds no such item, an id the gateway never derived (a caller\'s own, an old random one)', async () => {
    const mine = storedTurn('acme', 'Hei!');
    const { reads, loadFor } = await storeWith(mine);
    const notInIt = `msg_${mine.responseId.slice(5)}00ff`;
    expect(await rejected(resolveItemReferences([ref(notInIt)], loadFor('acme')))).toMatchObject({ param: 'input[0].id', code: 'item_not_found' });
    for (const id of ['msg_1', newId('msg'), 'resp_' + 'a'.repeat(48)]) {
      expect(await rejected(resolveItemReferences([user('a'), ref(id)], loadFor('acme')))).toMatchObject({ param: 'input[1].id', code: 'item_not_found' });
    }
    expect(reads).toEqual([mine.responseId]); // ids that name no response are not looked up
  });

  it('an expired or deleted response\'s items are 400s; with no store, every reference is', async () => {
    const old = storedTurn('acme', 'old', now() - 1);
    const gone = storedTurn('acme', 'gone');
    const { store, loadFor } = await storeWith(old, gone);
    await store.delete('acme', gone.responseId);
    expect(await rejected(resolveItemReferences([ref(outputOf(old)[0].id)], loadFor('acme')))).toMatchObject({ param: 'input[0].id', code: 'item_not_found' });
    expect(await rejected(resolveItemReferences([ref(outputOf(gone)[0].id)], loadFor('acme')))).toMatchObject({ param: 'input[0].id', code: 'item_not_found' });
    const none = await rejected(resolveItemReferences([ref(outputOf(gone)[0].id)], undefined));
    expect(none).toMatchObject({ param: 'input[0].id', code: 'item_not_found', message: expect.stringContaining('stores no responses') });
  });

  it('names the first reference that does not resolve; reading stops at the first response not found', async () => {
    const [a, b] = [storedTurn('acme', 'A'), storedTurn('acme', 'B')];
    const { reads, loadFor } = await storeWith(a, b);
    const unknown = () => withItemIdsOf(newId('resp'), () => newId('msg'));
    expect((await rejected(resolveItemReferences([ref(outputOf(a)[0].id), ref('msg_nope'), ref(outputOf(b)[0].id)], loadFor('acme')))).param).toBe('input[1].id');
    expect(reads).toEqual([a.responseId]); // nothing after an id that names no response is read
    reads.length = 0;
    expect((await rejected(resolveItemReferences([ref(outputOf(a)[0].id), ref(unknown()), ref(outputOf(b)[0].id)], loadFor('acme')))).param).toBe('input[1].id');
    // A request of unknown ids costs the reads under way when the first comes back empty, not one per id.
    reads.length = 0;
    const many = Array.from({ length: 50 }, () => ref(unknown()));
    expect((await rejected(resolveItemReferences(many, loadFor('acme')))).param).toBe('input[0].id');
    expect(reads.length).toBeLessThanOrEqual(8);
  });

  it(`refuses references to items of more than ${MAX_REFERENCED_RESPONSES} responses before reading any`, async () => {
    const { reads, loadFor } = await storeWith();
    const refs = Array.from({ length: MAX_REFERENCED_RESPONSES + 1 }, () => ref(withItemIdsOf(newId('resp'), () => newId('msg'))));
    expect(await rejected(resolveItemReferences(refs, loadFor('acme')))).toMatchObject({ status: 400, param: `input[${MAX_REFERENCED_RESPONSES}].id`, code: 'too_many_item_references' });
    expect(reads).toEqual([]);
  });

  it('a reference to an item also sent inline, or two references to one item, are duplicates (the ids stay unique)', async () => {
    const mine = storedTurn('acme', 'Hei!');
    const { loadFor } = await storeWith(mine);
    const msg = outputOf(mine)[0];
    const inline = [msg, user('a'), ref(msg.id)];
    expect(thrown(() => checkUniqueItemIds(inline))).toMatchObject({ param: 'input[2].id', code: 'duplicate_item_id' });
    expect(thrown(() => checkUniqueItemIds(withReferenceStandIns([ref(msg.id), ref(msg.id)])))).toMatchObject({ param: 'input[1].id', code: 'duplicate_item_id' });
    // Resolution keeps each reference's id, so the check gives the same answer after it.
    const resolved = await resolveItemReferences([user('a'), ref(msg.id)], loadFor('acme'));
    expect(resolved.map((i) => i.id)).toEqual(['msg_user_a', msg.id]);
  });

  it('reads at most 8 responses at once', async () => {
    const turns = Array.from({ length: 20 }, (_, i) => storedTurn('acme', `t${i}`));
    const { store } = await storeWith(...turns);
    let open = 0;
    let most = 0;
    const load = async (id: string) => {
      most = Math.max(most, ++open);
      await new Promise((r) => setTimeout(r, 2));
      open--;
      return store.get('acme', id);
    };
    const resolved = await resolveItemReferences(turns.map((t) => ref(outputOf(t)[0].id)), load);
    expect(resolved.map((i) => (i.content as Array<{ text: string }>)[0].text)).toEqual(turns.map((_, i) => `t${i}`));
    expect(most).toBe(8);
  });

  it('on the DynamoDB store, a reference is read with the caller\'s tenant session and key (GetItem), whoever stored the item', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const ddb = mockClient(doc);
    try {
      const asked: string[] = [];
      const store = new DynamoDbResponseStore('tessera-responses', async (tenantId) => (asked.push(tenantId), doc));
      const theirs = storedTurn('globex', 'Our Q3 numbers');
      ddb.on(GetCommand).resolves({}); // acme's partition holds no such response
      const e = await rejected(resolveItemReferences([ref(outputOf(theirs)[0].id)], (id) => store.get('acme', id)));
      expect(e).toMatchObject({ param: 'input[0].id', code: 'item_not_found' });
      expect(asked).toEqual(['acme']);
      expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: theirs.responseId }, ConsistentRead: true }]);
      // acme's own stored response resolves through the same read
      const mine = storedTurn('acme', 'Hei!');
      ddb.on(GetCommand).resolves({ Item: { tenantId: 'acme', responseId: mine.responseId, expiresAt: mine.expiresAt, body: encodeStoredBody(mine) } });
      expect(await resolveItemReferences([ref(outputOf(mine)[0].id)], (id) => store.get('acme', id))).toEqual([outputOf(mine)[0]]);
    } finally {
      ddb.restore();
    }
  });
});

describe('the not-found message quotes the id printable', () => {
  it('control characters in the id are written as escapes', () => {
    const e = new ItemNotFoundError('msg_a\nb\u0000c\u007f', 2, true);
    expect(e.message).toContain("Item with id 'msg_a\\nb\\u0000c\\u007f' not found (input[2].id)");
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
