import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand, type ConverseRequest } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { applyGuardrailRefusal, converseRefusal, invokeModelRefusal, mockBedrockRuntime } from '../../../support/bedrock-strict.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
afterAll(() => bedrock.restore());

const MODEL = 'amazon.nova-lite-v1:0';
const user = (text = 'hi') => ({ role: 'user' as const, content: [{ text }] });
const ok: ConverseRequest = { modelId: MODEL, messages: [user()] };
const toolConfig = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }] };
const call = (toolUseId: string, name = 'get_weather') => ({ role: 'assistant' as const, content: [{ toolUse: { toolUseId, name, input: {} } }] });
const result = (toolUseId: string) => ({ role: 'user' as const, content: [{ toolResult: { toolUseId, content: [{ text: '3 °C' }] } }] });

describe('the strict Bedrock mock (test/support/bedrock-strict.ts)', () => {
  it('takes a request Bedrock takes', () => {
    expect(converseRefusal(ok)).toBeUndefined();
    expect(converseRefusal({ ...ok, messages: [user(), call('toolu_01-a_b'), result('toolu_01-a_b')], toolConfig })).toBeUndefined();
    expect(converseRefusal({ ...ok, messages: [user(), { role: 'assistant', content: [{ text: 'x' }] }, { role: 'user', content: [{ document: { name: 'report (final) [v2]', format: 'pdf', source: { bytes: new Uint8Array([1]) } } }] }] })).toBeUndefined();
  });

  it.each<[string, Partial<ConverseRequest>, RegExp]>([
    ['an assistant turn first', { messages: [{ role: 'assistant', content: [{ text: 'hello' }] }, user()] }, /must start with a user message/],
    ['two user turns in a row', { messages: [user('a'), user('b')] }, /must alternate between user and assistant/],
    ['an empty content list', { messages: [{ role: 'user', content: [] }] }, /messages\.0 is empty/],
    ['blank text', { messages: [user('  ')] }, /ContentBlock object at messages\.0\.content\.0 is blank/],
    ['a toolUseId with . and :', { messages: [user(), call('call.abc:1'), result('call.abc:1')], toolConfig }, /toolUseId: Value 'call\.abc:1'/],
    ['a toolUseId of 65 characters', { messages: [user(), call('c'.repeat(65)), result('c'.repeat(65))], toolConfig }, /toolUseId/],
    ['a tool named server.tool', { toolConfig: { tools: [{ toolSpec: { name: 'server.tool', inputSchema: { json: { type: 'object' } } } }] } }, /toolSpec\.name: Value 'server\.tool'/],
    ['a toolResult answering no toolUse of the previous turn', { messages: [user(), call('a'), result('b')], toolConfig }, /'b' answers no toolUse/],
    ['two toolUse blocks of a turn with one id', { messages: [user(), { role: 'assistant', content: [call('a').content[0], call('a').content[0]] }, { role: 'user', content: [result('a').content[0]] }], toolConfig }, /The toolUse blocks at messages\.1\.content contain duplicate Ids: a/],
    ['two toolResult blocks of a turn with one id', { messages: [user(), { role: 'assistant', content: [call('a').content[0], call('b').content[0]] }, { role: 'user', content: [result('a').content[0], result('a').content[0]] }], toolConfig }, /The toolResult blocks at messages\.2\.content contain duplicate Ids: a/],
    ['more toolResults than toolUses', { messages: [user(), { role: 'assistant', content: [{ text: 'x' }] }, result('a')], toolConfig }, /exceeds the number of toolUse blocks/],
    ['tool blocks without toolConfig', { messages: [user(), call('a'), result('a')] }, /toolConfig field must be defined/],
    ['a document name with a dot', { messages: [{ role: 'user', content: [{ document: { name: 'report.final', format: 'pdf', source: { bytes: new Uint8Array([1]) } } }] }] }, /document\.name/],
    ['a document name with two spaces in a row', { messages: [{ role: 'user', content: [{ document: { name: 'a  b', format: 'pdf', source: { bytes: new Uint8Array([1]) } } }] }] }, /document\.name/],
    ['maxTokens 0', { inferenceConfig: { maxTokens: 0 } }, /maxTokens/],
    ['temperature 1.5', { inferenceConfig: { temperature: 1.5 } }, /temperature/],
    ['an empty stop sequence', { inferenceConfig: { stopSequences: [''] } }, /stopSequences\.0/],
    ['a guardrail version v1', { guardrailConfig: { guardrailIdentifier: 'abc123', guardrailVersion: 'v1' } }, /guardrailVersion/],
    ['17 requestMetadata pairs', { requestMetadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, /between 1 and 16/],
    ['additionalModelRequestFields not an object', { additionalModelRequestFields: [1] as never }, /additionalModelRequestFields/],
  ])('refuses %s', (_, change, message) => {
    expect(converseRefusal({ ...ok, ...change } as ConverseRequest)).toMatch(message);
  });

  it('refuses an InvokeModel body that is not a JSON object', () => {
    expect(invokeModelRefusal({ modelId: MODEL, contentType: 'application/json', body: new TextEncoder().encode('{"inputText":"a"}') })).toBeUndefined();
    expect(invokeModelRefusal({ modelId: MODEL, contentType: 'application/json', body: new TextEncoder().encode('[1]') })).toMatch(/JSON object/);
  });

  it('answers a refused request with the SDK\'s ValidationException instead of the scripted answer, also after reset()', async () => {
    for (const round of [1, 2]) {
      if (round === 2) bedrock.reset();
      bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'scripted' }] } }, stopReason: 'end_turn' } as never);
      const client = new BedrockRuntimeClient({});
      const refused = await client.send(new ConverseCommand({ ...ok, messages: [user('a'), user('b')] })).catch((e: unknown) => e);
      expect(refused, `round ${round}`).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect((refused as Error).message).toMatch(/alternate/);
      expect((await client.send(new ConverseCommand(ok))).output?.message?.content?.[0].text).toBe('scripted');
      expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
      await expect(client.send(new InvokeModelCommand({ modelId: MODEL, contentType: 'application/json', body: new TextEncoder().encode('not json') }))).rejects.toMatchObject({ name: 'ValidationException' });
    }
  });
});

describe('the strict Bedrock mock: ApplyGuardrail (API_runtime_ApplyGuardrail)', () => {
  const ok = { guardrailIdentifier: 'abc123', guardrailVersion: '2', source: 'INPUT' as const, content: [{ text: { text: 'hello' } }] };
  it('takes what ApplyGuardrail takes: an id or an ARN, a version or DRAFT, INPUT or OUTPUT, text and png/jpeg image blocks', () => {
    expect(applyGuardrailRefusal(ok)).toBeUndefined();
    expect(applyGuardrailRefusal({ ...ok, guardrailIdentifier: 'arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123', guardrailVersion: 'DRAFT', source: 'OUTPUT' })).toBeUndefined();
    expect(applyGuardrailRefusal({ ...ok, content: [{ text: { text: 'q', qualifiers: ['query'] } }, { image: { format: 'png', source: { bytes: new Uint8Array([1]) } } }] })).toBeUndefined();
  });
  it.each<[string, object, RegExp]>([
    ['an identifier with capitals', { guardrailIdentifier: 'ABC' }, /guardrailIdentifier: Value 'ABC'/],
    ['an identifier with its version', { guardrailIdentifier: 'abc123:2' }, /guardrailIdentifier: Value 'abc123:2'/],
    ['an empty identifier', { guardrailIdentifier: '' }, /guardrailIdentifier/],
    ['version 0', { guardrailVersion: '0' }, /guardrailVersion: Value '0'/],
    ['a lowercase draft', { guardrailVersion: 'draft' }, /guardrailVersion: Value 'draft'/],
    ['source BOTH', { source: 'BOTH' }, /source: Value 'BOTH'/],
    ['no content', { content: undefined }, /content: Member must not be null/],
    ['a block with text and image', { content: [{ text: { text: 'a' }, image: { format: 'png', source: { bytes: new Uint8Array([1]) } } }] }, /content\.0: a GuardrailContentBlock must set exactly one of text, image/],
    ['a gif image', { content: [{ image: { format: 'gif', source: { bytes: new Uint8Array([1]) } } }] }, /content\.0\.image\.format: Value 'gif'/],
    ['an unknown qualifier', { content: [{ text: { text: 'a', qualifiers: ['context'] } }] }, /content\.0\.text\.qualifiers: Value 'context'/],
  ])('refuses %s', (_, patch, message) => {
    expect(applyGuardrailRefusal({ ...ok, ...patch } as never)).toMatch(message);
  });
});
