import { describe, expect, it } from 'vitest';
import { listModels, retrieveModel } from '../../../lambdas/inference/endpoints/models.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { modelNotFoundFor, modelsWithProvider, resolvePolicy } from '../../../lambdas/inference/policy.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const policy = resolvePolicy(gatewayConfig(), localTenant('acme', 'enterprise'));
const notFound = (id: string) => {
  try {
    retrieveModel(policy, id);
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error(`${id} was found`);
};

describe('retrieveModel', () => {
  it('shutdown_date (OpenAI\'s Model field, a YYYY-MM-DD string): an openai/ model\'s announced date, an OpenAI fine-tune\'s base\'s, an alias\'s target\'s; absent for no date and for openai-compatible/', () => {
    const base = gatewayConfig();
    const entry = (id: string, upstream: string) => ({ id, upstream, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 });
    const config = {
      ...base,
      gateway: {
        ...base.gateway,
        models: [...base.gateway.models, entry('openai/support-ft', 'ft:gpt-4o-mini-2024-07-18:acme:support:abc123'), entry('openai-compatible/relay', 'gpt-4o-mini'), entry('openai/gpt-5.4-mini', 'gpt-5.4-mini')],
        modelAliases: { support: 'openai/support-ft', mini: 'openai/gpt-5.4-mini' },
      },
    };
    const p = resolvePolicy(config, localTenant('acme', 'enterprise'));
    const got = (id: string) => JSON.parse(retrieveModel(p, encodeURIComponent(id))) as { shutdown_date?: string };
    expect(got('openai/support-ft')).toEqual({ id: 'openai/support-ft', object: 'model', created: 0, owned_by: 'openai', shutdown_date: '2027-01-14' });
    expect(got('support')).toEqual({ id: 'support', object: 'model', created: 0, owned_by: 'alias:openai/support-ft', shutdown_date: '2027-01-14' });
    expect(got('openai-compatible/relay')).toEqual({ id: 'openai-compatible/relay', object: 'model', created: 0, owned_by: 'openai-compatible' });
    expect(got('mini')).toEqual({ id: 'mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-5.4-mini' });
    const listed = (JSON.parse(listModels(p)) as { data: Array<{ id: string; shutdown_date?: string }> }).data;
    expect(listed.filter((m) => 'shutdown_date' in m).map((m) => [m.id, m.shutdown_date])).toEqual(expect.arrayContaining([['openai/support-ft', '2027-01-14'], ['support', '2027-01-14']]));
    expect(listed.find((m) => m.id === 'openai-compatible/relay')).not.toHaveProperty('shutdown_date');
  });

  it('finds an id sent encoded (%2F) or raw, with : either way', () => {
    for (const sent of ['sagemaker%2Fft:nova:acme:support', 'sagemaker/ft:nova:acme:support', 'sagemaker%2Fft%3Anova%3Aacme%3Asupport']) {
      expect(JSON.parse(retrieveModel(policy, sent))).toEqual({ id: 'sagemaker/ft:nova:acme:support', object: 'model', created: 0, owned_by: 'sagemaker' });
    }
  });

  it('answers 404 model_not_found for another tenant\'s model, an unknown id and a malformed escape (never a 500)', () => {
    for (const id of ['sagemaker%2Fft:nova:globex:sales', 'openai%2Fnope', 'openai%2F%E0%A4%A']) {
      const e = notFound(id);
      expect(e).toBeInstanceOf(GatewayError);
      expect({ status: e.status, code: e.code, param: e.param, type: e.type }).toEqual({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    }
  });
});

describe('models of providers the gateway cannot reach (tessera serve without AWS credentials)', () => {
  const config = gatewayConfig();
  const base = config.fineTuning.baseModels[0]!;
  const trained = localTenant('bravo', 'enterprise', {
    fineTunedModels: [{ id: `ft:${base.id}:bravo:v1`, baseModel: base.id, jobId: 'ftjob-1', endpointName: 'bravo-ep', createdAt: '2026-12-01T00:00:00Z' }],
  });

  it('answers a fine-tuned model as OpenAI answers one: created its deployment time (Unix seconds), owned_by the tenant; catalog models keep created 0 and their provider (new user 26)', () => {
    const policy = resolvePolicy(config, trained);
    expect(JSON.parse(retrieveModel(policy, `ft:${base.id}:bravo:v1`))).toEqual({ id: `ft:${base.id}:bravo:v1`, object: 'model', created: Date.parse('2026-12-01T00:00:00Z') / 1000, owned_by: 'bravo' });
    const listed = JSON.parse(listModels(policy)).data as Array<{ id: string; created: number; owned_by: string }>;
    expect(listed.find((m) => m.id === `ft:${base.id}:bravo:v1`)).toMatchObject({ created: Date.parse('2026-12-01T00:00:00Z') / 1000, owned_by: 'bravo' });
    expect(listed.filter((m) => !m.id.startsWith('ft:') && !m.owned_by.startsWith('alias:')).every((m) => m.created === 0 && m.owned_by === m.id.split('/')[0])).toBe(true);
  });

  it('leaves out every model of an unserved provider, the tenant\'s fine-tuned SageMaker models included (found by the hostile test)', () => {
    const everywhere = resolvePolicy(config, trained);
    expect(everywhere.models.has(`ft:${base.id}:bravo:v1`)).toBe(true);
    const served = resolvePolicy(config, trained, new Set(['openai', 'huggingface', 'openai-compatible'] as const));
    expect(served.models.has(`ft:${base.id}:bravo:v1`)).toBe(false);
    expect([...served.models.values()].map((m) => m.id.split('/')[0]).filter((p) => p === 'bedrock' || p === 'sagemaker' || p.startsWith('ft:'))).toEqual([]);
    expect(() => retrieveModel(served, `ft:${base.id}:bravo:v1`)).toThrow(GatewayError);
  });

  it('says a model the tenant may use is not served here, and names its provider; another tenant\'s or an unknown model gets the plain 404 (new user 10)', () => {
    const reachable = new Set(['openai', 'huggingface', 'openai-compatible'] as const);
    // as tessera serve builds it: the unserved providers' catalog models taken out of the config (local-gateway.ts)
    const withheld = config.gateway.models.filter((m) => !reachable.has(m.id.split('/')[0] as never));
    const bedrock = withheld.find((m) => m.id.startsWith('bedrock/'))!;
    const trimmed = { ...config, gateway: { ...config.gateway, models: config.gateway.models.filter((m) => !withheld.includes(m)) } };
    const policy = resolvePolicy(trimmed, trained, reachable, withheld);
    expect(policy.unserved?.get(bedrock.id)).toBe('bedrock');
    expect(policy.unserved?.get(`ft:${base.id}:bravo:v1`)).toBe('sagemaker');
    expect(policy.unserved?.has('sagemaker/ft:nova:globex:sales')).toBe(false);
    const refusal = (id: string) => {
      try {
        retrieveModel(policy, encodeURIComponent(id));
      } catch (e) {
        return e as GatewayError;
      }
      throw new Error(`${id} was found`);
    };
    const e = refusal(bedrock.id);
    expect({ status: e.status, code: e.code, param: e.param, type: e.type }).toEqual({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    expect(e.message).toBe(`The model '${bedrock.id}' is not served by this gateway: it does not reach provider bedrock (tessera serve's start-up lines say why); GET /v1/models lists what it serves`);
    expect(refusal(`ft:${base.id}:bravo:v1`).message).toContain('it does not reach provider sagemaker');
    for (const id of ['sagemaker/ft:nova:globex:sales', 'bedrock/not-in-the-catalog']) expect(refusal(id).message).toBe(`The model '${id}' does not exist or you do not have access to it; GET /v1/models lists yours`);
    // every provider served: nothing is unserved
    expect(resolvePolicy(config, trained).unserved).toBeUndefined();
  });

  it('an id without its provider (a client stripped it) gets a 404 naming the caller\'s own model with the provider', () => {
    // Without the embedded default's bare OpenAI names (gateway.modelAliases: null), which answer gpt-4o-mini as an alias.
    expect(JSON.parse(retrieveModel(resolvePolicy(config, trained), 'gpt-4o-mini'))).toEqual({ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-4o-mini', shutdown_date: '2027-01-14' });
    const policy = resolvePolicy({ ...config, gateway: { ...config.gateway, modelAliases: undefined } }, trained);
    const withProvider = [...policy.models.keys()].find((m) => m.startsWith('openai/'))!;
    const bare = withProvider.slice('openai/'.length);
    let e: GatewayError | undefined;
    try {
      retrieveModel(policy, encodeURIComponent(bare));
    } catch (thrown) {
      e = thrown as GatewayError;
    }
    expect(e).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(e!.message).toContain(`did you mean '${withProvider}'?`);
    expect(e!.message).toContain(`OpenAIResponsesModel(model='${withProvider}'`);
    expect(modelsWithProvider(policy, 'not-a-model')).toEqual([]);
    expect(modelsWithProvider(policy, withProvider)).toEqual([]);
  });

  it('an embedding or moderation id without its provider is told the whole id, without the Agents SDK hint (responses refuses those kinds)', () => {
    for (const kind of ['embedding', 'moderation'] as const) {
      const id = `openai/some-${kind}-model`;
      const e = modelNotFoundFor({ models: new Map([[id, { id, kind, upstream: `some-${kind}-model`, inputPricePer1k: 0, outputPricePer1k: 0 } as never]]) }, `some-${kind}-model`);
      expect(e.message, kind).toContain(`did you mean '${id}'? Model ids here name their provider. GET /v1/models lists yours`);
      expect(e.message, kind).not.toContain('OpenAIResponsesModel');
    }
  });
});
