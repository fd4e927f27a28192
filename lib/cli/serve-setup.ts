// What `tessera serve` checks and says before it listens: its flags, the tenants file (the local
// per-tenant policy), the tenants' tiers against the config, and where each provider's calls go.
// Every refusal is a ServeError: one line (or a short list) naming the flag, file or value and the fix.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PlatformConfig } from '../config/schema.js';
import { GatewayPolicy, TenantId, TenantRecord } from '../tenant-record.js';
import { describeIssues, formatPath } from '../zod-issues.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { nearest } from '../config/config-issues.js';
import { CliError } from './cli-error.js';

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

const tierList = (config: PlatformConfig) => Object.keys(config.tiers).join(', ');

/** `--tenant <id>:<tier>` → a registry record of the embedded store (default policy). */
export function parseTenantFlag(value: string, config: PlatformConfig): TenantRecord {
  const parts = value.split(':');
  const example = `e.g. --tenant acme:${config.defaultTier}`;
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ServeError(`--tenant ${JSON.stringify(value)}: expected <id>:<tier>, ${example} (tiers: ${tierList(config)})`);
  }
  const [id, tier] = parts;
  const idCheck = TenantId.safeParse(id);
  if (!idCheck.success) throw new ServeError(`--tenant ${JSON.stringify(value)}: tenant id "${id}" ${idCheck.error.issues[0]!.message}, ${example}`);
  return localTenant(id, tier, { isolation: config.tiers[tier]?.isolation ?? 'vpc' });
}

/**
 * One entry of `--tenants-file`: `tenantId` and `tier`, and any other field of the registry
 * record (`TenantRecord` in lib/tenant-record.ts), chiefly `gateway` (the tenant's policy,
 * `GatewayPolicy`). A key the record does not know is refused, at the top, in `gateway` and in
 * `gateway.guardrails` (a typo would otherwise be dropped silently and the default applied).
 */
const StrictGuardrails = GatewayPolicy.shape.guardrails.unwrap().strict();
const LocalGatewayPolicy = GatewayPolicy.extend({ guardrails: StrictGuardrails.optional() }).strict();
export const LocalTenantEntry = TenantRecord.partial()
  .extend({ tenantId: TenantId, tier: z.string().min(1), gateway: LocalGatewayPolicy.optional() })
  .strict();
export const LocalTenantsFile = z.array(LocalTenantEntry);

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const named = path.filter((k) => typeof k === 'string');
  if (named.at(-1) === 'guardrails') return Object.keys(StrictGuardrails.shape);
  if (named.at(-1) === 'gateway') return Object.keys(LocalGatewayPolicy.shape);
  return Object.keys(LocalTenantEntry.shape);
}

/** Reads `--tenants-file` (JSON or YAML): an array of entries, each completed into a full registry record. */
export function readTenantsFile(file: string, config: PlatformConfig): TenantRecord[] {
  const flag = `--tenants-file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ServeError(`${flag}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the path of a JSON or YAML file (an example: tessera serve --example-tenants)`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON: one parser for both
  } catch (e) {
    throw new ServeError(`${flag}: not valid JSON or YAML (${(e as Error).message.split('\n')[0]}); an example: tessera serve --example-tenants`);
  }
  if (!Array.isArray(raw)) {
    throw new ServeError(`${flag}: expected a list of tenants ([{ "tenantId": "acme", "tier": "${config.defaultTier}" }, ...]), found ${raw === null ? 'nothing' : typeof raw}; an example: tessera serve --example-tenants`);
  }
  const parsed = LocalTenantsFile.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, raw).map((line, i) => {
      // zod shows the whole object for an unknown key; name the key and the nearest known one instead.
      const issue = parsed.error.issues[i]!;
      if (issue.code !== 'unrecognized_keys') return line;
      const known = knownKeysAt(issue.path);
      return issue.keys.map((k) => `${formatPath(issue.path)}.${k}: unknown key${nearest(k, known) ? ` (did you mean ${nearest(k, known)}?)` : ''}; known keys: ${known.join(', ')}`).join('\n  - ');
    });
    throw new ServeError(`${flag}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.slice(0, 8).map((p) => `  - ${p}`).join('\n')}${problems.length > 8 ? `\n  - ... and ${problems.length - 8} more` : ''}`}\n  fix these entries (fields: TenantRecord in lib/tenant-record.ts; an example: tessera serve --example-tenants)`);
  }
  return parsed.data.map(({ tenantId, tier, ...rest }) => {
    const entry = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    return TenantRecord.parse(localTenant(tenantId, tier, { isolation: config.tiers[tier]?.isolation ?? 'vpc', ...entry }));
  });
}

/** Refuses tenants whose tier the config lacks, and a tenant given twice. */
export function checkTenants(tenants: readonly TenantRecord[], config: PlatformConfig, configName: string): void {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const t of tenants) {
    if (seen.has(t.tenantId)) problems.push(`tenant ${t.tenantId} is given twice (each tenant once, across --tenant flags and the --tenants-file entries)`);
    seen.add(t.tenantId);
    if (!(t.tier in config.tiers)) {
      problems.push(`tenant ${t.tenantId} has tier "${t.tier}", which ${configName} lacks (its tiers: ${tierList(config)}); use one of those or add tiers.${t.tier} to the config`);
    }
  }
  if (problems.length === 1) throw new ServeError(problems[0]!);
  if (problems.length > 1) throw new ServeError(`${problems.length} tenant problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

const OPENAI_SPEAKING = ['openai', 'huggingface', 'openai-compatible'] as const;

/**
 * Where each provider's calls go under `serve` (as createLocalGateway builds its registry): with
 * `--upstream`, openai, huggingface and openai-compatible are rerouted to it; bedrock and
 * sagemaker are never served locally (they call AWS with the environment's credentials).
 */
export function providerReport(config: PlatformConfig, upstream?: string, upstreamKey?: string): string[] {
  const modelsOf = (p: string) => config.gateway.models.filter((m) => m.id.startsWith(`${p}/`)).map((m) => m.id);
  const withModels = (ps: readonly string[]) => ps.map((p) => `${p} (${modelsOf(p).join(', ') || 'no catalog models'})`).join(', ');
  const lines: string[] = [];
  if (upstream) {
    lines.push(`rerouted to --upstream ${upstream}: ${withModels(OPENAI_SPEAKING)}`);
  } else {
    const configured = OPENAI_SPEAKING.filter((p) => config.gateway.providers[p]);
    const missing = OPENAI_SPEAKING.filter((p) => !config.gateway.providers[p]);
    if (configured.length) {
      lines.push(`not rerouted (no --upstream), sent to the config's endpoints ${upstreamKey ? 'with --upstream-key' : 'without a key (they refuse; give --upstream or --upstream-key)'}: `
        + configured.map((p) => `${p} -> ${config.gateway.providers[p]!.baseUrl} (${modelsOf(p).join(', ') || 'no catalog models'})`).join(', '));
    }
    if (missing.length) lines.push(`cannot serve (no endpoint in the config; give --upstream): ${withModels(missing)}`);
  }
  lines.push(`not served locally, called on AWS with your environment's credentials and region (502 without them): ${withModels(['bedrock', 'sagemaker'])}`);
  return lines;
}

/** A listen failure as a one-line runtime error (exit 1). */
export function listenError(e: unknown, port: number): ServeError | unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new ServeError(`--port ${port}: 127.0.0.1:${port} is already in use (another tessera serve?); stop that process or pick a free port with --port <n>`, 1);
  if (code === 'EACCES') return new ServeError(`--port ${port}: not allowed to listen on 127.0.0.1:${port} (ports below 1024 need privileges); pick a port from 1024 to 65535 with --port <n>`, 1);
  if (code === 'EADDRNOTAVAIL') return new ServeError(`--port ${port}: 127.0.0.1 is not available on this machine (no loopback interface?)`, 1);
  return e;
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

/** What `tessera serve --example-tenants` prints: a tenants file with every policy field, commented. */
export const EXAMPLE_TENANTS = `# tessera serve --tenants-file tenants.yaml (YAML or JSON): the embedded registry's tenants.
# Each entry: tenantId and tier (one of the config's tiers), and any field of the registry record
# (TenantRecord in lib/tenant-record.ts); the rest is filled in (status ACTIVE, name = tenantId).
# A key the record does not know is refused. Mint a token with: tessera dev-token --tenant <id>
- tenantId: acme
  tier: enterprise
  # The tenant's gateway policy (GatewayPolicy); every field optional.
  gateway:
    defaultModel: openai-compatible/default   # what a request for model "default" gets
    fallbacks: [openai/gpt-4o-mini]           # tried in order when the model fails upstream (at most 5)
    systemPrompt: You are Acme's assistant.   # prepended to every chat (at most 8,000 characters)
    maxTokens: 1024                           # cap on each answer's tokens
    monthlyTokenBudget: 1000000               # tokens per calendar month (the tier's daily limit applies too)
    monthlyCostBudgetUsd: 50                  # USD per calendar month, at the catalog's prices
    auditPromptText: false                    # true: keep prompt text in audit records (default: its SHA-256 only)
    guardrails:
      redactPii: true                         # redact e-mail addresses, phone numbers... before the upstream sees them
      redactResponses: false                  # redact answers as well
      promptInjectionScreen: true             # 400 prompt_injection_detected for "ignore all previous instructions..."
- tenantId: globex
  tier: starter                               # default policy
- tenantId: initech
  tier: starter
  status: SUSPENDED                           # registered but refused (only ACTIVE and UPDATING are served)
`;
