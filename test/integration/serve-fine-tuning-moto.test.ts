import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, DescribeTrainingJobCommand, ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_TENANTS } from '../../lib/cli/serve-tenants.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { runPythonCode } from '../support/python-zygote.js';

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

const sageMakerOf = (endpoint: string) => new SageMakerClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const CAPPED = ['a', 'b', 'c', 'd'].map((s) => `ft:llama-3.1-8b-instruct:capped:${s}`);
const DEPLOYED = [{ id: 'ft:llama-3.1-8b-instruct:tuned:node', name: 'tuned-ft-0000000000000000000000a1' }, { id: 'ft:llama-3.1-8b-instruct:tuned:python', name: 'tuned-ft-0000000000000000000000b2' }];
const gone = async (sm: SageMakerClient, name: string) => {
  const found = await Promise.all([
    sm.send(new DescribeEndpointCommand({ EndpointName: name })), sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })), sm.send(new DescribeModelCommand({ ModelName: name })),
  ].map((p) => p.then(() => true, (e: Error) => { if (/could not find/i.test(e.message)) return false; throw e; })));
  return found.every((f) => !f);
};

type AuditLine = { action?: string; status: number; detail?: Record<string, string> };
const auditOf = (stateDir: string): AuditLine[] => {
  const file = join(stateDir, 'audit.jsonl');
  // Whole lines only: a batch being appended may be read half written.
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(0, -1).filter(Boolean).map((l) => JSON.parse(l) as AuditLine) : [];
};

/**
 * Resolves with `read()` once `done` holds for it: read now, and again each time `file`'s directory reports a
 * change of it (another process appends to it). No timer: a record that never comes fails at the test's timeout.
 */
async function whenFileChanges<T>(file: string, read: () => T, done: (value: T) => boolean): Promise<T> {
  const changes = new EventEmitter();
  const watcher = watch(dirname(file), (_event, name) => { if (name === basename(file)) changes.emit('change'); });
  try {
    for (;;) {
      const changed = once(changes, 'change'); // listening before the read: an append during it is not missed
      const value = read();
      if (done(value)) return value;
      await changed;
    }
  } finally {
    watcher.close();
  }
}

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
  // The `tuned` tenant with two deployed models (as the training events would have put them in its record), for client.models.delete.
  writeFileSync(join(dir, 'tenants.yaml'), `${EXAMPLE_TENANTS}  fineTunedModels:\n${DEPLOYED.map((d) => `    - { id: "${d.id}", baseModel: llama-3.1-8b-instruct, jobId: ftjob-${d.name.slice(-24)}, endpointName: ${d.name}, createdAt: "2026-12-01T00:00:00.000Z" }\n`).join('')}`
    // `capped`: tuned's copy whose tier's deployed-model bound (4, local.yaml) its listed models fill (no SageMaker resources: deleted as already gone)
    + EXAMPLE_TENANTS.slice(EXAMPLE_TENANTS.indexOf('- tenantId: tuned')).replaceAll('tuned', 'capped')
    + `  fineTunedModels:\n${CAPPED.map((id, i) => `    - { id: "${id}", baseModel: llama-3.1-8b-instruct, jobId: ftjob-${String(i).padStart(24, '0')}, endpointName: capped-ft-${String(i).padStart(24, '0')}, createdAt: "2026-12-01T00:00:00.000Z" }\n`).join('')}`);
  const sm = sageMakerOf(moto.endpoint);
  for (const { name } of DEPLOYED) {
    await sm.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/tessera-tuned-training', PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1', ModelDataUrl: `s3://tessera-tuned-data-123456789012/models/${name}/output/model.tar.gz` } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.m5.xlarge', InitialInstanceCount: 1 }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
  }
  // moto's CreateEndpointConfig knows no g5 instance types (its enum predates them): the README's local config gives the tier one it knows.
  writeFileSync(join(dir, 'local.yaml'), 'tiers:\n  professional:\n    training:\n      endpointInstanceTypes: [ml.g4dn.xlarge]\n      maxDeployedModels: 4\n');
  child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', '--config', join(dir, 'local.yaml'), '--tenants-file', join(dir, 'tenants.yaml'), '--fine-tuning'], { cwd: dir, env: { ...process.env, ...aws(moto.endpoint) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  url = await new Promise<string>((ok, fail) => {
    child!.stdout!.on('data', (d) => {
      out += String(d);
      const m = /^tessera gateway on (http:\/\/127\.0\.0\.1:\d+\/v1)/m.exec(out);
      if (m && /^fine-tuning: /m.test(out)) ok(m[1]!);
    });
    child!.once('exit', (code) => fail(new Error(`serve exited ${code}: ${out}`)));
  });
  expect(out).toMatch(new RegExp(`^fine-tuning: /v1/fine_tuning/jobs, fine-tune files on /v1/files and /v1/uploads, and DELETE /v1/models/\\{model\\} served; SageMaker with your AWS credentials \\(endpoint ${moto.endpoint.replace(/[.]/g, '\\.')}\\), not the tenant's launcher role; jobs and files in memory$`, 'm'));
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
    const jsonl = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`.repeat(10); // OpenAI's minimum of examples
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'local.jsonl'), purpose: 'fine-tune' });
    const job = await client.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: file.id, suffix: 'local' });
    expect(job).toMatchObject({ status: 'queued', training_file: file.id, user_provided_suffix: 'local' } as object);
    const described = await new SageMakerClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
      .send(new DescribeTrainingJobCommand({ TrainingJobName: `tuned-ft-${job.id.slice(6)}` }));
    expect(described.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(`s3://tessera-tuned-data-123456789012/training-data/files/${file.id}/`);
    expect(described.RoleArn).toBe('arn:aws:iam::123456789012:role/tessera-tuned-training');
  });

  it('follows the job to its end as the events would (moto marks it Completed at once): succeeded, its model deployed on moto, listed, retrieved and deleted by the official client', async () => {
    const token = (role: 'developer' | 'admin') => mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'tuned', role });
    const developer = new OpenAI({ baseURL: url, apiKey: await token('developer'), maxRetries: 0 });
    const admin = new OpenAI({ baseURL: url, apiKey: await token('admin'), maxRetries: 0 });
    const jsonl = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`.repeat(10); // OpenAI's minimum of examples
    const file = await developer.files.create({ file: await toFile(Buffer.from(jsonl), 'loop.jsonl'), purpose: 'fine-tune' });
    // The enterprise-free `tuned` tenant runs one job at a time: the first test's job must have ended for this one to start.
    const created = await vi.waitFor(() => developer.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: file.id, suffix: 'loop' }), { timeout: 20_000, interval: 500 });
    const done = await vi.waitFor(async () => {
      const j = await developer.fineTuning.jobs.retrieve(created.id);
      if (j.status === 'queued' || j.status === 'running') throw new Error(`still ${j.status}`);
      return j;
    }, { timeout: 20_000, interval: 250 });
    const loop = `ft:llama-3.1-8b-instruct:tuned:loop:${created.id.slice(-8)}`;
    expect(done).toMatchObject({ status: 'succeeded', fine_tuned_model: loop, error: null } as object);
    const name = `tuned-ft-${created.id.slice(6)}`;
    const sm = sageMakerOf(moto.endpoint);
    expect((await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))).ProductionVariants?.[0]?.InstanceType).toBe('ml.g4dn.xlarge');
    expect((await developer.models.list()).data.map((m) => m.id)).toContain(loop);
    expect((await developer.models.retrieve(loop)).id).toBe(loop);
    expect(await admin.models.delete(loop)).toEqual({ id: loop, object: 'model', deleted: true });
    expect(await gone(sm, name)).toBe(true);
    expect((await developer.models.list()).data.map((m) => m.id)).not.toContain(loop);
  }, 90_000);

  it('deletes a fine-tuned model with the official Node client (admin): OpenAI\'s ModelDeleted, moto\'s endpoint, config and model gone, no longer listed; again: 404', async () => {
    const token = await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'tuned', role: 'admin' });
    const client = new OpenAI({ baseURL: url, apiKey: token, maxRetries: 0 });
    const [node] = DEPLOYED;
    expect((await client.models.list()).data.map((m) => m.id)).toContain(node!.id);
    expect(await client.models.delete(node!.id)).toEqual({ id: node!.id, object: 'model', deleted: true });
    expect(await gone(sageMakerOf(moto.endpoint), node!.name)).toBe(true);
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain(node!.id);
    const again = await client.models.delete(node!.id).catch((e) => e);
    expect(again).toBeInstanceOf(OpenAI.NotFoundError);
    expect(again.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    // A developer may not (OpenAI asks its Owner role): 403 naming models.delete, the other model untouched.
    const developer = new OpenAI({ baseURL: url, apiKey: await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'tuned', role: 'developer' }), maxRetries: 0 });
    expect(await developer.models.delete(DEPLOYED[1]!.id).catch((e) => [e.status, e.error.code])).toEqual([403, 'permission_denied']);
    expect(await gone(sageMakerOf(moto.endpoint), DEPLOYED[1]!.name)).toBe(false);
    // The deletion is in serve's audit trail, as the other fine-tuning actions are.
    // (serve appends each record after its answer, in batches: read again at each change of its state dir, not on a
    // clock; vi.waitFor gave it 1 s, which a loaded machine can take)
    const deletes = await whenFileChanges(join(dir, 'audit.jsonl'), () => auditOf(dir).filter((r) => r.action === 'fine_tuning.model.delete' && r.detail?.fineTunedModel === node!.id), (found) => found.length >= 2);
    expect(deletes.map((r) => [r.status, r.detail?.fineTunedModel])).toEqual([[200, node!.id], [404, node!.id]]);
  });

  it('deletes a fine-tuned model with the official Python client (client.models.delete): ModelDeleted, then NotFoundError', async () => {
    const token = await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'tuned', role: 'admin' });
    const script = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
d = c.models.delete(sys.argv[3])
out = {"deleted": d.model_dump(), "type": type(d).__name__}
try:
    c.models.delete(sys.argv[3])
except openai.NotFoundError as e:
    out["again"] = [e.status_code, e.body]
try:
    c.models.delete("llama-3.1-8b-instruct")
except openai.PermissionDeniedError as e:
    out["base"] = [e.status_code, e.body]
print(json.dumps(out))
`;
    const python = DEPLOYED[1]!;
    const { stdout } = await runPythonCode(script, [url, token, python.id]);
    const out = JSON.parse(stdout);
    expect(out.type).toBe('ModelDeleted');
    expect(out.deleted).toEqual({ id: python.id, object: 'model', deleted: true });
    expect(out.again).toEqual([404, expect.objectContaining({ code: 'model_not_found', param: 'model' })]);
    expect(out.base).toEqual([403, expect.objectContaining({ code: 'model_not_deletable', param: 'model' })]);
    expect(await gone(sageMakerOf(moto.endpoint), python.name)).toBe(true);
  });

  it('a tenant at its tier\'s deployed-model bound (training.maxDeployedModels): the official Node and Python clients get a 409 ConflictError deployed_model_limit naming the models and client.models.delete, moto gets no training job; a deletion frees a slot', async () => {
    const token = (role: 'developer' | 'admin') => mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'capped', role });
    const developer = new OpenAI({ baseURL: url, apiKey: await token('developer'), maxRetries: 0 });
    const refused = await developer.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/more.jsonl', suffix: 'more' }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.ConflictError);
    expect(refused.error).toMatchObject({ code: 'deployed_model_limit', type: 'invalid_request_error', param: null });
    expect(refused.message).toContain(`409 tenant capped has 4 fine-tuned model(s) deployed or being deployed, and tier "professional" allows 4 (training.maxDeployedModels): deployed: ${CAPPED.join(', ')}. `
      + `Each runs an always-on SageMaker endpoint (ml.g4dn.xlarge), billed hourly until its model is deleted; delete one you no longer need with client.models.delete('${CAPPED[0]}')`);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    const script = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2])
try:
    c.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file="training-data/more.jsonl", suffix="more")
except openai.ConflictError as e:
    print(json.dumps([e.status_code, e.body["code"]]))
`;
    expect(JSON.parse((await runPythonCode(script, [url, await token('developer')])).stdout)).toEqual([409, 'deployed_model_limit']);
    const sm = sageMakerOf(moto.endpoint);
    const { TrainingJobSummaries } = await sm.send(new ListTrainingJobsCommand({ NameContains: 'capped-ft-' }));
    expect(TrainingJobSummaries ?? []).toEqual([]);
    // one deleted (nothing of it on SageMaker: already gone is success), its slot free: the create starts a training job
    const admin = new OpenAI({ baseURL: url, apiKey: await token('admin'), maxRetries: 0 });
    expect(await admin.models.delete(CAPPED[0]!)).toEqual({ id: CAPPED[0], object: 'model', deleted: true });
    const job = await developer.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/more.jsonl', suffix: 'more' });
    expect(job.status).toBe('queued');
    expect((await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: `capped-ft-${job.id.slice(6)}` }))).TrainingJobName).toBe(`capped-ft-${job.id.slice(6)}`);
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
