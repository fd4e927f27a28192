import { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ConfigError, configSourcesFromContext, loadConfig } from '../config/load-config.js';
import type { PlatformConfig } from '../config/schema.js';
import { isTenantId, type TenantRecord } from '../tenant-record.js';
import type { AuditSink } from '../../lambdas/inference/audit.js';
import type { GatewayStore } from '../../lambdas/inference/stores/gateway-store.js';
import type { FineTuningStore } from '../../lambdas/fine-tuning/stores/job-store.js';
import { ROLES, type Role } from '../identity/roles.js';
import type { ServeWorkerData, ServeWorkerMessage } from './serve-worker.js';
import { CliError } from './cli-error.js';
import { configuredEndpoint } from './configured-endpoint.js';
import {
  checkJwks, checkPortFree, listenError, parseDynamoDb, parseJwt, parsePort, parseUpstream, providerRoutes, awsCredentialsFound, configLine, aliasesLine, awsProviderEndpoints, registryLabel, ServeError,
} from './serve-setup.js';
import { checkProviderKeys, readProviderKeysFile } from './serve-provider-keys.js';
import { EXAMPLE_TENANTS, loadTenants } from './serve-tenants.js';

const stateDirOption = ['--state-dir <dir>', "serve's state: dev key, API keys, audit log, stored responses and conversations (kept across restarts)", '.tessera'] as const;

function config(file?: string) {
  return loadConfig(configSourcesFromContext((key) => (key === 'tessera:configFile' ? file : undefined)));
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gateway (authorizer, policy, guardrails, metering, budgets) on 127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', '8787')
    .option('--upstream <url>', 'OpenAI-compatible base URL the providers call (e.g. a local vLLM: http://127.0.0.1:8000/v1)')
    .option('--upstream-key <key>', 'API key sent upstream: the key of each provider\'s own secret (gateway.providers.<provider>.apiKeySecretId) that --provider-keys does not give, and of the --upstream server', process.env.TESSERA_UPSTREAM_KEY)
    .option('--provider-keys <file>', 'JSON object of the platform provider keys by secret name, as the deployed router reads them from Secrets Manager: {"tessera/providers/openai": "sk-…", "tessera/providers/openai-eu": "sk-…"} (each model deployment\'s apiKeySecretId, else its provider\'s)', process.env.TESSERA_PROVIDER_KEYS_FILE)
    .option('--tenant <id:tier...>', 'tenants of the embedded registry, e.g. --tenant acme:enterprise')
    .option('--tenants-file <file>', 'JSON or YAML list of tenants with their policies (see --example-tenants); - reads it from the standard input')
    .option('--example-tenants', 'print an example --tenants-file and exit')
    .option('--dynamodb <registryTable:usageTable>', 'use these DynamoDB tables instead of the embedded store')
    .option('--config <file>', 'platform config file (default: the embedded default)')
    .option('--jwt-issuer <url>', "verify tokens of your identity provider instead of the dev key: the tokens' iss, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id> (with --jwt-audience and --jwks-url)")
    .option('--jwt-audience <client id>', "the tokens' aud: for Cognito ID tokens, the app client id (TenantUserPoolClientId)")
    .option('--jwks-url <url>', 'where the signing keys are published, e.g. <issuer>/.well-known/jwks.json')
    .option('--workers <n>', 'event loops (worker threads on one port, budgets exact across them through shared memory; Linux)', '1')
    .option('--fine-tuning', 'also serve /v1/fine_tuning/jobs, fine-tune files on /v1/files and /v1/uploads (their batch, user_data, vision and assistants files are served without it) and DELETE /v1/models/{model} (a fine-tuned model): jobs started on SageMaker with your AWS credentials and endpoint (AWS_ENDPOINT_URL: a moto server), jobs and files kept in memory; the tenants need accountId and stackOutputs (--example-tenants)')
    .option(...stateDirOption)
    .option('--no-access-log', 'print no line per request (method, path, status, duration, request id, tenant, user or key, model: one JSON line on stdout, a 5xx on stderr); the audit log keeps every request either way')
    .option('--profile <profile>', 'AWS profile of serve\'s AWS calls (--dynamodb tables, bedrock and sagemaker providers, guardrails, --fine-tuning): as AWS_PROFILE=<profile> for this process (default: $AWS_PROFILE, else the default credential chain)')
    .action(async (o: ServeOptions, command: Command) => {
      // Every AWS client serve makes (the gateway's stores, providers and guardrails are the Lambdas' code, with the default
      // chain) reads AWS_PROFILE: set for this process, and for its --workers threads, which copy the environment at start.
      if (o.profile !== undefined) process.env.AWS_PROFILE = o.profile;
      try {
        await serve(o);
      } catch (e) {
        throw asServeError(e, Boolean(command.optsWithGlobals().debug));
      }
    });
}

/**
 * A start-up failure as a ServeError (printed `tessera serve: <message>` by the CLI's one error
 * handler, bin/tessera-cli.ts): a config that does not validate is a config error (exit 2) with
 * the fix; anything unforeseen a runtime error (exit 1) keeping the original as `cause`, whose
 * stack `--debug` prints.
 */
function asServeError(e: unknown, debug: boolean): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof ConfigError || (e as Error | undefined)?.name === 'ConfigError') {
    return new ServeError(`${(e as Error).message}\n  fix the config file named above (or leave out --config to use the embedded default)`, 2, { cause: e });
  }
  return new ServeError(`${e instanceof Error ? e.message : String(e)}${debug ? '' : ' (--debug prints the stack trace)'}`, 1, { cause: e });
}

interface ServeOptions {
  port: string; upstream?: string; upstreamKey?: string; providerKeys?: string; tenant?: string[]; tenantsFile?: string; exampleTenants?: boolean;
  dynamodb?: string; config?: string; workers: string; stateDir: string; fineTuning?: boolean;
  jwtIssuer?: string; jwtAudience?: string; jwksUrl?: string; profile?: string;
  /** false with `--no-access-log`. */
  accessLog: boolean;
}

/**
 * Starts serve once its flags, config and tenants are good. The gateway, its stores, the AWS SDK and
 * the dev keys are imported only then: a refused start-up or `--example-tenants` loads the
 * command line and the config's schemas, not them (bundled, 0.18 -> 0.1 s of CPU a refusal).
 */
async function serve(o: ServeOptions): Promise<void> {
  if (o.exampleTenants) {
    process.stdout.write(EXAMPLE_TENANTS);
    return;
  }
  const workers = Number(o.workers);
  if (!/^\d+$/.test(o.workers) || workers < 1 || workers > 64) throw new ServeError(`--workers ${o.workers}: expected a whole number from 1 to 64`);
  const port = parsePort(o.port, workers);
  const upstream = parseUpstream(o.upstream);
  const dynamodb = parseDynamoDb(o.dynamodb);
  const jwt = parseJwt(o);
  if (workers > 1 && dynamodb) throw new ServeError('--workers with --dynamodb: not supported; run one process per core against the tables instead');
  if (workers > 1 && o.fineTuning) throw new ServeError('--workers with --fine-tuning: not supported (jobs and files are kept in one process\'s memory); leave out --workers');
  if (dynamodb && (o.tenant?.length || o.tenantsFile)) throw new ServeError('--tenant and --tenants-file fill the embedded registry; with --dynamodb the tenants come from the table: leave them out');
  const platform = config(o.config);
  const configName = o.config ? `--config ${o.config}` : 'the embedded default config';
  const tenants = await loadTenants(o.tenant ?? [], o.tenantsFile, platform, configName);
  if (jwt) await checkJwks(jwt.jwks);
  if (dynamodb) {
    const [{ checkRegistryTiers }, { unscopedDocumentClient }] = await Promise.all([import('./serve-registry-check.js'), import('../../lambdas/shared/tenant-credentials.js')]);
    await checkRegistryTiers(await unscopedDocumentClient()(''), dynamodb.registryTable, platform, configName);
  }
  try {
    mkdirSync(o.stateDir, { recursive: true });
  } catch (e) {
    throw new ServeError(`--state-dir ${o.stateDir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a directory you can write`);
  }
  const registry = dynamodb ? `DynamoDB ${dynamodb.registryTable}` : registryLabel(tenants);
  // An empty TESSERA_PROVIDER_KEYS_FILE is none given, as an empty TESSERA_UPSTREAM_KEY is no key.
  const providerKeys = o.providerKeys ? readProviderKeysFile(o.providerKeys) : undefined;
  const routes = providerRoutes(platform, { upstream, upstreamKey: o.upstreamKey, providerKeys, awsCredentials: Boolean(dynamodb) || await awsCredentialsFound(), awsEndpoints: await awsProviderEndpoints() });
  checkProviderKeys(platform, { served: routes.served, upstream, upstreamKey: o.upstreamKey, keys: providerKeys, file: o.providerKeys || undefined });
  const tokens = jwt
    ? `tokens: verified as the deployed authorizer does, against ${jwt.jwks} (issuer ${jwt.issuer}, audience ${jwt.audience}); tessera dev-token tokens are refused\n`
    : `tokens: tessera dev-token --state-dir ${o.stateDir} (dev key ${resolve(o.stateDir, 'dev-keys.json')}); --jwt-issuer, --jwt-audience and --jwks-url verify your identity provider's tokens instead\n`;
  const identity = `API keys (tsk_…): ${resolve(o.stateDir, 'api-keys')} (tessera dev-key --tenant <id> --role <role> --state-dir ${o.stateDir}, or POST /v1/tenant/keys with an admin's token); /v1/tenant/users: not served (no Cognito pool here)\n`;
  if (o.fineTuning && !(await awsCredentialsFound())) {
    throw new ServeError('--fine-tuning starts SageMaker training jobs with your AWS credentials, and none were found: pass --profile <profile>, or set AWS_PROFILE or AWS_ACCESS_KEY_ID (and AWS_ENDPOINT_URL for a moto server)');
  }
  const sageMakerEndpoint = await configuredEndpoint('SageMaker');
  const fineTuning = o.fineTuning
    ? `fine-tuning: /v1/fine_tuning/jobs, fine-tune files on /v1/files and /v1/uploads, and DELETE /v1/models/{model} served; SageMaker with your AWS credentials (${sageMakerEndpoint ? `endpoint ${sageMakerEndpoint.url}` : 'AWS'}), not the tenant's launcher role; jobs and files in memory\n`
    : 'fine-tuning: not served (--fine-tuning)\n';
  const configLines = `${configLine(o.config)}\n${aliasesLine(platform, routes.served)}\n`;
  const providers = `${configLines}${tokens}${identity}${fineTuning}providers:\n${routes.report.map((l) => `  ${l}\n`).join('')}`;
  await checkPortFree(port, workers > 1); // a busy port refused before the gateways are built
  const { closeGateway, stopCleanly, stopWorkers } = await import('./serve-shutdown.js');
  if (workers > 1) {
    const [{ devKeys }, { SharedMemoryStore }, { Worker }] = await Promise.all([
      import('../../lambdas/inference/dev-keys.js'), import('../../lambdas/inference/stores/shared-memory-store.js'), import('node:worker_threads'),
    ]);
    if (!jwt) await devKeys(resolve(o.stateDir, 'dev-keys.json')); // once, before the threads, so all sign with one key
    const buffer = SharedMemoryStore.allocate(tenants.length);
    const data: Omit<ServeWorkerData, 'port' | 'resumeBatches'> = { serveId: randomBytes(12).toString('hex'), configFile: o.config, stateDir: o.stateDir, upstream, upstreamKey: o.upstreamKey, providerKeys, tenants, providers: routes.served, buffer, jwt, accessLog: o.accessLog };
    const [script, options] = workerScript();
    // Only the first thread resumes the batches a stopped serve left unfinished: each is run by one thread.
    const threads = Array.from({ length: workers }, (_, i) => new Worker(script, { ...options, workerData: { ...data, port, resumeBatches: i === 0 } satisfies ServeWorkerData }));
    const started = await Promise.allSettled(threads.map((t) => new Promise<void>((ok, no) => {
      t.once('message', (m: ServeWorkerMessage) => (m === 'listening' ? ok() : no(Object.assign(new Error(m.error.message), { code: m.error.code, stack: m.error.stack }))));
      t.once('error', no);
    })));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw listenError(failed.reason, port);
    }
    stopCleanly(() => stopWorkers(threads));
    process.stdout.write(`tessera gateway on http://127.0.0.1:${port}/v1 (${workers} workers; ${registry}; audit ${resolve(o.stateDir, 'audit.jsonl')})\n${providers}`);
    return;
  }
  const [{ createLocalGateway }, { startLocalServer }] = await Promise.all([import('../../lambdas/inference/local-gateway.js'), import('../../lambdas/inference/local-server.js')]);
  // With --fine-tuning, SageMaker as the caller's own credentials (a developer's, or a moto server's): a local loop, not the deployed launcher roles.
  const sageMaker = o.fineTuning ? new (await import('@aws-sdk/client-sagemaker')).SageMakerClient({}) : undefined;
  const { gateway, jobs, store, audit, stopBatches, batchesIdle } = await createLocalGateway({
    config: platform, stateDir: o.stateDir, upstreamUrl: upstream, upstreamKey: o.upstreamKey, providerKeys, tenants, dynamodb, providers: routes.served, jwt,
    // The tokenizer with the first request that counts tokens, not at every start (about half of a start's CPU). The
    // --workers threads (serve-worker.ts) still load it as they start: that is the throughput setup, where a burst of
    // first requests would otherwise all wait for it.
    loadTokenizer: 'first-count',
    accessLog: o.accessLog,
    ...(sageMaker ? { fineTuning: { sageMaker: async () => sageMaker } } : {}),
  });
  // No SageMaker state-change events reach a local gateway: the embedded tenants' jobs are followed by looking every 2 s.
  if (sageMaker && jobs && !dynamodb) await followTrainingJobs({ platform, jobs, store, audit, sageMaker, tenants });
  let server: Server;
  try {
    server = await startLocalServer(gateway, { port, maxBytes: platform.gateway.maxRequestBytes });
  } catch (e) {
    throw listenError(e, port);
  }
  const bound = (server.address() as AddressInfo).port;
  // The batch runs first: a run going on while serve settles would start lines a serve started next would run again.
  // Their lines in flight then end and their answers are written before serve exits (within the grace): not run again.
  stopCleanly(() => {
    stopBatches();
    return closeGateway(server, gateway, { work: batchesIdle });
  });
  process.stdout.write(`tessera gateway on http://127.0.0.1:${bound}/v1 (${registry}; audit ${resolve(o.stateDir, 'audit.jsonl')})\n${providers}`);
}

/**
 * `serve --fine-tuning` with the embedded registry: the jobs of its tenants followed as the
 * training-events Lambda follows them on AWS (lambdas/fine-tuning/local-training-poller.ts), so a
 * job ends, its model is deployed on the SageMaker serve reaches and listed, as it would be deployed.
 */
async function followTrainingJobs(p: { platform: PlatformConfig; jobs: FineTuningStore; store: GatewayStore; audit: AuditSink; sageMaker: SageMakerClient; tenants: TenantRecord[] }): Promise<void> {
  const [{ TrainingEvents }, { EndpointEvents }, { memoryTenantModels }, { localTrainingPoller }, { MemoryStore }] = await Promise.all([
    import('../../lambdas/fine-tuning/training-events.js'), import('../../lambdas/fine-tuning/endpoint-events.js'), import('../../lambdas/fine-tuning/stores/tenant-models.js'),
    import('../../lambdas/fine-tuning/local-training-poller.js'), import('../../lambdas/inference/stores/memory-store.js'),
  ]);
  if (!(p.store instanceof MemoryStore)) return;
  const deps = { config: p.platform, jobs: p.jobs, tenants: memoryTenantModels(p.store), audit: p.audit, sageMaker: async () => p.sageMaker };
  localTrainingPoller({ jobs: p.jobs, tenants: async () => p.tenants, events: new TrainingEvents(deps), endpoints: new EndpointEvents(deps), sageMaker: p.sageMaker, warn: (m) => process.stderr.write(`${m}\n`) }).start(2_000);
}

/**
 * Set by esbuild's `define` where the CLI runs from a bundle with serve-worker.ts bundled beside it
 * (test/support/cli-bundle.ts, for the tests that start serve as a process): that worker's path.
 * Not defined anywhere else: under tsx (bin/tessera.mjs) it is undefined.
 */
declare const TESSERA_SERVE_WORKER_BUNDLE: string | undefined;

/**
 * The script of a `--workers` thread and its Worker options: the worker's bundle when this code
 * runs from a bundle that has one, else serve-worker.ts through tsx, as the main thread loads it.
 */
function workerScript(): [URL, { execArgv?: string[] }] {
  if (typeof TESSERA_SERVE_WORKER_BUNDLE === 'string') return [pathToFileURL(TESSERA_SERVE_WORKER_BUNDLE), {}];
  return [new URL('./serve-worker.ts', import.meta.url), { execArgv: ['--import', import.meta.resolve('tsx')] }];
}

/** `--role`: one of ROLES. @throws CliError (exit 2) naming the value and the roles */
function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new CliError(`--role ${value}: not a role; expected one of ${ROLES.join(', ')} (tessera roles prints what each may do)`);
  return value as Role;
}

/**
 * `--tenant <id>` of dev-token and dev-key: refused unless it is a tenant id (isTenantId), before anything is minted.
 * @throws CliError (exit 2) naming the value and what a tenant id is
 */
function refuseNonTenantId(tenant: string): void {
  if (!isTenantId(tenant)) throw new CliError(`--tenant ${tenant}: not a tenant id (3 to 24 lowercase letters, digits and single hyphens, starting with a letter: the id given to tessera serve --tenant <id:tier>)`);
}

export function devTokenCommand(): Command {
  return new Command('dev-token')
    .description('mint a JWT for `tessera serve` (signed with the local dev key)')
    .requiredOption('--tenant <id>', 'tenant id claim')
    .option('--role <role>', `role claim: ${ROLES.join(', ')}`, parseRole, 'member')
    .option('--sub <subject>', 'user id')
    .option('--expires <duration>', 'lifetime, e.g. 15m, 1h', '1h')
    .option(...stateDirOption)
    .action(async (o) => {
      // Refused here rather than minted for serve to refuse (401): checked before a dev key is made.
      refuseNonTenantId(o.tenant);
      const { mintDevToken, tokenLifetimeSeconds } = await import('../../lambdas/inference/dev-keys.js');
      const lifetime = await tokenLifetimeSeconds(o.expires).catch(() => {
        throw new CliError(`--expires ${o.expires}: not a duration; expected a number and a unit, e.g. 15m, 1h, 8h or 2d (units s, m, h, d, w, y)`);
      });
      if (lifetime < 1) throw new CliError(`--expires ${o.expires}: not a lifetime: the token would be expired when minted (serve answers 401); give one ahead, e.g. 1h or 8h`);
      const keys = resolve(o.stateDir, 'dev-keys.json');
      const made = !existsSync(keys);
      process.stdout.write(`${await mintDevToken(keys, { tenantId: o.tenant, role: o.role, sub: o.sub, expiresIn: o.expires })}\n`);
      // A token signed with another directory's key is a 401 invalid_token at serve: say so here.
      if (made) process.stderr.write(`tessera dev-token: no dev key in ${keys}: made one; tessera serve accepts tokens signed with the dev key of its own --state-dir (run this where serve runs, or give its --state-dir)\n`);
    });
}

/**
 * `tessera dev-key`: a tenant API key (`tsk_…`) for `tessera serve`, written to
 * `<state-dir>/api-keys/` where a running serve (every worker) reads it on the next request. Prints
 * the key alone on stdout (shown once), what it is on stderr; `--json` prints the record and the key.
 */
export function devKeyCommand(): Command {
  return new Command('dev-key')
    .description('mint a tenant API key (tsk_...) for `tessera serve`, kept in <state-dir>/api-keys/')
    .requiredOption('--tenant <id>', 'the tenant the key belongs to (its prefix)')
    .option('--role <role>', `the key's role: ${ROLES.join(', ')}`, parseRole, 'member')
    .option('--name <name>', 'a name to recognise it by', 'dev key')
    .option('--models <ids>', 'comma-separated models it may call (default: all of the tenant\'s)')
    .option('--expires-in-days <n>', 'days until it expires (default: never)')
    .option('--json', 'print the record and the key as JSON')
    .option('--config <file>', 'platform config file whose catalog --models must come from (default: the embedded default)')
    .option(...stateDirOption)
    .action(async (o: { tenant: string; role: Role; name: string; models?: string; expiresInDays?: string; config?: string; stateDir: string }, cmd: Command) => {
      // --json is also the program's global option, which takes the flag first: read both.
      const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
      refuseNonTenantId(o.tenant);
      const days = o.expiresInDays === undefined ? undefined : Number(o.expiresInDays);
      if (days !== undefined && (!/^\d+$/.test(o.expiresInDays!) || days < 1 || days > 3650)) throw new CliError(`--expires-in-days ${o.expiresInDays}: expected a whole number of days from 1 to 3650`);
      const models = o.models?.split(',').map((m) => m.trim()).filter(Boolean);
      if (o.models !== undefined && !models?.length) throw new CliError(`--models ${o.models}: expected comma-separated model ids, e.g. --models openai-compatible/default,openai/gpt-4o-mini`);
      // The catalog is known here; the tenant's tier is serve's (--tenant id:tier), which refuses a model outside it with 404 model_not_found.
      const catalog = config(o.config).gateway.models.map((m) => m.id);
      const unknown = models?.find((m) => !catalog.includes(m) && !m.startsWith('ft:') && !m.startsWith('sagemaker/ft:'));
      if (unknown) throw new CliError(`--models ${unknown}: not in the platform catalog (gateway.models: ${catalog.join(', ')}); a key may only narrow its tenant's models`);
      if (o.name.length < 1 || o.name.length > 128) throw new CliError('--name: expected 1 to 128 characters');
      const { createDevApiKey } = await import('../../lambdas/inference/dev-keys.js');
      const { key, record } = await createDevApiKey(o.stateDir, { tenantId: o.tenant, role: o.role, name: o.name, models, expiresInDays: days });
      if (json) return void process.stdout.write(`${JSON.stringify({ key, ...record }, null, 2)}\n`);
      process.stderr.write(`${record.keyId} (${record.role}) of tenant ${record.tenantId} in ${resolve(o.stateDir, 'api-keys')}; shown once:\n`);
      process.stdout.write(`${key}\n`);
    });
}
