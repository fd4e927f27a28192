import type { FineTuningJob } from '../../../lib/fine-tuning.js';
import type { ModelDayUsage } from '../../../lambdas/inference/stores/gateway-store.js';

/**
 * One tenant's October 2026, with every figure chosen so that the statement can be added up by
 * hand (the sums are written out in build-statement.test.ts and the integration test).
 */
export const MONTH = '2026-10';
export const AS_OF = new Date('2026-11-02T05:00:00Z');

export const MODEL_USAGE: ModelDayUsage[] = [
  { day: '2026-10-03', model: 'gpt-4o-mini', requests: 10, promptTokens: 1000, completionTokens: 500, costUsd: 0.00045, reportedRequests: 10, reportedTokens: 1500, estimatedTokens: 1520 },
  { day: '2026-10-03', model: 'llama-3.1-8b-instruct', requests: 4, promptTokens: 800, completionTokens: 200, costUsd: 0.002, reportedRequests: 4, reportedTokens: 1000, estimatedTokens: 1150 },
  { day: '2026-10-17', model: 'gpt-4o-mini', requests: 5, promptTokens: 300, completionTokens: 100, costUsd: 0.00012, reportedRequests: 5, reportedTokens: 400, estimatedTokens: 410 },
];

export const USER_ID = '3f1c9a6e-5a43-4d2e-9a7b-1c2d3e4f5a6b';
export const KEY_ID = 'key_0123456789abcdef';

const seconds = (iso: string) => Date.parse(iso) / 1000;
const job = (id: string, instanceType: string, status: FineTuningJob['status'], createdAt: string, finishedAt?: string): FineTuningJob => ({
  id, tenantId: 'acme', userId: USER_ID, model: 'llama-3.1-8b-instruct', trainingFile: 'training-data/a.jsonl',
  hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 }, suffix: 'x', instanceType, spot: false,
  trainingJobName: `acme-ft-${id.slice(6)}`, status, createdAt: seconds(createdAt), ...(finishedAt ? { finishedAt: seconds(finishedAt) } : {}), events: [],
});

/** 2.5 h of ml.g5.2xlarge in October; 1 h of a 2 h ml.g5.12xlarge job that began on 30 September; a queued job (no hours). */
export const JOBS: FineTuningJob[] = [
  job('ftjob-aaaaaaaaaaaaaaaaaaaaaaaa', 'ml.g5.2xlarge', 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T02:30:00Z'),
  job('ftjob-bbbbbbbbbbbbbbbbbbbbbbbb', 'ml.g5.12xlarge', 'failed', '2026-09-30T23:00:00Z', '2026-10-01T01:00:00Z'),
  job('ftjob-cccccccccccccccccccccccc', 'ml.g5.2xlarge', 'queued', '2026-10-31T23:00:00Z'),
];

/** Cost Explorer's UnblendedCost for the tenant's tag in October (a string, as CE answers). */
export const INFRASTRUCTURE_AMOUNT = '123.4567891';
