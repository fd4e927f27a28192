import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { DynamoDbConversationStore } from '../../../lambdas/inference/stores/dynamodb-conversation-store.js';
import type { ConversationStore } from '../../../lambdas/inference/stores/conversation-store.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { tempDir } from '../../support/temp-dirs.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from '../support/moto-server.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The Conversations API as a careless or hostile tenant developer uses it, through the official
 * clients (openai 7.55 for Node, 3.57 for Python), on `tessera serve` with the memory store and with
 * the DynamoDB store (moto): item ids no store can keep, and an item that is not an object (named
 * `items[i]`, not `input[i]`).
 */
const TENANTS: TenantRecord[] = [
  plainTenant('acme'),
  plainTenant('screened', { guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: true } }),
];
const MODEL = 'openai-compatible/default';

let moto: MotoServer;
let upstream: FakeUpstream;
beforeAll(async () => {
  [upstream, moto] = await Promise.all([new FakeUpstream().start(), startMoto({ serial: true })]);
  pointSdkAtMoto(moto);
  await createResponsesTable('tessera-conv-hostile');
});
afterAll(async () => {
  await upstream?.stop();
  await moto?.stop();
});
beforeEach(() => upstream.reset());

const STORES: Array<{ name: string; make: () => ConversationStore | undefined }> = [
  { name: "tessera serve's default store (memory)", make: () => undefined },
  { name: 'DynamoDB store on the responses table (moto)', make: () => new DynamoDbConversationStore('tessera-conv-hostile', unscopedDocumentClient()) },
];

const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
const chatRequests = () => upstream.requests.filter((r) => Array.isArray(r.messages));
const user = (content: string, id?: string) => ({ type: 'message' as const, role: 'user' as const, content, ...(id ? { id } : {}) });

describe.each(STORES)('conversations, hostile: $name', ({ make }) => {
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  let acme: OpenAI;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    const store = make();
    gw = await serveGateway(conformanceConfig(), upstream.url, TENANTS, store ? { conversations: store } : {});
    tokens = Object.fromEntries(await Promise.all(TENANTS.map(async (t) => [t.tenantId, await gw.token(t.tenantId)] as const)));
    acme = nodeClient(gw.url, tokens.acme);
  });
  afterAll(async () => gw?.stop());

  it('an item id longer than 256 characters is a 400 naming it (items.create, create, responses.create before the model is asked); an after that long a 400 naming after', async () => {
    const conv = await acme.conversations.create({ items: [user('Hello')] });
    for (const length of [300, 1_100]) {
      const id = `msg_${'a'.repeat(length)}`;
      const added = await failure(acme.conversations.items.create(conv.id, { items: [user('x'), user('y', id)] }));
      expect([added.status, (added.error as any).param, (added.error as any).code]).toEqual([400, 'items[1].id', 'invalid_value']);
      const created = await failure(acme.conversations.create({ items: [user('x', id)] }));
      expect([created.status, (created.error as any).param]).toEqual([400, 'items[0].id']);
      const before = chatRequests().length;
      const turn = await failure(acme.responses.create({ model: MODEL, conversation: conv.id, input: [user('z', id)] } as never));
      expect([turn.status, (turn.error as any).param, (turn.error as any).code]).toEqual([400, 'input[0].id', 'invalid_value']);
      expect(chatRequests().length).toBe(before);
    }
    const after = await failure(acme.conversations.items.list(conv.id, { after: `msg_${'b'.repeat(2_000)}` }));
    expect([after.status, (after.error as any).param]).toEqual([400, 'after']);
    // nothing was added; an id of 256 characters is kept, retrieved and deleted
    expect((await acme.conversations.items.list(conv.id)).data).toHaveLength(1);
    const longest = `msg_${'c'.repeat(252)}`;
    await acme.conversations.items.create(conv.id, { items: [user('kept', longest)] });
    expect(await acme.conversations.items.retrieve(longest, { conversation_id: conv.id })).toMatchObject({ id: longest });
    expect(await acme.conversations.items.delete(longest, { conversation_id: conv.id })).toMatchObject({ id: conv.id });
  });

  it('an item that is not an object is a 400 naming items[i], not input[i]', async () => {
    const conv = await acme.conversations.create({});
    for (const item of ['hello', null, 42]) {
      const e = await failure(acme.conversations.items.create(conv.id, { items: [user('ok'), item as never] }));
      expect([e.status, (e.error as any).param, (e.error as any).message]).toEqual([400, 'items[1]', expect.stringMatching(/^items\[1\] must be an object/)]);
    }
    const e = await failure(acme.conversations.create({ items: ['hello' as never] }));
    expect((e.error as any).param).toBe('items[0]');
  });

  it('the Python client (openai 3.57): a too-long item id is a 400 naming the field', async () => {
    const dir = tempDir('tessera-conv-hostile-py-');
    const script = join(dir, 'hostile.py');
    writeFileSync(script, PYTHON_SCRIPT);
    const { stdout } = await promisify(execFile)(join(process.cwd(), '.venv/bin/python'), [script, gw.url, tokens.acme, tokens.screened], { timeout: 25_000 });
    const out = JSON.parse(stdout);
    expect(out.long_id).toEqual({ status: 400, param: 'items[0].id' });
    expect(out.long_input_id).toEqual({ status: 400, param: 'input[0].id' });
  });
});

const PYTHON_SCRIPT = String.raw`
import json, sys
from openai import OpenAI, BadRequestError
acme = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
screened = OpenAI(base_url=sys.argv[1], api_key=sys.argv[3], max_retries=0)
out = {}
conv = acme.conversations.create()
long_id = "msg_" + "x" * 500
try:
    acme.conversations.items.create(conv.id, items=[{"type": "message", "role": "user", "content": "x", "id": long_id}])
except BadRequestError as e:
    out["long_id"] = {"status": e.status_code, "param": e.body.get("param")}
try:
    acme.responses.create(model="openai-compatible/default", conversation=conv.id, input=[{"type": "message", "role": "user", "content": "x", "id": long_id}])
except BadRequestError as e:
    out["long_input_id"] = {"status": e.status_code, "param": e.body.get("param")}
print(json.dumps(out))
`;
