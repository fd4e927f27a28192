import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../../lambdas/inference/audit.js';
import { fakeSpeech, FAKE_TRANSCRIPT, tinyWav } from '../../support/fake-audio.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { plainTenant, useConformanceGateway } from './setup.js';
import { tempDir } from '../../support/temp-dirs.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * OpenAI's audio endpoints (`client.audio.speech`, `.transcriptions`, `.translations`) through `tessera serve` with
 * both official clients against the fake upstream standing in for OpenAI's API (test/support/fake-audio.ts): the
 * bytes relayed both ways, the fields passed on untouched, the budget charged, the audit record, the refusals.
 */
const MODELS = [
  { id: 'openai/whisper-1', upstream: 'whisper-1', kind: 'transcription' as const, inputPricePer1k: 0, outputPricePer1k: 0, audioPricePerMinute: 0.006, maxOutputTokens: 4096 },
  { id: 'openai/gpt-4o-mini-transcribe', upstream: 'gpt-4o-mini-transcribe', kind: 'transcription' as const, inputPricePer1k: 0.003, outputPricePer1k: 0.005, maxOutputTokens: 2000 },
  { id: 'openai/tts-1', upstream: 'tts-1', kind: 'speech' as const, inputPricePer1k: 0, outputPricePer1k: 0, pricePer1MCharacters: 15, maxOutputTokens: 4096 },
];
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, ...MODELS] } };
};
const suite = useConformanceGateway(async () => ({ stop: async () => undefined }), {
  config: config(),
  tenants: [plainTenant('acme'), plainTenant('guarded', { guardrails: { redactPii: true, redactResponses: true, promptInjectionScreen: false } })],
});
const client = (token = suite.env.tokens.acme) => new OpenAI({ baseURL: suite.env.gw.url, apiKey: token, maxRetries: 0 });
const WAV = tinyWav(16_000); // 2 s at 8 kHz: 32,044 bytes
const audits = (path: string, tenant = 'acme') => suite.env.gw.audit.records.filter((a) => a.tenantId === tenant && a.path === path);

describe('conformance: OpenAI audio endpoints, both official clients', () => {
  it('node: speech to a file is the upstream\'s bytes, with its Content-Type; every field but model passed on untouched; charged per character; audited', async () => {
    const dir = tempDir('tessera-audio-');
    const input = 'Hello there, this is speech.';
    const res = await client().audio.speech.create({ model: 'openai/tts-1', input, voice: 'alloy', response_format: 'wav', speed: 1.25, instructions: 'calm', extra: 'kept' } as never);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    writeFileSync(join(dir, 'out.wav'), Buffer.from(await res.arrayBuffer()));
    expect(readFileSync(join(dir, 'out.wav')).equals(fakeSpeech('wav'))).toBe(true);
    const [call] = suite.env.upstream.audioCalls;
    expect(call!.path).toBe('/v1/audio/speech');
    expect(call!.headers.accept).toBe('application/octet-stream');
    expect(JSON.parse(call!.bytes.toString())).toEqual({ model: 'tts-1', input, voice: 'alloy', response_format: 'wav', speed: 1.25, instructions: 'calm', extra: 'kept' });
    const audit = audits('/v1/audio/speech').at(-1)!;
    expect(audit).toMatchObject({ status: 200, outcome: 'ok', model: 'openai/tts-1', provider: 'openai', promptSha256: sha256(input), completionTokens: 0 });
    expect(audit.costUsd).toBeCloseTo((input.length * 15) / 1e6, 9);
  });

  it('node: transcriptions as json, text and verbose_json, and a translation: the file relayed byte for byte, model replaced, other fields untouched; charged from usage', async () => {
    const c = client();
    const month = new Date().toISOString().slice(0, 7);
    const before = (await suite.env.gw.store.modelUsage('acme', month)).find((x) => x.model === 'openai/whisper-1');
    const json = await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav', { type: 'audio/wav' }), model: 'openai/whisper-1', language: 'en', temperature: 0.2 });
    expect(json.text).toBe(FAKE_TRANSCRIPT);
    const text = await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1', response_format: 'text' });
    expect(text).toBe(`${FAKE_TRANSCRIPT}\n`);
    const verbose = await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1', response_format: 'verbose_json', timestamp_granularities: ['segment'] });
    expect(verbose).toMatchObject({ task: 'transcribe', duration: 2, text: FAKE_TRANSCRIPT, segments: [{ text: FAKE_TRANSCRIPT }] });
    const translated = await c.audio.translations.create({ file: await toFile(WAV, 'b.wav'), model: 'openai/whisper-1', prompt: 'context' });
    expect(translated.text).toBe(FAKE_TRANSCRIPT);
    // The upstream got the caller's form with only model changed: the file's bytes exactly, language and temperature as sent.
    const first = suite.env.upstream.audioCalls[0]!;
    expect(first.path).toBe('/v1/audio/transcriptions');
    const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': String(first.headers['content-type']) }, body: first.bytes }).formData();
    expect(form.get('model')).toBe('whisper-1');
    expect(form.get('language')).toBe('en');
    expect(form.get('temperature')).toBe('0.2');
    expect(Buffer.from(await (form.get('file') as File).arrayBuffer()).equals(WAV)).toBe(true);
    expect(suite.env.upstream.audioCalls.map((x) => x.path)).toEqual(['/v1/audio/transcriptions', '/v1/audio/transcriptions', '/v1/audio/transcriptions', '/v1/audio/translations']);
    // Charged: json and verbose_json from their duration (2 s at USD 0.006 a minute); text carries none: the reservation's bound.
    const [a, b, v] = audits('/v1/audio/transcriptions');
    expect(a!.costUsd).toBeCloseTo((2 / 60) * 0.006, 9);
    expect(v!.costUsd).toBeCloseTo((2 / 60) * 0.006, 9);
    expect(b!.costUsd).toBeCloseTo((Math.ceil(WAV.length / 4000) / 60) * 0.006, 9);
    const row = (await suite.env.gw.store.modelUsage('acme', month)).find((x) => x.model === 'openai/whisper-1');
    expect(row!.requests).toBe((before?.requests ?? 0) + 4);
  });

  it('node: a token-priced transcription settles from usage {type: "tokens"}', async () => {
    await client().audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/gpt-4o-mini-transcribe' });
    const audit = audits('/v1/audio/transcriptions').at(-1)!;
    expect(audit).toMatchObject({ model: 'openai/gpt-4o-mini-transcribe', promptTokens: 20, completionTokens: 15 });
    expect(audit.costUsd).toBeCloseTo((20 * 0.003 + 15 * 0.005) / 1000, 12);
  });

  it('a transcription answer whose usage or duration has the wrong shape (negative, a string, 1e300 tokens) is charged the reservation\'s bound: never a credit, never a blown budget; nothing stays held', async () => {
    const c = client();
    const bound = (Math.ceil(WAV.length / 4000) / 60) * 0.006; // whisper-1: the reservation's minutes (32 kbps) at USD 0.006
    const tokenBound = (Math.ceil(WAV.length / 4000) * 10 * 0.003 + 2000 * 0.005) / 1000; // gpt-4o-mini-transcribe: 10 tokens a second, maxOutputTokens
    const cases: Array<[string, string, Record<string, unknown>, number]> = [
      ['openai/whisper-1', 'json', { text: 'x', usage: { type: 'duration', seconds: -1e6 } }, bound],
      ['openai/whisper-1', 'json', { text: 'x', usage: { type: 'duration', seconds: '5' } }, bound],
      ['openai/whisper-1', 'verbose_json', { text: 'x', duration: -50 }, bound],
      ['openai/gpt-4o-mini-transcribe', 'json', { text: 'x', usage: { type: 'tokens', input_tokens: -1e9, output_tokens: -5 } }, tokenBound],
      ['openai/gpt-4o-mini-transcribe', 'json', { text: 'x', usage: { type: 'tokens', input_tokens: 1e300, output_tokens: 1e300 } }, tokenBound],
      ['openai/gpt-4o-mini-transcribe', 'json', { text: 'x', usage: { type: 'tokens', input_tokens: 20, output_tokens: 'many' } }, tokenBound],
    ];
    for (const [model, format, answer, charged] of cases) {
      suite.env.upstream.audioScript.push((_call, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
      const out = await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model, response_format: format as 'json' });
      expect(out).toMatchObject({ text: 'x' }); // relayed as it came
      const audit = audits('/v1/audio/transcriptions').at(-1)!;
      expect(audit.costUsd, JSON.stringify(answer)).toBeCloseTo(charged, 9);
      expect(audit.promptTokens).toBeGreaterThanOrEqual(0);
      expect(audit.completionTokens).toBeGreaterThanOrEqual(0);
    }
    const usage = await suite.env.gw.store.usage('acme', new Date());
    expect(usage.held?.month).toEqual({ tokens: 0, costUsd: 0 });
    // The tenant may still transcribe: no settle blew its token budget.
    await expect(c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1' })).resolves.toMatchObject({ text: FAKE_TRANSCRIPT });
  });

  it('python: speech streamed to a file, transcriptions json / text / verbose_json and a translation', async () => {
    const dir = tempDir('tessera-audio-py-');
    writeFileSync(join(dir, 'in.wav'), WAV);
    const code = `
import json, sys
from openai import OpenAI
base, key, d = sys.argv[1:4]
c = OpenAI(base_url=base, api_key=key, max_retries=0)
with c.audio.speech.with_streaming_response.create(model="openai/tts-1", input="Hi there", voice="nova") as r:
    r.stream_to_file(d + "/out.mp3")
    ctype = r.headers.get("content-type")
out = {"ctype": ctype}
out["json"] = c.audio.transcriptions.create(file=open(d + "/in.wav", "rb"), model="openai/whisper-1").model_dump()
out["text"] = c.audio.transcriptions.create(file=open(d + "/in.wav", "rb"), model="openai/whisper-1", response_format="text")
out["verbose"] = c.audio.transcriptions.create(file=open(d + "/in.wav", "rb"), model="openai/whisper-1", response_format="verbose_json").model_dump()
out["translation"] = c.audio.translations.create(file=open(d + "/in.wav", "rb"), model="openai/whisper-1").model_dump()
print(json.dumps(out))
`;
    const { stdout } = await runPythonCode(code, [suite.env.gw.url, suite.env.tokens.acme, dir]);
    const out = JSON.parse(stdout);
    expect(out.ctype).toBe('audio/mpeg');
    expect(readFileSync(join(dir, 'out.mp3')).equals(fakeSpeech('mp3'))).toBe(true);
    expect(out.json.text).toBe(FAKE_TRANSCRIPT);
    expect(out.text).toBe(`${FAKE_TRANSCRIPT}\n`);
    expect(out.verbose).toMatchObject({ task: 'transcribe', duration: 2, text: FAKE_TRANSCRIPT });
    expect(out.translation.text).toBe(FAKE_TRANSCRIPT);
    const files = suite.env.upstream.audioCalls.slice(1);
    for (const f of files) {
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': String(f.headers['content-type']) }, body: f.bytes }).formData();
      expect(Buffer.from(await (form.get('file') as File).arrayBuffer()).equals(WAV)).toBe(true);
    }
  });

  it('PII in speech input and instructions is redacted before the upstream speaks it, and in a transcription\'s keywords; a transcript\'s PII redacted with redactResponses', async () => {
    const c = client(suite.env.tokens.guarded);
    await (await c.audio.speech.create({ model: 'openai/tts-1', input: 'Write to jane.doe@example.com please', voice: 'alloy' })).arrayBuffer();
    expect(JSON.parse(suite.env.upstream.audioCalls[0]!.bytes.toString()).input).toBe('Write to [EMAIL] please');
    // `instructions` (gpt-4o-mini-tts) is text the model reads too: redacted as `input` is (sent as given before session 47).
    await (await c.audio.speech.create({ model: 'openai/tts-1', input: 'Hello', voice: 'alloy', instructions: 'Sound like jane.doe@example.com' })).arrayBuffer();
    expect(JSON.parse(suite.env.upstream.audioCalls[1]!.bytes.toString())).toMatchObject({ input: 'Hello', instructions: 'Sound like [EMAIL]', voice: 'alloy' });
    expect(audits('/v1/audio/speech', 'guarded').at(-1)!.piiRedacted).toEqual(['EMAIL']);
    // A transcription's `keywords` and `known_speaker_names` (openai 7.55) are text the model reads: redacted as `prompt` is
    // (sent as given before session 47); the other parts of the form go byte for byte.
    await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1', keywords: ['Tessera', 'jane.doe@example.com'], known_speaker_names: ['agent'], language: 'en' } as never);
    const guarded = await new Request('http://x/', { method: 'POST', headers: { 'content-type': String(suite.env.upstream.audioCalls[2]!.headers['content-type']) }, body: suite.env.upstream.audioCalls[2]!.bytes }).formData();
    expect(guarded.getAll('keywords[]')).toEqual(['Tessera', '[EMAIL]']);
    expect(guarded.getAll('known_speaker_names[]')).toEqual(['agent']);
    expect(guarded.get('language')).toBe('en');
    expect(Buffer.from(await (guarded.get('file') as File).arrayBuffer()).equals(WAV)).toBe(true);
    const t = await c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1' });
    expect(t.text).not.toContain('jane.doe@example.com');
    expect(t.text).toContain('[EMAIL]');
    expect(audits('/v1/audio/transcriptions', 'guarded').at(-1)!.piiRedacted).toEqual(['response:EMAIL']);
  });

  it('refusals: a viewer (403 naming inference), a model of another kind (400 naming model), stream (400 naming stream), stream_format sse; nothing sent', async () => {
    const viewer = client(await suite.env.gw.token('acme', { role: 'viewer' }));
    await expect(viewer.audio.speech.create({ model: 'openai/tts-1', input: 'x', voice: 'alloy' })).rejects.toMatchObject({ status: 403, error: { code: 'permission_denied' } });
    await expect(viewer.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1' })).rejects.toMatchObject({ status: 403 });
    const c = client();
    await expect(c.audio.speech.create({ model: 'openai/whisper-1', input: 'x', voice: 'alloy' })).rejects.toMatchObject({ status: 400, error: { code: 'model_kind_mismatch', param: 'model' } });
    await expect(c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/tts-1' })).rejects.toMatchObject({ status: 400, error: { code: 'model_kind_mismatch', param: 'model', message: expect.stringMatching(/is a speech model: it serves speech \(POST \/v1\/audio\/speech\), not transcriptions/) } });
    await expect(c.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1', stream: true })).rejects.toMatchObject({ status: 400, error: { param: 'stream' } });
    await expect(c.audio.speech.create({ model: 'openai/tts-1', input: 'x', voice: 'alloy', stream_format: 'sse' })).rejects.toMatchObject({ status: 400, error: { param: 'stream_format' } });
    expect(suite.env.upstream.audioCalls).toEqual([]);
  });

  it('speech input empty or over 4,096 characters (OpenAI\'s limit) is a 400 naming input with the count; 4,096 goes on; nothing reserved or sent for the refused', async () => {
    const c = client();
    await expect(c.audio.speech.create({ model: 'openai/tts-1', input: '', voice: 'alloy' })).rejects.toMatchObject({ status: 400, error: { param: 'input', code: 'invalid_value', message: expect.stringMatching(/^input is 0 characters; speech takes 1 to 4096/) } });
    await expect(c.audio.speech.create({ model: 'openai/tts-1', input: 'a'.repeat(4097), voice: 'alloy' })).rejects.toMatchObject({ status: 400, error: { param: 'input', message: expect.stringMatching(/^input is 4097 characters/) } });
    expect(suite.env.upstream.audioCalls).toEqual([]);
    // Characters are code points: 4,096 emoji (8,192 UTF-16 units) are 4,096 characters.
    await (await c.audio.speech.create({ model: 'openai/tts-1', input: '\u{1F600}'.repeat(4096), voice: 'alloy' })).arrayBuffer();
    expect(suite.env.upstream.audioCalls).toHaveLength(1);
    expect((await suite.env.gw.store.usage('acme', new Date())).held?.month).toEqual({ tokens: 0, costUsd: 0 });
  });

  it('speech answered with a JSON error and status 200 instead of audio is a 502 upstream_invalid_answer with its message, not charged, nothing held', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const before = (await suite.env.gw.store.modelUsage('acme', month)).find((x) => x.model === 'openai/tts-1');
    for (let i = 0; i < 3; i++) suite.env.upstream.audioScript.push((_call, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota' } })));
    await expect(client().audio.speech.create({ model: 'openai/tts-1', input: 'Hello there', voice: 'alloy' })).rejects.toMatchObject({ status: 502, error: { code: 'upstream_invalid_answer', message: expect.stringMatching(/answered 200 with an error instead of audio: You exceeded your current quota/) } });
    const after = (await suite.env.gw.store.modelUsage('acme', month)).find((x) => x.model === 'openai/tts-1');
    expect(after?.costUsd ?? 0).toBe(before?.costUsd ?? 0);
    expect((await suite.env.gw.store.usage('acme', new Date())).held?.month).toEqual({ tokens: 0, costUsd: 0 });
  });

  it('a file over the 4 MiB limit is a 413 naming the limit', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1);
    await expect(client().audio.transcriptions.create({ file: await toFile(big, 'big.wav'), model: 'openai/whisper-1' })).rejects.toMatchObject({ status: 413, error: { message: expect.stringMatching(/4194304-byte \(4 MiB\) limit.*25 MB/) } });
    expect(suite.env.upstream.audioCalls).toEqual([]);
  });
});
