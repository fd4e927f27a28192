import { describe, expect, it, vi } from 'vitest';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { useConformanceGateway } from '../gateway-conformance/setup.js';
import { PythonResponsesClient } from './clients.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * The OpenAI Agents SDK for Python (`openai-agents`, pinned in requirements-dev.txt) runs a
 * two-step tool-calling agent against `tessera serve` over the Responses API: the fake upstream
 * first calls the agent's function tool, then answers with what the tool returned. The agent
 * reaches its final answer, and metering (the audit records and the tenant's usage) shows both
 * model calls.
 */
const suite = useConformanceGateway(PythonResponsesClient.start);

describe('the OpenAI Agents SDK over the Responses API', () => {
  it.each(['whole', 'streamed'] as const)('runs a two-step tool-calling agent to its final answer; metering shows both model calls (%s)', async (mode) => {
    // GIVEN an upstream that calls the tool, then answers
    if (mode === 'whole') suite.env.upstream.script({ body: openAiAnswer('one tool call') }, { body: openAiAnswer('tool-result turn') });
    else suite.env.upstream.script(...(['one tool call', 'tool-result turn'] as const).map((s) => ({ events: [...openAiChunks(s).map((data) => ({ data })), { data: '[DONE]' }] })));
    const before = await suite.env.gw.store.usage('acme', new Date());
    const records = suite.env.gw.audit.records.length;

    // WHEN the agent runs (Runner.run: the SDK calls POST /v1/responses once per model turn)
    const out = await suite.python.call(suite.env.gw.url, suite.env.tokens.acme, { op: 'agent', params: { model: 'openai-compatible/default', input: 'What is the weather in Oslo?', stream: mode === 'streamed' } });

    // THEN it reached the final answer after running the tool with the model's arguments
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.final_output).toBe('It is 3 °C and sunny in Oslo.');
    expect(out.result.tool_calls).toEqual(['Oslo']);
    expect(out.result.responses).toHaveLength(2);
    expect(out.result.responses.every((id: string) => /^resp_/.test(id))).toBe(true);

    // AND the second model call carried the tool call and its output as chat messages
    expect(suite.env.upstream.calls).toHaveLength(2);
    const second = suite.env.upstream.calls[1].body.messages;
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] });
    expect(second.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_oslo', content: '{"city": "Oslo", "temp_c": 3, "sky": "sunny"}' }); // Python's json.dumps

    // AND metering shows both model calls: two audit records with their tokens, both counted in the tenant's usage
    const calls = suite.env.gw.audit.records.slice(records).filter((r) => r.path === '/v1/responses');
    expect(calls).toHaveLength(2);
    for (const r of calls) expect(r).toMatchObject({ tenantId: 'acme', status: 200, outcome: 'ok', model: 'openai-compatible/default', promptTokens: 31, completionTokens: 9, action: 'response.create' });
    const after = await suite.env.gw.store.usage('acme', new Date());
    expect(after.day.requests - before.day.requests).toBe(2);
    expect(after.day.tokens - before.day.tokens).toBe(80);
  });
});
