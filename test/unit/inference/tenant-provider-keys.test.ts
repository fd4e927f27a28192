import { GetSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { GatewayPolicy, type ProviderKeys } from '../../../lib/tenant-record.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-tenant.js';
import { ModelHealth } from '../../../lambdas/inference/model-health.js';
import { TenantKeyUnreadable } from '../../../lambdas/inference/openai-errors.js';
import type { Provider } from '../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import { secretsManagerKeys } from '../../../lambdas/inference/secrets.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { UpstreamCalls } from '../../../lambdas/inference/upstream-calls.js';
import { unscopedSecretsClient } from '../../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../../support/config-with.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { resetProcessEnv } from '../../support/process-env.js';
import { mockStrict } from '../../support/strict-mock.js';

/**
 * A tenant's own provider key (`gateway.providerKeys`): with `own`, a key the tenant's credentials cannot read fails the
 * request closed (502 tenant_provider_key_unreadable): no call with the platform's key, no fallback model, no cooldown of
 * the model for the tenants on the platform's key. `own-or-platform` (the default) keeps the fallback to the platform's
 * key; `platform` never reads the tenant's secret.
 */
const saved = { ...process.env };
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const secrets = mockStrict(SecretsManagerClient, 'secretsmanager', SecretsManagerServiceException);
const denied = () => Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/tessera-tenant-data/acme is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
const tenantSecretIds = () => secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId).filter((id) => id?.startsWith('tessera/tenants/'));

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  await upstream.stop();
  resetProcessEnv(saved);
});
beforeEach(() => {
  secrets.reset();
  upstream.authorizations.length = 0;
  upstream.refusedKeys.clear();
  secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai-compatible' }).resolves({ SecretString: 'sk-platform' });
  secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai' }).resolves({ SecretString: 'sk-platform-openai' });
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

/**
 * An in-process gateway whose openai-compatible and openai endpoints are the fake upstream, on the real Secrets Manager
 * key lookup (secrets.ts, the SDK mocked); tenant `acme` asks for openai-compatible/default with the fallback
 * openai/gpt-4o-mini, its policy's `providerKeys` as given; `globex` has no policy of its own.
 */
function gateway(providerKeys: ProviderKeys | undefined) {
  const config = gatewayConfig();
  config.gateway.providers['openai-compatible'] = { baseUrl: upstream.url, apiKeySecretId: 'tessera/providers/openai-compatible' };
  config.gateway.providers.openai = { baseUrl: upstream.url, apiKeySecretId: 'tessera/providers/openai' };
  const store = new MemoryStore();
  const acme = localTenant('acme', 'enterprise', { gateway: GatewayPolicy.parse({ fallbacks: ['openai/gpt-4o-mini'], ...(providerKeys ? { providerKeys } : {}) }) });
  const globex = localTenant('globex', 'enterprise', { gateway: GatewayPolicy.parse({ fallbacks: ['openai-compatible/backup'] }) });
  store.putTenant(acme);
  store.putTenant(globex);
  const records: AuditRecord[] = [];
  let who: Caller = { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme };
  const gw = new Gateway({
    config, store, audit: { write: async (r) => void records.push(r) },
    authorizer: { authorize: async () => who, settled: async () => undefined } as unknown as Authorizer,
    providers: new ProviderRegistry(config, secretsManagerKeys(config, unscopedSecretsClient())),
  });
  const ask = async (tenant: 'acme' | 'globex' = 'acme', extra: Record<string, unknown> = {}) => {
    who = tenant === 'acme' ? { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme } : { tenantId: 'globex', userId: 'u', role: 'member', tenant: globex };
    const answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
    const res: GatewayResponder = { json: (status, body, headers) => void answers.push({ status, body, headers }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    await gw.handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }], ...extra }) }, res);
    expect(answers).toHaveLength(1);
    const body = JSON.parse(answers[0].body) as { error?: { message: string; type: string; code: string; param: null }; model?: string };
    return { status: answers[0].status, headers: answers[0].headers ?? {}, body, record: records.at(-1)! };
  };
  return { ask, records };
}

describe('gateway.providerKeys.<provider>: own fails closed', () => {
  it('an untagged (AccessDenied) tenant secret: 502 tenant_provider_key_unreadable, nothing sent upstream with the platform key, no fallback model, audited', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).rejects(denied());
    const { ask } = gateway({ 'openai-compatible': 'own' });
    const { status, headers, body, record } = await ask();
    expect(status).toBe(502);
    expect(headers['x-should-retry']).toBe('false'); // nothing heals on an SDK retry until the operator acts
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'tenant_provider_key_unreadable', param: null });
    expect(body.error!.message).toMatch(/^the tenant's own API key for openai-compatible \(Secrets Manager secret tessera\/tenants\/acme\/openai-compatible\) is not readable: missing, or not tagged tessera:tenant-id=acme/);
    expect(body.error!.message).toContain('tessera tenants provider-key set acme openai-compatible');
    expect(body.error!.message).not.toMatch(/123456789012|tessera-tenant-data/); // AWS's words are not relayed
    expect(upstream.authorizations).toEqual([]); // neither the requested model nor the fallback on the platform's key
    expect(record).toMatchObject({ status: 502, outcome: 'tenant_provider_key_unreadable', tenantId: 'acme' });
  });

  it('a missing secret (ResourceNotFound) and an empty one fail closed the same way', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).rejects(Object.assign(new Error('no such secret'), { name: 'ResourceNotFoundException' }));
    const missing = await gateway({ 'openai-compatible': 'own' }).ask();
    expect(missing.body.error?.code).toBe('tenant_provider_key_unreadable');
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: '  ' });
    const empty = await gateway({ 'openai-compatible': 'own' }).ask();
    expect(empty.body.error?.message).toContain('is not readable: its value is empty');
    expect(upstream.authorizations).toEqual([]);
  });

  it('a readable own key calls the upstream with it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: 'sk-acme-own' });
    const { status } = await gateway({ 'openai-compatible': 'own' }).ask();
    expect(status).toBe(200);
    expect(upstream.authorizations).toEqual(['Bearer sk-acme-own']);
  });

  it('the prompt cache key and end-user ids go on as sent on the tenant\'s own key (its own provider account and cache), scoped to the tenant on the platform\'s key', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: 'sk-acme-own' });
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/globex/openai-compatible' }).rejects(denied());
    const { ask } = gateway({ 'openai-compatible': 'own' });
    const from = upstream.requests.length;
    const ids = { prompt_cache_key: 'k-1', user: 'u@acme.example', safety_identifier: 's-1' };
    expect((await ask('acme', ids)).status).toBe(200);
    expect((await ask('globex', ids)).status).toBe(200);
    expect(upstream.authorizations).toEqual(['Bearer sk-acme-own', 'Bearer sk-platform']);
    expect(upstream.requests.slice(from).map((b) => [b.prompt_cache_key, b.user, b.safety_identifier])).toEqual([
      ['k-1', 'u@acme.example', 's-1'],
      [tenantPromptCacheKey('globex', 'k-1'), tenantEndUserId('globex', 'u@acme.example'), tenantEndUserId('globex', 's-1')],
    ]);
  });

  it('the unreadable key cools nothing: after 4 failing requests of acme, globex (platform key) is still served by the model itself', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).rejects(denied());
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/globex/openai-compatible' }).rejects(denied());
    const { ask } = gateway({ 'openai-compatible': 'own' });
    for (let i = 0; i < 4; i++) expect((await ask()).body.error?.code).toBe('tenant_provider_key_unreadable');
    const other = await ask('globex');
    expect(other.status).toBe(200);
    expect(other.record.model).toBe('openai-compatible/default');
    expect(other.record.detail?.skippedCoolingModels).toBeUndefined();
    expect(upstream.authorizations).toEqual(['Bearer sk-platform']);
  });
});

describe('the provider refuses the tenant\'s own key (401/403): the chain ends, no fallback on another key', () => {
  it('own: 502 tenant_provider_key_refused naming the provider, one upstream call with the tenant\'s key, no retry, no fallback on the platform\'s key; audited', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: 'sk-acme-revoked' });
    upstream.refusedKeys.add('sk-acme-revoked');
    const { status, headers, body, record } = await gateway({ 'openai-compatible': 'own' }).ask();
    expect(status).toBe(502);
    expect(headers['x-should-retry']).toBe('false');
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'tenant_provider_key_refused', param: null });
    expect(body.error!.message).toMatch(/^openai-compatible refused the tenant's own API key \(401 from openai-compatible for openai-compatible\/default; Secrets Manager secret tessera\/tenants\/acme\/openai-compatible\)/);
    expect(body.error!.message).not.toMatch(/sk-|Incorrect API key/); // neither the key nor OpenAI's words, which quote part of it
    expect(upstream.authorizations).toEqual(['Bearer sk-acme-revoked']); // not the fallback openai/gpt-4o-mini on sk-platform-openai
    expect(record).toMatchObject({ status: 502, outcome: 'tenant_provider_key_refused', tenantId: 'acme', detail: { tenantKeyRefused: 'openai-compatible 401 (openai-compatible/default)' } });
  });

  it('own-or-platform with the tenant\'s key readable: refused the same way, the platform\'s key is not tried (it stands in only for an unreadable key)', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: 'sk-acme-revoked' });
    upstream.refusedKeys.add('sk-acme-revoked');
    const { status, body } = await gateway(undefined).ask();
    expect(status).toBe(502);
    expect(body.error?.code).toBe('tenant_provider_key_refused');
    expect(body.error!.message).toContain('gateway.providerKeys.openai-compatible: own-or-platform');
    expect(upstream.authorizations).toEqual(['Bearer sk-acme-revoked']);
  });

  it('the platform\'s key refused: the fallback runs, as before (the platform\'s credentials, not the tenant\'s)', async () => {
    upstream.refusedKeys.add('sk-platform');
    const { status, body } = await gateway({ 'openai-compatible': 'platform', openai: 'platform' }).ask();
    expect(status).toBe(200);
    expect(body.model).toBe('openai/gpt-4o-mini');
    expect(upstream.authorizations).toEqual(['Bearer sk-platform', 'Bearer sk-platform-openai']);
  });
});

describe('gateway.providerKeys.<provider>: own-or-platform (the default) and platform', () => {
  it('own-or-platform, and no providerKeys at all: an unreadable own key falls back to the platform\'s (today\'s behaviour)', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).rejects(denied());
    expect((await gateway({ 'openai-compatible': 'own-or-platform' }).ask()).status).toBe(200);
    expect((await gateway(undefined).ask()).status).toBe(200);
    expect(upstream.authorizations).toEqual(['Bearer sk-platform', 'Bearer sk-platform']);
  });

  it('platform: the tenant\'s secret is never read, even when it exists', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai-compatible' }).resolves({ SecretString: 'sk-acme-own' });
    expect((await gateway({ 'openai-compatible': 'platform' }).ask()).status).toBe(200);
    expect(upstream.authorizations).toEqual(['Bearer sk-platform']);
    expect(tenantSecretIds()).toEqual([]);
  });

  it('the policy refuses a provider that takes no key, by name', () => {
    const r = GatewayPolicy.safeParse({ providerKeys: { bedrock: 'own' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('bedrock');
    expect(GatewayPolicy.safeParse({ providerKeys: { openai: 'mine' } }).success).toBe(false);
  });
});

describe('UpstreamCalls: a TenantKeyUnreadable ends the chain and reports nothing to the health records', () => {
  const model = (id: string): ModelEntry => ({ id: `openai-compatible/${id}`, upstream: id, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10 });
  const answer = (text: string) => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }] }) as ChatCompletion;

  it('no retry, no fallback, no cooldown keyed by the model alone', async () => {
    const attempts: string[] = [];
    const provider: Provider = { complete: async (r) => (attempts.push(`${r.tenantId}:${r.model.upstream}`), answer('ok')), stream: () => { throw new Error('not used'); } };
    const lookups: string[] = [];
    const lookup = async (_name: string, tenantId: string, options?: { keys?: ProviderKeys }) => {
      const keys = options?.keys;
      lookups.push(`${tenantId}:${keys?.['openai-compatible'] ?? '-'}`);
      if (keys?.['openai-compatible'] === 'own') throw new TenantKeyUnreadable(tenantId, 'openai-compatible', 'missing');
      return provider;
    };
    const health = new ModelHealth({ failures: 1, windowMs: 60_000, coolMs: 30_000 }, () => 0, () => undefined);
    const calls = new UpstreamCalls(lookup, { firstByteMs: 1_000, idleMs: 1_000, retries: 2 }, health);
    const chain = [model('a'), model('b')];
    const never = new AbortController().signal;
    const base = (tenantId: string, providerKeys?: ProviderKeys) => ({ body: { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }, tenantId, providerKeys });
    const out = await calls.complete(chain, base('acme', { 'openai-compatible': 'own' }), never).catch((e: unknown) => e);
    expect(out).toBeInstanceOf(TenantKeyUnreadable);
    expect(lookups).toEqual(['acme:own']); // the health key's lookup threw: model b was never looked up
    expect((await calls.complete(chain, base('globex'), never)).model.upstream).toBe('a');
    expect(attempts).toEqual(['globex:a']);
    expect(health.admit('openai-compatible/a', true)).toEqual({ probe: false });
  });

  it('the registry asks for the key again on each get: a policy change from own-or-platform to own takes effect at once', async () => {
    const sources: string[] = [];
    const registry = new ProviderRegistry(configWith(), async (_p, _t, options) => {
      const source = options?.source;
      sources.push(source ?? '-');
      if (source === 'own') throw new TenantKeyUnreadable('acme', 'openai', 'missing');
      return 'sk-platform';
    });
    expect((await registry.get('openai', 'acme')).credentialOwner).toBeUndefined();
    await expect(registry.get('openai', 'acme', { keys: { openai: 'own' } })).rejects.toBeInstanceOf(TenantKeyUnreadable);
    expect(sources).toEqual(['own-or-platform', 'own']);
  });
});

describe('gateway.providerKeys.openai: own on a catalog model with two deployments (gateway.models[].deployments)', () => {
  let deploymentA: FakeUpstream;
  let deploymentB: FakeUpstream;
  beforeAll(async () => {
    deploymentA = await new FakeUpstream().start();
    deploymentB = await new FakeUpstream().start();
  });
  afterAll(async () => {
    await deploymentA.stop();
    await deploymentB.stop();
  });
  beforeEach(() => {
    deploymentA.authorizations.length = 0;
    deploymentB.authorizations.length = 0;
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai-org-a' }).resolves({ SecretString: 'sk-org-a' });
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/providers/openai-org-b' }).resolves({ SecretString: 'sk-org-b' });
  });

  /**
   * Tenant acme asks for `openai/spread` (two deployments, each on its own fake upstream with its own platform secret;
   * the provider's own endpoint is the shared fake upstream), with the fallback openai/gpt-4o-mini, on the real key lookup.
   */
  function spreadGateway(providerKeys: ProviderKeys) {
    const config = gatewayConfig();
    config.gateway.providers.openai = { baseUrl: upstream.url, apiKeySecretId: 'tessera/providers/openai' };
    config.gateway.models.push({
      id: 'openai/spread', upstream: 'gpt-4o-mini', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100,
      deployments: [
        { name: 'org-a', weight: 1, baseUrl: deploymentA.url, apiKeySecretId: 'tessera/providers/openai-org-a' },
        { name: 'org-b', weight: 1, baseUrl: deploymentB.url, apiKeySecretId: 'tessera/providers/openai-org-b' },
      ],
    });
    const store = new MemoryStore();
    const acme = localTenant('acme', 'enterprise', { gateway: GatewayPolicy.parse({ fallbacks: ['openai/gpt-4o-mini'], providerKeys }) });
    store.putTenant(acme);
    const records: AuditRecord[] = [];
    const gw = new Gateway({
      config, store, audit: { write: async (r) => void records.push(r) },
      authorizer: { authorize: async () => ({ tenantId: 'acme', userId: 'u', role: 'member', tenant: acme }), settled: async () => undefined } as unknown as Authorizer,
      providers: new ProviderRegistry(config, secretsManagerKeys(config, unscopedSecretsClient())),
    });
    return async () => {
      const answers: Array<{ status: number; body: string }> = [];
      const res: GatewayResponder = { json: (status, body) => void answers.push({ status, body }), stream: () => ({ write: () => undefined, end: () => undefined }) };
      await gw.handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/spread', messages: [{ role: 'user', content: 'hello' }] }) }, res);
      expect(answers).toHaveLength(1);
      return { status: answers[0].status, body: JSON.parse(answers[0].body) as { error?: { code: string }; model?: string }, record: records.at(-1)! };
    };
  }
  const deploymentCalls = () => [...deploymentA.authorizations, ...deploymentB.authorizations];
  const platformSecretsRead = () => secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId).filter((id) => id?.startsWith('tessera/providers/'));

  it('a readable own key: the provider\'s own endpoint with the tenant\'s key, neither deployment, no deployment secret read', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).resolves({ SecretString: 'sk-acme-own' });
    const ask = spreadGateway({ openai: 'own' });
    for (let i = 0; i < 3; i++) {
      const { status, body, record } = await ask();
      expect(status).toBe(200);
      expect(body.model).toBe('openai/spread');
      expect(record.detail?.deployment).toBeUndefined();
    }
    expect(upstream.authorizations).toEqual(['Bearer sk-acme-own', 'Bearer sk-acme-own', 'Bearer sk-acme-own']);
    expect(deploymentCalls()).toEqual([]);
    expect(platformSecretsRead()).toEqual([]);
  });

  it('an unreadable own key: 502 tenant_provider_key_unreadable, neither deployment nor the fallback called, nothing cooled', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).rejects(denied());
    const ask = spreadGateway({ openai: 'own' });
    for (let i = 0; i < 4; i++) {
      const { status, body, record } = await ask();
      expect(status).toBe(502);
      expect(body.error?.code).toBe('tenant_provider_key_unreadable');
      expect(record.detail?.skippedCoolingModels).toBeUndefined();
    }
    expect(deploymentCalls()).toEqual([]);
    expect(upstream.authorizations).toEqual([]);
    expect(platformSecretsRead()).toEqual([]);
  });

  it('platform: the deployments with their own secrets, the tenant\'s secret never read', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tessera/tenants/acme/openai' }).resolves({ SecretString: 'sk-acme-own' });
    const ask = spreadGateway({ openai: 'platform' });
    const { status, record } = await ask();
    expect(status).toBe(200);
    const served = record.detail?.deployment;
    expect(['org-a', 'org-b']).toContain(served);
    expect(deploymentCalls()).toEqual([served === 'org-a' ? 'Bearer sk-org-a' : 'Bearer sk-org-b']);
    expect(upstream.authorizations).toEqual([]);
    expect(tenantSecretIds()).toEqual([]);
  });
});
