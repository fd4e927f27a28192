// The tenants of `tessera serve`'s embedded registry: `--tenant <id>:<tier>` flags and the
// `--tenants-file` (the local per-tenant policy), checked all at once: every problem of the flags,
// of the file's entries (schema), of their tiers and of tenants named twice, in one list.
import { z } from 'zod';
import type { PlatformConfig } from '../config/schema.js';
import { SubjectLimits } from '../identity/subject-limits.js';
import { GatewayPolicy, ProviderKeys, ResponseCacheFields, TenantId, TenantRecord, ttlWithinMaximum } from '../tenant-record.js';
import { requestErrorMap } from '../request-issues.js';
import { describeIssues, formatPath } from '../zod-issues.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { nearest } from '../config/nearest.js';
import { withoutProtoKey } from '../proto-key.js';
import { ServeError } from './serve-setup.js';
import { fileLabel, readStrictYamlFile, writtenAs, YamlFileError, type StrictYaml } from './strict-yaml-file.js';

const tierList = (config: PlatformConfig) => Object.keys(config.tiers).join(', ');
const EXAMPLE_HINT = 'an example: tessera serve --example-tenants';

/** `--tenant <id>:<tier>` → a registry record of the embedded store (default policy). @throws ServeError */
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
 * `GatewayPolicy`). A key the record does not know is refused, at the top, in `gateway`, in
 * `gateway.guardrails` and in `gateway.responseCache` (a typo would otherwise be dropped silently and the default
 * applied: `scop: tenant` served `scope: caller` until 2026-12-07; the admin API refuses it too), and so is a `__proto__`
 * key of a record (`gateway.bedrockInferenceProfiles`, `stackOutputs`, `customizations`).
 */
const StrictGuardrails = GatewayPolicy.shape.guardrails.unwrap().strict();
/** `gateway.responseCache` with no key it lacks (as lambdas/admin/gateway-policy-request.ts parses it). */
const StrictResponseCache = ResponseCacheFields.strict();
/**
 * A record of the entry (a `__proto__` key YAML keeps as an own key; z.record would skip it unchecked and serve the
 * tenant without it) behind withoutProtoKey, as the admin API's gateway PUT/PATCH.
 */
const keptRecord = <T extends z.ZodType>(record: T) => withoutProtoKey(record, 'the key __proto__ cannot be kept by tessera serve; use another key');
const LocalGatewayPolicy = GatewayPolicy.extend({
  guardrails: StrictGuardrails.optional(),
  responseCache: StrictResponseCache.refine(...ttlWithinMaximum).optional(),
  bedrockInferenceProfiles: keptRecord(GatewayPolicy.shape.bedrockInferenceProfiles.unwrap()).optional(),
}).strict();
export const LocalTenantEntry = TenantRecord.partial()
  .extend({
    tenantId: TenantId,
    tier: z.string().min(1),
    gateway: LocalGatewayPolicy.optional(),
    stackOutputs: keptRecord(TenantRecord.shape.stackOutputs.unwrap()).optional(),
    customizations: keptRecord(TenantRecord.shape.customizations.unwrap()).optional(),
  })
  .strict();
export const LocalTenantsFile = z.array(LocalTenantEntry);

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const named = path.filter((k) => typeof k === 'string');
  if (named.at(-1) === 'guardrails') return Object.keys(StrictGuardrails.shape);
  if (named.at(-1) === 'responseCache') return Object.keys(StrictResponseCache.shape);
  if (named.at(-1) === 'userLimits') return Object.keys(SubjectLimits.shape);
  if (named.at(-1) === 'providerKeys') return Object.keys(ProviderKeys.shape);
  if (named.at(-1) === 'gateway') return Object.keys(LocalGatewayPolicy.shape);
  return Object.keys(LocalTenantEntry.shape);
}

/** A tenant as named by a flag or an entry, for the tier and duplicate checks. */
interface Named { tenantId: string; tier: string }

/** What a tenants file holds: the records of its valid entries, every problem, and every entry that names a tenant and a tier (valid or not). */
interface TenantsFileContents { tenants: TenantRecord[]; problems: string[]; named: Named[] }

/**
 * Reads `--tenants-file` (JSON or YAML; `-`: the standard input) with the strict reader `tessera tenants apply -f` uses
 * (strict-yaml-file.ts readStrictYamlFile: at most 16 MiB, UTF-8, one YAML 1.2 document, no key twice, no tag it
 * cannot resolve, no alias bomb, not empty), then this command's schema: an array of entries, each completed into a full
 * registry record. A value YAML read as another type than the schema wants is shown as written (`tenantId = 0123 (YAML
 * reads it as 123; ...)`). Problems listed, not thrown.
 */
async function tenantsFileContents(file: string, config: PlatformConfig, stdin?: NodeJS.ReadableStream): Promise<TenantsFileContents> {
  const flag = `--tenants-file ${fileLabel(file)}`;
  let yaml: StrictYaml;
  try {
    yaml = await readStrictYamlFile(file, { source: `--tenants-file ${file}`, label: flag, holds: `it holds a list of tenants: [{ "tenantId": "acme", "tier": "${config.defaultTier}" }, ...]`, reader: 'tessera serve' }, stdin);
  } catch (e) {
    if (!(e instanceof YamlFileError)) throw e;
    return { tenants: [], named: [], problems: e.problems.map((p) => `${p}; ${EXAMPLE_HINT}`) };
  }
  const raw = yaml.value;
  if (!Array.isArray(raw)) {
    return { tenants: [], named: [], problems: [`${flag}: expected a list of tenants ([{ "tenantId": "acme", "tier": "${config.defaultTier}" }, ...]), found ${raw === null ? 'nothing' : typeof raw}; ${EXAMPLE_HINT}`] };
  }
  // Every entry that names a tenant and a tier is checked for its tier and for duplicates, valid or not.
  const named = raw.filter((e): e is Named => typeof e?.tenantId === 'string' && typeof e?.tier === 'string').map(({ tenantId, tier }) => ({ tenantId, tier }));
  const problems: string[] = [];
  const tenants: TenantRecord[] = [];
  raw.forEach((entry, i) => {
    const parsed = LocalTenantsFile.safeParse([entry], { error: requestErrorMap });
    if (!parsed.success) {
      // Where the schema wants text and YAML read a number, boolean or null, the value as written. The entry is checked
      // as a list of one ([0]...): its path in the file is [i]...
      const written = (issue: z.core.$ZodIssue, value: unknown) => ((issue.code === 'invalid_type' && issue.expected === 'string') || issue.code === 'invalid_value'
        ? writtenAs(yaml, [i, ...issue.path.slice(1)], value) : undefined);
      problems.push(...describeIssues(parsed.error, [entry], written).flatMap((line, n) => {
        const issue = parsed.error.issues[n]!;
        const at = (text: string) => `${flag}: ${text.replace(/^\[0\]/, `[${i}]`)}`;
        // zod shows the whole object for an unknown key; name the key and the nearest known one instead.
        if (issue.code !== 'unrecognized_keys') return [at(line)];
        const known = knownKeysAt(issue.path);
        return issue.keys.map((k) => at(`${formatPath(issue.path)}.${k}: unknown key${nearest(k, known) ? ` (did you mean ${nearest(k, known)}?)` : ''}; known keys: ${known.join(', ')}`));
      }));
      return;
    }
    const { tenantId, tier, ...rest } = parsed.data[0]!;
    const fields = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    tenants.push(TenantRecord.parse(localTenant(tenantId, tier, { isolation: config.tiers[tier]?.isolation ?? 'vpc', ...fields })));
  });
  return { tenants, problems, named };
}

/** Tenants whose tier the config lacks, and tenants named twice. */
function tierAndDuplicateProblems(named: readonly Named[], config: PlatformConfig, configName: string): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const t of named) {
    if (seen.has(t.tenantId)) problems.push(`tenant ${t.tenantId} is given twice (each tenant once, across --tenant flags and the --tenants-file entries)`);
    seen.add(t.tenantId);
    if (!(t.tier in config.tiers)) {
      problems.push(`tenant ${t.tenantId} has tier "${t.tier}", which ${configName} lacks (its tiers: ${tierList(config)}); use one of those or add tiers.${t.tier} to the config`);
    }
  }
  return problems;
}

/**
 * The embedded registry's tenants from `--tenant` flags and `--tenants-file`, every problem of
 * either reported at once: a malformed flag, an unreadable or invalid file, each invalid entry
 * (its path, the value and what it must be; an unknown key with the nearest known one), a tier
 * the config lacks, a tenant named twice.
 * @param configName how the config is named in messages (`--config tessera.config.yaml`)
 * @throws ServeError - exit 2: one line for one problem, else a list (at most 12 lines)
 */
export async function loadTenants(flags: readonly string[], file: string | undefined, config: PlatformConfig, configName: string, stdin?: NodeJS.ReadableStream): Promise<TenantRecord[]> {
  const problems: string[] = [];
  const tenants: TenantRecord[] = [];
  const named: Named[] = [];
  for (const flag of flags) {
    try {
      const t = parseTenantFlag(flag, config);
      tenants.push(t);
      named.push(t);
    } catch (e) {
      if (!(e instanceof ServeError)) throw e;
      problems.push(e.message);
    }
  }
  const fromFile = file === undefined ? undefined : await tenantsFileContents(file, config, stdin);
  if (fromFile) {
    problems.push(...fromFile.problems);
    tenants.push(...fromFile.tenants);
    named.push(...fromFile.named);
  }
  problems.push(...tierAndDuplicateProblems(named, config, configName));
  const entryProblems = problems.some((p) => /^--tenants-file .*: \[\d+\]/.test(p));
  const fix = entryProblems ? `\n  fix these entries (fields: TenantRecord in lib/tenant-record.ts; ${EXAMPLE_HINT})` : '';
  if (problems.length === 1) throw new ServeError(`${problems[0]}${fix}`);
  if (problems.length > 1) {
    const shown = problems.slice(0, 10).map((p) => `  - ${p}`).join('\n');
    throw new ServeError(`${problems.length} problems with the tenants:\n${shown}${problems.length > 10 ? `\n  - ... and ${problems.length - 10} more` : ''}${fix}`);
  }
  return tenants;
}

/**
 * Reads `--tenants-file` alone (JSON or YAML; `-`: `stdin`) into registry records.
 * @param stdin what `-` reads @default process.stdin
 * @throws ServeError - every problem of the file, as loadTenants
 */
export function readTenantsFile(file: string, config: PlatformConfig, stdin?: NodeJS.ReadableStream): Promise<TenantRecord[]> {
  return loadTenants([], file, config, 'the config', stdin);
}

/** What `tessera serve --example-tenants` prints: a tenants file with every policy field, commented. */
export const EXAMPLE_TENANTS = `# tessera serve --tenants-file tenants.yaml (YAML or JSON): the embedded registry's tenants.
# Each entry: tenantId and tier (one of the config's tiers), and any field of the registry record
# (TenantRecord in lib/tenant-record.ts); the rest is filled in (status ACTIVE, name = tenantId).
# A key the record does not know is refused. Mint a token with: tessera dev-token --tenant <id> [--role admin|developer|member|viewer],
# a tenant API key with: tessera dev-key --tenant <id> [--role ...]
- tenantId: acme
  tier: enterprise
  # The tenant's gateway policy (GatewayPolicy); every field optional.
  gateway:
    defaultModel: openai-compatible/default   # what a request for model "default" gets
    fallbacks: [openai/gpt-4o-mini]           # tried in order when the model fails upstream (at most 5)
    systemPrompt: You are Acme's assistant.   # prepended to every chat (at most 8,000 characters)
    maxTokens: 1024                           # cap on each answer's completion tokens (sent upstream as max_completion_tokens when the caller sends no limit);
                                              # the gateway counts them in o200k and cuts an answer only past the cap plus a margin for other tokenizers
                                              # (a quarter of it, at least 16: 1,280 here), so the text may exceed the cap by up to that margin; usage counts all the upstream sent
    monthlyTokenBudget: 1000000               # tokens per calendar month (the tier's daily limit applies too)
    monthlyCostBudgetUsd: 50                  # USD per calendar month, at the catalog's prices
    auditPromptText: false                    # true: keep prompt text in audit records (default: its SHA-256 only)
    guardrails:
      redactPii: true                         # redact e-mail addresses, phone numbers... before the upstream sees them
      redactResponses: false                  # redact answers as well
      promptInjectionScreen: true             # 400 prompt_injection_detected for "ignore all previous instructions..."
      # bedrockGuardrailId: arn:aws:bedrock:us-east-1:111122223333:guardrail/abcd1234efgh:1   # a Bedrock guardrail (id or ARN, optional :version, else DRAFT)
                                              # applied to prompts and answers; calls AWS: needs AWS credentials and AWS_REGION, else every request is a 502 guardrail_unavailable
    # bedrockInferenceProfiles:               # catalog model id -> the tenant's Bedrock application inference profile (its usage billed to it); calls AWS
    #   bedrock/anthropic.claude-3-5-haiku: arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6
    allowedOrigins: [https://app.acme.example, http://localhost:5173]   # browser origins (CORS); default none
    storeResponses: true                      # Responses API answers may be stored (store: true, previous_response_id)
    requestEvents: true                       # a "Gateway Request Completed" event per request (no prompt text), to <state-dir>/events.jsonl here, the platform bus in AWS
    responseCache:                            # answer a repeated request from the cache (chat completions, streamed too, embeddings, store: false responses): no upstream call, cost 0
      ttlSeconds: 600                         # how long an answer is kept (in this process's memory here); default none: no cache
      maxTtlSeconds: 3600                     # the most a request's x-tessera-cache-ttl header may ask (default ttlSeconds)
      scope: caller                           # caller: each user or key reads only its own answers; tenant: every caller of the tenant
    userLimits:                               # limits of each user of the tenant, on top of the tenant's (a key's are on its record)
      requestsPerMinute: 60
      # tokensPerMinute: 20000                # OpenAI's TPM: input + completion limit reserved per request, settled to the usage (docs/gateway.md "Tokens per minute")
      tokensPerDay: 200000
      monthlyCostUsd: 20
- tenantId: globex
  tier: starter                               # default policy
- tenantId: initech
  tier: starter
  status: SUSPENDED                           # registered but refused (only ACTIVE and UPDATING are served)
- tenantId: tuned                             # fine-tuning (tessera serve --fine-tuning): a tier with training, and what
  tier: professional                          # its deployed blueprint would have put in the registry
  accountId: "123456789012"                   # moto's account
  stackOutputs:
    BucketName: tessera-tuned-data-123456789012
    KeyArn: arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000
    TrainingRoleArn: arn:aws:iam::123456789012:role/tessera-tuned-training
    ComputeSubnetIds: subnet-00000001,subnet-00000002
    WorkloadSecurityGroupId: sg-00000001
`;
