import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { providerRoutes } from '../../../lib/cli/serve-setup.js';

// `tessera serve`'s start-up line for bedrock and sagemaker says where their calls go: the README's
// local fine-tuning recipe sets AWS_ENDPOINT_URL (moto), and the SDK then calls moto, not AWS.
describe('providerRoutes: the AWS providers\' line', () => {
  const line = (p: string, env: NodeJS.ProcessEnv) => providerRoutes(loadConfig(), { upstreamKey: 'sk-test', awsCredentials: true, env }).report.find((l) => l.startsWith(`${p} `))!;

  it('names AWS without an endpoint override', () => {
    expect(line('bedrock', {})).toMatch(/^bedrock \(.*\): called on AWS with your environment's credentials and region \(not rerouted to --upstream\)$/);
  });

  it('names the endpoint and its variable when AWS_ENDPOINT_URL (or the service\'s own) is set', () => {
    expect(line('bedrock', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }))
      .toMatch(/^bedrock \(.*\): called at http:\/\/127\.0\.0\.1:5000 \(AWS_ENDPOINT_URL\), not AWS, with your environment's credentials and region \(not rerouted to --upstream\)$/);
    const both = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:6000' };
    expect(line('bedrock', both)).toContain('called at http://127.0.0.1:6000 (AWS_ENDPOINT_URL_BEDROCK_RUNTIME), not AWS');
    expect(line('sagemaker', both)).toContain('called at http://127.0.0.1:5000 (AWS_ENDPOINT_URL), not AWS');
    expect(line('sagemaker', { AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: 'http://127.0.0.1:7000' })).toContain('called at http://127.0.0.1:7000 (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME), not AWS');
    expect(line('bedrock', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toContain('called on AWS');
  });
});
