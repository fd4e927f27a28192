import { describe, expect, it, vi } from 'vitest';
import { openAiAnswer } from '../gateway-conformance/matrix.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { useConformanceGateway } from '../gateway-conformance/setup.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { PythonResponsesClient } from './clients.js';
import { madeUpProse } from '../../support/made-up-prose.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * `truncation` of a Responses request on `tessera serve` (OpenAI's API reference, Responses create: "auto: … the model
 * will truncate the response to fit the context window by dropping items from the beginning of the conversation"),
 * with the official Node client and the Agents SDK's `ModelSettings(truncation="auto")`: a model with a catalog
 * `contextWindow` of 1,000 tokens, a first item of about 3,000 (dropped), the rest short (kept, instructions too).
 */
const WINDOWED = 'openai-compatible/windowed';
const config = conformanceConfig();
config.gateway.models.push({ ...config.gateway.models.find((m) => m.id === 'openai-compatible/default')!, id: WINDOWED, upstream: 'windowed', contextWindow: 1000 });
const LARGE_WINDOW = 'openai-compatible/large-window';
config.gateway.models.push({ ...config.gateway.models.find((m) => m.id === 'openai-compatible/default')!, id: LARGE_WINDOW, upstream: 'large-window', contextWindow: 400_000 });
const suite = useConformanceGateway(PythonResponsesClient.start, { config });
const client = () => nodeClient(suite.env.gw.url, suite.env.tokens.acme!);

/** About 3,000 o200k tokens: three times the window. */
const LONG = `Earlier notes: ${'the ferry timetable changes every season and '.repeat(375)}`;
const input = [
  { role: 'user' as const, content: LONG },
  { role: 'assistant' as const, content: 'Noted.' },
  { role: 'user' as const, content: 'What is the capital of Norway?' },
];
const sentMessages = () => suite.env.upstream.calls.map((c) => c.body.messages as Array<{ role: string; content: unknown }>);

describe('truncation "auto" (official Node client)', () => {
  it('drops the first items until the input fits the model\'s context window, keeps the instructions, and the stored Response says auto', async () => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const created = await client().responses.create({ model: WINDOWED, instructions: 'Answer briefly.', input, truncation: 'auto' });
    expect(created).toMatchObject({ status: 'completed', truncation: 'auto' });
    // Only the long first item went: the fewest dropped that fit.
    expect(sentMessages()).toEqual([[
      { role: 'system', content: 'Answer briefly.' },
      { role: 'assistant', content: 'Noted.' },
      { role: 'user', content: 'What is the capital of Norway?' },
    ]]);
    expect(await client().responses.retrieve(created.id)).toMatchObject({ truncation: 'auto' });
    // The input items stored are the ones sent, all three.
    expect((await client().responses.inputItems.list(created.id)).data).toHaveLength(3);
    expect(suite.env.gw.audit.records.find((r) => r.detail?.responseId === created.id && r.action === 'response.create')?.detail).toMatchObject({ truncatedMessages: 1 });
  });

  it('keeps the conversation whole when it fits; truncation disabled (the default) sends it as it is', async () => {
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const fits = await client().responses.create({ model: WINDOWED, input: input.slice(1), truncation: 'auto' });
    expect(fits.truncation).toBe('auto');
    const disabled = await client().responses.create({ model: WINDOWED, input });
    expect(disabled.truncation).toBe('disabled');
    expect(sentMessages().map((m) => m.length)).toEqual([2, 3]);
  });

  it('answers OpenAI\'s 400 (context_length_exceeded, param input) when even the last item does not fit, and calls no model', async () => {
    const e = await client().responses.create({ model: WINDOWED, input: [{ role: 'user', content: 'hi' }, { role: 'user', content: LONG }], truncation: 'auto' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'input', type: 'invalid_request_error' });
    expect((e as Error).message).toMatch(/^400 Your input exceeds the context window of this model\. .*context window 1000 tokens/);
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it('is a 400 naming truncation for a model whose context window the catalog does not give', async () => {
    const e = await client().responses.create({ model: 'openai-compatible/default', input: 'hi', truncation: 'auto' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'truncation' });
    expect((e as Error).message).toMatch(/no context window for it \(models\[\]\.contextWindow\)/);
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});


describe('truncation "auto" over a conversation of megabytes (official Node client)', () => {
  it('keeps the chained turn when the whole conversation fits the window: 1.1 Mi characters, ~350k tokens, in a 400k window', async () => {
    // GIVEN a stored first turn of 540k characters, then a second of as many chained on it (each request under 1 MiB)
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const first = await client().responses.create({ model: LARGE_WINDOW, input: madeUpProse(540_000, 7) });
    // WHEN the second turn asks for truncation "auto"
    const second = await client().responses.create({ model: LARGE_WINDOW, previous_response_id: first.id, input: madeUpProse(540_000, 11), truncation: 'auto', store: false });
    // THEN nothing was dropped: the upstream got the first turn and its answer before the second
    expect(second).toMatchObject({ status: 'completed', truncation: 'auto' });
    expect(sentMessages()[1]!.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(suite.env.gw.audit.records.find((r) => r.detail?.responseId === second.id)?.detail?.truncatedMessages).toBeUndefined();
  });
});

describe('the Agents SDK with ModelSettings(truncation="auto")', () => {
  it('runs its two-step tool-calling agent over a long history: both model calls leave out the first item, keep the rest, and the Responses say auto', async () => {
    suite.env.upstream.script({ body: openAiAnswer('one tool call') }, { body: openAiAnswer('tool-result turn') });
    const out = await suite.python.call(suite.env.gw.url, suite.env.tokens.acme!, {
      op: 'agent', params: { model: WINDOWED, truncation: 'auto', input: [...input.slice(0, 2), { role: 'user', content: 'What is the weather in Oslo?' }] },
    });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.final_output).toBe('It is 3 °C and sunny in Oslo.');
    const [first, second] = sentMessages();
    expect(first!.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
    expect(second!.map((m) => m.role)).toEqual(['system', 'assistant', 'user', 'assistant', 'tool']);
    expect(JSON.stringify(sentMessages())).not.toContain('ferry timetable');
    for (const id of out.result.responses as string[]) expect(await client().responses.retrieve(id)).toMatchObject({ truncation: 'auto' });
  });
});
