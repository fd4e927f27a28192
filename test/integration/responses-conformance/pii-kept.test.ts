import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * What `tessera serve` keeps under a tenant's `guardrails.redactPii` (docs/gateway.md, "What the gateway keeps"): a
 * stored Response's input items and echoed instructions, a conversation's items, a background response's queued
 * request and a stored chat completion's messages hold what the upstream was sent (`[EMAIL]`), read back through the
 * API and in the state directory's files themselves; a chained turn (`previous_response_id`, `conversation`) sends the
 * model the same redacted history, and the PII is noted in the audit record once, where it was redacted.
 */
const EMAIL = 'ada.lovelace@example.com';
const PHONE = '(415) 555-0134';
const CARD = '4111 1111 1111 1111';
const RAW = [EMAIL, PHONE, CARD, '4111111111111111', 'lovelace'];

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const tenant = plainTenant('acme', { guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: false } });
  gw = await serveGateway(conformanceConfig(), upstream.url, [tenant], { background: { pollMs: 50 } });
  token = await gw.token('acme');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const MODEL = 'openai-compatible/default';
const client = () => nodeClient(gw.url, token);

/**
 * Every file under the state directory as text (those whose path holds `only`, when given): gzipped files unzipped,
 * base64 gzip inside JSON (`H4sI…`) too.
 */
function stateText(dir = gw.stateDir, only = ''): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out += stateText(path, only);
      continue;
    }
    if (!path.includes(only)) continue;
    const bytes = readFileSync(path);
    const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
    out += `${path}\n${text}\n`;
    for (const b64 of text.match(/H4sI[A-Za-z0-9+/=]+/g) ?? []) out += `${gunzipSync(Buffer.from(b64, 'base64')).toString('utf8')}\n`;
  }
  return out;
}

const expectNoRaw = (text: string) => {
  for (const raw of RAW) expect(text, `${raw} kept`).not.toContain(raw);
};
/** A chat message's text, its content a string or text parts. */
const textOf = (m: any): string => (typeof m.content === 'string' ? m.content : m.content.map((p: any) => p.text).join(''));
const records = (action: string) => gw.audit.records.filter((r) => r.action === action);

describe('PII redaction: what tessera serve keeps', () => {
  it('a stored Response keeps its input items and instructions redacted; a chained turn sends the model the same history, noted once', async () => {
    const input = [
      { type: 'message' as const, role: 'user' as const, content: `Write to ${EMAIL} or call ${PHONE}; card ${CARD}.` },
      { type: 'function_call' as const, call_id: 'call_1', name: 'lookup', arguments: JSON.stringify({ email: EMAIL, card: 4111111111111111 }) },
      { type: 'function_call_output' as const, call_id: 'call_1', output: `owner: ${EMAIL}` },
    ];
    const first = await client().responses.create({ model: MODEL, instructions: `Sign as ${EMAIL}.`, input });
    const sent = upstream.requests[0].messages;
    expect(JSON.stringify(sent)).toContain('[EMAIL]');
    expectNoRaw(JSON.stringify(sent));

    // The input items read back: what the model was sent, ids, order and types unchanged.
    const items = (await client().responses.inputItems.list(first.id, { order: 'asc' })).data as any[];
    expect(items.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output']);
    expect(items[0].content[0].text).toBe('Write to [EMAIL] or call [PHONE]; card [CREDIT_CARD].');
    expect(JSON.parse(items[1].arguments)).toEqual({ email: '[EMAIL]', card: '[CREDIT_CARD]' });
    expect(items[2].output).toBe('owner: [EMAIL]');
    expect(items[0].content[0].text).toBe(sent.find((m: any) => m.role === 'user').content);
    expect(first.instructions).toBe('Sign as [EMAIL].');
    expect((await client().responses.retrieve(first.id)).instructions).toBe('Sign as [EMAIL].');
    expectNoRaw(stateText());
    expect(records('response.create').at(-1)!.piiRedacted).toEqual(expect.arrayContaining(['EMAIL', 'PHONE', 'CREDIT_CARD']));

    // The chained turn: the model gets the first turn as it was sent, and the audit record notes no PII again.
    await client().responses.create({ model: MODEL, previous_response_id: first.id, input: 'And again?' });
    const again = upstream.requests[1].messages;
    expect(again.slice(0, sent.length - 1)).toEqual(sent.filter((m: any) => m.role !== 'system'));
    expect(records('response.create').at(-1)!.piiRedacted).toBeUndefined();
    expectNoRaw(stateText());
  });

  it("a conversation keeps its items redacted (added by conversations.create, items.create and a turn); the next turn's history is what was sent, noted once", async () => {
    const conv = await client().conversations.create({ items: [{ type: 'message', role: 'user', content: `I am Ada, ${EMAIL}.` }] });
    expect(records('conversation.create').at(-1)!.piiRedacted).toEqual(['EMAIL']);
    const added = await client().conversations.items.create(conv.id, { items: [{ type: 'message', role: 'user', content: `My phone is ${PHONE}.` }] });
    expect((added.data[0] as any).content[0].text).toBe('My phone is [PHONE].');

    await client().responses.create({ model: MODEL, conversation: conv.id, input: `My card is ${CARD}.` });
    const first = upstream.requests[0].messages.filter((m: any) => m.role !== 'system');
    expect(first.map(textOf)).toEqual(['I am Ada, [EMAIL].', 'My phone is [PHONE].', 'My card is [CREDIT_CARD].']);
    expect(records('response.create').at(-1)!.piiRedacted).toEqual(['CREDIT_CARD']); // not EMAIL, PHONE again

    const texts: string[] = [];
    for await (const item of client().conversations.items.list(conv.id, { order: 'asc' })) texts.push((item as any).content[0].text);
    expect(texts.slice(0, 3)).toEqual(['I am Ada, [EMAIL].', 'My phone is [PHONE].', 'My card is [CREDIT_CARD].']);
    expectNoRaw(stateText());

    await client().responses.create({ model: MODEL, conversation: conv.id, input: 'Thanks.' });
    const next = upstream.requests[1].messages.filter((m: any) => m.role !== 'system');
    expect(next.slice(0, first.length).map(textOf)).toEqual(first.map(textOf)); // the history's texts, as the model was sent them
    expect(records('response.create').at(-1)!.piiRedacted).toBeUndefined();
  });

  it('a background response keeps its queued request redacted while it waits and runs; the run sends what a foreground request would', async () => {
    upstream.delayMs = 500;
    const created = await client().responses.create({ model: MODEL, input: `Remind ${EMAIL} at ${PHONE}.`, background: true });
    await upstream.received(1);
    // In progress: the job (its request) is still kept beside the response.
    expectNoRaw(stateText());
    expect(stateText()).toContain('Remind [EMAIL] at [PHONE].');
    for (;;) {
      const r = await client().responses.retrieve(created.id);
      if (!['queued', 'in_progress'].includes(r.status!)) break;
      await new Promise((ok) => setTimeout(ok, 20));
    }
    upstream.delayMs = 0;
    expect(upstream.requests[0].messages.at(-1).content).toBe('Remind [EMAIL] at [PHONE].');
    const items = (await client().responses.inputItems.list(created.id)).data as any[];
    expect(items[0].content[0].text).toBe('Remind [EMAIL] at [PHONE].');
    const audit = records('response.create').filter((r) => r.detail?.responseId === created.id);
    expect(audit.map((r) => r.piiRedacted)).toEqual([['EMAIL', 'PHONE'], undefined]); // the create's, then the run's
    expectNoRaw(stateText());
  });

  it('a stored chat completion keeps its messages as sent upstream (redacted) and its answer as answered', async () => {
    const answer = await client().chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: `Card ${CARD}, mail ${EMAIL}.` }] });
    expect(upstream.requests[0].messages.at(-1).content).toBe('Card [CREDIT_CARD], mail [EMAIL].');
    const messages = (await client().chat.completions.messages.list(answer.id)).data;
    expect(messages[0].content).toBe('Card [CREDIT_CARD], mail [EMAIL].');
    expect((await client().chat.completions.retrieve(answer.id)).choices[0].message.content).toBe(answer.choices[0].message.content);
    const kept = stateText(gw.stateDir, answer.id);
    expect(kept).toContain('Card [CREDIT_CARD], mail [EMAIL].');
    expectNoRaw(kept);
  });
});
