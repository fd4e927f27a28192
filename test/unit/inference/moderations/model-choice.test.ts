import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../../lambdas/inference/audit.js';
import type { Caller } from '../../../../lambdas/inference/auth.js';
import { localTenant } from '../../../../lambdas/inference/local-tenant.js';
import { defaultModerationModel } from '../../../../lambdas/inference/moderations/default-model.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, type PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
import { resolvePolicy } from '../../../../lambdas/inference/policy.js';
import type { ProviderName } from '../../../../lambdas/inference/providers/registry.js';
import type { ApiKeyRecord } from '../../../../lib/identity/api-key-record.js';
import type { PlatformConfig } from '../../../../lib/config/schema.js';
import { configWith } from '../../../support/config-with.js';
import { logSpy } from '../../../support/service-log.js';

const entry = (id: string, kind?: 'chat' | 'embedding' | 'moderation') => ({ id, upstream: id.split('/')[1]!, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, ...(kind ? { kind } : {}) });
const CATALOG = [
  entry('openai/gpt-4o-mini'), entry('openai/text-embedding-3-small', 'embedding'),
  entry('openai/text-moderation-latest', 'moderation'), entry('openai/omni-moderation-latest', 'moderation'),
  entry('openai-compatible/default'),
];
const config = (models = CATALOG, allowed = ['*']) => configWith({ gateway: { models }, tiers: { starter: { models: { providers: ['openai', 'openai-compatible'], allowed } } } });

/** A request of tenant acme (tier starter) under `config`, as a user or as a key limited to `keyModels`. */
function request(c: PlatformConfig, options: { keyModels?: string[]; fallbacks?: string[]; served?: ProviderName[] } = {}): PipelineRequest {
  const tenant = localTenant('acme', 'starter', options.fallbacks ? { gateway: { fallbacks: options.fallbacks } } as never : {});
  let policy = resolvePolicy(c, tenant, options.served && new Set(options.served));
  const key = options.keyModels ? { keyId: 'key_0123456789abcdef', models: options.keyModels } as unknown as ApiKeyRecord : undefined;
  if (key) policy = { ...policy, models: new Map([...policy.models].filter(([id]) => options.keyModels!.includes(id))) };
  const caller: Caller = { tenantId: 'acme', userId: key ? 'key_0123456789abcdef' : 'u1', role: 'member', tenant, ...(key ? { keyId: 'key_0123456789abcdef', key } : {}) };
  return { caller, policy, audit: { requestId: 'req_1', at: '', method: 'POST', path: '/v1/moderations', latencyMs: 0, status: 200, outcome: 'ok' } as AuditRecord, signal: new AbortController().signal };
}
const refusal = (f: () => unknown): GatewayError => {
  try {
    f();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('expected a refusal');
};
const pipeline = (c: PlatformConfig) => new RequestPipeline(c, {} as never, {} as never, async () => ({ blocked: false }));

describe('the moderations default model (no model in the request)', () => {
  it('is the caller\'s first moderation model in catalog order, in the audit record', () => {
    const r = request(config());
    expect(defaultModerationModel(r).id).toBe('openai/text-moderation-latest');
    expect(r.audit).toMatchObject({ model: 'openai/text-moderation-latest', provider: 'openai' });
  });

  it('skips moderation models the tier does not allow, and those outside a key\'s models', () => {
    expect(defaultModerationModel(request(config(CATALOG, ['openai/gpt-4o-mini', 'openai/omni-moderation-latest']))).id).toBe('openai/omni-moderation-latest');
    expect(defaultModerationModel(request(config(), { keyModels: ['openai/omni-moderation-latest'] })).id).toBe('openai/omni-moderation-latest');
  });

  it('none allowed: 400 naming model, saying the tier allows none', () => {
    const e = refusal(() => defaultModerationModel(request(config(CATALOG, ['openai/gpt-4o-mini', 'openai/text-embedding-3-small']))));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'moderation_model_unavailable' });
    expect(e.message).toBe('model is absent, and tenant acme\'s tier "starter" allows no moderation model (models allowed for moderation: none); the platform adds one with kind: moderation (e.g. openai/omni-moderation-latest) to the catalog and the tier\'s models');
  });

  it('one the tier allows but this gateway does not serve (tessera serve with no way to OpenAI): the 400 names it and its provider, not "allows none"', () => {
    const e = refusal(() => defaultModerationModel(request(config(), { served: ['openai-compatible'] })));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'moderation_model_unavailable' });
    expect(e.message).toBe('model is absent, and the moderation model tenant acme\'s tier "starter" allows, openai/text-moderation-latest, is not served by this gateway: it does not reach provider openai (tessera serve\'s start-up lines say why)');
    // A key's models list still applies: the unserved model it names, or "allows none" when it names none.
    const key = refusal(() => defaultModerationModel(request(config(), { served: ['openai-compatible'], keyModels: ['openai/omni-moderation-latest'] })));
    expect(key.message).toMatch(/^model is absent, and the moderation model API key key_0123456789abcdef \(limited to its models list\) allows, openai\/omni-moderation-latest, is not served by this gateway/);
    const none = refusal(() => defaultModerationModel(request(config(), { served: ['openai-compatible'], keyModels: ['openai-compatible/default'] })));
    expect(none.message).toMatch(/allows no moderation model/);
  });

  it('none among a key\'s models: the 400 names the key and says to change the key, not the catalog (the tier has one)', () => {
    const e = refusal(() => defaultModerationModel(request(config(), { keyModels: ['openai/gpt-4o-mini'] })));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'moderation_model_unavailable' });
    expect(e.message).toBe('model is absent, and API key key_0123456789abcdef (limited to its models list) allows no moderation model: use a key whose models list includes one of the tier\'s moderation models, or a key without a models list (the catalog need not change)');
  });
});

describe('model kinds at the pipeline', () => {
  it.each([
    ['openai/gpt-4o-mini', 'moderation', 'model "openai/gpt-4o-mini" is a chat model: it serves chat (POST /v1/chat/completions, POST /v1/responses), not moderations'],
    ['openai/text-embedding-3-small', 'moderation', 'model "openai/text-embedding-3-small" is an embedding model: it serves embeddings (POST /v1/embeddings), not moderations'],
    ['openai/omni-moderation-latest', 'chat', 'model "openai/omni-moderation-latest" is a moderation model: it serves moderations (POST /v1/moderations), not chat'],
    ['openai/omni-moderation-latest', 'embedding', 'model "openai/omni-moderation-latest" is a moderation model: it serves moderations (POST /v1/moderations), not embeddings'],
    ['openai/gpt-4o-mini', 'embedding', 'model "openai/gpt-4o-mini" is a chat model: it serves chat (POST /v1/chat/completions, POST /v1/responses), not embeddings'],
  ] as const)('%s on a %s endpoint: 400 model_kind_mismatch naming model', (model, kind, message) => {
    const c = config();
    const e = refusal(() => pipeline(c).model(request(c), model, kind));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'model_kind_mismatch', message });
  });

  it('an unknown model on an endpoint the caller has no model of that kind for: the 404 says the tier has none (a platform catalog gap, not a typo)', () => {
    const c = config();
    const e = refusal(() => pipeline(c).model(request(c), 'tts-1', 'speech'));
    expect(e).toMatchObject({ status: 404, param: 'model', code: 'model_not_found' });
    expect(e.message).toBe("The model 'tts-1' does not exist or you do not have access to it; GET /v1/models lists yours; none of them serves speech: tenant acme's tier \"starter\" has no speech model (the platform adds one with kind: speech to gateway.models and the tier's models)");
    const keyed = refusal(() => pipeline(c).model(request(c, { keyModels: ['openai/gpt-4o-mini'] }), 'text-embedding-3-large', 'embedding'));
    expect(keyed.message).toContain('none of them serves embeddings: API key key_0123456789abcdef (limited to its models list) has no embedding model');
    // The caller has a model of the kind: the 404 stays OpenAI's (a typo, or a model of another tier).
    expect(refusal(() => pipeline(c).model(request(c), 'whisper-9', 'moderation')).message).toBe("The model 'whisper-9' does not exist or you do not have access to it; GET /v1/models lists yours");
  });

  it('serves a model of the endpoint\'s kind', () => {
    const c = config();
    expect(pipeline(c).model(request(c), 'openai/omni-moderation-latest', 'moderation').id).toBe('openai/omni-moderation-latest');
  });

  it('a fallback chain keeps the model\'s kind: chat never falls back to a moderation or embedding model', () => {
    const c = config();
    const r = request(c, { fallbacks: ['openai/omni-moderation-latest', 'openai/text-embedding-3-small', 'openai-compatible/default'] });
    const p = pipeline(c);
    expect(p.chain(r, p.model(r, 'openai/gpt-4o-mini')).map((m) => m.id)).toEqual(['openai/gpt-4o-mini', 'openai-compatible/default']);
    expect(p.chain(r, p.model(r, 'openai/text-moderation-latest', 'moderation')).map((m) => m.id)).toEqual(['openai/text-moderation-latest', 'openai/omni-moderation-latest']);
  });

  it('a fallback that names none of the tenant\'s models is skipped with one warning line per tenant and name, not silently on every request', () => {
    const c = config();
    const r = request(c, { fallbacks: ['openai/no-such-model', 'openai-compatible/default'] });
    const p = pipeline(c);
    const warn = logSpy('tessera-gateway', 'warn');
    try {
      for (let i = 0; i < 3; i++) expect(p.chain(r, p.model(r, 'openai/gpt-4o-mini')).map((m) => m.id)).toEqual(['openai/gpt-4o-mini', 'openai-compatible/default']);
      const lines = warn.lines().filter((l) => String(l.message).startsWith('fallback skipped'));
      expect(lines).toEqual([expect.objectContaining({ level: 'WARN', tenantId: 'acme', fallback: 'openai/no-such-model' })]);
    } finally {
      warn.mockRestore();
    }
  });

  it('a fallback named by its alias and its catalog id (or twice) is tried once, and the model itself never again', () => {
    const c = config(); // the embedded default's alias gpt-4o-mini → openai/gpt-4o-mini stays: its target is in this catalog
    expect(c.gateway.modelAliases).toMatchObject({ 'gpt-4o-mini': 'openai/gpt-4o-mini' });
    const r = request(c, { fallbacks: ['gpt-4o-mini', 'openai/gpt-4o-mini', 'openai-compatible/default', 'gpt-4o-mini'] });
    const p = pipeline(c);
    expect(p.chain(r, p.model(r, 'openai-compatible/default')).map((m) => m.id)).toEqual(['openai-compatible/default', 'openai/gpt-4o-mini']);
    expect(p.chain(r, p.model(r, 'gpt-4o-mini')).map((m) => m.id)).toEqual(['openai/gpt-4o-mini', 'openai-compatible/default']);
  });
});
