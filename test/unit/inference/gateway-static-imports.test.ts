import { describe, expect, it } from 'vitest';
import { isFilesRoute, isFineTuningRoute } from '../../../lambdas/fine-tuning/fine-tuning-routes.js';
import { packagesIn, staticImportGraph } from '../../support/static-import-graph.js';

/**
 * What loading a gateway loads. `tessera serve` (lambdas/inference/local-gateway.ts, and each --workers thread) and the
 * router Lambda (lambdas/inference/gateway.ts) route fine-tuning requests with lambdas/fine-tuning/fine-tuning-routes.ts;
 * the service itself (fine-tuning-service.ts, whose SageMaker commands load @aws-sdk/client-sagemaker and its schemas,
 * ~0.8 MB of JavaScript: ~20 ms of every start) is imported by serve only with --fine-tuning.
 */
describe('a gateway loads the fine-tuning service only where it serves fine-tuning', () => {
  it('local-gateway.ts and gateway.ts reach no @aws-sdk/client-sagemaker through static imports; fine-tuning-service.ts does (the control)', async () => {
    const sageMaker = (graph: Set<string>) => packagesIn(graph, '@aws-sdk/client-sagemaker');
    expect(sageMaker(await staticImportGraph('lambdas/inference/local-gateway.ts'))).toEqual([]);
    expect(sageMaker(await staticImportGraph('lambdas/inference/gateway.ts'))).toEqual([]);
    const service = await staticImportGraph('lambdas/fine-tuning/fine-tuning-service.ts');
    expect(sageMaker(service)).toEqual(['@aws-sdk/client-sagemaker']);
    expect(service.has('lambdas/fine-tuning/fine-tuning-routes.ts')).toBe(true);
  }, 60_000);

  it('routes jobs, files and DELETE /v1/models/{model} to the service, nothing else', () => {
    for (const path of ['/v1/fine_tuning/jobs', '/v1/fine_tuning/jobs/ftjob-1', '/v1/fine_tuning/jobs/ftjob-1/events', '/v1/files', '/v1/files/file-1/content']) {
      expect(isFineTuningRoute(path, 'GET'), path).toBe(true);
    }
    expect(isFineTuningRoute('/v1/models/ft:gpt-4o-mini:acme', 'DELETE')).toBe(true);
    for (const [path, method] of [['/v1/models/ft:gpt-4o-mini:acme', 'GET'], ['/v1/models', 'GET'], ['/v1/fine_tuning', 'GET'], ['/v1/fine_tuning/jobsx', 'GET'], ['/v1/filesx', 'GET'], ['/v1/chat/completions', 'POST']] as const) {
      expect(isFineTuningRoute(path, method), `${method} ${path}`).toBe(false);
    }
    expect([isFilesRoute('/v1/files'), isFilesRoute('/v1/files/x'), isFilesRoute('/v1/fine_tuning/jobs')]).toEqual([true, true, false]);
  });
});
