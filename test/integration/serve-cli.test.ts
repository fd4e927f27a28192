import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { EXAMPLE_TENANTS, readTenantsFile } from '../../lib/cli/serve-tenants.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';
import { expectPolite } from '../support/polite-cli.js';

/**
 * `tessera serve` fails politely: each start-up error is one line (or a short list) on stderr that
 * names the flag, file or value and the fix; exit code 2 for usage and config errors, 1 for
 * runtime ones (a busy port); no stack trace unless --debug.
 *
 * Every run is a real process. `cli` is the CLI bundled once (test/support/cli-bundle.ts: the same
 * program without tsx's start-up cost); `bin` (bin/tessera.mjs, what `npx tessera` starts) runs
 * the SIGINT stop and the `npx tessera serve &` one, so the entry point itself is covered.
 */
const bin = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');
const cli = await tesseraBundle();
const STACK_LINE = /^\s+at /m;
/** No AWS credentials whatever this machine has: what serve reports and lists must not depend on it. */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '', AWS_WEB_IDENTITY_TOKEN_FILE: '', AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: '', AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: '' };
let dir: string;
let busy: Server;
let busyPort: number;

interface Run { code: number; stdout: string; stderr: string }

/** Runs `tessera serve <args>`; killed after 60 s if it does not end by itself. */
function serve(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'serve', '--state-dir', dir, ...args], { cwd: dir, timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, ...NO_AWS } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


beforeAll(async () => {
  dir = tempDir('tessera-test-serve-cli-');
  busy = createServer();
  await new Promise<void>((ok) => busy.listen({ port: 0, host: '127.0.0.1' }, ok));
  busyPort = (busy.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((ok) => busy?.close(ok));
});

/** The embedded default's aliases (the bare OpenAI names of its openai/* models), as serve's start-up line lists them. */
const EMBEDDED_ALIASES = 'gpt-4o-mini -> openai/gpt-4o-mini, gpt-5.4-mini -> openai/gpt-5.4-mini, text-embedding-3-small -> openai/text-embedding-3-small, omni-moderation-latest -> openai/omni-moderation-latest, gpt-image-2.5-flare -> openai/gpt-image-2.5-flare';

describe.concurrent('tessera serve: polite start-up failures', () => {
  it('a --tenant without a tier: exit 2, names the flag, the format and the tiers', async () => {
    expectPolite(await serve('--tenant', 'acme'), 2, /^tessera serve: --tenant "acme": expected <id>:<tier>, e\.g\. --tenant acme:starter \(tiers: starter, professional, enterprise\)$/m);
  });

  it('a --tenant with an invalid id: exit 2, says what a tenant id is', async () => {
    expectPolite(await serve('--tenant', 'Acme:starter'), 2, /--tenant "Acme:starter": tenant id "Acme" must be a lower-case DNS label/);
  });

  it('a --tenant whose tier the config lacks: exit 2, names the tenant, the tier and the config\'s tiers', async () => {
    expectPolite(await serve('--tenant', 'acme:gold'), 2,
      /^tessera serve: tenant acme has tier "gold", which the embedded default config lacks \(its tiers: starter, professional, enterprise\); use one of those or add tiers\.gold to the config$/m);
  });

  it('a tenants-file tenant whose tier a --config lacks: exit 2, names the config file', async () => {
    const config = file('one-tier.yaml', 'tiers: { professional: null, enterprise: null }\n');
    const tenants = file('gold.json', JSON.stringify([{ tenantId: 'acme', tier: 'enterprise' }]));
    expectPolite(await serve('--config', config, '--tenants-file', tenants), 2, new RegExp(`tenant acme has tier "enterprise", which --config ${config} lacks \\(its tiers: starter\\)`));
  });

  it('a config file that does not validate: exit 2, the file, each bad key and the fix, as a short list', async () => {
    const config = file('bad-config.yaml', 'homeRegion: 5\n');
    const run = await serve('--config', config);
    expectPolite(run, 2, new RegExp(`^tessera serve: .*${config}`), 6);
    expect(run.stderr).toMatch(/homeRegion/);
    expect(run.stderr).toMatch(/leave out --config to use the embedded default/);
  });

  it('a config file that does not exist: exit 2, names it', async () => {
    expectPolite(await serve('--config', join(dir, 'nowhere.yaml')), 2, /nowhere\.yaml.*\n?.*(ENOENT|no such file)/, 4);
  });

  it('a tenants file that is not JSON: exit 2, names the file and points to the example', async () => {
    const tenants = file('broken.json', '[{"tenantId": "acme",');
    expectPolite(await serve('--tenants-file', tenants), 2, new RegExp(`^tessera serve: --tenants-file ${tenants}: not valid YAML or JSON: line 1, column .*tessera serve --example-tenants$`, 'm'));
  });

  it('a tenants file that is not a list: exit 2', async () => {
    const tenants = file('object.json', '{"tenantId": "acme", "tier": "starter"}');
    expectPolite(await serve('--tenants-file', tenants), 2, /--tenants-file .*: expected a list of tenants .*found object/);
  });

  it('a tenants file that does not exist: exit 2', async () => {
    expectPolite(await serve('--tenants-file', join(dir, 'missing.json')), 2, /--tenants-file .*missing\.json: no such file; an example: tessera serve --example-tenants/);
  });

  it('a misspelt policy key in a tenants file: exit 2, names the path and the key it meant', async () => {
    const tenants = file('typo.json', JSON.stringify([{ tenantId: 'acme', tier: 'starter', gateway: { fallbaks: [] } }]));
    expectPolite(await serve('--tenants-file', tenants), 2, /\[0\]\.gateway\.fallbaks: unknown key \(did you mean fallbacks\?\)/, 2);
  });

  it('a bad value in a tenants file: exit 2, names the path and what it must be', async () => {
    const tenants = file('bad-value.json', JSON.stringify([{ tenantId: 'acme', tier: 'starter', gateway: { maxTokens: -1 } }]));
    expectPolite(await serve('--tenants-file', tenants), 2, /\[0\]\.gateway\.maxTokens = -1: /, 2);
  });

  it('a busy port: exit 1, names the port and the fix', async () => {
    expectPolite(await serve('--port', String(busyPort), '--tenant', 'acme:starter'), 1,
      new RegExp(`^tessera serve: --port ${busyPort}: 127\\.0\\.0\\.1:${busyPort} is already in use \\(another tessera serve\\?\\); stop that process or pick a free port with --port <n>$`, 'm'));
  });

  it('a busy port with --workers 2: exit 1, the same one line', async () => {
    expectPolite(await serve('--port', String(busyPort), '--workers', '2'), 1, new RegExp(`^tessera serve: --port ${busyPort}: .* is already in use`, 'm'));
  });

  it('bad --port, --workers, --upstream, --dynamodb values: exit 2 each', async () => {
    expectPolite(await serve('--port', 'http'), 2, /--port http: expected a whole number from 1 to 65535/);
    expectPolite(await serve('--workers', '0'), 2, /--workers 0: expected a whole number from 1 to 64/);
    expectPolite(await serve('--upstream', 'localhost:8000'), 2, /--upstream localhost:8000: expected an http\(s\) base URL/);
    expectPolite(await serve('--dynamodb', 'tessera-tenants'), 2, /--dynamodb tessera-tenants: expected <registryTable>:<usageTable>/);
  });

  it('an unknown option: exit 2 with commander\'s one line', async () => {
    expectPolite(await serve('--tennant', 'acme:starter'), 2, /error: unknown option '--tennant'/, 3);
  });

  it('--debug adds the stack trace', async () => {
    const run = await serve('--tenant', 'acme:gold', '--debug');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^tessera serve: tenant acme has tier "gold"/);
    expect(run.stderr).toMatch(STACK_LINE);
  });
});

describe('tessera serve: the tenants file and what it serves', () => {
  it('--example-tenants prints a tenants file that validates, with a policy', async () => {
    const run = await serve('--example-tenants');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(EXAMPLE_TENANTS);
    expect(parseYaml(run.stdout)).toBeInstanceOf(Array);
    const tenants = await readTenantsFile(file('example.yaml', run.stdout), loadConfig());
    expect(tenants.map((t) => [t.tenantId, t.tier, t.status])).toEqual([['acme', 'enterprise', 'ACTIVE'], ['globex', 'starter', 'ACTIVE'], ['initech', 'starter', 'SUSPENDED'], ['tuned', 'professional', 'ACTIVE']]);
    // the fine-tuning tenant (--fine-tuning) carries what its blueprint would have put in the registry
    expect(tenants[3]).toMatchObject({ accountId: '123456789012', stackOutputs: { BucketName: 'tessera-tuned-data-123456789012', TrainingRoleArn: expect.stringMatching(/:role\/tessera-tuned-training$/) } });
    expect(tenants[0]!.gateway).toMatchObject({ monthlyTokenBudget: 1_000_000, guardrails: { redactPii: true } });
    expect(tenants[0]!.isolation).toBe('account'); // the tier's isolation
    // the two fields that call AWS are shown commented; uncommented as written they validate
    const uncommented = run.stdout.replace('      # bedrockGuardrailId:', '      bedrockGuardrailId:').replace('    # bedrockInferenceProfiles:', '    bedrockInferenceProfiles:').replace('    #   bedrock/', '      bedrock/');
    expect(uncommented).not.toBe(run.stdout);
    expect((await readTenantsFile(file('example-aws.yaml', uncommented), loadConfig()))[0]!.gateway).toMatchObject({
      guardrails: { bedrockGuardrailId: expect.stringMatching(/^arn:aws:bedrock:/) },
      bedrockInferenceProfiles: { 'bedrock/anthropic.claude-3-5-haiku': expect.stringMatching(/:application-inference-profile\//) },
    });
  });

  it('starts with the example file and says which providers it reroutes and which it cannot serve; stops on SIGINT', async () => {
    const tenants = file('serve-example.yaml', EXAMPLE_TENANTS);
    const child = spawn(process.execPath, [bin, 'serve', '--state-dir', dir, '--port', '0', '--tenants-file', tenants, '--upstream', 'http://127.0.0.1:9/v1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    await new Promise<void>((ok, fail) => {
      child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}${err}`)));
    });
    expect(out).toMatch(/^tessera gateway on http:\/\/127\.0\.0\.1:\d+\/v1 \(embedded registry: acme:enterprise, globex:starter, initech:starter \(SUSPENDED, refused\), tuned:professional; audit /);
    expect(out).toMatch(/^config: embedded default \(--config <file> to use one\)$/m);
    expect(out.split('\n')).toContain(`aliases: ${EMBEDDED_ALIASES}`);
    expect(out).toMatch(/^fine-tuning: not served \(--fine-tuning\)$/m);
    expect(out).toMatch(/^ {2}openai \(openai\/gpt-4o-mini, openai\/gpt-5\.4-mini, openai\/text-embedding-3-small, openai\/omni-moderation-latest, openai\/gpt-image-2\.5-flare\): rerouted to --upstream http:\/\/127\.0\.0\.1:9\/v1 \(no key sent; give --upstream-key if it needs one\)$/m);
    expect(out).toMatch(/^ {2}huggingface \(huggingface\/meta-llama\/Llama-3\.1-8B-Instruct\): rerouted to --upstream /m);
    expect(out).toMatch(/^ {2}openai-compatible \(openai-compatible\/default, openai-compatible\/embeddings\): rerouted to --upstream /m);
    expect(out).toMatch(/^ {2}bedrock \(bedrock\/anthropic\.claude-3-5-haiku, bedrock\/amazon\.nova-lite, bedrock\/amazon\.titan-embed-text-v2, bedrock\/cohere\.embed-english-v3\): not served, no AWS credentials in the environment \(it calls AWS, never --upstream\); set AWS_PROFILE/m);
    expect(out).toMatch(/^ {2}sagemaker \(no catalog models\): not served, no AWS credentials/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    clearTimeout(killer);
    expect(err).toBe('');
  });

  it('without --upstream it says that openai-compatible cannot be served', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...NO_AWS } });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    await new Promise<void>((ok, fail) => {
      child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}`)));
    });
    expect(out).toMatch(/^ {2}openai-compatible \(openai-compatible\/default, openai-compatible\/embeddings\): not served, no endpoint in the config \(gateway\.providers\.openai-compatible\); give --upstream <url>/m);
    expect(out).toMatch(/^ {2}openai \(openai\/gpt-4o-mini, openai\/gpt-5\.4-mini, openai\/text-embedding-3-small, openai\/omni-moderation-latest, openai\/gpt-image-2\.5-flare\): not served, its endpoint https:\/\/api\.openai\.com\/v1 needs a key; give --provider-keys <file> \(each apiKeySecretId's key\) or --upstream-key \(or TESSERA_UPSTREAM_KEY\), or --upstream <url> for a local server$/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    clearTimeout(killer);
  });
});

describe.concurrent('tessera serve: stops cleanly (the README\'s background example)', () => {
  it('SIGTERM (kill $!, kill %1): exit 0, the port closed', async () => {
    const serveRun = await started(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', '--tenant', 'acme:starter']);
    expect(await answers(serveRun.port)).toBe(true);
    serveRun.child.kill('SIGTERM');
    expect(await serveRun.exited).toBe(0);
    expect(await answers(serveRun.port)).toBe(false);
    expect(serveRun.stderr()).toBe('');
  });

  it('SIGTERM with --workers 2: exit 0, no worker left on the port', async () => {
    const port = await freePort();
    const serveRun = await started(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', String(port), '--workers', '2', '--tenant', 'acme:starter']);
    expect(await answers(port)).toBe(true);
    serveRun.child.kill('SIGTERM');
    expect(await serveRun.exited).toBe(0);
    expect(await answers(port)).toBe(false);
    expect(serveRun.stderr()).toBe('');
  });

  it('started by npm (npx tessera serve &), it stops when its npm parent goes: kill $! reaches npx only', async ({ expect }) => {
    // npx runs `sh -c 'tessera' ...`; killing npx ends the sh without signalling serve. The sh
    // here does the same (`; true` keeps it from exec'ing node); npm_command is what npm sets.
    const serveRun = await started('sh', ['-c', `"${process.execPath}" "${bin}" serve --state-dir "${dir}" --port 0; true`], { npm_command: 'exec' });
    expect(await answers(serveRun.port)).toBe(true);
    serveRun.child.kill('SIGKILL');
    await serveRun.exited;
    await expect.poll(() => answers(serveRun.port), { timeout: 10_000, interval: 250 }).toBe(false);
  });
});

/** Starts `command args` (in `cwd`) and resolves once serve prints its address. */
async function started(command: string, args: string[], env: Record<string, string> = {}, cwd = dir) {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS, ...env } });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
    void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}${err}`)));
  });
  const port = Number(/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]);
  return { child, exited, port, stderr: () => err, out: () => out };
}
const answers = (port: number) => fetch(`http://127.0.0.1:${port}/v1/models`).then(() => true, () => false);


describe.concurrent('tessera serve: what it lists and refuses', () => {
  /** The ids GET /v1/models lists for a fresh tenant acme (enterprise: every provider allowed). */
  async function listed(args: string[], env: Record<string, string> = {}): Promise<{ ids: string[]; out: string }> {
    const state = tempDir('tessera-test-serve-models-');
    const serveRun = await started(process.execPath, [cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:enterprise', ...args], env);
    try {
      const token = await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme' });
      const res = await fetch(`http://127.0.0.1:${serveRun.port}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { object: 'list'; data: OpenAI.Models.Model[] };
      // OpenAI's Model, nothing added: shutdown_date (OpenAI's optional field) only where OpenAI announced one.
      for (const m of body.data) expect(Object.keys(m).filter((k) => k !== 'shutdown_date').sort(), m.id).toEqual(['created', 'id', 'object', 'owned_by']);
      for (const m of body.data) if ('shutdown_date' in m) expect(m.shutdown_date, m.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      return { ids: body.data.map((m) => m.id), out: serveRun.out() };
    } finally {
      serveRun.child.kill('SIGTERM');
      await serveRun.exited;
    }
  }

  it('/v1/models lists only what serve can reach: with --upstream and no AWS credentials, no bedrock model', async () => {
    const { ids } = await listed(['--upstream', 'http://127.0.0.1:9/v1']);
    // The embedded default's aliases too (the bare OpenAI names: their targets are served), after the models.
    expect(ids.sort()).toEqual(['gpt-4o-mini', 'gpt-5.4-mini', 'gpt-image-2.5-flare', 'huggingface/meta-llama/Llama-3.1-8B-Instruct', 'omni-moderation-latest', 'openai-compatible/default', 'openai-compatible/embeddings', 'openai/gpt-4o-mini', 'openai/gpt-5.4-mini', 'openai/gpt-image-2.5-flare', 'openai/omni-moderation-latest', 'openai/text-embedding-3-small', 'text-embedding-3-small']);
  });

  it('/v1/models without --upstream or key: nothing it cannot serve; with AWS credentials, the bedrock models', async () => {
    expect((await listed([])).ids).toEqual([]);
    const withAws = await listed(['--upstream-key', 'sk-test'], { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' });
    expect(withAws.ids.sort()).toEqual(['bedrock/amazon.nova-lite', 'bedrock/amazon.titan-embed-text-v2', 'bedrock/anthropic.claude-3-5-haiku', 'bedrock/cohere.embed-english-v3', 'gpt-4o-mini', 'gpt-5.4-mini', 'gpt-image-2.5-flare', 'huggingface/meta-llama/Llama-3.1-8B-Instruct', 'omni-moderation-latest', 'openai/gpt-4o-mini', 'openai/gpt-5.4-mini', 'openai/gpt-image-2.5-flare', 'openai/omni-moderation-latest', 'openai/text-embedding-3-small', 'text-embedding-3-small']);
    expect(withAws.out).toMatch(/^ {2}openai \(openai\/gpt-4o-mini, openai\/gpt-5\.4-mini, openai\/text-embedding-3-small, openai\/omni-moderation-latest, openai\/gpt-image-2\.5-flare\): sent to the config's endpoint https:\/\/api\.openai\.com\/v1 with --upstream-key$/m);
    expect(withAws.out).toMatch(/^ {2}bedrock \(.*\): called on AWS with your environment's credentials and region \(not rerouted to --upstream\)$/m);
  });


  // s25: a tessera.config.yaml in the directory is read only with --config; the start-up lines say which config and which aliases.
  it('names the config it read and lists its aliases; without --config, says that ./tessera.config.yaml is not read', async () => {
    const cwd = tempDir('tessera-test-serve-aliases-');
    writeFileSync(join(cwd, 'tessera.config.yaml'), 'gateway:\n  modelAliases:\n    gpt-4o-mini: openai/gpt-4o-mini\n    claude-haiku: bedrock/anthropic.claude-3-5-haiku\n    default: openai-compatible/default\n');
    const lines = async (args: string[]) => {
      const run = await started(process.execPath, [cli, 'serve', '--state-dir', join(cwd, '.tessera'), '--port', '0', '--tenant', 'acme:enterprise', '--upstream', 'http://127.0.0.1:9/v1', ...args], {}, cwd);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      return run.out().split('\n');
    };
    const without = await lines([]);
    expect(without[1]).toBe('config: embedded default (--config <file> to use one; ./tessera.config.yaml is not read without it)');
    expect(without[2]).toBe(`aliases: ${EMBEDDED_ALIASES}`);
    const withConfig = await lines(['--config', 'tessera.config.yaml']);
    expect(withConfig[1]).toBe(`config: ${join(cwd, 'tessera.config.yaml')}`);
    expect(withConfig[2]).toBe(`aliases: ${EMBEDDED_ALIASES}, claude-haiku -> bedrock/anthropic.claude-3-5-haiku (not served), default -> openai-compatible/default`);
  });

  it('every tenant problem at once: flags, schema, unknown tier, duplicate, in one list (exit 2)', async () => {
    const tenants = file('many-problems.yaml', [
      '- { tenantId: acme, tier: gold }',
      '- { tenantId: acme, tier: starter, gateway: { fallbaks: [] } }',
      '- { tenantId: Bad, tier: starter }',
      '- { tenantId: globex, tier: starter }',
    ].join('\n'));
    const r = await serve('--tenant', 'initech', '--tenant', 'globex:starter', '--tenants-file', tenants);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(STACK_LINE);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('tessera serve: 6 problems with the tenants:');
    expect(lines.slice(1, 7)).toEqual([
      expect.stringMatching(/^ {2}- --tenant "initech": expected <id>:<tier>/),
      expect.stringMatching(/^ {2}- --tenants-file .*: \[1\]\.gateway\.fallbaks: unknown key \(did you mean fallbacks\?\)/),
      expect.stringMatching(/^ {2}- --tenants-file .*: \[2\]\.tenantId = "Bad": /),
      expect.stringMatching(/^ {2}- tenant acme has tier "gold", which the embedded default config lacks/),
      expect.stringMatching(/^ {2}- tenant acme is given twice/),
      expect.stringMatching(/^ {2}- tenant globex is given twice/),
    ]);
    expect(lines[7]).toMatch(/^ {2}fix these entries \(fields: TenantRecord in lib\/tenant-record\.ts; an example: tessera serve --example-tenants\)$/);
  });
});
