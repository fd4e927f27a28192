import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import type { ConversationItem } from '../../../lambdas/inference/stores/conversation-store.js';
import { MemoryConversationStore } from '../../../lambdas/inference/stores/memory-conversation-store.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import { conversationHarness, failure } from './conversation-harness.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * OpenAI's Conversations API on `tessera serve`, through the official clients (openai 7.55 for
 * Node, openai 3.57 for Python): the conversation routes (create, retrieve, update, delete; items
 * create, list with after/limit/order paging, retrieve, delete), their 400s and 404s in OpenAI's
 * shape, `conversation` on /v1/responses (the items before the input, the turn's input and output
 * added after the answer, whole and streamed, a tool loop included), and tenancy (another tenant's
 * conversation answers as one that exists nowhere). On serve's default store (files under its state
 * dir, kept across a restart) and the DynamoDB store on the responses table in moto.
 */
const TENANTS: TenantRecord[] = [plainTenant('acme'), plainTenant('globex'), plainTenant('nostore', { storeResponses: false })];
const MODEL = 'openai-compatible/default';
const TOOLS = [{ type: 'function' as const, name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }];

const { env, stores: STORES, chatRequests } = conversationHarness('tessera-conv-responses');
beforeEach(() => {
  env.upstream.reset();
  env.upstream.callTools = false;
});

describe.each(STORES)('conversations: $name', ({ name, make }) => {
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  let acme: OpenAI;
  let globex: OpenAI;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    const store = make();
    gw = await serveGateway(conformanceConfig(), env.upstream.url, TENANTS, store ? { conversations: store } : {});
    tokens = Object.fromEntries(await Promise.all(TENANTS.map(async (t) => [t.tenantId, await gw.token(t.tenantId)] as const)));
    acme = nodeClient(gw.url, tokens.acme);
    globex = nodeClient(gw.url, tokens.globex);
  });
  afterAll(async () => gw?.stop());

  it('create, retrieve, update, items create/list/retrieve/delete and delete, as the Node client types them', async () => {
    const conv = await acme.conversations.create({ metadata: { topic: 'demo' }, items: [{ type: 'message', role: 'user', content: 'Hello!' }] });
    expect(conv).toMatchObject({ id: expect.stringMatching(/^conv_[0-9a-f]{48}$/), object: 'conversation', created_at: expect.any(Number), metadata: { topic: 'demo' } });
    expect(await acme.conversations.retrieve(conv.id)).toEqual(conv);
    expect(await acme.conversations.update(conv.id, { metadata: { topic: 'renamed' } })).toMatchObject({ id: conv.id, metadata: { topic: 'renamed' } });

    const added = await acme.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'assistant', content: 'Hi there' }, { type: 'message', role: 'user', content: 'How are you?' }] });
    expect(added).toMatchObject({ object: 'list', has_more: false, data: [{ type: 'message', role: 'assistant' }, { type: 'message', role: 'user' }] });
    expect(added.first_id).toBe((added.data[0] as any).id);

    // desc by default: the last item first
    const page = await acme.conversations.items.list(conv.id);
    expect(page.data.map((i: any) => i.content[0].text)).toEqual(['How are you?', 'Hi there', 'Hello!']);
    expect(page.data[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'How are you?' }] });
    // asc, one at a time: the client's auto-pagination follows `after` = last_id
    const texts: string[] = [];
    for await (const item of acme.conversations.items.list(conv.id, { order: 'asc', limit: 1 })) texts.push((item as any).content[0].text);
    expect(texts).toEqual(['Hello!', 'Hi there', 'How are you?']);
    const first = await acme.conversations.items.list(conv.id, { order: 'asc', limit: 2 });
    expect(first.has_more).toBe(true);
    const next = await acme.conversations.items.list(conv.id, { order: 'asc', limit: 2, after: first.data[1]!.id });
    expect(next.data.map((i: any) => i.content[0].text)).toEqual(['How are you?']);
    expect(next.has_more).toBe(false);
    // desc after an item: the ones before it, newest first
    const newest = await acme.conversations.items.list(conv.id, { limit: 1 });
    expect(newest.has_more).toBe(true);
    const older = await acme.conversations.items.list(conv.id, { after: newest.data[0]!.id!, limit: 5 });
    expect(older.data.map((i: any) => i.content[0].text)).toEqual(['Hi there', 'Hello!']);
    expect(older.has_more).toBe(false);

    const one = await acme.conversations.items.retrieve((added.data[0] as any).id, { conversation_id: conv.id });
    expect(one).toEqual(added.data[0]);
    expect(await acme.conversations.items.delete((added.data[0] as any).id, { conversation_id: conv.id })).toMatchObject({ id: conv.id, object: 'conversation' });
    expect((await failure(acme.conversations.items.retrieve((added.data[0] as any).id, { conversation_id: conv.id }))).status).toBe(404);
    expect((await acme.conversations.items.list(conv.id)).data).toHaveLength(2);

    expect(await acme.conversations.delete(conv.id)).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    const gone = await failure(acme.conversations.retrieve(conv.id));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone.error).toMatchObject({ type: 'invalid_request_error', code: 'conversation_not_found', message: expect.stringContaining(`Conversation with id '${conv.id}' not found`) });
    expect((await failure(acme.conversations.items.list(conv.id))).status).toBe(404);
  });

  it("parts sent without a field OpenAI's answer types require are listed with it: an input_image's detail 'auto', an output_text's annotations []", async () => {
    // A user image without `detail` (OpenAI's default: auto) and an assistant turn replayed as an output_text without
    // `annotations`, both accepted by OpenAI as input; ResponseInputImage.detail and ResponseOutputText.annotations are
    // required in the answer, which an app reads (`part.annotations.length`) without a guard.
    const image = { type: 'input_image', image_url: 'https://example.com/cat.png' } as any; // the Node type requires detail; the API does not
    const replayed = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A cat.' }] } as const;
    const conv = await acme.conversations.create({ items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, image] }] });
    // A tool's answer with an image: ResponseFunctionToolCallOutputItem.output's ResponseInputImage requires detail too.
    const toolTurn = [{ type: 'function_call', call_id: 'call_img', name: 'draw', arguments: '{}' }, { type: 'function_call_output', call_id: 'call_img', output: [image] }];
    const added = await acme.conversations.items.create(conv.id, { items: [replayed as any, ...(toolTurn as any[])] });
    const shownImage = { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' };
    const shownText = { type: 'output_text', text: 'A cat.', annotations: [] };
    expect((added.data[0] as any).content).toEqual([shownText]);
    expect((added.data[2] as any).output).toEqual([shownImage]);
    const listed = (await acme.conversations.items.list(conv.id, { order: 'asc' })).data as any[];
    expect(listed.map((i) => i.content ?? i.output ?? i.arguments)).toEqual([[{ type: 'input_text', text: 'What is this?' }, shownImage], [shownText], '{}', [shownImage]]);
    expect((await acme.conversations.items.retrieve(listed[1].id, { conversation_id: conv.id }) as any).content).toEqual([shownText]);
    // A response's input items, the same parts: the same answer.
    const response = await acme.responses.create({ model: MODEL, input: [{ role: 'user', content: [image] }, replayed as any, { role: 'user', content: 'And now?' }] });
    const items = (await acme.responses.inputItems.list(response.id, { order: 'asc' })).data as any[];
    expect(items.map((i) => i.content[0])).toEqual([shownImage, shownText, { type: 'input_text', text: 'And now?' }]);
    // The upstream was sent the image as it came (no detail added) and the replayed turn's text.
    const sent = chatRequests().at(-1)!.messages;
    expect(sent[0].content).toEqual([{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }]);
    expect(sent[1]).toMatchObject({ role: 'assistant', content: 'A cat.' });
  });

  // Only the file store is serve's own to keep across a restart: the DynamoDB store's items are the table's.
  if (name.startsWith("tessera serve's default")) it('kept across a restart of serve on the same state dir, as stored responses are', async () => {
    const conv = await acme.conversations.create({ metadata: { kept: 'yes' }, items: [{ type: 'message', role: 'user', content: 'Remember me.' }] });
    await acme.responses.create({ model: MODEL, conversation: conv.id, input: 'And this.' });
    const again = await serveGateway(conformanceConfig(), env.upstream.url, TENANTS, { stateDir: gw.stateDir });
    try {
      const client = nodeClient(again.url, await again.token('acme'));
      expect(await client.conversations.retrieve(conv.id)).toEqual(conv);
      const texts = ((await client.conversations.items.list(conv.id, { order: 'asc' })).data as any[]).map((i) => i.content[0].text);
      expect(texts).toEqual(['Remember me.', 'And this.', expect.stringContaining('And this.')]);
    } finally {
      await again.stop();
    }
  });

  it('400s name the field: limit, order, after, metadata, items', async () => {
    const conv = await acme.conversations.create({});
    expect(conv.metadata).toEqual({});
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => acme.conversations.items.list(conv.id, { limit: 0 }), 'limit'],
      [() => acme.conversations.items.list(conv.id, { limit: 101 }), 'limit'],
      [() => acme.conversations.items.list(conv.id, { order: 'sideways' as never }), 'order'],
      [() => acme.conversations.items.list(conv.id, { after: 'msg_nowhere' }), 'after'],
      [() => acme.conversations.create({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }), 'metadata'],
      [() => acme.conversations.create({ metadata: { ['k'.repeat(65)]: 'v' } }), 'metadata'],
      [() => acme.conversations.update(conv.id, { metadata: { k: 'v'.repeat(513) } }), 'metadata'],
      [() => acme.conversations.create({ items: Array.from({ length: 21 }, () => ({ type: 'message' as const, role: 'user' as const, content: 'x' })) }), 'items'],
      [() => acme.conversations.items.create(conv.id, { items: [{ type: 'mcp_call' } as never] }), 'items[0].type'],
      // an item that is not an object, and one /v1/responses could not read later: named under items, not input
      [() => acme.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'user', content: 'ok' }, 'hello' as never] }), 'items[1]'],
      [() => acme.conversations.create({ items: [{ type: 'message', role: 'user', content: [{ type: 'input_text' }] } as never] }), 'items[0].content[0].text'],
    ];
    for (const [call, param] of cases) {
      const e = await failure(call());
      expect(e.status, param).toBe(400);
      // metadata's param names the key (`metadata.k`), as the Responses API's metadata does
      expect((e.error as any).param === param || (e.error as any).param.startsWith(`${param}.`), `${param}: ${(e.error as any).param}`).toBe(true);
      expect((e.error as any).message, param).not.toContain('input[');
    }
    expect((await failure(acme.conversations.retrieve('conv_nowhere'))).status).toBe(404);
  });

  it.each([false, true])('responses with conversation: the items come first, the turn is added after the answer (streamed %s)', async (streamed) => {
    const conv = await acme.conversations.create({ items: [{ type: 'message', role: 'user', content: 'My name is Ada.' }] });
    const answer = async (params: Record<string, unknown>) => {
      if (!streamed) return acme.responses.create({ model: MODEL, conversation: conv.id, ...params } as never) as Promise<any>;
      const stream = acme.responses.stream({ model: MODEL, conversation: { id: conv.id }, ...params } as never);
      for await (const _ of stream) void _;
      return stream.finalResponse() as Promise<any>;
    };
    const first = await answer({ input: 'What is my name?' });
    expect(first.conversation).toEqual({ id: conv.id });
    // the conversation's item as it is listed (an input_text part), then the input as sent
    expect(chatRequests().at(-1)!.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'My name is Ada.' }] }, { role: 'user', content: 'What is my name?' }]);
    const items = (await acme.conversations.items.list(conv.id, { order: 'asc' })).data as any[];
    expect(items.map((i) => [i.type, i.role])).toEqual([['message', 'user'], ['message', 'user'], ['message', 'assistant']]);
    expect(items[2].id).toBe(first.output[0].id);

    // a tool loop: the call, then its output in the next turn, each added
    env.upstream.callTools = true;
    const call = await answer({ input: 'Weather in Oslo?', tools: TOOLS });
    const fc = call.output.find((o: any) => o.type === 'function_call');
    expect(fc).toBeDefined();
    const done = await answer({ input: [{ type: 'function_call_output', call_id: fc.call_id, output: '{"temp_c":3}' }], tools: TOOLS });
    expect(done.output_text).toContain('the tool answered');
    const messages = chatRequests().at(-1)!.messages;
    expect(messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: fc.call_id }] });
    expect(messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: fc.call_id });
    const all = (await acme.conversations.items.list(conv.id, { order: 'asc', limit: 100 })).data as any[];
    expect(all.map((i) => i.type)).toEqual(['message', 'message', 'message', 'message', 'function_call', 'function_call_output', 'message']);
  });

  it('an input item too large for the conversation to keep is a 400 naming it, before anything reaches the upstream', async () => {
    const conv = await acme.conversations.create({});
    const before = chatRequests().length;
    const big = randomBytes(400 * 1024).toString('base64'); // ~550 KB of text that compresses to ~410 KB: over the 390 KiB an item may take
    const e = await failure(acme.responses.create({ model: MODEL, conversation: conv.id, input: [{ type: 'message', role: 'user', content: 'Hi' }, { type: 'message', role: 'user', content: big }] } as never));
    expect(e.status).toBe(400);
    expect(e.error).toMatchObject({ param: 'input[1]', code: 'item_too_large' });
    expect(chatRequests().length).toBe(before);
    expect((await acme.conversations.items.list(conv.id)).data).toEqual([]);
  });

  it("conversation with previous_response_id is OpenAI's 400; an unknown or another tenant's conversation a 404 naming conversation; nothing reaches the upstream", async () => {
    const theirs = await globex.conversations.create({ items: [{ type: 'message', role: 'user', content: 'Our secret plan.' }], metadata: { owner: 'globex' } });
    const before = chatRequests().length;
    const both = await failure(acme.responses.create({ model: MODEL, input: 'Hi', conversation: theirs.id, previous_response_id: 'resp_x' } as never));
    expect(both.status).toBe(400);
    expect(both.error).toMatchObject({ code: 'mutually_exclusive_parameters', message: expect.stringContaining("Ensure you are only providing one of: 'previous_response_id' or 'conversation'") });
    for (const id of [theirs.id, 'conv_nowhere']) {
      const e = await failure(acme.responses.create({ model: MODEL, input: 'Hi', conversation: id } as never));
      expect(e.status).toBe(404);
      expect(e.error).toMatchObject({ param: 'conversation', code: 'conversation_not_found' });
    }
    expect(chatRequests().length).toBe(before);
    const item = (await globex.conversations.items.list(theirs.id)).data[0] as any;
    // every route: another tenant's id answers as an id that exists nowhere (status, code; the message names only the id)
    const nowhere = 'conv_' + '0'.repeat(48);
    const calls = (id: string, itemId: string) => [
      () => acme.conversations.retrieve(id), () => acme.conversations.update(id, { metadata: { x: 'y' } }),
      () => acme.conversations.items.list(id), () => acme.conversations.items.create(id, { items: [{ type: 'message', role: 'user', content: 'x' }] }),
      () => acme.conversations.items.retrieve(itemId, { conversation_id: id }), () => acme.conversations.items.delete(itemId, { conversation_id: id }),
      () => acme.conversations.delete(id),
    ];
    const theirsCalls = calls(theirs.id, item.id);
    const nowhereCalls = calls(nowhere, item.id);
    for (const [i, call] of theirsCalls.entries()) {
      const [a, b] = [await failure(call()), await failure(nowhereCalls[i]!())];
      expect([a.status, (a.error as any).code, (a.error as any).param]).toEqual([b.status, (b.error as any).code, (b.error as any).param]);
      expect((a.error as any).message.replace(theirs.id, 'ID')).toBe((b.error as any).message.replace(nowhere, 'ID'));
    }
    // globex's conversation is untouched
    expect(await globex.conversations.retrieve(theirs.id)).toMatchObject({ metadata: { owner: 'globex' } });
    expect((await globex.conversations.items.list(theirs.id)).data).toHaveLength(1);
  });

  it("a tenant whose policy forbids storage cannot create a conversation or use one: 400 store_not_allowed", async () => {
    const nostore = nodeClient(gw.url, tokens.nostore);
    expect((await failure(nostore.conversations.create({}))).error).toMatchObject({ code: 'store_not_allowed' });
    expect((await failure(nostore.responses.create({ model: MODEL, input: 'Hi', conversation: 'conv_x' } as never))).error).toMatchObject({ code: 'store_not_allowed', param: 'conversation' });
  });

  it('the Python client (openai 3.57): conversations.*, conversations.items.* and responses.create(conversation=…)', async () => {
    const { stdout } = await runPythonCode(PYTHON_SCRIPT, [gw.url, tokens.acme]);
    const out = JSON.parse(stdout);
    expect(out.created).toMatchObject({ object: 'conversation', metadata: { who: 'py' } });
    expect(out.asc).toEqual(['Hi from Python', 'echo: Hi from Python', 'Again', 'echo: Again']);
    expect(out.response_conversation).toEqual({ id: out.created.id });
    expect(out.paged).toEqual(out.asc);
    expect(out.deleted).toMatchObject({ deleted: true, object: 'conversation.deleted' });
    expect(out.not_found).toEqual({ status: 404, type: 'NotFoundError' });
    expect(out.bad_order).toMatchObject({ status: 400, param: 'order' });
  });

  it("the Python Agents SDK's OpenAIConversationsSession: two runs, a tool loop, the history from the conversation", async () => {
    env.upstream.callTools = true;
    const { stdout } = await runPythonCode(AGENTS_SCRIPT, [gw.url, tokens.acme]);
    const out = JSON.parse(stdout);
    expect(out.first).toContain('the tool answered');
    expect(out.calls).toEqual(['Oslo']);
    // the session's items, as the SDK added them: each run's input, the call, its output and the answer
    expect(out.types).toEqual(['message', 'function_call', 'function_call_output', 'message', 'message', 'message']);
    // the second run sent the conversation's items before its input
    const messages = chatRequests().at(-1)!.messages;
    expect(messages.map((m: any) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
  });
});

/** A store on which the conversation is deleted between the answer and the write of its turn, as a concurrent DELETE would. */
class DeletedMeanwhile extends MemoryConversationStore {
  override async append(tenantId: string, conversationId: string, items: ConversationItem[]): Promise<boolean> {
    await this.delete(tenantId, conversationId);
    return super.append(tenantId, conversationId, items);
  }
}

describe('conversation_not_updated: answered, but the turn could not be added to the conversation', () => {
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  let acme: OpenAI;
  beforeAll(async () => {
    gw = await serveGateway(conformanceConfig(), env.upstream.url, TENANTS, { conversations: new DeletedMeanwhile() });
    acme = nodeClient(gw.url, await gw.token('acme'));
  });
  afterAll(async () => gw?.stop());

  it.each([false, true])('the answer is served (streamed %s) with conversation: null, stored so, and audited as conversation_not_updated', async (streamed) => {
    const conv = await acme.conversations.create({ items: [{ type: 'message', role: 'user', content: 'Hello.' }] });
    const params = { model: MODEL, conversation: conv.id, input: 'Still there?' };
    let response: any;
    let completed: any;
    if (!streamed) response = await acme.responses.create(params as never);
    else {
      const stream = acme.responses.stream(params as never);
      for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
      response = await stream.finalResponse();
      expect(completed.conversation).toBeNull();
    }
    // answered in full, but it does not claim a conversation that does not hold it
    expect(response).toMatchObject({ status: 'completed', output_text: expect.stringContaining('Still there?'), conversation: null });
    expect((await acme.responses.retrieve(response.id) as any).conversation).toBeNull();
    expect((await failure(acme.conversations.retrieve(conv.id))).status).toBe(404);
    await gw.settled();
    const record = gw.audit.records.find((r) => r.action === 'response.create' && r.detail?.responseId === response.id);
    expect(record).toMatchObject({ status: 200, outcome: 'conversation_not_updated', detail: { conversationId: conv.id } });
  });
});

const AGENTS_SCRIPT = String.raw`
import asyncio, json, sys
from openai import AsyncOpenAI
from agents import Agent, OpenAIConversationsSession, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
set_tracing_disabled(True)
calls = []

@function_tool
def get_weather(city: str) -> str:
    'Current weather in a city.'
    calls.append(city)
    return json.dumps({"city": city, "temp_c": 3})

async def main():
    client = AsyncOpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0, timeout=20)
    agent = Agent(name="Weather agent", instructions="Use the weather tool.", tools=[get_weather], model=OpenAIResponsesModel(model="openai-compatible/default", openai_client=client))
    session = OpenAIConversationsSession(openai_client=client)
    first = await Runner.run(agent, "Oslo", session=session)
    second = await Runner.run(agent.clone(tools=[]), "Thanks!", session=session)
    items = await session.get_items()
    print(json.dumps({"first": first.final_output, "second": second.final_output, "calls": calls, "types": [i.get("type", "message") for i in items]}))
    await client.close()

asyncio.run(main())
`;

const PYTHON_SCRIPT = String.raw`
import json, sys
from openai import OpenAI, APIStatusError
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
conv = client.conversations.create(metadata={"who": "py"}, items=[{"type": "message", "role": "user", "content": "Hi from Python"}])
r1 = client.responses.create(model="openai-compatible/default", conversation=conv.id, input=[])
r2 = client.responses.create(model="openai-compatible/default", conversation={"id": conv.id}, input="Again")
def text(i):
    return i.content[0].text
asc = [text(i) for i in client.conversations.items.list(conv.id, order="asc").data]
paged = [text(i) for i in client.conversations.items.list(conv.id, order="asc", limit=1)]
out = {"created": conv.model_dump(), "asc": asc, "paged": paged, "response_conversation": r2.conversation.model_dump() if r2.conversation else None}
try:
    client.conversations.items.list(conv.id, order="sideways")
except APIStatusError as e:
    out["bad_order"] = {"status": e.status_code, "param": e.body.get("param") if isinstance(e.body, dict) else None}
out["deleted"] = client.conversations.delete(conv.id).model_dump()
try:
    client.conversations.retrieve(conv.id)
except APIStatusError as e:
    out["not_found"] = {"status": e.status_code, "type": type(e).__name__}
print(json.dumps(out))
`;
