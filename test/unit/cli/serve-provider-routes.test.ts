import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { awsProviderEndpoints, providerRoutes } from '../../../lib/cli/serve-setup.js';
import { tempDir } from '../../support/temp-dirs.js';
import { resetProcessEnv } from '../../support/process-env.js';

const dir = tempDir('serve-provider-routes-');
/** Shared files of the test's own (none unless written), never the machine's ~/.aws. */
const files = (name: string, config?: string) => {
  const env = { AWS_CONFIG_FILE: join(dir, `${name}.config`), AWS_SHARED_CREDENTIALS_FILE: join(dir, `${name}.credentials`) };
  if (config !== undefined) writeFileSync(env.AWS_CONFIG_FILE, config);
  return env;
};

// `tessera serve`'s start-up line for bedrock and sagemaker says where their calls go: the README's
// local fine-tuning recipe sets AWS_ENDPOINT_URL (moto), and the SDK then calls moto, not AWS.
describe('providerRoutes: the AWS providers\' line', () => {
  const line = async (p: string, env: NodeJS.ProcessEnv) => providerRoutes(loadConfig(), { upstreamKey: 'sk-test', awsCredentials: true, awsEndpoints: await awsProviderEndpoints({ ...files('none'), ...env }) })
    .report.find((l) => l.startsWith(`${p} `))!;

  it('names AWS without an endpoint override', async () => {
    expect(await line('bedrock', {})).toMatch(/^bedrock \(.*\): called on AWS with your environment's credentials and region \(not rerouted to --upstream\)$/);
  });

  it('names the endpoint and its variable when AWS_ENDPOINT_URL (or the service\'s own) is set', async () => {
    expect(await line('bedrock', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }))
      .toMatch(/^bedrock \(.*\): called at http:\/\/127\.0\.0\.1:5000 \(AWS_ENDPOINT_URL\), not AWS, with your environment's credentials and region \(not rerouted to --upstream\)$/);
    const both = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:6000' };
    expect(await line('bedrock', both)).toContain('called at http://127.0.0.1:6000 (AWS_ENDPOINT_URL_BEDROCK_RUNTIME), not AWS');
    expect(await line('sagemaker', both)).toContain('called at http://127.0.0.1:5000 (AWS_ENDPOINT_URL), not AWS');
    expect(await line('sagemaker', { AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: 'http://127.0.0.1:7000' })).toContain('called at http://127.0.0.1:7000 (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME), not AWS');
    expect(await line('bedrock', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toContain('called on AWS');
  });
});

/**
 * s24: the SDK v3 also takes the endpoint from the selected profile (`endpoint_url`, and a `services` section's per-service
 * `endpoint_url`); serve's line read the variables only, and said "called on AWS" of calls that went to the profile's endpoint.
 */
describe('providerRoutes: a profile\'s endpoint_url and services section, as the SDK v3 resolves them', () => {
  const CONFIG = `[profile local]
endpoint_url = http://127.0.0.1:4566
[profile split]
services = local-split
endpoint_url = http://127.0.0.1:4566
[services local-split]
bedrock_runtime =
  endpoint_url = http://127.0.0.1:7001
[profile dangling]
services = nowhere
endpoint_url = http://127.0.0.1:4566
[profile ignoring]
endpoint_url = http://127.0.0.1:4566
ignore_configured_endpoint_urls = true
[default]
region = us-east-1
`;
  const env = (profile: string | undefined, extra: NodeJS.ProcessEnv = {}) => ({ ...files('profiles', CONFIG), ...(profile ? { AWS_PROFILE: profile } : {}), ...extra });
  const lineOf = async (p: string, e: NodeJS.ProcessEnv) => providerRoutes(loadConfig(), { awsCredentials: true, awsEndpoints: await awsProviderEndpoints(e) }).report.find((l) => l.startsWith(`${p} `))!;

  it('the profile\'s endpoint_url; a services section\'s own key first; the variables before either', async () => {
    const where = (profile: string) => `profile ${profile} in ${join(dir, 'profiles.config')}`;
    expect(await lineOf('bedrock', env('local'))).toContain(`called at http://127.0.0.1:4566 (endpoint_url of ${where('local')}), not AWS`);
    expect(await lineOf('bedrock', env('split'))).toContain(`called at http://127.0.0.1:7001 (services local-split bedrock_runtime endpoint_url of ${where('split')}), not AWS`);
    expect(await lineOf('sagemaker', env('split'))).toContain(`called at http://127.0.0.1:4566 (endpoint_url of ${where('split')}), not AWS`);
    expect(await lineOf('bedrock', env('local', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }))).toContain('called at http://127.0.0.1:5000 (AWS_ENDPOINT_URL), not AWS');
  });

  it('calls AWS: the default profile without one, a services naming no section, ignore_configured_endpoint_urls (unless the variable says false)', async () => {
    for (const e of [env(undefined), env('dangling'), env('ignoring'), env('local', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })]) expect(await lineOf('bedrock', e)).toContain('called on AWS');
    expect(await lineOf('bedrock', env('ignoring', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }))).toContain('called at http://127.0.0.1:4566 (endpoint_url of');
  });

  it('is where the SDK sends the call: a SageMaker Runtime client of profile "split" calls the profile\'s endpoint_url', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => { seen.push(`${req.method} ${req.url}`); req.resume(); res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const e = { ...files('sdk', CONFIG.replaceAll('http://127.0.0.1:4566', `http://127.0.0.1:${port}`)), AWS_PROFILE: 'split' };
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_ENDPOINT_URL') || k === 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS') delete process.env[k];
    Object.assign(process.env, e);
    try {
      const client = new SageMakerRuntimeClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
      await client.send(new InvokeEndpointCommand({ EndpointName: 'e1', Body: new TextEncoder().encode('{}'), ContentType: 'application/json' }));
      expect(seen).toEqual(['POST /endpoints/e1/invocations']);
      expect((await awsProviderEndpoints(process.env)).sagemaker).toEqual({ url: `http://127.0.0.1:${port}`, source: `endpoint_url of profile split in ${e.AWS_CONFIG_FILE}` });
    } finally {
      resetProcessEnv(saved);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
