import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSpeech, FAKE_TRANSCRIPT, tinyWav } from '../../support/fake-audio.js';
import { FakeUpstream, TINY_PNG_BASE64 } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { tempDir } from '../../support/temp-dirs.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { corsHeadersOf, sdkPreflight } from '../gateway-cors-models/fixtures.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/images/generations` and `POST /v1/audio/speech|transcriptions` on the deployed path, as
 * embeddings-lambda-path.test.ts does for embeddings: API Gateway (emulated) runs the authorizer Lambda, then the
 * streaming router Lambda, which writes its answer as the Lambda runtime does (a JSON prelude, 8 NUL bytes, the body);
 * a multipart upload reaches it base64-encoded (`isBase64Encoded`: multipart/form-data is a binary media type).
 */
const MODELS = [
  { id: 'openai-compatible/flux', upstream: 'flux-schnell', kind: 'image' as const, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096, pricePerImageUsd: 0.04 },
  { id: 'openai/whisper-1', upstream: 'whisper-1', kind: 'transcription' as const, inputPricePer1k: 0, outputPricePer1k: 0, audioPricePerMinute: 0.006, maxOutputTokens: 4096 },
  { id: 'openai/tts-1', upstream: 'tts-1', kind: 'speech' as const, inputPricePer1k: 0, outputPricePer1k: 0, pricePer1MCharacters: 15, maxOutputTokens: 4096 },
];
const APP = 'https://app.acme.example';
/** AWS Lambda's limit of a synchronous invocation's request payload: 6 MB (Lambda quotas), read as 6,000,000 bytes, the stricter reading. */
const LAMBDA_REQUEST_LIMIT = 6_000_000;
const WAV = tinyWav(16_000);
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let token = '';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const c = conformanceConfig();
  const config = { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, ...MODELS] } };
  apigw = await startApiGatewayEmulator(config, upstream.url, [plainTenant('acme', { allowedOrigins: [APP] })]);
  token = await apigw.token('acme');
});
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const client = (key = token) => new OpenAI({ baseURL: apigw.url, apiKey: key, maxRetries: 0 });
/** The form the upstream received, parsed. */
const formOf = (call: { headers: Record<string, unknown>; bytes: Buffer }) => new Request('http://x/', { method: 'POST', headers: { 'content-type': String(call.headers['content-type']) }, body: call.bytes }).formData();

describe('images and audio through the Lambda adapters', () => {
  it('node: images.generate answers b64_json, the model replaced upstream', async () => {
    const out = await client().images.generate({ model: 'openai-compatible/flux', prompt: 'a red square', response_format: 'b64_json' });
    expect(out.data?.map((d) => d.b64_json)).toEqual([TINY_PNG_BASE64]);
    expect(upstream.requests.at(-1)).toMatchObject({ model: 'flux-schnell', prompt: 'a red square', response_format: 'b64_json' });
  });

  it('node: speech is the upstream\'s bytes with its Content-Type; the stream carries the JSON prelude, 8 NUL bytes, then the raw audio', async () => {
    const res = await client().audio.speech.create({ model: 'openai/tts-1', input: 'Hello there', voice: 'alloy', response_format: 'wav' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await res.arrayBuffer()).equals(fakeSpeech('wav'))).toBe(true);
    // What the router wrote (Lambda's HTTP integration response: API Gateway reads status and headers from the prelude).
    const { payload } = apigw.lastInvocation();
    const at = payload.indexOf(Buffer.alloc(8));
    expect(JSON.parse(payload.subarray(0, at).toString('utf8'))).toMatchObject({ statusCode: 200, headers: { 'content-type': 'audio/wav' } });
    expect(payload.subarray(at + 8).equals(fakeSpeech('wav'))).toBe(true);
  });

  it('node: a WAV transcription arrives base64 in the event; the upstream receives the exact bytes', async () => {
    const out = await client().audio.transcriptions.create({ file: await toFile(WAV, 'a.wav', { type: 'audio/wav' }), model: 'openai/whisper-1', language: 'en' });
    expect(out.text).toBe(FAKE_TRANSCRIPT);
    const form = await formOf(upstream.audioCalls[0]!);
    expect(form.get('model')).toBe('whisper-1');
    expect(form.get('language')).toBe('en');
    expect(Buffer.from(await (form.get('file') as File).arrayBuffer()).equals(WAV)).toBe(true);
  });

  it('node: an image edit (image[] of two PNGs, a mask) arrives base64 in the event; the upstream receives the exact bytes, model replaced', async () => {
    const png = Buffer.from(TINY_PNG_BASE64, 'base64');
    const other = Buffer.concat([png, Buffer.from('second')]);
    const out = await client().images.edit({ model: 'openai-compatible/flux', image: [await toFile(png, 'a.png', { type: 'image/png' }), await toFile(other, 'b.png', { type: 'image/png' })], mask: await toFile(other, 'm.png', { type: 'image/png' }), prompt: 'a hat', n: 2 });
    expect(out.data?.map((d) => d.b64_json)).toEqual([TINY_PNG_BASE64, TINY_PNG_BASE64]);
    expect(apigw.lastInvocation().eventBytes).toBeLessThan(LAMBDA_REQUEST_LIMIT);
    expect(upstream.audioCalls[0]!.path).toBe('/v1/images/edits');
    const form = await formOf(upstream.audioCalls[0]!);
    expect(form.get('model')).toBe('flux-schnell');
    const images = form.getAll('image[]') as File[];
    expect(Buffer.from(await images[0]!.arrayBuffer()).equals(png)).toBe(true);
    expect(Buffer.from(await images[1]!.arrayBuffer()).equals(other)).toBe(true);
    expect(Buffer.from(await (form.get('mask') as File).arrayBuffer()).equals(other)).toBe(true);
  });

  it('python: speech streamed to a file and a transcription of a WAV file', async () => {
    const dir = tempDir('tessera-media-lambda-py-');
    writeFileSync(join(dir, 'in.wav'), WAV);
    const code = `
import json, sys
from openai import OpenAI
base, key, d = sys.argv[1:4]
c = OpenAI(base_url=base, api_key=key, max_retries=0)
with c.audio.speech.with_streaming_response.create(model="openai/tts-1", input="Hi there", voice="nova") as r:
    r.stream_to_file(d + "/out.mp3")
    ctype = r.headers.get("content-type")
t = c.audio.transcriptions.create(file=open(d + "/in.wav", "rb"), model="openai/whisper-1")
print(json.dumps({"ctype": ctype, "text": t.text}))
`;
    const out = JSON.parse((await runPythonCode(code, [apigw.url, token, dir])).stdout);
    expect(out).toEqual({ ctype: 'audio/mpeg', text: FAKE_TRANSCRIPT });
    expect(readFileSync(join(dir, 'out.mp3')).equals(fakeSpeech('mp3'))).toBe(true);
    const form = await formOf(upstream.audioCalls[1]!);
    expect(Buffer.from(await (form.get('file') as File).arrayBuffer()).equals(WAV)).toBe(true);
  });

  it('a file of exactly 4 MiB goes on byte for byte inside a base64 event under Lambda\'s 6 MB; one byte more is a 413 naming the limit, nothing sent', async () => {
    const limit = tinyWav((4 * 1024 * 1024 - 44) / 2);
    expect(limit.length).toBe(4 * 1024 * 1024);
    const out = await client().audio.transcriptions.create({ file: await toFile(limit, 'limit.wav'), model: 'openai/whisper-1' });
    expect(out.text).toBe(FAKE_TRANSCRIPT);
    expect(apigw.lastInvocation().eventBytes).toBeLessThan(LAMBDA_REQUEST_LIMIT);
    expect(Buffer.from(await ((await formOf(upstream.audioCalls[0]!)).get('file') as File).arrayBuffer()).equals(limit)).toBe(true);
    upstream.reset();
    const over = Buffer.concat([limit, Buffer.alloc(1)]);
    await expect(client().audio.transcriptions.create({ file: await toFile(over, 'over.wav'), model: 'openai/whisper-1' }))
      .rejects.toMatchObject({ status: 413, error: { message: expect.stringMatching(/^file is 4194305 bytes, over the 4194304-byte \(4 MiB\) limit/) } });
    expect(apigw.lastInvocation().eventBytes).toBeLessThan(LAMBDA_REQUEST_LIMIT);
    expect(upstream.audioCalls).toEqual([]);
  });

  it('a viewer is refused speech, transcriptions and images by the router (403 permission_denied), nothing sent', async () => {
    const viewer = client(await apigw.token('acme', { role: 'viewer' }));
    await expect(viewer.audio.speech.create({ model: 'openai/tts-1', input: 'x', voice: 'alloy' })).rejects.toMatchObject({ status: 403, error: { code: 'permission_denied' } });
    await expect(viewer.audio.transcriptions.create({ file: await toFile(WAV, 'a.wav'), model: 'openai/whisper-1' })).rejects.toMatchObject({ status: 403, error: { code: 'permission_denied' } });
    await expect(viewer.images.generate({ model: 'openai-compatible/flux', prompt: 'x' })).rejects.toMatchObject({ status: 403, error: { code: 'permission_denied' } });
    expect(upstream.audioCalls).toEqual([]);
    expect(upstream.requests).toEqual([]);
  });

  it('the router\'s preflight, OPTIONS, 405 and 404 know the new routes', async () => {
    const preflight = await fetch(`${apigw.url}/audio/transcriptions`, { method: 'OPTIONS', headers: sdkPreflight(APP) });
    expect(preflight.status).toBe(204);
    expect(corsHeadersOf(preflight.headers)).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-allow-methods': 'POST' });
    const options = await fetch(`${apigw.url}/images/generations`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    const get = await fetch(`${apigw.url}/audio/speech`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    // An edit is multipart/form-data (client.images.edit): JSON is a 400 saying so; a family not served is the 404 listing the image routes.
    const edits = await fetch(`${apigw.url}/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect([edits.status, ((await edits.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_content_type']);
    // (Vector stores are served on AWS now, where the router has their queue: vector-stores-lambda-path.test.ts.)
    const evals = await fetch(`${apigw.url}/evals`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(evals.status).toBe(404);
    const { message } = ((await evals.json()) as { error: { message: string } }).error;
    expect(message).toMatch(/evals .* are not served by this gateway; it serves .*\/v1\/images\/generations, \/v1\/images\/edits, \/v1\/images\/variations, \/v1\/audio\/speech, \/v1\/audio\/transcriptions, \/v1\/audio\/translations/);
  });
});
