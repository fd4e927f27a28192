import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_TENANTS } from '../../lib/cli/serve-tenants.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * `tessera serve --fine-tuning`: a tenant developer's local loop for OpenAI's fine-tuning API,
 * SageMaker being a moto server (AWS_ENDPOINT_URL), the tenant the `tuned` entry of
 * `--example-tenants`. The official Node client uploads a file and starts a job; moto has the
 * training job. Without AWS credentials, or with --workers, serve refuses to start, saying why.
 */
const cli = await tesseraBundle();
let moto: MotoServer;
let dir: string;
let child: ChildProcess | undefined;
let url: string;
const aws = (endpoint: string) => ({ AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_SESSION_TOKEN: '', AWS_PROFILE: '' });

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += String(d); });
    p.stderr.on('data', (d) => { err += String(d); });
    const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.once('exit', (code) => { clearTimeout(killer); resolve({ code, out, err }); });
  });
}

beforeAll(async () => {
  moto = await startMoto();
  dir = tempDir('tessera-test-serve-ft-');
  writeFileSync(join(dir, 'tenants.yaml'), EXAMPLE_TENANTS);
  child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', '--tenants-file', join(dir, 'tenants.yaml'), '--fine-tuning'], { cwd: dir, env: { ...process.env, ...aws(moto.endpoint) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  url = await new Promise<string>((ok, fail) => {
    child!.stdout!.on('data', (d) => {
      out += String(d);
      const m = /^tessera gateway on (http:\/\/127\.0\.0\.1:\d+\/v1)/m.exec(out);
      if (m && /^fine-tuning: /m.test(out)) ok(m[1]!);
    });
    child!.once('exit', (code) => fail(new Error(`serve exited ${code}: ${out}`)));
  });
  expect(out).toMatch(new RegExp(`^fine-tuning: /v1/fine_tuning/jobs and /v1/files served; SageMaker with your AWS credentials \\(endpoint ${moto.endpoint.replace(/[.]/g, '\\.')}\\), not the tenant's launcher role; jobs and files in memory$`, 'm'));
}, 120_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((ok) => child!.once('exit', ok));
    child.kill('SIGINT');
    await exited;
  }
  await moto?.stop();
});

describe('tessera serve --fine-tuning (SageMaker: moto)', () => {
  it('uploads a file and starts a training job on it with the official client; moto has the job', async () => {
    const client = new OpenAI({ baseURL: url, apiKey: await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'tuned', role: 'developer' }), maxRetries: 0 });
    const jsonl = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`;
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'local.jsonl'), purpose: 'fine-tune' });
    const job = await client.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: file.id, suffix: 'local' });
    expect(job).toMatchObject({ status: 'queued', training_file: file.id, user_provided_suffix: 'local' } as object);
    const described = await new SageMakerClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
      .send(new DescribeTrainingJobCommand({ TrainingJobName: `tuned-ft-${job.id.slice(6)}` }));
    expect(described.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(`s3://tessera-tuned-data-123456789012/training-data/files/${file.id}/`);
    expect(described.RoleArn).toBe('arn:aws:iam::123456789012:role/tessera-tuned-training');
  });

  it('refuses to start without AWS credentials, and with --workers, saying why', async () => {
    const noCredentials = await run(['--port', '0', '--tenant', 'acme:enterprise', '--fine-tuning'], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '', AWS_WEB_IDENTITY_TOKEN_FILE: '' });
    expect(noCredentials.code).not.toBe(0);
    expect(noCredentials.err).toMatch(/--fine-tuning starts SageMaker training jobs with your AWS credentials, and none were found/);
    const workers = await run(['--port', '65000', '--tenant', 'acme:enterprise', '--fine-tuning', '--workers', '2'], aws(moto.endpoint));
    expect(workers.code).not.toBe(0);
    expect(workers.err).toMatch(/--workers with --fine-tuning: not supported/);
  });
});
