import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { HttpOpenAiCompatibleProvider } from '../../../lambdas/inference/providers/http-openai-compatible.js';
import type { ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { tenantEndUserId, withTenantEndUserBytes, withTenantEndUsers } from '../../../lambdas/inference/providers/tenant-end-user.js';
import { FakeUpstream } from '../../support/fake-upstream.js';

const EMAIL = 'alice@acme.example';

describe('tenantEndUserId: <tenant>-<32 hex of SHA-256(tenant NUL id)>', () => {
  it('is the documented formula, the tenant first, at most 57 characters for a 24-character tenant id', () => {
    const hex = createHash('sha256').update(Buffer.from(`acme\u0000${EMAIL}`, 'utf8')).digest('hex');
    expect(tenantEndUserId('acme', EMAIL)).toBe(`acme-${hex.slice(0, 32)}`);
    const longest = tenantEndUserId('a'.repeat(24), 'x'.repeat(10_000));
    expect(longest).toMatch(/^a{24}-[0-9a-f]{32}$/);
    expect(longest).toHaveLength(57);
  });

  it('stable per tenant and id; another tenant, or another id, is another value; the id\'s text is not in it', () => {
    expect(tenantEndUserId('acme', EMAIL)).toBe(tenantEndUserId('acme', EMAIL));
    expect(tenantEndUserId('acme', EMAIL)).not.toBe(tenantEndUserId('globex', EMAIL));
    expect(tenantEndUserId('acme', EMAIL)).not.toBe(tenantEndUserId('acme', 'bob@acme.example'));
    // Tenant and id are NUL-separated: "acme" + "-x" is not "acme-" + "x".
    expect(tenantEndUserId('acme', '-x').slice(5)).not.toBe(tenantEndUserId('acme-', 'x').slice(6));
    expect(tenantEndUserId('acme', EMAIL)).not.toContain('alice');
  });
});

describe('withTenantEndUsers / withTenantEndUserBytes', () => {
  it('scopes user and safety_identifier strings in a copy; the caller\'s body, empty strings and other types are left as they are', () => {
    const body = { model: 'm', user: EMAIL, safety_identifier: 's-1', prompt_cache_key: 'k' };
    const out = withTenantEndUsers(body, 'acme');
    expect(out).toEqual({ model: 'm', user: tenantEndUserId('acme', EMAIL), safety_identifier: tenantEndUserId('acme', 's-1'), prompt_cache_key: 'k' });
    expect(body.user).toBe(EMAIL);
    const none = { model: 'm', user: '', safety_identifier: null };
    expect(withTenantEndUsers(none, 'acme')).toBe(none);
  });

  it('in a form, replaces the user and safety_identifier parts only (every other byte as it came); in JSON, the fields', () => {
    const form = ['--b', 'Content-Disposition: form-data; name="model"', '', 'm', '--b', 'Content-Disposition: form-data; name="user"', '', EMAIL, '--b',
      'Content-Disposition: form-data; name="safety_identifier"', '', 's-1', '--b--', ''].join('\r\n');
    const out = Buffer.from(withTenantEndUserBytes(Buffer.from(form), 'multipart/form-data; boundary=b', 'acme')).toString('utf8');
    expect(out).toBe(form.replace(EMAIL, tenantEndUserId('acme', EMAIL)).replace('\r\ns-1\r\n', `\r\n${tenantEndUserId('acme', 's-1')}\r\n`));
    const json = Buffer.from(withTenantEndUserBytes(Buffer.from(JSON.stringify({ input: 'hi', user: EMAIL })), 'application/json', 'acme')).toString('utf8');
    expect(JSON.parse(json)).toEqual({ input: 'hi', user: tenantEndUserId('acme', EMAIL) });
    const plain = Buffer.from(JSON.stringify({ input: 'hi' }));
    expect(withTenantEndUserBytes(plain, 'application/json', 'acme')).toBe(plain);
  });
});

describe('the OpenAI-compatible relay: every path scopes them on the platform\'s key, none on the tenant\'s own', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
  });
  afterAll(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const model = (kind?: ModelEntry['kind']): ModelEntry => ({ id: 'openai-compatible/m', upstream: 'm', ...(kind ? { kind } : {}), inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 });
  const ids = { user: EMAIL, safety_identifier: 's-1' };
  const signal = new AbortController().signal;
  const form = (fields: Record<string, string>) => {
    const text = Object.entries(fields).flatMap(([k, v]) => ['--b', `Content-Disposition: form-data; name="${k}"`, '', v]);
    return { bytes: Buffer.from([...text, '--b--', ''].join('\r\n')), contentType: 'multipart/form-data; boundary=b' };
  };

  /** Calls every method with `user` and `safety_identifier`; what each upstream request carried: [user, safety_identifier]. */
  async function everyPath(provider: HttpOpenAiCompatibleProvider): Promise<Array<[unknown, unknown]>> {
    const base = { tenantId: 'acme', signal };
    const chat = { ...base, model: model(), body: { model: 'openai-compatible/m', messages: [{ role: 'user', content: 'hi' }], ...ids } } as ProviderRequest;
    await provider.complete(chat);
    for await (const _ of provider.stream(chat));
    await provider.embed({ ...base, model: model('embedding'), body: { model: 'x', input: 'hi', ...ids } });
    await provider.moderate({ ...base, model: model('moderation'), body: { input: 'hi', ...ids } as never });
    await provider.generateImages({ ...base, model: model('image'), body: { prompt: 'a cat', ...ids } });
    await provider.textComplete({ ...base, model: model('completion'), body: { prompt: 'hi', ...ids } });
    for await (const _ of provider.textStream({ ...base, model: model('completion'), body: { prompt: 'hi', ...ids } }));
    const json = upstream.requests.map((b) => [b.user, b.safety_identifier] as [unknown, unknown]);
    await provider.editImages({ ...base, model: model('image'), form: { kind: 'edits', fields: {}, images: [] }, body: (m) => form({ model: m, prompt: 'a hat', ...ids }) });
    await provider.audio({ ...base, model: model('speech'), path: '/audio/speech', accept: 'audio/mpeg', body: (m) => ({ bytes: Buffer.from(JSON.stringify({ model: m, input: 'hi', voice: 'alloy', ...ids })), contentType: 'application/json' }) });
    const bytes = upstream.audioCalls.map((c) => c.bytes.toString('utf8'));
    const edit = bytes[0]!.split('\r\n');
    const speech = JSON.parse(bytes[1]!);
    return [...json, [edit[edit.indexOf('Content-Disposition: form-data; name="user"') + 2], edit[edit.indexOf('Content-Disposition: form-data; name="safety_identifier"') + 2]], [speech.user, speech.safety_identifier]];
  }

  it('the platform\'s key: chat, streamed chat, embeddings, moderations, image generations, text completions (whole, streamed), an image form, audio', async () => {
    const sent = await everyPath(new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-platform'));
    expect(sent).toEqual(Array.from({ length: 9 }, () => [tenantEndUserId('acme', EMAIL), tenantEndUserId('acme', 's-1')]));
  });

  it('the tenant\'s own key (credentialOwner): as sent, on every path', async () => {
    const sent = await everyPath(Object.assign(new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-acme-own'), { credentialOwner: 'acme' }));
    expect(sent).toEqual(Array.from({ length: 9 }, () => [EMAIL, 's-1']));
  });
});
