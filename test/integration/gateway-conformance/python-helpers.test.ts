import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamCall } from '../../support/fake-upstream.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { plainTenant, startConformanceGateway, type ConformanceGateway } from './setup.js';
import { configWithEmbeddings, MODEL, upstreamAnswers, USAGE } from './client-answers.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The official Python client's HELPER methods (`.venv`: openai 3.x) against `tessera serve` and the
 * scripted fake upstream, as applications call them: the `chat.completions.stream` context manager
 * (its events, `get_final_completion()`), `responses.stream` (events, `get_final_response()`),
 * `with_raw_response` / `with_streaming_response`, `AsyncOpenAI` with concurrent `asyncio.gather`
 * calls, `embeddings.create` (the client asks base64 and decodes it: by hand without numpy, as in
 * `.venv`, and with numpy, as in `.venv-legacy-clients`' openai 1.x), `chat.completions.parse` with a
 * pydantic model and `pydantic_function_tool` tools. One driver per test (forked by the run's
 * zygote: `runPythonCode`), running the one case its argv names and printing JSON.
 */

const { whole, chunk, streamed } = upstreamAnswers('fp_helpers');
let env: ConformanceGateway;
beforeAll(async () => {
  env = await startConformanceGateway({ config: configWithEmbeddings(), tenants: [plainTenant('acme')] });
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

const sentBody = (i = 0) => env.upstream.calls[i]!.body;
const vectorOf = (i: number, width = 4) => Array.from({ length: width }, (_, k) => [(i + 1) / 8, -(i + 1) / 16, 0.5, 1.25][k] ?? 0);

const SCRIPT = String.raw`
import asyncio, json, sys
from typing import Any
import pydantic
from openai import AsyncOpenAI, OpenAI, pydantic_function_tool

base_url, api_key, case = sys.argv[1:4]
MODEL = "openai-compatible/default"
client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)


class Weather(pydantic.BaseModel):
    city: str
    temp_c: float


class GetWeather(pydantic.BaseModel):
    """The weather in a city."""
    city: str


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def event_of(e: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": e.type}
    for name in ("delta", "content", "arguments_delta", "arguments", "name", "parsed_arguments"):
        if hasattr(e, name) and e.type != "chunk":
            v = getattr(e, name)
            out[name] = v.model_dump() if isinstance(v, pydantic.BaseModel) else v
    return out


def run() -> Any:
    if case == "chat_stream":
        with client.chat.completions.stream(model=MODEL, messages=user("Hi"), stream_options={"include_usage": True}) as s:
            events = [event_of(e) for e in s if e.type != "chunk"]
            final = s.get_final_completion()
        with client.chat.completions.stream(model=MODEL, messages=user("Weather?"), tools=[pydantic_function_tool(GetWeather)]) as s:
            tool_events = [event_of(e) for e in s if e.type.startswith("tool_calls.")]
            tool_final = s.get_final_completion()
        return {"events": events, "final": final.model_dump(mode="json"), "tool_events": tool_events, "tool_final": tool_final.model_dump(mode="json")}
    if case == "responses_stream":
        with client.responses.stream(model=MODEL, input="Hi") as s:
            events = [event_of(e) for e in s]
            final = s.get_final_response()
        return {"events": events, "final": final.model_dump(mode="json"), "output_text": final.output_text}
    if case == "raw":
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=user("Hi"))
        out: dict[str, Any] = {"raw_headers": dict(raw.headers), "raw_content": raw.parse().choices[0].message.content, "raw_request_id": raw.parse()._request_id}
        with client.chat.completions.with_streaming_response.create(model=MODEL, messages=user("Hi")) as resp:
            out["streaming_status"] = resp.status_code
            out["streaming_headers"] = dict(resp.headers)
            out["streaming_content"] = resp.parse().choices[0].message.content
        with client.chat.completions.with_streaming_response.create(model=MODEL, messages=user("Hi"), stream=True) as resp:
            out["sse_content_type"] = resp.headers.get("content-type")
            out["sse_lines"] = [line for line in resp.iter_lines() if line]
        return out
    if case == "gather":
        async def main() -> list[str]:
            async with AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20) as a:
                answers = await asyncio.gather(*[a.chat.completions.create(model=MODEL, messages=user(f"q{i}")) for i in range(4)])
                return [x.choices[0].message.content for x in answers]
        return asyncio.run(main())
    if case == "embeddings":
        try:
            import numpy  # noqa: F401
            has_numpy = True
        except ImportError:
            has_numpy = False
        out = client.embeddings.create(model="openai-compatible/embeddings", input=["alpha", "beta"])
        return {"numpy": has_numpy, "vectors": [list(map(float, d.embedding)) for d in out.data], "types": sorted({type(d.embedding).__name__ for d in out.data}), "usage": out.usage.model_dump()}
    if case == "parse":
        tools = [pydantic_function_tool(GetWeather)]
        a = client.chat.completions.parse(model=MODEL, messages=user("Oslo as JSON"), response_format=Weather, tools=tools)
        b = client.chat.completions.parse(model=MODEL, messages=user("Weather?"), response_format=Weather, tools=tools)
        call = b.choices[0].message.tool_calls[0]
        return {"parsed": a.choices[0].message.parsed.model_dump(), "parsed_type": type(a.choices[0].message.parsed).__name__,
                "tool": {"name": call.function.name, "parsed_arguments": call.function.parsed_arguments.model_dump(), "type": type(call.function.parsed_arguments).__name__}}
    raise SystemExit(f"unknown case {case}")


try:
    print(json.dumps({"ok": True, "out": run()}))
except Exception as e:  # noqa: BLE001 - every failure goes back to the test
    print(json.dumps({"ok": False, "type": type(e).__name__, "message": str(e), "status": getattr(e, "status_code", None), "body": getattr(e, "body", None)}))
`;

/** Runs the script's `kase` against the gateway; returns its `out`, failing the test with the client's error otherwise. */
async function py(kase: string, venv: '.venv' | '.venv-legacy-clients' = '.venv'): Promise<any> {
  const { stdout } = await runPythonCode(SCRIPT, [env.gw.url, env.tokens.acme, kase], { venv });
  const res = JSON.parse(stdout);
  expect(res, `${kase}: the client's error`).toMatchObject({ ok: true });
  return res.out;
}

const weatherCall = { id: 'call_oslo', type: 'function', function: { name: 'GetWeather', arguments: '{"city":"Oslo"}' } };

describe('openai Python helper methods against the gateway', () => {
  it('chat.completions.stream context manager: content.delta/done and tool_calls.function.arguments.done events, get_final_completion()', async () => {
    env.upstream.script(streamed(['Hei', ' der']), {
      events: [
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_oslo', type: 'function', function: { name: 'GetWeather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
        chunk({}, 'tool_calls'), { data: '[DONE]' },
      ],
    });
    const out = await py('chat_stream');
    // The first delta is the head chunk's `content: ""`, as OpenAI streams it.
    expect(out.events.filter((e: any) => e.type === 'content.delta').map((e: any) => e.delta)).toEqual(['', 'Hei', ' der']);
    expect(out.events).toContainEqual(expect.objectContaining({ type: 'content.done', content: 'Hei der' }));
    expect(out.final).toMatchObject({ model: MODEL, usage: USAGE, choices: [{ message: { content: 'Hei der' }, finish_reason: 'stop' }] });
    expect(out.tool_events.at(-1)).toMatchObject({ type: 'tool_calls.function.arguments.done', name: 'GetWeather', arguments: '{"city":"Oslo"}', parsed_arguments: { city: 'Oslo' } });
    expect(out.tool_final.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'call_oslo', function: { name: 'GetWeather', parsed_arguments: { city: 'Oslo' } } }] } });
    expect(sentBody(1).tools[0].function).toMatchObject({ name: 'GetWeather', strict: true, parameters: { type: 'object', additionalProperties: false } });
  });

  it('responses.stream context manager: the events in order and get_final_response()', async () => {
    env.upstream.script(streamed(['Hei', ' der']));
    const out = await py('responses_stream');
    const types = out.events.map((e: any) => e.type);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(out.events.filter((e: any) => e.type === 'response.output_text.delta').map((e: any) => e.delta)).toEqual(['Hei', ' der']);
    expect(out.output_text).toBe('Hei der');
    expect(out.final).toMatchObject({ object: 'response', status: 'completed', model: MODEL, usage: { input_tokens: 12, output_tokens: 5, total_tokens: 17 } });
  });

  it('with_raw_response and with_streaming_response (whole and SSE): x-request-id, the x-ratelimit-* headers, the parsed answer', async () => {
    env.upstream.script(whole({ content: 'A' }), whole({ content: 'B' }), streamed(['C']));
    const out = await py('raw');
    expect(out.raw_content).toBe('A');
    expect(out.raw_headers['x-request-id']).toEqual(expect.any(String));
    expect(out.raw_request_id).toBe(out.raw_headers['x-request-id']);
    expect(out.raw_headers['x-ratelimit-remaining-requests']).toMatch(/^\d+$/);
    expect([out.streaming_status, out.streaming_content]).toEqual([200, 'B']);
    expect(out.streaming_headers['x-request-id']).toEqual(expect.any(String));
    expect(out.sse_content_type).toMatch(/^text\/event-stream/);
    expect(out.sse_lines.at(-1)).toBe('data: [DONE]');
    expect(out.sse_lines.filter((l: string) => l.startsWith('data: {')).map((l: string) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '').join('')).toBe('C');
  });

  it('AsyncOpenAI with four concurrent calls (asyncio.gather): each gets its own answer', async () => {
    const echo = (call: UpstreamCall) => whole({ content: `echo ${call.body.messages.at(-1).content}` });
    env.upstream.script(echo, echo, echo, echo);
    expect(await py('gather')).toEqual(['echo q0', 'echo q1', 'echo q2', 'echo q3']);
    expect(env.upstream.calls).toHaveLength(4);
  });

  const embeddings = (call: UpstreamCall) => ({ body: { object: 'list', model: 'bge', data: call.body.input.map((_: string, index: number) => ({ object: 'embedding', index, embedding: vectorOf(index) })), usage: { prompt_tokens: 4, total_tokens: 4 } } });
  it.each([
    ['.venv (openai 3.x), no numpy', '.venv' as const, false],
    ['.venv-legacy-clients (openai 1.x), numpy', '.venv-legacy-clients' as const, true],
  ])('embeddings.create, %s: base64 asked upstream, decoded back to the floats as a list', async (_label, venv, numpy) => {
    env.upstream.script(embeddings);
    const out = await py('embeddings', venv);
    expect(out.numpy).toBe(numpy);
    expect(out.vectors).toEqual([vectorOf(0), vectorOf(1)]);
    expect(out.types).toEqual(['list']);
    expect(out.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(sentBody()).toMatchObject({ encoding_format: 'base64' });
  });

  it('chat.completions.parse with a pydantic model and pydantic_function_tool: message.parsed, parsed_arguments as the tool model', async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }), whole({ tool_calls: [weatherCall] }, 'tool_calls'));
    const out = await py('parse');
    expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    expect(out.parsed_type).toBe('Weather');
    expect(out.tool).toEqual({ name: 'GetWeather', parsed_arguments: { city: 'Oslo' }, type: 'GetWeather' });
    expect(sentBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Weather', strict: true, schema: { type: 'object' } } });
    expect(sentBody().tools[0]).toMatchObject({ type: 'function', function: { name: 'GetWeather', description: 'The weather in a city.', strict: true } });
  });
});
