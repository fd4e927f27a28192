import { spawn } from 'node:child_process';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * s32l: `tessera serve` answers `GET /v1/usage?group_by=model` (the usage ledger by model and UTC day, as OpenAI's Usage
 * API page) to the official Node client's `client.get('/usage', { query })`, with the cached prompt tokens an upstream
 * reported (`prompt_tokens_details.cached_tokens`), and `/v1/usage`'s month counts them too.
 */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
let upstream: FakeUpstream;
let serve: { child: ReturnType<typeof spawn>; exited: Promise<number | null>; port: number };
let developer: OpenAI;
let member: OpenAI;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const cli = await tesseraBundle();
  const state = tempDir('tessera-test-serve-usage-');
  const child = spawn(process.execPath, [cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:enterprise', '--upstream', `${upstream.url}`], { cwd: state, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000); // stops by itself whatever the tests do
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
  let out = '';
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
    void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}`)));
  });
  serve = { child, exited, port: Number(/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]) };
  const client = async (role: string) => new OpenAI({ baseURL: `http://127.0.0.1:${serve.port}/v1`, apiKey: await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme', role }), maxRetries: 0, timeout: 20_000 });
  developer = await client('developer');
  member = await client('member');
}, 60_000);
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await upstream?.stop();
});

type Result = { model: string; num_model_requests: number; input_tokens: number; input_cached_tokens: number; output_tokens: number; cost_usd: number };
type Page = { object: string; group_by: string; bucket_width: string; start_time: number; end_time: number; data: Array<{ object: string; start_time: number; end_time: number; results: Result[] }> };

describe('tessera serve: GET /v1/usage?group_by=model with the official Node client', () => {
  it('answers today\'s bucket per model, cached tokens included, summing to /v1/usage\'s month; a member is refused naming usage.read', async () => {
    // gpt-4o-mini's upstream reports 1,024 of its 2,000 prompt tokens read from its cache.
    upstream.script({ body: {
      id: 'chatcmpl-s32l', object: 'chat.completion', created: 0, model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'cached hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2000, completion_tokens: 5, total_tokens: 2005, prompt_tokens_details: { cached_tokens: 1024 } },
    } });
    await developer.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    await developer.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello again' }] });

    const page = (await developer.get('/usage', { query: { group_by: 'model', bucket_width: '1d' } })) as Page;
    expect(page).toMatchObject({ object: 'page', group_by: 'model', bucket_width: '1d' });
    const today = page.data.at(-1)!;
    expect([today.start_time, today.end_time]).toEqual([page.end_time - 86_400, page.end_time]); // the default range ends with today
    expect(today.results.map((r) => [r.model, r.num_model_requests])).toEqual([['openai-compatible/default', 1], ['openai/gpt-4o-mini', 1]]);
    expect(today.results[1]).toMatchObject({ input_tokens: 2000, input_cached_tokens: 1024, output_tokens: 5 });
    expect(today.results[1]!.cost_usd).toBeGreaterThan(0);

    const totals = (await developer.get('/usage')) as { month: { tokens: number; cost_usd: number; requests: number; input_cached_tokens: number } };
    const all = page.data.flatMap((b) => b.results);
    expect(all.reduce((a, r) => a + r.input_tokens + r.output_tokens, 0)).toBe(totals.month.tokens);
    expect(all.reduce((a, r) => a + r.num_model_requests, 0)).toBe(totals.month.requests);
    expect(Math.round(all.reduce((a, r) => a + r.cost_usd, 0) * 1e9)).toBe(Math.round(totals.month.cost_usd * 1e9));
    expect(totals.month.input_cached_tokens).toBe(1024);

    const refused = await member.get('/usage', { query: { group_by: 'model' } }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, param: 'group_by', code: 'permission_denied' });
    const hourly = await developer.get('/usage', { query: { group_by: 'model', bucket_width: '1h' } }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(hourly).toMatchObject({ status: 400, param: 'bucket_width', code: 'invalid_value' });
  });
});
