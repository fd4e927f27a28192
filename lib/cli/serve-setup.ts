// What `tessera serve` checks and says before it listens: its flags and where each provider's
// calls go (the tenants: serve-tenants.ts; the --dynamodb registry: serve-registry-check.ts).
// Every refusal is a ServeError: one line (or a short list) naming the flag, file or value and the fix.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PlatformConfig } from '../config/schema.js';
import { secretUsesOf, type LocalProviderKeys } from '../../lambdas/inference/local-provider-keys.js';
import type { ProviderName } from '../../lambdas/inference/providers/registry.js';
import { SERVING_STATUSES, type TenantRecord } from '../tenant-record.js';
import { CliError } from './cli-error.js';
import { configuredEndpoint, type ConfiguredEndpoint } from './configured-endpoint.js';

/**
 * A start-up refusal of `tessera serve`: exit code 2 for usage and config errors, 1 for runtime
 * ones (port busy). Printed `tessera serve: <message>` (its `label`), so that a server's lines say
 * where they come from among other processes' output; `cause` is the error behind it, whose stack
 * `--debug` prints.
 */
export class ServeError extends CliError {
  readonly label = 'tessera serve';

  constructor(message: string, exitCode: 1 | 2 = 2, options: { cause?: unknown } = {}) {
    super(message, exitCode);
    this.name = 'ServeError';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}


const OPENAI_SPEAKING = ['openai', 'huggingface', 'openai-compatible'] as const;
const AWS_PROVIDERS = ['bedrock', 'sagemaker'] as const;
/** The SDK client (its serviceId, whose name the endpoint variables and `services` keys carry) each AWS provider calls. */
const AWS_SERVICE_IDS: Record<(typeof AWS_PROVIDERS)[number], string> = { bedrock: 'Bedrock Runtime', sagemaker: 'SageMaker Runtime' };

/** The endpoint each AWS provider's SDK client calls instead of AWS's, by provider (absent: AWS's own). */
export type AwsProviderEndpoints = Partial<Record<(typeof AWS_PROVIDERS)[number], ConfiguredEndpoint>>;

/**
 * Where the SDK sends bedrock's and sagemaker's calls with `env` (configured-endpoint.ts configuredEndpoint: the endpoint
 * variables, else the selected profile's `services` section or `endpoint_url`, as the SDK v3 resolves them).
 */
export async function awsProviderEndpoints(env: NodeJS.ProcessEnv = process.env): Promise<AwsProviderEndpoints> {
  const entries = await Promise.all(AWS_PROVIDERS.map(async (p) => [p, await configuredEndpoint(AWS_SERVICE_IDS[p], env)] as const));
  return Object.fromEntries(entries.filter(([, e]) => e)) as AwsProviderEndpoints;
}

/** Where `tessera serve` sends each provider's calls, and what it says about it at start. */
export interface ProviderRoutes {
  /** The providers whose catalog models serve lists (`/v1/models`) and routes; the others' models are left out. */
  served: ProviderName[];
  /** One line per provider for the start-up report: where its calls go, or why it is not served and the fix. */
  report: string[];
}

/**
 * Where each provider's calls go under `serve` (as createLocalGateway builds its registry):
 * - openai, huggingface, openai-compatible: rerouted to `--upstream` when given (served; a key
 *   only if the upstream wants one); else to the config's endpoint, served only with
 *   `--upstream-key` or a `providerKeys` entry (`--provider-keys`) for a secret its models read (api.openai.com and
 *   router.huggingface.co refuse calls without a key), and not at all without an endpoint (openai-compatible has none
 *   by default); whether every secret then has its key is checkProviderKeys' (serve-provider-keys.ts). A model
 *   deployment with its own `baseUrl` is called there in either case, and the line names it (ownEndpoints);
 * - bedrock and sagemaker: called on AWS with the environment's credentials and region, served
 *   only when `awsCredentials` (the SDK's default chain found some); never rerouted to `--upstream`.
 *   The line names the endpoint instead of AWS when `awsEndpoints` has one (awsProviderEndpoints: the endpoint
 *   variables, or the profile's `endpoint_url` or `services` section, as the SDK resolves them): a moto server in the
 *   documentation's local recipes, where the calls go.
 * A provider that is not served has its models left out of `/v1/models` (and a request for one
 * answers 404 model_not_found), rather than listed and answering 502.
 */
export function providerRoutes(config: PlatformConfig, options: { upstream?: string; upstreamKey?: string; providerKeys?: LocalProviderKeys; awsCredentials: boolean; awsEndpoints?: AwsProviderEndpoints }): ProviderRoutes {
  const modelsOf = (p: string) => config.gateway.models.filter((m) => m.id.startsWith(`${p}/`)).map((m) => m.id);
  const models = (p: string) => `(${modelsOf(p).join(', ') || 'no catalog models'})`;
  const served: ProviderName[] = [];
  const report: string[] = [];
  // The secrets of the provider's models (and deployments) that --provider-keys has a key for, in config order.
  const filed = (p: string) => [...new Set(secretUsesOf(config, p).map((u) => u.secret).filter((s): s is string => s !== undefined && Boolean(options.providerKeys && Object.hasOwn(options.providerKeys, s))))];
  for (const p of OPENAI_SPEAKING) {
    const endpoint = config.gateway.providers[p]?.baseUrl;
    const own = ownEndpoints(config, p);
    if (options.upstream) {
      served.push(p);
      const kept = own.length ? `; ${own.join(', ')}: its own baseUrl, not --upstream` : '';
      report.push(`${p} ${models(p)}: rerouted to --upstream ${options.upstream}${options.upstreamKey ? ' with --upstream-key' : ' (no key sent; give --upstream-key if it needs one)'}${kept}`);
    } else if (!endpoint) {
      report.push(`${p} ${models(p)}: not served, no endpoint in the config (gateway.providers.${p}); give --upstream <url> of an OpenAI-compatible server`);
    } else if (options.upstreamKey || filed(p).length) {
      served.push(p);
      const named = filed(p);
      const keys = [...(named.length ? [`the keys of ${named.join(', ')} (--provider-keys)`] : []), ...(options.upstreamKey ? ['--upstream-key'] : [])].join(' and ');
      // A deployment with its own baseUrl is called there, not at the provider's endpoint (as on AWS).
      const direct = own.length === 0 || secretUsesOf(config, p).some((u) => !u.baseUrl);
      const where = [...(direct ? [`the config's endpoint ${endpoint}`] : []), ...own].join(', ');
      report.push(`${p} ${models(p)}: sent to ${where} with ${keys}`);
    } else {
      report.push(`${p} ${models(p)}: not served, its endpoint ${endpoint} needs a key; give --provider-keys <file> (each apiKeySecretId's key) or --upstream-key (or TESSERA_UPSTREAM_KEY), or --upstream <url> for a local server`);
    }
  }
  for (const p of AWS_PROVIDERS) {
    if (options.awsCredentials) {
      served.push(p);
      const endpoint = options.awsEndpoints?.[p];
      const where = endpoint ? `called at ${endpoint.url} (${endpoint.source}), not AWS,` : 'called on AWS';
      report.push(`${p} ${models(p)}: ${where} with your environment's credentials and region (not rerouted to --upstream)`);
    } else {
      report.push(`${p} ${models(p)}: not served, no AWS credentials in the environment (it calls AWS, never --upstream); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and AWS_REGION to use it`);
    }
  }
  return { served, report };
}

/**
 * The provider's model deployments that name their own `baseUrl`, each as `<model id> deployment "<name>" at <baseUrl>`
 * in config order: serve calls each there whatever `--upstream` says (only the providers' endpoints are rerouted),
 * as the deployed router does.
 */
function ownEndpoints(config: PlatformConfig, provider: string): string[] {
  return config.gateway.models.filter((m) => m.id.startsWith(`${provider}/`))
    .flatMap((m) => (m.deployments ?? []).filter((d) => d.baseUrl).map((d) => `${m.id} deployment ${JSON.stringify(d.name)} at ${d.baseUrl}`));
}

/** The config file `tessera init` writes by default (its `--output`), which serve reads only when given `--config`. */
/**
 * The embedded registry as serve's first line names it: `embedded registry: <id>:<tier>, …`, a tenant whose
 * status the gateway does not serve (only ACTIVE and UPDATING: SERVING_STATUSES) marked `<id>:<tier> (<STATUS>,
 * refused)`, so that a `--tenants-file` entry's `status: SUSPENDED` shows at start rather than as the 403
 * `tenant_not_active` of every call; `no tenants` when there are none.
 * @param tenants the embedded registry's records (loadTenants)
 */
export function registryLabel(tenants: readonly Pick<TenantRecord, 'tenantId' | 'tier' | 'status'>[]): string {
  const named = tenants.map((t) => `${t.tenantId}:${t.tier}${SERVING_STATUSES.includes(t.status) ? '' : ` (${t.status}, refused)`}`);
  return `embedded registry: ${named.join(', ') || 'no tenants'}`;
}

export const CWD_CONFIG_FILE = 'tessera.config.yaml';

/**
 * serve's start-up line naming the config it read: `config: <absolute path>` with `--config`, else
 * `config: embedded default (--config <file> to use one)`, adding `; ./tessera.config.yaml is not read
 * without it` when `cwd` holds that file (serve, like `cdk synth` without `-c tessera:configFile=…`,
 * never picks a config up from the directory: a user who wrote aliases or tiers there sees why
 * they are not served).
 * @param configFile `--config` as given (relative to `cwd`), or undefined
 * @param cwd the directory serve runs in. @default process.cwd()
 */
export function configLine(configFile: string | undefined, cwd: string = process.cwd()): string {
  if (configFile !== undefined) return `config: ${resolve(cwd, configFile)}`;
  const ignored = existsSync(join(cwd, CWD_CONFIG_FILE)) ? `; ./${CWD_CONFIG_FILE} is not read without it` : '';
  return `config: embedded default (--config <file> to use one${ignored})`;
}

/**
 * serve's start-up line listing the config's model aliases (`gateway.modelAliases`, in config order):
 * `aliases: gpt-4o-mini -> openai/gpt-4o-mini, ...`, a target whose provider serve does not reach marked
 * `(not served)` (a request for it answers 404 model_not_found; the providers lines say why), cut after
 * `max` with `and <n> more`; `aliases: none (gateway.modelAliases)` when the config has none.
 * Which aliases a tenant may call is its tier's (`GET /v1/models` lists them per caller).
 * @param served the providers serve reaches (providerRoutes' `served`)
 * @param max how many aliases the line names. @default 8
 */
export function aliasesLine(config: PlatformConfig, served: readonly string[], max = 8): string {
  const aliases = Object.entries(config.gateway.modelAliases ?? {});
  if (aliases.length === 0) return 'aliases: none (gateway.modelAliases)';
  const shown = aliases.slice(0, max).map(([alias, target]) => `${alias} -> ${target}${served.includes(target.split('/')[0]!) ? '' : ' (not served)'}`);
  const more = aliases.length > max ? ` and ${aliases.length - max} more (GET /v1/models lists a tenant's)` : '';
  return `aliases: ${shown.join(', ')}${more}`;
}

/** Whether the AWS SDK's default credential chain finds credentials here (environment, profile, SSO, container or instance role). */
export async function awsCredentialsFound(): Promise<boolean> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  try {
    await fromNodeProviderChain()();
    return true;
  } catch {
    return false;
  }
}

/** A listen failure as a one-line runtime error (exit 1). */
export function listenError(e: unknown, port: number): ServeError | unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new ServeError(`--port ${port}: 127.0.0.1:${port} is already in use (another tessera serve?); stop that process or pick a free port with --port <n>`, 1);
  if (code === 'EACCES') return new ServeError(`--port ${port}: not allowed to listen on 127.0.0.1:${port} (ports below 1024 need privileges); pick a port from 1024 to 65535 with --port <n>`, 1);
  if (code === 'EADDRNOTAVAIL') return new ServeError(`--port ${port}: 127.0.0.1 is not available on this machine (no loopback interface?)`, 1);
  return e;
}

/**
 * Fails fast when serve could not listen on 127.0.0.1:`port`, before it builds its gateways (the
 * tokenizer, the stores; with `--workers` one gateway per thread: 0.3-0.7 s of CPU each, all thrown
 * away when the port then turns out busy): a probe listen, closed at once, reported as the real
 * listen's error would be (listenError). The real listen still reports its own: another process
 * may take the port in between. Port 0 (any free port) cannot be busy: nothing is probed.
 * @param reusePort probe as `--workers` threads listen (SO_REUSEPORT), so a port they could share
 *   with another `tessera serve --workers` is not refused here either
 * @throws ServeError exit 1 for EADDRINUSE, EACCES, EADDRNOTAVAIL (listenError); any other listen error as it is
 */
export async function checkPortFree(port: number, reusePort: boolean): Promise<void> {
  if (port === 0) return;
  const { createServer } = await import('node:net');
  const probe = createServer();
  try {
    await new Promise<void>((ok, fail) => {
      probe.once('error', fail);
      probe.listen({ port, host: '127.0.0.1', reusePort }, ok);
    });
  } catch (e) {
    throw listenError(e, port);
  }
  await new Promise((ok) => probe.close(ok));
}

/** `--port`: a whole number from 0 (any free port; one worker only) to 65535. */
export function parsePort(value: string, workers: number): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ServeError(`--port ${value}: expected a whole number from 1 to 65535 (0: any free port), e.g. --port 8787`);
  if (port === 0 && workers > 1) throw new ServeError('--port 0 with --workers: the workers must share one port; give a port number, e.g. --port 8787');
  return port;
}

/** `--upstream`: an http(s) base URL. */
export function parseUpstream(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try { url = new URL(value); } catch { /* below */ }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ServeError(`--upstream ${value}: expected an http(s) base URL of an OpenAI-compatible server, e.g. --upstream http://127.0.0.1:8000/v1`);
  }
  return value;
}

/** `--dynamodb <registryTable>:<usageTable>`. */
export function parseDynamoDb(value: string | undefined): { registryTable: string; usageTable: string } | undefined {
  if (value === undefined) return undefined;
  const [registryTable, usageTable, extra] = value.split(':');
  if (!registryTable || !usageTable || extra !== undefined) {
    throw new ServeError(`--dynamodb ${value}: expected <registryTable>:<usageTable>, e.g. --dynamodb tessera-tenants:tessera-usage`);
  }
  return { registryTable, usageTable };
}


/** How `tessera serve` verifies bearer tokens when given an identity provider's settings. */
export interface ServeJwtSettings {
  /** The `iss` every token must carry, e.g. `https://cognito-idp.us-east-1.amazonaws.com/<pool id>`. */
  issuer: string;
  /** The `aud` every token must carry: for Cognito ID tokens, the app client id. */
  audience: string;
  /** The JWKS URL the signing keys are fetched from (and refetched on an unknown `kid`), e.g. `<issuer>/.well-known/jwks.json`. */
  jwks: string;
}

/**
 * `--jwt-issuer`, `--jwt-audience`, `--jwks-url`: verify tokens as the deployed authorizer does
 * (lambdas/inference/auth.ts: RS256 signature against the JWKS, `iss`, `aud`, expiry) instead of
 * with serve's dev key. All three or none.
 * @returns undefined when none is given (serve then trusts `tessera dev-token` tokens only)
 * @throws ServeError (exit 2) naming each missing flag, or a `--jwks-url` that is not an http(s) URL
 */
export function parseJwt(o: { jwtIssuer?: string; jwtAudience?: string; jwksUrl?: string }): ServeJwtSettings | undefined {
  const given = { '--jwt-issuer': o.jwtIssuer, '--jwt-audience': o.jwtAudience, '--jwks-url': o.jwksUrl };
  if (Object.values(given).every((v) => v === undefined)) return undefined;
  const missing = Object.entries(given).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) {
    const present = Object.entries(given).filter(([, v]) => v).map(([k]) => k);
    throw new ServeError(`${present.join(' and ') || 'an empty value'} without ${missing.join(' and ')}: verifying your identity provider's tokens needs all three, e.g. --jwt-issuer https://cognito-idp.us-east-1.amazonaws.com/<pool id> --jwt-audience <app client id> --jwks-url https://cognito-idp.us-east-1.amazonaws.com/<pool id>/.well-known/jwks.json`);
  }
  let url: URL | undefined;
  try { url = new URL(o.jwksUrl!); } catch { /* below */ }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ServeError(`--jwks-url ${o.jwksUrl}: expected the http(s) URL of a JSON Web Key Set, e.g. https://cognito-idp.us-east-1.amazonaws.com/<pool id>/.well-known/jwks.json`);
  }
  return { issuer: o.jwtIssuer!, audience: o.jwtAudience!, jwks: o.jwksUrl! };
}

/**
 * Reads `--jwks-url` once at start, so that a wrong URL is one line now rather than a 401 on
 * every request later. The authorizer fetches it again itself (and on an unknown `kid`).
 * @param timeoutMs how long to wait for the answer. @default 5000
 * @throws ServeError (exit 1) when the URL cannot be read or does not answer a JWKS (`{"keys": [...]}` with at least one key)
 */
export async function checkJwks(url: string, timeoutMs = 5_000): Promise<void> {
  const fix = 'check the URL (Cognito publishes https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json)';
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const inner = (e as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (e as Error).message;
    throw new ServeError(`--jwks-url ${url}: cannot read it (${cause}); ${fix}`, 1, { cause: e });
  }
  const body = await res.json().catch(() => undefined) as { keys?: unknown } | undefined;
  if (!res.ok || !Array.isArray(body?.keys) || body.keys.length === 0) {
    throw new ServeError(`--jwks-url ${url}: answered ${res.status} without a JSON Web Key Set ({"keys": [...]}); ${fix}`, 1);
  }
}
