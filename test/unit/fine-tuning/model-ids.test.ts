import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import {
  CreateFineTuningJobRequest, fineTunedModelId, legacyFineTunedModelId, MAX_SUFFIX_LENGTH, modelIdOfJob, trainingJobName, type FineTuningJob,
} from '../../../lib/fine-tuning.js';
import { FineTunedModel } from '../../../lib/tenant-record.js';
import { parseWith } from '../../../lambdas/inference/request-body.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { createTrainingJobInput, deploymentInputs, trainingTarget } from '../../../lambdas/fine-tuning/sagemaker-requests.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * Fine-tuned model ids as OpenAI shapes them (`ft:<base>:<org>:<suffix>:<job part>`, openai `JobCreateParams.suffix`),
 * the `suffix` rule (up to 64 characters, no `:`), the legacy ids of jobs recorded before, and the SageMaker names, which
 * come from the job id and tenant, never from the suffix.
 */
const JOB = 'ftjob-019af0c2d3e4a1b2c3d4e5f6';
const BASE = 'llama-3.1-8b-instruct';
const SUFFIX_64 = `nightly_Support-v2.${'x'.repeat(MAX_SUFFIX_LENGTH - 19)}`;

const suffixRefusal = (suffix: unknown) => {
  const r = CreateFineTuningJobRequest.safeParse({ model: BASE, training_file: 'training-data/a.jsonl', suffix });
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
};

describe('model ids', () => {
  it('end in the job\'s part (its id\'s last 8 hex digits), with the suffix before it, or an empty suffix field without one', () => {
    expect(fineTunedModelId(BASE, 'acme', 'support', JOB)).toBe('ft:llama-3.1-8b-instruct:acme:support:c3d4e5f6');
    expect(fineTunedModelId(BASE, 'acme', '', JOB)).toBe('ft:llama-3.1-8b-instruct:acme::c3d4e5f6');
    expect(fineTunedModelId(BASE, 'acme', undefined, JOB)).toBe('ft:llama-3.1-8b-instruct:acme::c3d4e5f6');
    // the same suffix on two jobs: two ids
    expect(fineTunedModelId(BASE, 'acme', 'support', 'ftjob-019af0c2d3e4a1b2c3d4e5f7')).not.toBe(fineTunedModelId(BASE, 'acme', 'support', JOB));
  });

  it('a job recorded before model ids had a job part keeps its legacy id; a new job answers the one recorded at its creation', () => {
    const legacy = { model: BASE, tenantId: 'acme', suffix: 'support' } as Pick<FineTuningJob, 'model' | 'tenantId' | 'suffix'>;
    expect(modelIdOfJob(legacy)).toBe('ft:llama-3.1-8b-instruct:acme:support');
    expect(legacyFineTunedModelId(BASE, 'acme', 'support')).toBe('ft:llama-3.1-8b-instruct:acme:support');
    expect(modelIdOfJob({ ...legacy, modelId: fineTunedModelId(BASE, 'acme', 'support', JOB) })).toBe('ft:llama-3.1-8b-instruct:acme:support:c3d4e5f6');
  });

  it('the registry takes both shapes (legacy records stay readable) and the longest new id; nothing else', () => {
    const listed = (id: string) => FineTunedModel.safeParse({ id, baseModel: BASE, jobId: JOB, endpointName: 'acme-ft-x', createdAt: '2026-12-07T00:00:00Z' }).success;
    expect(listed('ft:llama-3.1-8b-instruct:acme:support')).toBe(true);
    expect(listed('ft:llama-3.1-8b-instruct:acme:support:c3d4e5f6')).toBe(true);
    expect(listed('ft:llama-3.1-8b-instruct:acme::c3d4e5f6')).toBe(true);
    expect(listed(fineTunedModelId(BASE, 'a'.repeat(24), SUFFIX_64, JOB))).toBe(true);
    for (const id of ['ft:llama-3.1-8b-instruct:acme:', 'ft:llama-3.1-8b-instruct:acme:a:b:c3d4e5f6', 'ft:llama-3.1-8b-instruct:acme:a b:c3d4e5f6', `ft:${BASE}:acme:${SUFFIX_64}x:c3d4e5f6`, 'ft:llama-3.1-8b-instruct:acme:support:C3D4E5F6']) {
      expect(listed(id), id).toBe(false);
    }
  });
});

describe('suffix', () => {
  it('takes up to 64 letters, digits, ".", "_" and "-", as existing OpenAI code sends them', () => {
    for (const s of [SUFFIX_64, 'customer_support_v2', 'Support', 'a', 'v1.2', '-lead']) expect(suffixRefusal(s), s).toBeUndefined();
    expect(SUFFIX_64).toHaveLength(64);
  });

  it('refuses ":" (it separates the model id\'s parts), "/", spaces and other characters, naming suffix', () => {
    for (const s of ['team:support', 'team/support', 'my model', 'modèle', 'a\nb']) {
      expect(suffixRefusal(s), JSON.stringify(s)).toMatch(/^suffix: must be 1-64 characters of letters, digits, "\.", "_" and "-" \(no ":"/);
    }
  });

  // An empty suffix is no suffix of 1-64 characters: OpenAI's words for a string under its minimum (it was the rule above,
  // in Tessera's words), not taken as null (a field reshaped unseen).
  it('refuses an empty suffix as OpenAI refuses a string under its minimum length (string_below_min_length, param suffix)', () => {
    const e = (() => { try { parseWith(CreateFineTuningJobRequest, { model: BASE, training_file: 'training-data/a.jsonl', suffix: '' }); return undefined; } catch (err) { return err as GatewayError; } })();
    expect([e?.status, e?.param, e?.code, e?.message]).toEqual([400, 'suffix', 'string_below_min_length',
      "Invalid 'suffix': string too short. Expected a string with minimum length 1, but got an empty string instead."]);
  });

  // A length bound OpenAI documents ("up to 64 characters") is refused in its words, as n_epochs' is (it was the rule above, invalid_request).
  it('refuses 65 characters as OpenAI refuses a string past its maximum length (string_above_max_length, param suffix)', () => {
    const e = (() => { try { parseWith(CreateFineTuningJobRequest, { model: BASE, training_file: 'training-data/a.jsonl', suffix: `${SUFFIX_64}x` }); return undefined; } catch (err) { return err as GatewayError; } })();
    expect([e?.status, e?.param, e?.code, e?.message]).toEqual([400, 'suffix', 'string_above_max_length',
      "Invalid 'suffix': string too long. Expected a string with maximum length 64, but got a string with length 65 instead."]);
  });
});

describe('SageMaker names of a job', () => {
  const base = DEFAULT_CONFIG.fineTuning.baseModels[0];
  const tier = DEFAULT_CONFIG.tiers.enterprise;
  it('come from the tenant and job id, never the suffix: at most 63 characters of [a-zA-Z0-9-] for the longest tenant id and suffix', () => {
    const tenantId = `t${'a'.repeat(22)}1`;
    const target = trainingTarget(trainedTenant(tenantId, 'enterprise', '444444444444'));
    const job = {
      id: JOB, tenantId, userId: 'u', model: base.id, trainingFile: `s3://${target.bucket}/training-data/a.jsonl`, hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 },
      suffix: SUFFIX_64, modelId: fineTunedModelId(base.id, tenantId, SUFFIX_64, JOB), instanceType: tier.training.instanceTypes[0], spot: true,
      trainingJobName: trainingJobName(tenantId, JOB), status: 'queued', createdAt: 1, events: [],
    } satisfies FineTuningJob;
    const training = createTrainingJobInput(job, base, tier, target);
    const deploy = deploymentInputs(job, base, tier, target, `s3://${target.bucket}/models/${job.trainingJobName}/output/model.tar.gz`);
    const names = [training.TrainingJobName, deploy.model.ModelName, deploy.endpointConfig.EndpointConfigName, deploy.endpoint.EndpointName];
    expect(new Set(names)).toEqual(new Set([`${tenantId}-ft-019af0c2d3e4a1b2c3d4e5f6`]));
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9-]{1,63}$/);
    expect(JSON.stringify({ training, deploy })).not.toContain(SUFFIX_64);
  });
});
