import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startOnFreePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `tessera serve` (one event loop: the memory store; `--workers 2`: the shared-memory store) answers
 * `GET /v1/usage?group_by=tag`, the spend by request tag (`x-tessera-tags`), to the official Node client's
 * `client.get('/usage', { query })` and the Python client's `client.get("/usage", options={"params": …})`, after
 * chat completions each client tagged per call (Node `{ headers }`, Python `extra_headers`).
 */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
const PYTHON = join(process.cwd(), '.venv', 'bin', 'python');
type Serve = { child: ReturnType<typeof spawn>; exited: Promise<number | null>; url: string; developer: string; member: string };
type Listed = { object: string; group_by: string; incomplete: boolean; unrecorded_requests: number; tags_limit: number; data: Array<{ object: string; scope: string; id: string; day: { tokens: number; cost_usd: number; requests: number }; month: { tokens: number; cost_usd: number; requests: number } }> };
let upstream: FakeUpstream;

async function startServe(workers: number): Promise<Serve> {
  const cli = await tesseraBundle();
  const state = tempDir('tessera-test-serve-tags-');
  // --workers needs a port number (a port another test took in between is tried again: startOnFreePort).
  const { child, port } = await startOnFreePort((p) => spawn(process.execPath, [cli, 'serve', '--state-dir', state, '--port', String(p), '--workers', String(workers), '--tenant', 'acme:enterprise', '--upstream', `${upstream.url}`], { cwd: state, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } }), (out) => /^ {2}sagemaker /m.test(out));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000); // stops by itself whatever the tests do
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
  const token = (role: string) => mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme', role });
  return { child, exited, url: `http://127.0.0.1:${port}/v1`, developer: await token('developer'), member: await token('member') };
}

/** A chat completion answer of `prompt` + `completion` tokens. */
const answer = (prompt: number, completion: number) => ({
  id: 'chatcmpl-s44g', object: 'chat.completion', created: 0, model: 'default',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});

/** The Python client (openai, .venv): a chat completion tagged `tags`, then GET /v1/usage?group_by=tag; prints the answer. */
async function pythonTaggedThenUsage(serve: Serve, tags: string): Promise<Listed> {
  const script = [
    'import json, sys', 'from openai import OpenAI',
    'c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
    'c.chat.completions.create(model="openai-compatible/default", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-tessera-tags": sys.argv[3]})',
    'print(json.dumps(c.get("/usage", cast_to=object, options={"params": {"group_by": "tag"}})))',
  ].join('\n');
  // Not spawnSync: the fake upstream answers from this process's event loop.
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, serve.url, serve.developer, tags], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout) as Listed;
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
}, 60_000);
afterAll(async () => {
  await upstream?.stop();
});

describe.each([1, 2])('tessera serve --workers %i: GET /v1/usage?group_by=tag with the official Node and Python clients', (workers) => {
  let serve: Serve;
  beforeAll(async () => {
    serve = await startServe(workers);
  }, 90_000);
  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
  });

  it('counts each tagged request under each of its tags (the sums exceed the tenant\'s), an untagged one under none; a member is refused naming usage.read', async () => {
    const developer = new OpenAI({ baseURL: serve.url, apiKey: serve.developer, maxRetries: 0, timeout: 20_000 });
    const ask = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    upstream.script({ body: answer(100, 20) }, { body: answer(50, 10) }, { body: answer(7, 3) }, { body: answer(30, 5) });
    await developer.chat.completions.create(ask, { headers: { 'x-tessera-tags': 'checkout, env=prod' } });
    await developer.chat.completions.create(ask, { headers: { 'x-tessera-tags': 'checkout' } });
    await developer.chat.completions.create(ask); // no tags: under none
    const fromPython = await pythonTaggedThenUsage(serve, 'env=prod,client=python');
    const listed = (await developer.get('/usage', { query: { group_by: 'tag' } })) as Listed;
    expect(fromPython).toEqual(listed); // the same answer to both clients (nothing settled between)
    expect(listed).toMatchObject({ object: 'list', group_by: 'tag', incomplete: false, unrecorded_requests: 0, tags_limit: 256 });
    expect(listed.data.map((t) => [t.object, t.scope, t.id, t.month.tokens, t.month.requests, t.day.requests])).toEqual([
      ['usage', 'tag', 'checkout', 180, 2, 2], ['usage', 'tag', 'client=python', 35, 1, 1], ['usage', 'tag', 'env=prod', 155, 2, 2],
    ]);
    const totals = (await developer.get('/usage')) as { month: { tokens: number } };
    expect(totals.month.tokens).toBe(225); // 120 + 60 + 10 + 35; the tags' 370 count the two-tag requests twice, the untagged one not at all
    const member = new OpenAI({ baseURL: serve.url, apiKey: serve.member, maxRetries: 0, timeout: 20_000 });
    const refused = await member.get('/usage', { query: { group_by: 'tag' } }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, param: 'group_by', code: 'permission_denied' });
  });
});
