import { spawn } from 'node:child_process';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream, TINY_PNG_BASE64 } from '../support/fake-upstream.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * s31n: `tessera serve` with the embedded default catalog and the official Node client. The default image model was
 * `openai/gpt-image-1`, which OpenAI shut down on 2026-10-23 (the openai package 7.55.0, ImageModel); it is
 * `openai/gpt-image-2.5-flare`. And `client.images.createVariation` on an OpenAI model was relayed (to dall-e-2) or
 * refused as model_not_supported; OpenAI retired the endpoint (images.d.ts: "This endpoint is retired and no longer
 * available"), so it is a 400 `endpoint_retired` naming `model`, with nothing reserved or sent.
 */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
let upstream: FakeUpstream;
let serve: { child: ReturnType<typeof spawn>; exited: Promise<number | null>; port: number };
let client: OpenAI;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const cli = await tesseraBundle();
  const state = tempDir('tessera-test-serve-images-');
  const child = spawn(process.execPath, [cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:enterprise', '--upstream', `${upstream.url}`], { cwd: state, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000); // stops by itself whatever the tests do
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
  let out = '';
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
    void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}`)));
  });
  serve = { child, exited, port: Number(/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]) };
  const token = await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme' });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${serve.port}/v1`, apiKey: token, maxRetries: 0, timeout: 20_000 });
}, 60_000);
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await upstream?.stop();
});

const usage = async () => (await (await fetch(`http://127.0.0.1:${serve.port}/v1/usage`, { headers: { authorization: `Bearer ${client.apiKey}` } })).json()) as unknown;

describe('tessera serve, the default catalog: images with the official Node client', () => {
  it('images.generate without model goes to gpt-image-2.5-flare (a current OpenAI model); /v1/models lists it', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toContain('openai/gpt-image-2.5-flare');
    // The catalog model, then its bare OpenAI name (the embedded default's alias).
    expect(ids.filter((id) => id.includes('image'))).toEqual(['openai/gpt-image-2.5-flare', 'gpt-image-2.5-flare']);
    const out = await client.images.generate({ prompt: 'a cat', size: '1536x864', quality: 'xhigh' });
    expect(out.data).toEqual([{ b64_json: TINY_PNG_BASE64 }]);
    expect(upstream.requests.at(-1)).toEqual({ model: 'gpt-image-2.5-flare', prompt: 'a cat', size: '1536x864', quality: 'xhigh' });
  });

  it('a size gpt-image-2.5-flare does not take (not divisible by 16): a 400 naming size, nothing sent', async () => {
    const before = upstream.requests.length;
    const err = await client.images.generate({ model: 'openai/gpt-image-2.5-flare', prompt: 'a cat', size: '1000x1000' }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(err).toMatchObject({ status: 400, param: 'size', code: 'invalid_value' });
    expect(upstream.requests.length).toBe(before);
  });

  it('images.createVariation, with model openai/gpt-image-2.5-flare or none: a 400 endpoint_retired naming model; nothing reserved or sent', async () => {
    const before = JSON.stringify(await usage());
    const sent = upstream.audioCalls.length + upstream.requests.length;
    const png = () => toFile(Buffer.from(TINY_PNG_BASE64, 'base64'), 'a.png', { type: 'image/png' });
    for (const params of [{ model: 'openai/gpt-image-2.5-flare' }, {}]) {
      const err = await client.images.createVariation({ ...params, image: await png() }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({ status: 400, param: 'model', code: 'endpoint_retired' });
      expect((err as Error).message).toMatch(/OpenAI retired POST \/v1\/images\/variations .*use images\.edit \(POST \/v1\/images\/edits\) with a GPT image model and a prompt/);
    }
    expect(upstream.audioCalls.length + upstream.requests.length).toBe(sent);
    expect(JSON.stringify(await usage())).toBe(before);
  });
});
