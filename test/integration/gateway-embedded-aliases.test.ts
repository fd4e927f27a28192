import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.js';
import { GatewayPolicy } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { runPythonCode } from '../support/python-zygote.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * s32e: the embedded default config (no --config, as `tessera serve` runs in the README's quick start) names every
 * `openai/*` catalog model by its bare OpenAI name (`gateway.modelAliases`), so unchanged OpenAI code that sends
 * `gpt-5.4-mini` or `text-embedding-3-small` works on its first call. It was a 404 `model_not_found` suggesting
 * `openai/gpt-5.4-mini`. The official Node and Python clients, through serve's gateway and the fake upstream.
 */
const policy = (extra: Partial<GatewayPolicy> = {}) => ({ gateway: GatewayPolicy.parse({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, ...extra }) });

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // As `tessera serve --upstream <fake>` without AWS credentials, on the embedded default.
  gw = await serveGateway(loadConfig(), upstream.url, [
    localTenant('acme', 'enterprise', policy()),
    localTenant('starterco', 'starter', policy()),
    localTenant('defco', 'enterprise', policy({ defaultModel: 'gpt-5.4-mini' })),
    localTenant('flaky', 'enterprise', policy({ fallbacks: ['gpt-5.4-mini'] })),
  ], { providers: ['openai', 'openai-compatible', 'huggingface'] });
  for (const t of ['acme', 'starterco', 'defco', 'flaky']) tokens[t] = await gw.token(t);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.failures.clear());

const client = (tenant: string, apiKey = tokens[tenant]) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 });
const recordOf = (id: string) => gw.audit.records.find((r) => r.requestId === id);
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

describe('the embedded default\'s bare OpenAI names (official Node client)', () => {
  it('chat by gpt-5.4-mini: the upstream gets gpt-5.4-mini, the answer names the catalog id, the audit record both', async () => {
    const before = upstream.requests.length;
    const out = await client('acme').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(out.choices[0].message.content).toBe('echo: hello');
    expect(out.model).toBe('openai/gpt-5.4-mini');
    expect(upstream.requests.slice(before).map((b) => b.model)).toEqual(['gpt-5.4-mini']);
    expect(recordOf(out.id)).toMatchObject({ requestedModel: 'gpt-5.4-mini', model: 'openai/gpt-5.4-mini', provider: 'openai', status: 200 });
  });

  it('streams by gpt-5.4-mini; embeddings by text-embedding-3-small; moderations by omni-moderation-latest', async () => {
    const stream = await client('acme').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'streamed' }], stream: true });
    let text = '';
    const models = new Set<string>();
    for await (const chunk of stream) { text += chunk.choices[0]?.delta?.content ?? ''; models.add(chunk.model); }
    expect(text).toBe('echo: streamed');
    expect([...models]).toEqual(['openai/gpt-5.4-mini']);
    const embedding = await client('acme').embeddings.create({ model: 'text-embedding-3-small', input: 'bare embedding' });
    expect(embedding.model).toBe('openai/text-embedding-3-small');
    expect(embedding.data[0].embedding.length).toBeGreaterThan(0);
    const moderation = await client('acme').moderations.create({ model: 'omni-moderation-latest', input: 'bare moderation' });
    expect(moderation.model).toBe('openai/omni-moderation-latest');
  });

  it('the usage ledger counts the catalog model (its prices), not the bare name', async () => {
    await client('acme').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'ledger row' }] });
    const rows = await gw.store.modelUsage('acme', new Date().toISOString().slice(0, 7));
    expect(rows.map((r) => r.model)).toContain('openai/gpt-5.4-mini');
    expect(rows.map((r) => r.model)).not.toContain('gpt-5.4-mini');
  });

  it('models.retrieve("gpt-5.4-mini") answers; models.list() lists the bare names after the models, for a starter tenant too (its tier allows openai)', async () => {
    expect(await client('acme').models.retrieve('gpt-5.4-mini')).toEqual({ id: 'gpt-5.4-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-5.4-mini' });
    const aliases = (tenant: string) => client(tenant).models.list().then((page) => page.data.filter((m) => m.owned_by.startsWith('alias:')).map((m) => m.id));
    const bare = ['gpt-4o-mini', 'gpt-5.4-mini', 'text-embedding-3-small', 'omni-moderation-latest', 'gpt-image-2.5-flare'];
    expect(await aliases('acme')).toEqual(bare);
    expect(await aliases('starterco')).toEqual(bare);
    const out = await client('starterco').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'starter' }] });
    expect(out.model).toBe('openai/gpt-5.4-mini');
  });

  it('a tenant\'s defaultModel and fallbacks may name a bare name', async () => {
    const own = await client('defco').chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'own default' }] });
    expect(own.model).toBe('openai/gpt-5.4-mini');
    upstream.failures.set('gpt-4o-mini', { status: 503, times: 3 });
    const out = await client('flaky').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fall back' }] });
    expect(out.model).toBe('openai/gpt-5.4-mini');
    expect(recordOf(out.id)).toMatchObject({ requestedModel: 'gpt-4o-mini', fallbackFrom: 'openai/gpt-4o-mini', model: 'openai/gpt-5.4-mini' });
  });

  it('an API key\'s models list holds the catalog id, which reaches the bare name; a key created with the bare name is the 400 naming the id', async () => {
    const { key } = await gw.apiKey('acme', { models: ['openai/gpt-5.4-mini'] });
    expect((await client('acme', key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'key' }] })).model).toBe('openai/gpt-5.4-mini');
    expect(await refusal(client('acme', key).embeddings.create({ model: 'text-embedding-3-small', input: 'x' }))).toBeInstanceOf(OpenAI.NotFoundError);
    const admin = await gw.apiKey('acme', { role: 'admin' });
    const res = await fetch(`${gw.url}/tenant/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', models: ['gpt-5.4-mini'] }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: Record<string, unknown> }).error).toMatchObject({ code: 'unknown_model', param: 'models[0]', message: expect.stringMatching(/^models\[0\] = "gpt-5\.4-mini": an alias of openai\/gpt-5\.4-mini .*: write "openai\/gpt-5\.4-mini"$/) });
  });
});

describe('the embedded default\'s bare OpenAI names (official Python client)', () => {
  it('chat, streaming, embeddings and models.retrieve by bare name', async () => {
    const code = [
      'import json, sys, openai',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      "whole = c.chat.completions.create(model='gpt-5.4-mini', messages=[{'role': 'user', 'content': 'py hello'}])",
      "chunks = list(c.chat.completions.create(model='gpt-5.4-mini', messages=[{'role': 'user', 'content': 'py stream'}], stream=True))",
      "emb = c.embeddings.create(model='text-embedding-3-small', input='py embedding')",
      "m = c.models.retrieve('gpt-5.4-mini')",
      'print(json.dumps({"whole": [whole.model, whole.choices[0].message.content],',
      '  "stream": ["".join((ch.choices[0].delta.content or "") for ch in chunks if ch.choices), sorted({ch.model for ch in chunks})],',
      '  "embedding": [emb.model, len(emb.data[0].embedding) > 0], "model": m.model_dump()}))',
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, tokens.acme])).stdout);
    expect(out).toEqual({
      whole: ['openai/gpt-5.4-mini', 'echo: py hello'],
      stream: ['echo: py stream', ['openai/gpt-5.4-mini']],
      embedding: ['openai/text-embedding-3-small', true],
      // shutdown_date: the Python Model's optional field, None when not sent (gpt-5.4-mini has no announced date; gpt-4o-mini's: gateway-cost-headers.test.ts).
      model: { id: 'gpt-5.4-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-5.4-mini', shutdown_date: null },
    });
  });
});

describe('a library\'s default model and a misspelt name on the embedded default (official Python client)', () => {
  // s41d: these were the plain 404 ("… GET /v1/models lists yours"); the message now names the tenant's own model to send,
  // gpt-5.4-mini rather than gpt-4o-mini (its shutdown announced for 2027-01-14).
  it('gpt-3.5-turbo (ChatOpenAI()), gpt-5.6-luna (the Agents SDK), text-embedding-ada-002 (OpenAIEmbeddings()) and gpt-54-mini: NotFoundError naming one of the tenant\'s models', async () => {
    const code = [
      'import json, sys, openai',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      'out = {}',
      "for model, call in [('gpt-3.5-turbo', 'chat'), ('gpt-5.6-luna', 'chat'), ('text-embedding-ada-002', 'embed'), ('gpt-54-mini', 'chat')]:",
      '    try:',
      "        c.embeddings.create(model=model, input='x') if call == 'embed' else c.chat.completions.create(model=model, messages=[{'role': 'user', 'content': 'x'}])",
      '    except openai.NotFoundError as e:',
      '        out[model] = [type(e).__name__, e.status_code, e.body]',
      'print(json.dumps(out))',
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, tokens.acme])).stdout) as Record<string, [string, number, { message: string; type: string; param: string; code: string }]>;
    for (const [model, [kind, status, body]] of Object.entries(out)) {
      expect([kind, status, body.type, body.param, body.code], model).toEqual(['NotFoundError', 404, 'invalid_request_error', 'model', 'model_not_found']);
    }
    expect(out['gpt-3.5-turbo']![2].message).toBe("The model 'gpt-3.5-turbo' does not exist or you do not have access to it; did you mean 'gpt-5.4-mini'? 'gpt-3.5-turbo' is what LangChain's ChatOpenAI() sends, not served here: pass ChatOpenAI(model='gpt-5.4-mini') (JS: new ChatOpenAI({ model: 'gpt-5.4-mini' })). GET /v1/models lists yours");
    expect(out['gpt-5.6-luna']![2].message).toContain("did you mean 'gpt-5.4-mini'? 'gpt-5.6-luna' is what the OpenAI Agents SDK's Agent without a model sends, not served here: pass Agent(model=OpenAIResponsesModel(model='gpt-5.4-mini', openai_client=...)) (JS: new Agent({ model: 'gpt-5.4-mini', ... })) or OPENAI_DEFAULT_MODEL=gpt-5.4-mini.");
    expect(out['text-embedding-ada-002']![2].message).toContain("did you mean 'text-embedding-3-small'? 'text-embedding-ada-002' is what LangChain's OpenAIEmbeddings() sends");
    expect(out['gpt-54-mini']![2].message).toBe("The model 'gpt-54-mini' does not exist or you do not have access to it; did you mean 'gpt-5.4-mini'? GET /v1/models lists yours");
    expect(Object.keys(out)).toHaveLength(4);
  });
});

describe('the README quick start\'s two client lines, as written (the URL and token this test\'s)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Try the gateway locally\n'));
  const second = [...section.matchAll(/```bash\n([\s\S]*?)```/g)][1]![1]!;
  const nodeCode = /^npx node -e "(.*)"$/m.exec(second)?.[1];
  const pythonCode = /^\.venv\/bin\/python -c "(.*)"$/m.exec(second)?.[1];
  const local = (code: string) => code.replaceAll('http://127.0.0.1:8787/v1', gw.url);

  it('send the bare name gpt-5.4-mini (not a model near its shutdown), and both print echo: hello', async () => {
    expect(nodeCode).toContain("model: 'gpt-5.4-mini'");
    expect(pythonCode).toContain("model='gpt-5.4-mini'");
    const node = await promisify(execFile)(process.execPath, ['-e', local(nodeCode!)], { cwd: new URL('../..', import.meta.url).pathname, env: { ...process.env, TOKEN: tokens.acme }, timeout: 30_000 });
    expect(node.stdout).toBe('echo: hello\n');
    const python = await runPythonCode(local(pythonCode!).replace("os.environ['TOKEN']", JSON.stringify(tokens.acme)), []);
    expect(python.stdout).toBe('echo: hello\n');
  });
});
