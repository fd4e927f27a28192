import { describe, expect, it } from 'vitest';
import { retrieveModel } from '../../../lambdas/inference/endpoints/models.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { resolvePolicy } from '../../../lambdas/inference/policy.js';
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

  it('leaves out every model of an unserved provider, the tenant\'s fine-tuned SageMaker models included (found by the hostile test)', () => {
    const everywhere = resolvePolicy(config, trained);
    expect(everywhere.models.has(`ft:${base.id}:bravo:v1`)).toBe(true);
    const served = resolvePolicy(config, trained, new Set(['openai', 'huggingface', 'openai-compatible'] as const));
    expect(served.models.has(`ft:${base.id}:bravo:v1`)).toBe(false);
    expect([...served.models.values()].map((m) => m.id.split('/')[0]).filter((p) => p === 'bedrock' || p === 'sagemaker' || p.startsWith('ft:'))).toEqual([]);
    expect(() => retrieveModel(served, `ft:${base.id}:bravo:v1`)).toThrow(GatewayError);
  });
});

