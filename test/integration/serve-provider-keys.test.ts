import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * s43f: `tessera serve` called every upstream with its one `--upstream-key`, whatever a deployment's `apiKeySecretId`
 * said: a user with two OpenAI deployments of a model, each with its own key, had both called with one. With
 * `--provider-keys <file>` (the keys by the secret names the deployed router reads) each deployment is called with its
 * own secret's key, and a start without one is refused naming the deployment and the secret.
 */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
const US = 'tessera/providers/openai-us';
const EU = 'tessera/providers/openai-eu';
const ANSWER = {
  id: 'chatcmpl-s43f', object: 'chat.completion', created: 0, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};
let us: FakeUpstream;
let eu: FakeUpstream;
let cli: string;
let state: string;
const children: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  [us, eu, cli] = await Promise.all([new FakeUpstream().start(), new FakeUpstream().start(), tesseraBundle()]);
  state = tempDir('tessera-test-serve-provider-keys-');
  // The one model, on two deployments with a secret each; the provider's endpoint is the us one (no model reads it).
  writeFileSync(join(state, 'tessera.config.json'), JSON.stringify({
    gateway: {
      providers: { openai: { baseUrl: us.url, apiKeySecretId: 'tessera/providers/openai' } },
      models: [{ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100, deployments: [
        { name: 'us', baseUrl: us.url, apiKeySecretId: US },
        { name: 'eu', baseUrl: eu.url, apiKeySecretId: EU },
      ] }],
    },
  }));
}, 60_000);
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([us?.stop(), eu?.stop()]);
});

/** Starts serve with the test's config and `args`: its port once it listens, or its exit code and stderr when it refuses to start. */
async function serve(args: string[]): Promise<{ port?: number; code?: number | null; err: string; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, [cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:enterprise', '--config', join(state, 'tessera.config.json'), ...args], { cwd: state, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS, TESSERA_UPSTREAM_KEY: '', TESSERA_PROVIDER_KEYS_FILE: '' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  return await new Promise((ok) => {
    child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok({ port: Number(/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]), err, child }); });
    child.once('exit', (code) => ok({ code, err, child }));
  });
}

describe('tessera serve --provider-keys: each deployment called with its own secret\'s key', () => {
  it('the us deployment gets the us key, the eu deployment the eu key (the official Node client, until both were picked)', async () => {
    writeFileSync(join(state, 'keys.json'), JSON.stringify({ [US]: 'sk-us-key', [EU]: 'sk-eu-key' }));
    const started = await serve(['--provider-keys', join(state, 'keys.json'), '--upstream-key', 'sk-one-for-all']);
    expect(started.port, started.err).toBeDefined();
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${started.port}/v1`, apiKey: await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme' }), maxRetries: 0, timeout: 20_000 });
    for (const u of [us, eu]) u.script(...Array.from({ length: 64 }, () => ({ body: ANSWER })));
    // A weighted random pick per request (1 and 1): both deployments are picked within 64 requests but once in 2^63 runs.
    for (let i = 0; i < 64 && !(us.calls.length && eu.calls.length); i++) {
      await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] });
    }
    expect(us.calls.length).toBeGreaterThan(0);
    expect(eu.calls.length).toBeGreaterThan(0);
    expect(new Set(us.calls.map((c) => c.headers.authorization))).toEqual(new Set(['Bearer sk-us-key']));
    expect(new Set(eu.calls.map((c) => c.headers.authorization))).toEqual(new Set(['Bearer sk-eu-key']));
    started.child.kill('SIGTERM');
  });

  it('a start without the eu deployment\'s key is refused (exit 2), naming the model, the deployment, the secret and the fix; --upstream-key does not stand in for it', async () => {
    writeFileSync(join(state, 'us-only.json'), JSON.stringify({ [US]: 'sk-us-key' }));
    const refused = await serve(['--provider-keys', join(state, 'us-only.json'), '--upstream-key', 'sk-one-for-all']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`gateway.models[0] openai/gpt-4o-mini deployment "eu" reads its key from ${EU} (its apiKeySecretId), which serve has no key for: add "${EU}": "<key>" to --provider-keys ${join(state, 'us-only.json')}`);
    expect(refused.err).not.toContain('deployment "us"');
    // Without the file, as serve started before: refused rather than both deployments called with the one key.
    const without = await serve(['--upstream-key', 'sk-one-for-all']);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/deployment "us" reads its key from tessera\/providers\/openai-us .*give --provider-keys <file>/);
    expect(without.err).toMatch(/deployment "eu" reads its key from tessera\/providers\/openai-eu/);
  });
});
