import { z } from 'zod';
import { cognitoUsernameProblem } from './identity/cognito-username.js';
import { SubjectLimits } from './identity/subject-limits.js';
import { TENANT_ID_PATTERN, tenantIdReservation } from './tenant-naming.js';
import { TenantTags } from './tenant-tags.js';

/**
 * The tenant registry record and the lifecycle requests: one schema, used by the CDK app (table
 * keys), the lifecycle Lambdas, the admin API, the CLI and the inference path (which reads `status`).
 */

/** TENANT_ID_PATTERN, compiled once: the form TenantId checks, and isTenantId. */
const TENANT_ID_FORM = new RegExp(TENANT_ID_PATTERN);

/**
 * Whether `value` has a tenant id's form (TENANT_ID_PATTERN, lib/tenant-naming.ts: TenantId's regex), without
 * TenantId's reservation check: the test of a path, a token or a key before anything is read or assumed with it (no
 * registered tenant has another form; a reserved id has the form, and no tenant has one either).
 */
export const isTenantId = (value: string): boolean => TENANT_ID_FORM.test(value);

export const TenantId = z
  .string()
  .regex(TENANT_ID_FORM, 'must be a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter, ending with a letter or digit, without two hyphens in a row')
  // Ids whose names would be the platform's own (lib/tenant-naming.ts RESERVED_TENANT_IDS and the reserved prefixes and words).
  .superRefine((id, ctx) => {
    const reason = isTenantId(id) ? tenantIdReservation(id) : undefined;
    if (reason) ctx.addIssue({ code: 'custom', message: `"${id}" is reserved: ${reason}` });
  });

export const TENANT_STATUSES = ['REQUESTED', 'PROVISIONING', 'ACTIVE', 'UPDATING', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED', 'FAILED'] as const;
export const TenantStatus = z.enum(TENANT_STATUSES);
export type TenantStatus = z.infer<typeof TenantStatus>;

/**
 * A tenant's display name: 1-200 characters (Unicode code points, as zod 4.6 counts them), none of them a control character (Unicode Cc: C0,
 * DEL, C1), a line or paragraph separator (U+2028, U+2029) or a bidirectional override or isolate
 * (U+202A-U+202E, U+2066-U+2069), which would forge lines or reorder text in logs, CLI tables and
 * audit records.
 */
export const DisplayName = z.string().min(1).max(200).regex(/^[^\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u,
  'must not contain control characters (U+0000-U+001F, U+007F-U+009F), line separators (U+2028, U+2029) or bidirectional overrides (U+202A-U+202E, U+2066-U+2069)')
  // In a `u` regex a surrogate pair is one code point: the class matches a lone surrogate only (`"\ud800"` in a JSON body),
  // which is no text: DynamoDB and EventBridge take UTF-8, and the name written would not be the name asked (as REQUEST_REASON).
  .refine((v) => !/[\uD800-\uDFFF]/u.test(v), 'must be well-formed Unicode (no lone surrogate)');

/**
 * A display name as a request gives it (POST /admin/tenants, PATCH /admin/tenants/{id}, POST …/retry): a DisplayName that
 * is not only white space (spaces, U+00A0 and the other Unicode white space: String.prototype.trim's). The registry
 * record's `name` stays a DisplayName, so a record written before this check is still read.
 */
export const RequestDisplayName = DisplayName.refine((v) => v.trim() !== '', 'must not be only white space (give the tenant\'s name)');

/** A blueprint version as the catalog names its folders: `1.2.0`, `2.0.0-rc.1` (letters, digits, `.`, `-`, `+`). */
export const BlueprintVersion = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/, 'must be a version such as 1.2.0 (letters, digits, ".", "-", "+"; at most 64)');

/** Statuses in which the gateway serves a tenant's requests; everything else is refused at once. */
export const SERVING_STATUSES: readonly TenantStatus[] = ['ACTIVE', 'UPDATING'];

/**
 * The 403 `tenant_not_active` of a tenant the gateway does not serve (`status`, or not registered), with the caller's next
 * step: a tenant developer cannot change the status, so it says who can, or that there is none (the tenant is being removed).
 * `tenant "initech" is SUSPENDED; the gateway serves ACTIVE and UPDATING tenants only: ask your platform team …`.
 */
export function notServedMessage(tenantId: string, status: TenantStatus | undefined): string {
  return `tenant "${tenantId}" is ${status ?? 'not registered'}; the gateway serves ${SERVING_STATUSES.join(' and ')} tenants only: ${notServedNextStep(tenantId, status)}`;
}

function notServedNextStep(tenantId: string, status: TenantStatus | undefined): string {
  switch (status) {
    case 'SUSPENDED': return `ask your platform team: suspension is theirs to lift (tessera tenants resume ${tenantId}); its keys and users work again once it is ACTIVE`;
    case 'OFFBOARDING': return 'the tenant is being removed (offboarding): its keys and users will not work again; ask your platform team if this is unexpected';
    case 'OFFBOARDED': return 'the tenant has been removed (offboarded): its keys and users will not work again; ask your platform team if this is unexpected';
    case 'REQUESTED':
    case 'PROVISIONING': return `the tenant is still being set up: try again once your platform team reports it ACTIVE (tessera tenants watch ${tenantId})`;
    case 'FAILED': return `its onboarding failed: ask your platform team (tessera tenants show ${tenantId} says why; tessera tenants retry ${tenantId} runs it again)`;
    case undefined: return 'ask your platform team to onboard it (tessera tenants create)';
    default: return 'ask your platform team'; // ACTIVE and UPDATING are served: not refused
  }
}

export const LifecycleKind = z.enum(['onboard', 'change', 'suspend', 'resume', 'offboard', 'upgrade']);
export type LifecycleKind = z.infer<typeof LifecycleKind>;

/**
 * What a history entry (`executions`) records: a lifecycle operation (LifecycleKind: a Step Functions execution), or a
 * write of the tenant's gateway policy (`gateway-policy`: PUT or PATCH /admin/tenants/{id}/gateway, no execution, its
 * `policyChange`), which changes no stack and holds no lease.
 */
export const HistoryKind = z.enum([...LifecycleKind.options, 'gateway-policy']);
export type HistoryKind = z.infer<typeof HistoryKind>;

/** The kinds of history entry that are Step Functions executions (every kind but `gateway-policy`). */
export const isLifecycleEntry = <E extends { kind: HistoryKind }>(e: E): e is E & { kind: LifecycleKind } => e.kind !== 'gateway-policy';

/** Who lifted a protection and why: the step of a lifecycle execution (absent on lifts recorded before it was kept). */
const LiftedBy = z.object({
  /** The lifecycle step that lifted it, e.g. `Lift protections`, `Record failure`. */
  step: z.string().optional(),
  /** The request and execution of the operation the step ran for. */
  requestId: z.string().optional(),
  executionArn: z.string().optional(),
  /** Why it was lifted, e.g. `offboarding: …`, `dead stack ROLLBACK_FAILED: lifted so that the stack can be deleted`. */
  reason: z.string().optional(),
});

/**
 * One protection lifted so that a stack deletion can proceed: at offboarding, or to remove a dead
 * tenant stack (ROLLBACK_FAILED, DELETE_FAILED). Also in the audit bucket and on the bus. Each lift
 * is written as an intent first (`liftIntents` of the record), then made, then recorded here
 * (lambdas/lifecycle/protection-lift.ts liftOnRecord).
 */
export const LiftedProtection = LiftedBy.extend({
  logicalId: z.string(),
  type: z.string(),
  physicalId: z.string(),
  /** e.g. `TerminationProtection`, `DeletionProtection`. */
  protection: z.string(),
  /** When it was recorded lifted (the lift was made between `intendedAt` and this). */
  at: z.string(),
  /** When its intent was written, just before the lift call. @default - absent on lifts recorded before intents were kept */
  intendedAt: z.string().optional(),
  /**
   * The step that found the protection off with this intent on record and recorded it: the step that lifted it ended
   * (a Lambda timeout) after the lift and before its record. Absent when the lifting step recorded it itself.
   */
  confirmedBy: z.object({ step: z.string(), executionArn: z.string().optional() }).optional(),
});
export type LiftedProtection = z.infer<typeof LiftedProtection>;

/**
 * A protection lift about to be made: written to the record (`liftIntents`) before the lift call, removed once the lift
 * is recorded. A step that finds the protection already off with an intent on record knows the lift was made by the
 * intent's step (which ended before recording it) and records it as such; without the intent it would see only "off"
 * and record nothing. `stackId` is the StackId (ARN) of the stack the protected resource belongs to (the lift's
 * account and Region, for its audit record).
 */
export const LiftIntent = LiftedBy.extend({
  logicalId: z.string(),
  type: z.string(),
  physicalId: z.string(),
  protection: z.string(),
  stackId: z.string(),
  step: z.string(),
  requestId: z.string(),
  reason: z.string(),
  /** When the intent was written. */
  intendedAt: z.string(),
});
export type LiftIntent = z.infer<typeof LiftIntent>;

/**
 * One SCP as *Activate tenant* left it on the tenant's account: an SCP of `organization.externalQuarantinePolicies`
 * (another tool's quarantine, e.g. Landing Zone Accelerator's), or Tessera's own `tessera-quarantine`. `DETACHED` by
 * this step, or `NOT_ATTACHED` when ListPoliciesForTarget did not show it there or DetachPolicy answered
 * PolicyNotAttachedException (never attached, or taken off already: by an attempt of the step whose record was lost,
 * by its tool, by an operator). An attempt of the step that finds off what an earlier attempt of the same execution
 * recorded `DETACHED` keeps that record.
 */
export const PolicyDetach = z.object({
  policyId: z.string(),
  /** The config's `name` for it, when given; `tessera-quarantine` for Tessera's own. */
  name: z.string().optional(),
  /** The account it was detached from (the tenant's). */
  accountId: z.string(),
  result: z.enum(['DETACHED', 'NOT_ATTACHED']),
  at: z.string(),
});
export type PolicyDetach = z.infer<typeof PolicyDetach>;
/** An entry of `executions[].externalQuarantinePolicies` (PolicyDetach). */
export const ExternalPolicyDetach = PolicyDetach;
export type ExternalPolicyDetach = z.infer<typeof ExternalPolicyDetach>;

/**
 * What each lifecycle operation expects and leaves (one table, read by the lease, the workflows'
 * steps, the admin API and docs/tenant-lifecycle.md):
 * - `from`: statuses it may start from (none: the tenant has no record yet, onboarding only);
 * - `during`: the status while it runs (the gateway serves ACTIVE and UPDATING only);
 * - `success`: the status it leaves when it succeeds;
 * - `failure`: the status a failure leaves — `FAILED` (never served), `previous` (the status that
 *   was true before it: a change that failed leaves the tenant serving on its previous stack), or
 *   `during` (an offboarding that stopped leaves access stopped, to be resumed by DELETE again);
 * - `whenBusy`: what a start meets while another operation holds the tenant's lease: `refuse` (409
 *   from the admin API, the execution ends refused without touching the record) or `wait` (the
 *   rolling upgrade's per-tenant run waits for the lease, up to about an hour, then fails refused).
 */
export const LIFECYCLE_OPERATIONS = {
  onboard: { from: ['REQUESTED', 'PROVISIONING', 'FAILED'], during: 'PROVISIONING', success: 'ACTIVE', failure: 'FAILED', whenBusy: 'refuse' },
  change: { from: ['ACTIVE'], during: 'UPDATING', success: 'ACTIVE', failure: 'previous', whenBusy: 'refuse' },
  upgrade: { from: ['ACTIVE'], during: 'UPDATING', success: 'ACTIVE', failure: 'previous', whenBusy: 'wait' },
  suspend: { from: ['ACTIVE'], during: 'ACTIVE', success: 'SUSPENDED', failure: 'previous', whenBusy: 'refuse' },
  resume: { from: ['SUSPENDED'], during: 'SUSPENDED', success: 'ACTIVE', failure: 'previous', whenBusy: 'refuse' },
  offboard: { from: ['ACTIVE', 'SUSPENDED', 'FAILED', 'OFFBOARDING'], during: 'OFFBOARDING', success: 'OFFBOARDED', failure: 'during', whenBusy: 'refuse' },
} as const satisfies Record<LifecycleKind, {
  from: readonly TenantStatus[]; during: TenantStatus; success: TenantStatus; failure: 'FAILED' | 'previous' | 'during'; whenBusy: 'refuse' | 'wait';
}>;

/**
 * The statuses only a running operation holds a tenant in and no operation starts from (a `during` status outside every
 * `from` of LIFECYCLE_OPERATIONS: UPDATING, a change's or an upgrade's). A record in one with no lease is stranded (the lease
 * removed by hand, or lost): the next request ends it as its operation's failure first (lambdas/lifecycle/lease.ts
 * strandedOperation); `tessera platform health` names it. PROVISIONING and OFFBOARDING without a lease are not: an
 * onboarding retry and an offboarding start from them.
 */
export const STRANDED_STATUSES: ReadonlySet<TenantStatus> = new Set(
  Object.values(LIFECYCLE_OPERATIONS).map((op) => op.during as TenantStatus)
    .filter((s) => !Object.values(LIFECYCLE_OPERATIONS).some((op) => (op.from as readonly TenantStatus[]).includes(s))),
);

/**
 * The per-tenant lease: the one lifecycle operation that may change the tenant now. Taken by a
 * conditional write before the operation changes anything (by the admin API for the execution it
 * is about to start, or by the workflow's first step for a start from elsewhere), released by the
 * operation's last write, whatever the outcome. Every registry write of a lifecycle step is
 * conditional on it.
 */
export const TenantLease = z.object({
  kind: LifecycleKind,
  executionArn: z.string(),
  requestId: z.string(),
  acquiredAt: z.string(),
  /** The status before the operation, restored when it fails with `failure: 'previous'`. */
  previousStatus: TenantStatus,
  /**
   * The tenant stack (or DR stack) update this execution is about to start: written under the lease just before ExecuteChangeSet
   * (lambdas/lifecycle/deploy-blueprint.ts), so whoever ends the lease while the execution's Lambda may still send it
   * (the status-change rule, the next request: Step Functions does not stop a running Lambda) records the stack as
   * updating (`failure.stackUpdating`) instead of standing on the recorded tier. `changeSetName` is CloudFormation's.
   */
  stackUpdate: z.object({ stack: z.string(), changeSetName: z.string(), tier: z.string(), blueprintVersion: z.string(), at: z.string() }).optional(),
});
export type TenantLease = z.infer<typeof TenantLease>;

export const LifecycleExecution = z.object({
  kind: HistoryKind,
  requestId: z.string(),
  executionArn: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /**
   * SKIPPED: a rolling upgrade's run of the tenant that found it no longer where the upgrade listed
   * it (another tier, a newer or the same version, not ACTIVE): nothing changed, `reason` says why.
   */
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED']),
  failedStep: z.string().optional(),
  /** Why the execution failed or was skipped (written when it ends); the reason its caller gave is `requestReason`. */
  reason: z.string().optional(),
  /**
   * Who asked for the operation: `admin:<IAM ARN of the SigV4 caller>` as API Gateway gives it to the admin API
   * (requestContext.identity userArn, else caller: IAM auth), the form API keys' `createdBy` takes; `admin:unknown` where
   * API Gateway gave no identity; on the local platform, which verifies no signature, `admin:local:<access key id>`. Never a value from the request body. Absent on entries recorded before
   * 2026-12-05, on a rolling upgrade's per-tenant runs of an upgrade started before the field existed, 2026-12-05 (since then they carry the upgrade's
   * caller, and `upgradeId`), and on executions started outside the admin API (a console StartExecution).
   */
  actor: z.string().optional(),
  /** The reason the caller gave for a suspend, resume or offboarding (`reason` in the body, `--reason` in the CLI): REQUEST_REASON. */
  requestReason: z.string().optional(),
  /**
   * The tier change a SUCCEEDED change made (*Finish change*: the tier before it, as *Begin change* read it, and after), taking
   * effect at `endedAt`; absent when it kept the tier, and on entries recorded before the field existed, 2026-12-05 (whose `change.tier` names
   * only the tier asked for). The statements label each month with the tiers it had from these (lib/statements/tenant-months.ts).
   */
  tierChange: z.object({ from: z.string(), to: z.string() }).optional(),
  /**
   * A rolling upgrade's per-tenant run: the upgrade that started it (`upgradeId`, the execution name `POST /admin/upgrades`
   * answers and `GET /admin/upgrades/{upgradeId}` takes). Its `actor` is the upgrade's caller.
   */
  upgradeId: z.string().optional(),
  /**
   * A change's request as the admin API took it (PATCH body): what its Idempotency-Key stands for. Kept in full on the
   * newest entries only, as long as their requests add up to MAX_FULL_CHANGES_BYTES (8 KiB, lib/change-digest.ts); an
   * older entry, or one whose request alone passes it (40 tags at their limits are about 46 KB), keeps `changeDigest`
   * instead (lambdas/shared/registry.ts withExecution): 50 entries of full tags exceeded DynamoDB's 400 KB item. Until 2026-12-07 every entry kept it.
   */
  change: z.object({
    tier: z.string().optional(), blueprintVersion: z.string().optional(), repair: z.boolean().optional(), allowReplacement: z.object({ reason: z.string() }).optional(),
    /** The tenant's tags the change asked for, all of them (ChangeRequest.tags), keys sorted. Since 2026-12-07. */
    tags: z.record(z.string(), z.string()).optional(),
  }).optional(),
  /**
   * A change's request once its full `change` is no longer kept (lib/change-digest.ts digestChange): `sha256`, the SHA-256 of
   * its canonical JSON (keys sorted at every depth), against which the same Idempotency-Key's replay is compared (the same
   * body: its answer; another: 409 `idempotency_key_reused`), and a summary: the `tier`, `blueprintVersion` and `repair`
   * asked, how many tags (`tagCount`) and whether it carried an `allowReplacement`. Absent on entries with `change` and on
   * entries recorded before 2026-12-07.
   */
  changeDigest: z.object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    tier: z.string().optional(), blueprintVersion: z.string().optional(), repair: z.boolean().optional(),
    tagCount: z.number().int().nonnegative().optional(), allowReplacement: z.boolean().optional(),
  }).optional(),
  /** Protections this execution lifted to remove a dead tenant stack (*Deploy blueprint*, *Record failure*). */
  liftedProtections: z.array(LiftedProtection).optional(),
  /**
   * The interim stack update *Deploy blueprint* ran before the target template (lambdas/lifecycle/cache-failover-interim.ts):
   * `what` it was (`cache-failover-off`: the target template with the cache's automatic failover and Multi-AZ off, its
   * first replica added), `why`, the `stack`, the target `tier` and `blueprintVersion`, the interim `templateUrl` and
   * `changeSetName`, when it started (`startedAt`, ISO 8601) and when *Deploy blueprint* found it complete and went on to
   * the target (`completedAt`). An execution that failed with no `completedAt` failed at the interim update; with one, at
   * the target's. Since 2026-12-06.
   */
  interimDeploy: z.object({
    what: z.literal('cache-failover-off'),
    why: z.string(),
    stack: z.string(),
    tier: z.string(),
    blueprintVersion: z.string(),
    templateUrl: z.string(),
    changeSetName: z.string(),
    startedAt: z.string(),
    completedAt: z.string().optional(),
  }).optional(),
  /**
   * A `gateway-policy` entry's write: the policy's new `version` (gatewayChange.version), the `method` (PUT or PATCH) and the
   * key `paths` whose value changed (`monthlyTokenBudget`, `guardrails.redactPii`, `fallbacks`: an array is one path),
   * not the values: a system prompt can be long (8,000 characters) or sensitive, and 50 entries of it would crowd the
   * record toward DynamoDB's 400 KB item limit; the policy itself holds the current values. Since 2026-12-05.
   */
  policyChange: z.object({ version: z.number().int(), method: z.enum(['PUT', 'PATCH']), paths: z.array(z.string()) }).optional(),
  /**
   * An onboarding's *Activate tenant*, account mode: what became of each SCP of
   * `organization.externalQuarantinePolicies` on the tenant's account (absent: none listed).
   */
  externalQuarantinePolicies: z.array(ExternalPolicyDetach).optional(),
  /** An onboarding's *Activate tenant*, account mode: what became of Tessera's own `tessera-quarantine` on the tenant's account. */
  tesseraQuarantine: PolicyDetach.optional(),
});
export type LifecycleExecution = z.infer<typeof LifecycleExecution>;

/**
 * A Bedrock guardrail as a tenant names it: its id (`abc123def456`) or ARN
 * (`arn:aws:bedrock:<region>:<account>:guardrail/<id>`), optionally `:<version>` (1-99999999 or
 * DRAFT; without one the gateway applies DRAFT). Source: Bedrock API reference, ApplyGuardrail
 * (`guardrailIdentifier`, `guardrailVersion` patterns). The gateway may apply guardrails of the
 * platform account and region only (its role's bedrock:ApplyGuardrail grant): another account's or
 * region's ARN passes this check and is a 502 `guardrail_unavailable` at the first request.
 */
export const GUARDRAIL_ID = /^(?:[a-z0-9]{1,64}|arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]{1,64})(?::(?:[1-9][0-9]{0,7}|DRAFT))?$/;

/** The providers the gateway calls with an API key (Secrets Manager): the ones a tenant may bring its own key for. */
export const KEYED_PROVIDERS = ['openai', 'huggingface', 'openai-compatible'] as const;
export type KeyedProvider = (typeof KEYED_PROVIDERS)[number];

/**
 * Whose API key the gateway calls a provider with for the tenant:
 * - `own`: the tenant's own (`tessera/tenants/<tenant>/<provider>`, tagged `tessera:tenant-id` = the tenant) and only
 *   it; a key that cannot be read (missing, untagged, refused, empty) fails the request closed (502
 *   `tenant_provider_key_unreadable`), never the platform's key, never a fallback model;
 * - `platform`: the platform's (`gateway.providers.<provider>.apiKeySecretId`); the tenant's secret is never read;
 * - `own-or-platform`: the tenant's own when it can be read, else the platform's (logged once per secret and
 *   environment): the behaviour of every tenant before the field existed, 2026-12-05.
 * With `own`, and `own-or-platform` when the tenant's key was read, a 401/403 of the provider to that key ends the
 * request (502 `tenant_provider_key_refused`): no other deployment, no fallback model (upstream-calls.ts ownKeyRefusal).
 */
export const PROVIDER_KEY_SOURCES = ['own', 'platform', 'own-or-platform'] as const;
export const ProviderKeySource = z.enum(PROVIDER_KEY_SOURCES);
export type ProviderKeySource = z.infer<typeof ProviderKeySource>;

/**
 * Per provider, whose key calls it for the tenant (ProviderKeySource). A provider not named is `own-or-platform`
 * (@default: existing tenants keep the fallback they had, and a tenant created without the field behaves as one
 * created before it). A provider the gateway calls without a key (bedrock, sagemaker) is refused, by name.
 */
export const ProviderKeys = z.object({
  openai: ProviderKeySource.optional(),
  huggingface: ProviderKeySource.optional(),
  'openai-compatible': ProviderKeySource.optional(),
}).strict();
export type ProviderKeys = z.infer<typeof ProviderKeys>;

/** Whose key calls `provider` for a tenant with `keys` (ProviderKeys: a provider not named is `own-or-platform`). */
export const providerKeySource = (keys: ProviderKeys | undefined, provider: KeyedProvider): ProviderKeySource => keys?.[provider] ?? 'own-or-platform';

/** The longest a cached answer may be kept (`responseCache.ttlSeconds`, `maxTtlSeconds`): 7 days, in seconds. */
export const MAX_RESPONSE_CACHE_TTL_SECONDS = 604_800;

/**
 * A tenant's exact-match response cache at the gateway (docs/gateway.md "Response cache"): a chat completion (whole or
 * streamed), embeddings or `store: false` Responses API answer is kept for `ttlSeconds` and answered again, without an upstream call, to the same
 * request (same body, model, tenant policy and, with `scope: caller`, the same user or API key). Opt-in: a tenant
 * without this key has no cache.
 */
export const ResponseCacheFields = z.object({
  /** How long an answer is kept, in seconds, unless the request's `x-tessera-cache-ttl` asks for another. */
  ttlSeconds: z.number().int().min(1).max(MAX_RESPONSE_CACHE_TTL_SECONDS),
  /** The most a request's `x-tessera-cache-ttl` may ask, in seconds. @default - `ttlSeconds` */
  maxTtlSeconds: z.number().int().min(1).max(MAX_RESPONSE_CACHE_TTL_SECONDS).optional(),
  /**
   * Who shares answers: `caller`, each user or API key its own (one user never reads an answer another's request
   * made); `tenant`, every caller of the tenant. @default 'caller'
   */
  scope: z.enum(['caller', 'tenant']).default('caller'),
});

type CacheTtls = { ttlSeconds: number; maxTtlSeconds?: number };

/**
 * ResponseCachePolicy's rule across its fields: `ttlSeconds` at most `maxTtlSeconds`, refused at `ttlSeconds` with the
 * maximum it is over (`ttlSeconds must be at most maxTtlSeconds, 3600: …`): a PATCH of `ttlSeconds` alone meets the
 * recorded `maxTtlSeconds`, which the caller may not have in mind (before, the message did not say its value).
 */
export const ttlWithinMaximum: [(c: CacheTtls) => boolean, { error: (issue: { input?: unknown }) => string; path: string[] }] = [
  (c) => c.maxTtlSeconds === undefined || c.ttlSeconds <= c.maxTtlSeconds,
  {
    error: (issue) => `ttlSeconds must be at most maxTtlSeconds, ${(issue.input as CacheTtls | undefined)?.maxTtlSeconds}: `
      + 'raise maxTtlSeconds with it, or remove maxTtlSeconds (it defaults to ttlSeconds)',
    path: ['ttlSeconds'],
  },
];

export const ResponseCachePolicy = ResponseCacheFields.refine(...ttlWithinMaximum);
export type ResponseCachePolicy = z.infer<typeof ResponseCachePolicy>;

/** What a tenant's admin may tune about the gateway (within what its tier allows). */
export const GatewayPolicy = z.object({
  defaultModel: z.string().optional(),
  /** Models tried in order when the requested one fails upstream. */
  fallbacks: z.array(z.string()).max(5).default([]),
  systemPrompt: z.string().max(8000).optional(),
  maxTokens: z.number().int().positive().optional(),
  guardrails: z.object({
    redactPii: z.boolean().default(true),
    redactResponses: z.boolean().default(false),
    promptInjectionScreen: z.boolean().default(true),
    /** Checked against GUARDRAIL_ID where a policy is written (lambdas/admin/gateway-policy-request.ts), not on read: a record stored before the check must stay readable. */
    bedrockGuardrailId: z.string().optional(),
  }).default({ redactPii: true, redactResponses: false, promptInjectionScreen: true }),
  /** Monthly budgets; the tier's daily token limit applies as well. */
  monthlyTokenBudget: z.number().int().positive().optional(),
  monthlyCostBudgetUsd: z.number().positive().optional(),
  /** Keep prompt text in audit records (default: only its SHA-256). */
  auditPromptText: z.boolean().default(false),
  /** Bedrock application inference profile per model id, for per-tenant cost allocation. */
  bedrockInferenceProfiles: z.record(z.string(), z.string().regex(/^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:application-inference-profile\/[a-z0-9]+$/, 'must be a Bedrock application inference profile ARN')).optional(),
  /**
   * Browser origins (`https://app.example.com`, scheme + host + optional port, as the `Origin`
   * header carries them) allowed to call the gateway (CORS, Fetch standard). @default - none
   */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, 'must be an origin: scheme://host[:port], lower case, no path')).max(50).optional(),
  /**
   * Whether Responses API answers may be stored (`store`, OpenAI's default true). false: every
   * response is treated as `store: false`, and a request asking `store: true` is a 400. @default true
   */
  storeResponses: z.boolean().optional(),
  /**
   * Limits of every user of the tenant (each user counted alone), on top of the tenant's; a key's
   * own limits are on its record. @default - only the tenant's limits
   */
  userLimits: SubjectLimits.optional(),
  /**
   * Whether each settled request of the tenant puts a `Gateway Request Completed` event on the platform bus (its audit
   * record as `GET /v1/tenant/requests/{id}` answers it: no prompt or answer text), for a rule to deliver to the tenant's
   * observability stack (docs/gateway.md "Request events"). `false` opts out of the platform's `gateway.requestEvents`.
   * @default - the platform's `gateway.requestEvents` (false when unset)
   */
  requestEvents: z.boolean().optional(),
  /**
   * Whose API key calls each keyed provider for the tenant (ProviderKeys: `own`, `platform`, `own-or-platform`), e.g.
   * `{ "openai": "own" }` for a tenant that contracted its own OpenAI usage. @default - every provider `own-or-platform`
   */
  providerKeys: ProviderKeys.optional(),
  /** The gateway's response cache for the tenant (ResponseCachePolicy). @default - none: no answer is cached */
  responseCache: ResponseCachePolicy.optional(),
});
export type GatewayPolicy = z.infer<typeof GatewayPolicy>;

/** A fine-tuned model in its tenant's registry record, routable by the gateway's sagemaker provider. */
export const FineTunedModel = z.object({
  /**
   * `ft:<base>:<tenant>:<suffix>:<job part>` (`ft:<base>:<tenant>::<job part>` without a suffix: lib/fine-tuning.ts
   * fineTunedModelId), or `ft:<base>:<tenant>:<suffix>` for models of jobs created before model ids had a job part.
   */
  id: z.string().regex(/^ft:[a-z0-9.-]+:[a-z0-9-]+:(?:[a-z0-9-]+|[A-Za-z0-9._-]{0,64}:[a-f0-9]{8})$/),
  baseModel: z.string(),
  jobId: z.string(),
  endpointName: z.string(),
  /** Role in the endpoint's account that the gateway assumes to invoke it (tenant-scoped). */
  invokeRoleArn: z.string().optional(),
  createdAt: z.string(),
});
export type FineTunedModel = z.infer<typeof FineTunedModel>;

/**
 * A resource a stack operation left in the account: CloudFormation skipped its deletion
 * (`DELETE_SKIPPED`: a Retain policy) or could not delete it (`DELETE_FAILED`). Read from the
 * stack's events (DescribeStackEvents).
 */
export const LeftBehindResource = z.object({
  stack: z.string(),
  logicalId: z.string(),
  /** CloudFormation resource type, e.g. `AWS::Logs::LogGroup`. */
  type: z.string(),
  /** The resource's physical id (name or ARN), when CloudFormation reported one. */
  physicalId: z.string().optional(),
  status: z.enum(['DELETE_SKIPPED', 'DELETE_FAILED']),
  reason: z.string().optional(),
});
export type LeftBehindResource = z.infer<typeof LeftBehindResource>;

/**
 * A Service Quotas increase the lifecycle asked for (RequestServiceQuotaIncrease), or found
 * pending (ListRequestedServiceQuotaChangeHistoryByQuota). `desired` is in the quota's unit
 * (vCPUs for the EC2 On-Demand quotas).
 */
export const QuotaRequest = z.object({
  serviceCode: z.string(),
  quotaCode: z.string(),
  name: z.string(),
  /** The applied value when the request was made. */
  applied: z.number(),
  desired: z.number(),
  /** Service Quotas request id; absent when the request was refused outright. */
  requestId: z.string().optional(),
  /** Service Quotas' RequestStatus (PENDING, CASE_OPENED, APPROVED, DENIED, CASE_CLOSED, NOT_APPROVED, INVALID_REQUEST). */
  status: z.string(),
  requestedAt: z.string(),
  /** Region of the quota (Service Quotas is regional). */
  region: z.string(),
});
export type QuotaRequest = z.infer<typeof QuotaRequest>;

/**
 * GPU capacity of a dedicated tier at onboarding: the node group starts at the tier's sizes when
 * the account's On-Demand vCPU quota for the first GPU instance type holds one node, else at 0
 * (`WAITING_FOR_QUOTA`) until the requested increase is approved.
 */
export const GpuCapacity = z.object({
  state: z.enum(['READY', 'WAITING_FOR_QUOTA']),
  instanceType: z.string(),
  quotaCode: z.string(),
  /** Applied quota in vCPUs when last checked; absent when Service Quotas could not be read. */
  appliedVcpus: z.number().optional(),
  /** vCPUs of one node of `instanceType`. */
  oneNodeVcpus: z.number(),
  minSize: z.number().int(),
  desiredSize: z.number().int(),
  checkedAt: z.string(),
});
export type GpuCapacity = z.infer<typeof GpuCapacity>;

/**
 * What *Delete default VPCs* (lambdas/lifecycle/delete-default-vpcs.ts, a tier with `deleteDefaultVpcs`) found in one
 * region of the tenant's account: `DELETED` (the default VPC `vpcId`, its internet gateway and default subnets removed),
 * `NONE` (no default VPC there: none was made, or an earlier run deleted it), `KEPT` (the default VPC is in use, or EC2
 * refused a deletion: `reason` says which; nothing more is deleted in it) or `UNREACHABLE` (EC2 refused the region's
 * calls, as a region-deny SCP does: `reason` has EC2's answer).
 */
export const DefaultVpcOutcome = z.object({
  region: z.string(),
  state: z.enum(['DELETED', 'NONE', 'KEPT', 'UNREACHABLE']),
  vpcId: z.string().optional(),
  reason: z.string().optional(),
});
export type DefaultVpcOutcome = z.infer<typeof DefaultVpcOutcome>;

/**
 * The default VPCs of a tenant account: one outcome per region enabled in it (DescribeRegions) and in the config's
 * `allowedRegions`, and when they were looked at. `outsideAllowedRegions`: the regions enabled in the account that are
 * not in `allowedRegions`, where nothing was called. The guardrail SCP (`DenyOutsideAllowedRegions`) denies every call
 * there to everyone, Tessera's provisioning role too, so their default VPCs can be neither used nor deleted.
 */
export const DefaultVpcs = z.object({
  checkedAt: z.string(),
  regions: z.array(DefaultVpcOutcome),
  outsideAllowedRegions: z.array(z.string()).optional(),
});
export type DefaultVpcs = z.infer<typeof DefaultVpcs>;

/**
 * What *Enable EBS encryption by default* (lambdas/lifecycle/enable-ebs-encryption.ts, a tier with
 * `ebsEncryptionByDefault`) got in one region of the tenant's account: `ENABLED` (EC2 answered `EbsEncryptionByDefault:
 * true`: every volume made there from now on is encrypted, under `alias/aws/ebs` unless the volume names a key),
 * `NOT_ENABLED` (EC2 answered the call but not `true`: `reason` has its answer) or `UNREACHABLE` (EC2 refused the call,
 * as a region-deny SCP does: `reason` has EC2's answer).
 */
export const EbsEncryptionOutcome = z.object({
  region: z.string(),
  state: z.enum(['ENABLED', 'NOT_ENABLED', 'UNREACHABLE']),
  reason: z.string().optional(),
});
export type EbsEncryptionOutcome = z.infer<typeof EbsEncryptionOutcome>;

/**
 * EBS encryption by default in a tenant account: one outcome per region enabled in it (DescribeRegions) and in the
 * config's `allowedRegions`, and when it was set. `outsideAllowedRegions`: the regions enabled in the account that are
 * not in `allowedRegions`, where nothing was called (the guardrail SCP denies every call there, volumes' too).
 */
export const EbsEncryption = z.object({
  checkedAt: z.string(),
  regions: z.array(EbsEncryptionOutcome),
  outsideAllowedRegions: z.array(z.string()).optional(),
});
export type EbsEncryption = z.infer<typeof EbsEncryption>;

/**
 * The alternate contacts *Set alternate contacts* (lambdas/lifecycle/set-alternate-contacts.ts, a tier with
 * `alternateContacts`) put in the tenant's account: the AlternateContactType of each PutAlternateContact that succeeded,
 * in the order BILLING, OPERATIONS, SECURITY, and when. The contacts themselves stay in the config (the API marks every
 * field sensitive), read back with `aws account get-alternate-contact --account-id <id> --alternate-contact-type <type>`.
 */
export const AlternateContactsRecord = z.object({
  setAt: z.string(),
  types: z.array(z.enum(['BILLING', 'OPERATIONS', 'SECURITY'])),
});
export type AlternateContactsRecord = z.infer<typeof AlternateContactsRecord>;

/**
 * The account-level S3 Block Public Access *Set S3 Block Public Access* (lambdas/lifecycle/set-s3-public-access-block.ts,
 * a tier with `s3PublicAccessBlock`) put in the tenant's account: the `PublicAccessBlockConfiguration` S3 Control's
 * PutPublicAccessBlock took (S3's field names; all four `true`), the region whose S3 Control endpoint was called (the
 * setting is the account's, for every region), and when. Read back with `aws s3control get-public-access-block
 * --account-id <id>` in the tenant account.
 */
export const S3PublicAccessBlockRecord = z.object({
  setAt: z.string(),
  region: z.string(),
  configuration: z.object({ BlockPublicAcls: z.boolean(), IgnorePublicAcls: z.boolean(), BlockPublicPolicy: z.boolean(), RestrictPublicBuckets: z.boolean() }),
});
export type S3PublicAccessBlockRecord = z.infer<typeof S3PublicAccessBlockRecord>;


/**
 * A store that outlives the tenant stacks under the tenant key. `keptUntil` is the last moment its
 * data must stay readable (ISO date-time); absent when the store sets no expiry (it then holds the
 * key until an operator decides). `disposition` says what happens to it.
 */
export const RetainedStore = z.object({
  store: z.enum(['log-group', 'backup-recovery-point', 'backup-vault', 'db-snapshot', 'cache-snapshot', 'bucket', 'key', 'queue']),
  id: z.string(),
  keyArn: z.string().optional(),
  /** How a store without a customer key is encrypted, e.g. `SSE-S3` (an S3-owned key) for the access-log bucket. */
  encryption: z.string().optional(),
  keptUntil: z.string().optional(),
  /**
   * `expires`: AWS removes it at `keptUntil` and the key must stay until then;
   * `archived`: a copy lives under the archive key, this one becomes unreadable with the tenant key;
   * `transient`: derived data (cache) that nobody needs after offboarding;
   * `review`: no expiry set, it holds the key until an operator decides.
   * The tenant key's own entry (store `key`) says what *Schedule key deletion* does with it: `scheduled` (deletion
   * scheduled at once; `keptUntil` when KMS deletes it, after the pending window), `queued` (until the last store under
   * it expires, then scheduled by the daily job; `keptUntil` the earliest deletion), `with-account` (account mode: goes
   * with the account's closure), `review` while a store without expiry holds it.
   */
  disposition: z.enum(['expires', 'archived', 'transient', 'review', 'scheduled', 'queued', 'with-account']),
  /** Whether this store keeps the tenant key from being scheduled for deletion. */
  holdsKey: z.boolean(),
  note: z.string().optional(),
  /** When the emptied container (log group, Backup vault) was removed, with the key's scheduling. */
  removedAt: z.string().optional(),
  /**
   * The last refusal of an emptied container's removal (`<time>: <error>`), e.g. AWS Backup's for a vault that still holds
   * a recovery point; the daily key-deletion job tries it again each day until it is removed (then `removedAt`).
   */
  removalRefused: z.string().optional(),
  /**
   * The DR region of a store the tenant's DR stack retained there (DR bucket, DR vault and its recovery points, the DR
   * key): its `holdsKey` is about the tenant's DR key, not the tenant key, and its key entry says what *Schedule key
   * deletion* does with the DR key (`offboarding.drKeyDeletion`). Absent: a store of the home region (the tenant key).
   */
  drRegion: z.string().optional(),
});
export type RetainedStore = z.infer<typeof RetainedStore>;

/**
 * The verified export of the tenant bucket (*Export tenant data*): where it is in the archive and
 * what it holds. Recorded once verified, so that an offboarding resumed after a later step failed
 * does not copy the bucket into the Object Lock archive a second time.
 */
export const OffboardingExport = z.object({
  /** `<tenant>/<UTC start time>/` in the archive bucket; the manifest is `<prefix>manifest.json`. */
  prefix: z.string(),
  versions: z.number().int(),
  currentObjects: z.number().int(),
  noncurrentVersions: z.number().int(),
  deleteMarkers: z.number().int(),
  /** Bytes of the archived versions. */
  bytes: z.number(),
  manifestParts: z.number().int(),
  verifiedAt: z.string(),
});
export type OffboardingExport = z.infer<typeof OffboardingExport>;

/**
 * The database's final snapshot, copied under the archive key (*Snapshot database*). Recorded once
 * archived: the step is not repeated when a resumed offboarding meets it after the stack (and the
 * instance) were deleted.
 */
export const OffboardingDatabaseSnapshot = z.object({
  /** The DB instance identifier it was taken of. */
  instance: z.string(),
  snapshotId: z.string(),
  /** The copy under the platform archive key, shared with the platform account. */
  archiveSnapshotId: z.string(),
  archivedAt: z.string(),
  /**
   * When `snapshotId` (under the tenant key) was deleted or found gone, its copy available: it counted in RDS's manual snapshot quota and
   * held the tenant's data. @default - absent on records of earlier versions' offboardings, which kept it, and when the delete was refused AccessDenied
   */
  sourceDeletedAt: z.string().optional(),
});
export type OffboardingDatabaseSnapshot = z.infer<typeof OffboardingDatabaseSnapshot>;

/**
 * What offboarding's *Retire fine-tuned models* stopped and deleted in the tenant's account
 * (lambdas/fine-tuning/retire-fine-tuned-models.ts): the training jobs an offboarding cancelled,
 * and the fine-tuned models whose endpoint, endpoint config and model (each named after the job's
 * training job) are deleted.
 */
export const RetiredFineTuning = z.object({
  cancelledJobs: z.array(z.object({ jobId: z.string(), trainingJobName: z.string() })),
  retiredModels: z.array(z.object({ id: z.string(), endpointName: z.string() })),
});
export type RetiredFineTuning = z.infer<typeof RetiredFineTuning>;

/** What becomes of a key at offboarding (the tenant key's, `offboarding.keyDeletion`; the DR key's, `drKeyDeletion`). */
export const KeyDeletionRecord = z.object({
  /**
   * `SCHEDULED`: KMS deletes the key at `deletionDate`; `QUEUED`: waits in the control table until
   * `dueAt`, when the daily job schedules it; `WITH_ACCOUNT_CLOSURE`: account mode, the key goes
   * with the account; `HELD`: a store without expiry holds it (see retainedStores).
   */
  state: z.enum(['SCHEDULED', 'QUEUED', 'WITH_ACCOUNT_CLOSURE', 'HELD']),
  keyArn: z.string().optional(),
  dueAt: z.string().optional(),
  deletionDate: z.string().optional(),
});

/** What offboarding did and left: the export and final snapshot, protections lifted, stores kept, the fate of the tenant key. */
export const OffboardingRecord = z.object({
  /** Stack id of the tenant stack (ListStackResources of a deleted stack needs the id, not the name). */
  stackId: z.string().optional(),
  export: OffboardingExport.optional(),
  databaseSnapshot: OffboardingDatabaseSnapshot.optional(),
  liftedProtections: z.array(LiftedProtection).default([]),
  /** Fine-tuning retired before anything else was destroyed (every SageMaker endpoint deleted, every job stopped), and when it was recorded. */
  fineTuning: RetiredFineTuning.extend({
    at: z.string(),
    /** The offboarding execution that recorded it. @default - absent on records written before it was kept */
    executionArn: z.string().optional(),
    /**
     * Each later offboarding execution's retirement (a re-run looks again): when, whether it could
     * look (`lookedAgain: false`: the launcher had gone with the stack), and the jobs cancelled and
     * models retired it found that the record did not list (also added to the lists above).
     */
    rechecks: z.array(RetiredFineTuning.extend({ at: z.string(), executionArn: z.string().optional(), lookedAgain: z.boolean() })).optional(),
  }).optional(),
  /**
   * The tenant's VPC range given back to its tier's pool once its stacks were deleted (*Delete tenant stacks*,
   * lambdas/lifecycle/release-network.ts): `vpcCidr` the range the record held (then removed from the record's own
   * `vpcCidr`), `strayClaims` ranges the tenant had claimed without recording them (an allocation that died before its
   * registry write), `releasedAt` (ISO 8601) and the execution that released them. The next onboarding of a tier whose
   * pool holds the range may get it.
   * @default - absent until the stacks are gone, on tenants that never got a range, and on offboardings before 2026-12-05
   */
  network: z.object({
    vpcCidr: z.string().optional(),
    strayClaims: z.array(z.string()).optional(),
    releasedAt: z.string(),
    executionArn: z.string().optional(),
  }).optional(),
  retainedStores: z.array(RetainedStore).optional(),
  keyDeletion: KeyDeletionRecord.optional(),
  /**
   * What *Schedule key deletion* did with the tenant's DR key (a key of its own in the DR region, not a multi-Region
   * replica: constructs/tenant-dr-key.ts), by the same rule as the tenant key's, on the stores under it (retainedStores
   * with `drRegion`): `SCHEDULED`, `QUEUED` (the daily job schedules it in `region` once `dueAt` has passed),
   * `WITH_ACCOUNT_CLOSURE`, or `HELD` while a DR store under it has no expiry (a DR bucket that is no replica of the
   * exported tenant bucket, or a DR stack that could not be listed: `keyArn` then unknown, `key` its alias).
   */
  drKeyDeletion: KeyDeletionRecord.extend({ region: z.string(), key: z.string().optional() }).optional(),
  /**
   * Users *Revoke tenant identities* is disabling whose `Tenant User Disabled` is not sent yet
   * (lambdas/lifecycle/revoke-tenant-identities.ts): each written before its AdminDisableUser, removed once its event
   * was sent (or it was found deleted). A re-run of the step first sends the event of every user recorded here that
   * Cognito shows disabled (the earlier run disabled it and stopped before its PutEvents: the enabled-users listing
   * would never show it again). `userId` is the Cognito username (the user's `sub`); `intendedAt` when it was recorded
   * (ISO 8601). Absent: none pending.
   */
  pendingUserEvents: z.array(z.object({ userId: z.string(), intendedAt: z.string() })).optional(),
  /**
   * What *Revoke tenant identities* revoked (lambdas/lifecycle/revoke-tenant-identities.ts), written by the step itself
   * after each part: the API key records deleted from the keys table and the platform pool's users disabled, each a
   * total over every run of the step (a resumed offboarding runs it again and adds what it found, 0 when nothing was
   * left), with `checkedAt` (ISO 8601) the last time a run found none left (no key record in the tenant's partition, no
   * enabled user). `users.skipped` says why users were left alone (no platform pool: an external identity provider owns
   * them). `executionArns`: every offboarding execution that ran the step, first to last.
   * @default - absent on records of offboardings before it was kept, and until the step has deleted the keys
   */
  identities: z.object({
    apiKeys: z.object({ deleted: z.number().int().nonnegative(), checkedAt: z.string() }),
    users: z.union([
      z.object({ disabled: z.number().int().nonnegative(), gone: z.number().int().positive().optional(), checkedAt: z.string() }),
      z.object({ skipped: z.string(), checkedAt: z.string() }),
    ]).optional(),
    executionArns: z.array(z.string()),
  }).optional(),
  /**
   * What *Erase pooled gateway data* erased (lambdas/lifecycle/erase-pooled-gateway-data.ts; only with the platform
   * setting `offboarding.erasePooledGatewayData`): the tenant's items of the responses table deleted, by kind (stored
   * responses `resp_…`, conversation heads `conv_…` and their items, batches `batch_…`, batch file records `file-…`,
   * vector store records `vs_…`, any other key), and the DeleteObject requests made for the batch files' objects and the batches' parts, each a
   * total over every run; `complete` once a run found the end of the tenant's partition, `checkedAt` (ISO 8601) that
   * run's time (or the last run's while it is not complete); `executionArns`: every offboarding execution that ran it.
   * @default - absent when the setting is off (the data stays until its TTL) and on offboardings before it existed
   */
  pooledData: z.object({
    erased: z.object({
      responses: z.number().int().nonnegative(), conversations: z.number().int().nonnegative(), conversationItems: z.number().int().nonnegative(),
      batches: z.number().int().nonnegative(), batchFiles: z.number().int().nonnegative(),
      // Counted apart since 0.2.0 (before, under `other`): absent on the records of earlier offboardings.
      vectorStores: z.number().int().nonnegative().default(0), other: z.number().int().nonnegative(),
    }),
    objectsDeleted: z.number().int().nonnegative(),
    complete: z.boolean(),
    checkedAt: z.string(),
    executionArns: z.array(z.string()),
  }).optional(),
  /**
   * What *Expire pooled gateway data* bounded (lambdas/lifecycle/expire-pooled-gateway-data.ts; only with
   * `offboarding.erasePooledGatewayData` off, the default): the tenant's items of the responses table given the TTL
   * `expiresAt` (by kind, as `pooledData.erased`: those without one, the kept files' records and the vector store
   * records, or with a later one), the kept files whose content was moved to the expiring prefix, each a total over
   * every run; `expiresAt` (ISO 8601) the TTL given (the first run's now + `gateway.responsesTtlDays`); `complete` once a
   * run found the end of the tenant's partition, `checkedAt` that run's time; `executionArns`: every execution that ran it.
   * @default - absent with the setting on (pooledData instead) and on offboardings before 0.2.0
   */
  pooledDataExpiry: z.object({
    bounded: z.object({
      responses: z.number().int().nonnegative(), conversations: z.number().int().nonnegative(), conversationItems: z.number().int().nonnegative(),
      batches: z.number().int().nonnegative(), batchFiles: z.number().int().nonnegative(), vectorStores: z.number().int().nonnegative(), other: z.number().int().nonnegative(),
    }),
    keptFilesMoved: z.number().int().nonnegative(),
    expiresAt: z.string(),
    complete: z.boolean(),
    checkedAt: z.string(),
    executionArns: z.array(z.string()),
  }).optional(),
});
export type OffboardingRecord = z.infer<typeof OffboardingRecord>;

/**
 * One change of a CloudFormation change set that would replace or remove a stateful resource
 * (lib/stateful-resources.ts), as DescribeChangeSet's ResourceChange names it.
 */
export const DestructiveChange = z.object({
  stack: z.string(),
  logicalId: z.string(),
  /** CloudFormation resource type, e.g. `AWS::RDS::DBInstance`. */
  type: z.string(),
  physicalId: z.string().optional(),
  /** ResourceChange.Action: `Modify` (with a replacement), `Remove` or `Dynamic`. */
  action: z.string(),
  /** ResourceChange.Replacement: `True`, `Conditional` (or `False` for a removal). */
  replacement: z.string().optional(),
  /** ResourceChange.PolicyAction (`Delete`, `Retain`, `Snapshot`, `ReplaceAndDelete`, …) when CloudFormation reports it. */
  policyAction: z.string().optional(),
  /** The properties whose change causes the replacement (ResourceChange.Details[].Target.Name). */
  causes: z.array(z.string()).optional(),
});
export type DestructiveChange = z.infer<typeof DestructiveChange>;

/**
 * A change set the change or upgrade workflow refused because it would replace or remove a
 * stateful resource and the request carried no `allowReplacement` (lambdas/lifecycle/change-set-guard.ts).
 * The change set was deleted; the stack was not touched.
 */
export const ChangeSetRefusal = z.object({
  at: z.string(),
  kind: LifecycleKind,
  executionArn: z.string().optional(),
  requestId: z.string(),
  stack: z.string(),
  changeSetName: z.string(),
  /** The blueprint version and tier the refused change would have deployed. */
  blueprintVersion: z.string().optional(),
  tier: z.string().optional(),
  reason: z.string(),
  resources: z.array(DestructiveChange),
});
export type ChangeSetRefusal = z.infer<typeof ChangeSetRefusal>;

/** A destructive change let through by `allowReplacement`, with the operator's reason. */
export const AllowedReplacement = z.object({
  at: z.string(),
  kind: LifecycleKind,
  executionArn: z.string().optional(),
  requestId: z.string(),
  stack: z.string(),
  changeSetName: z.string(),
  reason: z.string(),
  resources: z.array(DestructiveChange),
});
export type AllowedReplacement = z.infer<typeof AllowedReplacement>;

/** One drifted resource (DescribeStackResourceDrifts, MODIFIED or DELETED). */
export const DriftedResource = z.object({
  stack: z.string(),
  logicalId: z.string(),
  type: z.string(),
  physicalId: z.string().optional(),
  status: z.enum(['MODIFIED', 'DELETED']),
  /** Property paths that differ (PropertyDifferences[].PropertyPath, e.g. `/BackupRetentionPeriod`), each with its difference type. */
  differences: z.array(z.object({ path: z.string(), type: z.string() })).default([]),
});
export type DriftedResource = z.infer<typeof DriftedResource>;

/**
 * A resource drift detection could not check: DescribeStackResourceDrifts' `UNKNOWN` (with its
 * DriftStatusReason), or one a DETECTION_FAILED detection names in its DetectionStatusReason
 * (`Failures[].Resource` / `FailureReason`; its type is then not known: CloudFormation returns no
 * drift for it). Its drift is unknown: it may have drifted.
 */
export const UncheckedResource = z.object({
  stack: z.string(),
  logicalId: z.string(),
  type: z.string().optional(),
  reason: z.string().optional(),
});
export type UncheckedResource = z.infer<typeof UncheckedResource>;

/**
 * The latest drift detection of a tenant's stacks (the drift workflow): `DRIFTED` when any
 * resource of any of its stacks was MODIFIED or DELETED, `IN_SYNC` when none, `UNKNOWN` when a
 * detection failed (`error` says why).
 */
export const DriftRecord = z.object({
  status: z.enum(['IN_SYNC', 'DRIFTED', 'UNKNOWN']),
  checkedAt: z.string(),
  /** Per stack: its name, CloudFormation's StackDriftStatus and the detection id. */
  stacks: z.array(z.object({ stack: z.string(), status: z.string(), detectionId: z.string().optional(), reason: z.string().optional() })).default([]),
  resources: z.array(DriftedResource).default([]),
  /** Drifted resources beyond the recorded ones (the record keeps at most 100). */
  truncated: z.number().int().optional(),
  /** Resources the detection could not check (UNKNOWN), at most 100; absent when none. */
  unchecked: z.array(UncheckedResource).optional(),
  /** Unchecked resources beyond the recorded ones. */
  uncheckedTruncated: z.number().int().optional(),
  /** Why this check has no verdict (UNKNOWN): its detection failed before any stack was checked. */
  error: z.string().optional(),
  /**
   * The latest check of the tenant failed after its retries (throttling, access denied) after this
   * record's check ran: the record keeps that check's verdict, time and resources, and this says
   * when the later one failed and why. A check that succeeds replaces the whole record.
   */
  failedCheck: z.object({ at: z.string(), error: z.string() }).optional(),
  /**
   * The latest time a drift check found the tenant stack, stable (`UPDATE_COMPLETE`) with no operation running, on another
   * tier or blueprint version (its `tessera:tier` / `tessera:blueprint-version` tags) than the record said, and recorded
   * the stack's (lambdas/lifecycle/stack-standing.ts driftStanding): an update that completed after the change or upgrade
   * that started it had ended. Kept by later checks until another one replaces it. Not a drifted resource: the stack
   * agrees with its template; the registry had fallen behind the stack.
   */
  standing: z.object({
    at: z.string(),
    stack: z.string(),
    stackStatus: z.string(),
    from: z.object({ tier: z.string(), blueprintVersion: z.string().optional() }),
    to: z.object({ tier: z.string(), blueprintVersion: z.string() }),
    /** The failure whose pending stack update this resolved (failure.stackUpdating), when one was recorded. */
    executionArn: z.string().optional(),
    /**
     * What the recorded standing leaves undone for a shared-compute tier (stack-standing.ts namespaceNotDeployed): the
     * operation ended before *Deploy namespace*, so the namespace stack (the tier's compute quota) is not the tier's.
     */
    namespace: z.string().optional(),
  }).optional(),
  /**
   * The latest time a drift check found the tenant's usage key out of its recorded tier's usage plan (`tessera-<tier>`:
   * in no plan, in another tier's, or in two) and corrected it (lambdas/lifecycle/check-drift.ts followTier): `moved`, or
   * `pending` when the move failed (then `usageKey.movePending` is recorded too). `note` says where the key was and
   * where it went. Kept by later checks until another correction replaces it.
   */
  usageKey: z.object({ at: z.string(), outcome: z.enum(['moved', 'pending']), note: z.string() }).optional(),
});
export type DriftRecord = z.infer<typeof DriftRecord>;

/**
 * A tenant's disaster-recovery blueprint (the stack `<primary stack name>-dr` in its tier's DR
 * region: DR key, DR bucket, DR Backup vault). `status`: `DEPLOYING` (being created or updated),
 * `ACTIVE` (deployed, the tenant's tier has DR), `RETAINED` (the tenant moved to a tier without DR:
 * the stack and its data stay until offboarding), `REMOVED` (offboarded: the stack deleted, its
 * bucket and vault retained and inventoried in `offboarding`).
 */
/**
 * One account customization stack of a tenant (`tessera-<tenant>-custom-<name>`, lambdas/lifecycle/customizations.ts):
 * DEPLOYING while its create or update runs, ACTIVE once complete, FAILED with CloudFormation's reason (its first
 * failed resource event), or with the operation's failure reason when the operation ended (failed or stopped) while it
 * was DEPLOYING (lambdas/lifecycle/customization-failure.ts), RETAINED when the tenant's tier no longer lists it (the stack stays until offboarding),
 * DELETED once offboarding deleted it.
 */
export const CustomizationRecord = z.object({
  stackName: z.string(),
  status: z.enum(['DEPLOYING', 'ACTIVE', 'FAILED', 'RETAINED', 'DELETED']),
  /**
   * The tier whose customization it is (its template is that tier's). FAILED after an update that left the stack as it
   * stood (refused, its template unreadable, rolled back): the tier and version the stack still runs, from its tags.
   */
  tier: z.string(),
  /** The platform version whose catalog template it was deployed from. */
  blueprintVersion: z.string().optional(),
  /**
   * Why it FAILED: the stack status and the first failed resource's reason, or the change-set refusal; or, when its
   * operation failed while it was DEPLOYING, the step and the first 400 UTF-8 bytes of the failure's reason
   * (lambdas/lifecycle/customization-failure.ts).
   */
  reason: z.string().optional(),
  updatedAt: z.string(),
});
export type CustomizationRecord = z.infer<typeof CustomizationRecord>;

export const DisasterRecoveryRecord = z.object({
  region: z.string(),
  stackName: z.string(),
  /** The stack's id, recorded before offboarding deletes it (a deleted stack is found by its id only). */
  stackId: z.string().optional(),
  status: z.enum(['DEPLOYING', 'ACTIVE', 'RETAINED', 'REMOVED']),
  updatedAt: z.string(),
  /**
   * The tier and blueprint version the DR stack was last deployed with, and the execution that did
   * it: the DR stack is deployed before the primary, so a change whose primary update is refused or
   * fails leaves the DR stack ahead of the tenant's `tier` / `blueprintVersion`, and this says so.
   */
  deployedWith: z.object({ tier: z.string(), blueprintVersion: z.string(), executionArn: z.string().optional() }).optional(),
  /**
   * The DR stack's last update failed and so did its rollback (`UPDATE_ROLLBACK_FAILED`): CloudFormation refuses every
   * update of it until an operator continues the rollback (ContinueUpdateRollback, skipping the resources that cannot
   * roll back). What the update attempted, when it was found, and CloudFormation's reason. Cleared when a later deploy
   * of the DR stack completes. `deployedWith` is then unknown (the stack runs neither version whole) and left out.
   */
  updateRollbackFailed: z.object({
    at: z.string(),
    reason: z.string(),
    attempted: z.object({ tier: z.string(), blueprintVersion: z.string(), executionArn: z.string().optional() }).optional(),
  }).optional(),
  /**
   * When the tenant first moved to a tier without DR (the DR stack RETAINED): from then on its primary replicates no
   * more into the DR bucket, and S3 replicates no deletion made after that, so what is deleted from the tenant bucket
   * since stays current in the DR bucket, which is no longer a replica of it (its noncurrent versions expire at home
   * after 30 days, and the offboarding's export reads the tenant bucket). Kept when the tenant moves back to a DR
   * tier: what was deleted meanwhile stays in the DR bucket. The offboarding's inventory then records the DR bucket
   * `review`, not `archived` (lambdas/lifecycle/inventory-retained-stores.ts). ISO 8601.
   */
  replicationStoppedAt: z.string().optional(),
  /** The latest restore test of the tenant's DR recovery points (AWS Backup `Restore Job State Change`). */
  latestRestoreTest: z.object({
    restoreJobId: z.string(),
    /** The restore job's status (COMPLETED, FAILED, ABORTED…). */
    status: z.string(),
    at: z.string(),
    recoveryPointArn: z.string().optional(),
    /** The job's validation status when restore validation ran (SUCCESSFUL, FAILED, TIMED_OUT, VALIDATING). */
    validationStatus: z.string().optional(),
    message: z.string().optional(),
  }).optional(),
});
export type DisasterRecoveryRecord = z.infer<typeof DisasterRecoveryRecord>;

/**
 * Whether onboarding invites the tenant's first admin (`adminEmail`, role `admin`) into the platform's Cognito pool, as
 * SaaS Builder Toolkit's control plane creates the tenant admin user at onboarding. Absent: the platform's default,
 * `true` with the platform's own pool, `false` with an external identity provider (`gateway.jwt`: no pool, its users are
 * not Tessera's to invite). `true` on a platform without a pool is refused by the admin API (400 naming `inviteAdmin`).
 */
export const InviteAdmin = z.boolean();

/**
 * Whether an onboarding invites its tenant's first admin when the request does not say (`inviteAdmin` absent): with
 * the platform's own Cognito pool, yes, as SaaS Builder Toolkit's control plane creates the tenant admin user at
 * onboarding (a tenant is of no use to its people until one of them can sign in, and `adminEmail` is already required);
 * with an external identity provider (`gateway.jwt`: no pool), no, its users are not Tessera's to invite.
 * @param userPoolId the platform pool (TESSERA_USER_POOL_ID), undefined or '' without one
 */
export const invitesByDefault = (userPoolId: string | undefined): boolean => Boolean(userPoolId);

/**
 * Why an onboarding cannot invite `adminEmail` as the tenant's first admin, when it would invite (`inviteAdmin`, else the
 * platform's default: `invitesByDefault`): each user of the platform's pool is made with Username = its address, and
 * Cognito AdminCreateUser takes a Username of 1-128 letters, marks, symbols, numbers or punctuation
 * (lib/identity/cognito-username.ts cognitoUsernameProblem). The text names `adminEmail` and its value (the admin API's
 * 400, *Register tenant*'s refusal, `tessera tenants apply`'s line); undefined when it can, or when no invitation is made.
 * @param adminEmail the onboarding's admin email
 * @param inviteAdmin the request's `inviteAdmin`, undefined when it leaves it out
 * @param invitesDefault what a request that leaves `inviteAdmin` out does on this platform (invitesByDefault of its pool)
 */
export function adminInviteProblem(adminEmail: string, inviteAdmin: boolean | undefined, invitesDefault: boolean): string | undefined {
  if (!(inviteAdmin ?? invitesDefault)) return undefined;
  const problem = cognitoUsernameProblem(adminEmail, 'adminEmail');
  return problem && `${problem}; the onboarding invites adminEmail as the tenant's first admin: give an address Cognito takes, or set inviteAdmin to false`;
}

/**
 * What *Invite tenant admin* (the onboarding step just before *Activate tenant*: lambdas/lifecycle/invite-tenant-admin.ts)
 * did about the tenant's first admin, written under the onboarding's lease, so the record says it before it says ACTIVE.
 * - `INVITED`: `email` is a user of this tenant in the platform pool with role `admin` (`userId`): created now (Cognito
 *   mailed the temporary password), or `found` so (an earlier attempt whose answer was lost, a retried onboarding, or
 *   `tessera users invite` of that address as admin, which records it here too);
 * - `FAILED`: not invited, `reason` says why and what to run (`tessera users invite … --role admin`); the onboarding went on:
 *   the tenant is usable, and its keys can be made;
 * - `SKIPPED`: not asked (`inviteAdmin: false`), or the platform has no pool (external identity provider).
 */
export const AdminInvite = z.object({
  state: z.enum(['INVITED', 'FAILED', 'SKIPPED']),
  /** The address invited, or that was to be (the tenant's `adminEmail` when the step ran). */
  email: z.string(),
  /** The user's id in the pool (Cognito's username, its `sub`), when it exists. */
  userId: z.string().optional(),
  /** INVITED: the user existed already as this tenant's admin (nothing created, no new mail). */
  found: z.boolean().optional(),
  /** Who invited: `onboarding` (the step), or the IAM caller of the admin API's invitation. */
  by: z.string(),
  at: z.string(),
  /** The onboarding execution, when the step wrote it. */
  executionArn: z.string().optional(),
  /** FAILED or SKIPPED: why, naming the address, the call or the setting, and the next step. */
  reason: z.string().optional(),
  /** INVITED: `Tenant User Created` could not be put on the platform bus (the user exists): EventBridge's error. */
  eventError: z.string().optional(),
});
export type AdminInvite = z.infer<typeof AdminInvite>;

/**
 * A change's or upgrade's tenant stack still updating (`UPDATE_IN_PROGRESS`, `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS` is done)
 * when the operation ended without *Check blueprint* recording it (*Record failure*, *End stopped execution*:
 * lambdas/lifecycle/stack-standing.ts): ExecuteChangeSet went through, and in AWS the update goes on after the execution
 * stopped, so the stack may end on `tier` / `blueprintVersion` (its tags) while the record keeps its own. Unresolved, the
 * admin API refuses a `PATCH` to the recorded tier or version with 409 `stack_update_pending` instead of
 * `nothing_to_change`. `resolved` by the drift workflow's *Check drift* once the stack no longer updates and no operation
 * holds the tenant: `recorded` when the stack completed its update (the record now says its tier, version and outputs),
 * else the stack's status (`UPDATE_ROLLBACK_COMPLETE`: it is back on the recorded tier). A later change that succeeds
 * clears the whole failure.
 */
export const StackUpdating = z.object({
  stack: z.string(),
  /** CloudFormation's StackStatus when the failure was recorded. */
  status: z.string(),
  /** The tier and blueprint version of the update (the stack's tags). */
  tier: z.string(),
  blueprintVersion: z.string(),
  resolved: z.object({ at: z.string(), stackStatus: z.string(), recorded: z.boolean() }).optional(),
});
export type StackUpdating = z.infer<typeof StackUpdating>;

export const TenantRecord = z.object({
  tenantId: TenantId,
  name: DisplayName,
  tier: z.string(),
  isolation: z.enum(['account', 'vpc']),
  adminEmail: z.email(),
  /** The onboarding request's `inviteAdmin`, as sent (absent: the platform's default; see InviteAdmin). */
  inviteAdmin: InviteAdmin.optional(),
  /** The first admin's invitation at onboarding (AdminInvite); absent on tenants onboarded before the step existed. */
  adminInvite: AdminInvite.optional(),
  /**
   * The tenant's own tags (TenantTags, lib/tenant-tags.ts), as the onboarding request gave them: on its account
   * (CreateAccount `Tags`) and its stacks (stack `Tags`) beside Tessera's `tessera:*` tags. Absent: none given.
   */
  tags: TenantTags.optional(),
  /** The account the tenant blueprint runs in: the tenant's own, or the workload account. */
  accountId: z.string().regex(/^\d{12}$/).optional(),
  /** Organizations CreateAccount request, while the account is being created. */
  createAccountRequestId: z.string().optional(),
  /**
   * Written (conditionally) just before CreateAccount is called, so that a retried or concurrent
   * call never creates a second account: a claim without a request id is resolved through
   * ListCreateAccountStatus before anyone calls CreateAccount again.
   */
  createAccountClaim: z.object({ at: z.string(), executionArn: z.string().optional() }).optional(),
  /**
   * The root email Tessera's CreateAccount gave (or gives, while claimed) the tenant's account: `organization.accountEmail`
   * with the tenant id (lib/tenant-account-email.ts), written with each claim, so a request is matched to its tenant by the
   * address it was made with even after the config changes. Absent on tenants whose account was requested before the key
   * existed: their accounts have `adminEmail` as their root email.
   */
  accountEmail: z.string().optional(),
  /**
   * Protection lifts written before their call and not recorded yet (LiftIntent): absent, or empty of lifts, while no
   * lift is under way. One left here names a lift that may have been made (its step ended before recording it, or the
   * call failed): the next step that meets the protection off records it, one that finds it on lifts it again.
   */
  liftIntents: z.array(LiftIntent).optional(),
  vpcCidr: z.string().optional(),
  /**
   * The Availability Zones of the tenant VPC's subnets (zone names of the tenant's account, in subnet
   * order; the tier's `maxAzs` of them), the tenant blueprint's `AvailabilityZones` parameter. Chosen at
   * the first deploy (lambdas/lifecycle/availability-zones.ts: the available zones by name, without the
   * zones EKS does not support for a tier with a dedicated cluster) and passed unchanged to every later
   * update and tier change, so no subnet ever moves. A tenant onboarded before zones were recorded gets
   * the zones its standing stack's subnets are in (read from the stack's subnets) at its next deploy.
   */
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z](-[a-z0-9]+)*$/)).min(1).max(6).optional(),
  /**
   * The zone IDs of `availabilityZones`, element for element (DescribeAvailabilityZones' ZoneId: the
   * same physical zone in every account, unlike the names). Recorded with the names; the admin API and
   * *Begin change* refuse up front a tier with a dedicated cluster for a tenant whose zones include
   * one EKS does not support (lambdas/lifecycle/availability-zones.ts recordedZoneRefusal).
   */
  availabilityZoneIds: z.array(z.string().regex(/^[a-z]{2,6}\d+(-[a-z0-9]+)*-az\d+$/)).min(1).max(6).optional(),
  status: TenantStatus,
  /** The operation that holds the tenant now; absent when none runs. */
  lease: TenantLease.optional(),
  /** The lifecycle step running now, or the one that failed. */
  currentStep: z.string().optional(),
  blueprintVersion: z.string().optional(),
  stackName: z.string().optional(),
  stackOutputs: z.record(z.string(), z.string()).default({}),
  /** Idempotency: the request that created the record; the same request again is a no-op. */
  requestId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  failure: z.object({
    step: z.string(),
    reason: z.string(),
    at: z.string(),
    /** The operation that failed, and its execution. */
    kind: LifecycleKind.optional(),
    executionArn: z.string().optional(),
    /**
     * Resources a failed stack operation left behind (its events showed DELETE_SKIPPED or DELETE_FAILED): the first 25 at most,
     * and at most 32 KB of them in all, each name (stack, logical id, type, physical id) at most 2,048 UTF-8 bytes and each
     * reason at most 500 (lambdas/lifecycle/failure-bounds.ts; a clipped one ends ` … (<length> characters; the rest is in
     * …)`), so the item stays within DynamoDB's 400 KB.
     */
    leftBehind: z.array(LeftBehindResource).optional(),
    /** How many more resources were left behind than `leftBehind` names (absent when it names them all). Since 2026-12-07. */
    leftBehindOmitted: z.number().int().positive().optional(),
    /** Protections lifted so that the dead stack of this failure could be deleted (the execution's, see executions[].liftedProtections). */
    liftedProtections: z.array(LiftedProtection).optional(),
    /** The change's tenant stack was still updating when this failure was recorded (StackUpdating, lambdas/lifecycle/stack-standing.ts). */
    stackUpdating: StackUpdating.optional(),
  }).optional(),
  /**
   * The last lifecycle execution refused before it took the tenant's lease (*Record failure*'s recordWithoutLease): one
   * started elsewhere than the admin API (a console or CLI StartExecution, a replayed bus event) and refused at its first
   * steps (*Check rebuilt stack*'s TenantRebuiltInDrRegion, *Begin change*'s InvalidRequest, TenantBusy while another
   * operation runs, *Register tenant*'s TenantConflict): its kind, request, execution, the step and the reason, and when.
   * Its own attribute, written without the lease and without touching `updatedAt` (registry.ts recordRefusal): the
   * operation holding the tenant never writes it (nor is it written on an OFFBOARDED record, kept as the offboarding left it), so neither write undoes the other and the holder's read-modify-writes
   * (`expectUpdatedAt`) do not meet a refusal as contention; `status`, `failure`, `lease` and the history stay the
   * holder's. Refused under the admin API's lease, the refusal is the operation's `failure` and history entry instead.
   * Absent before 2026-12-05 (the refusal was on the bus only, `Tenant Lifecycle Failed` with `refused: true`).
   */
  lastRefusal: z.object({
    kind: LifecycleKind,
    requestId: z.string(),
    executionArn: z.string().optional(),
    step: z.string(),
    reason: z.string(),
    at: z.string(),
  }).optional(),
  /**
   * The history, oldest first: its last HISTORY_ENTRIES lifecycle operations' entries (and any still RUNNING) and its last
   * GATEWAY_POLICY_ENTRIES gateway policy writes' (lambdas/shared/registry.ts withExecution).
   */
  executions: z.array(LifecycleExecution).default([]),
  gateway: GatewayPolicy.optional(),
  /**
   * The latest write of `gateway` through the admin API (`PUT` or `PATCH /admin/tenants/{id}/gateway`): the policy's
   * version (1 for the first write, one more for each later one; absent: version 0, the policy as onboarded), when, who
   * (`actor`: the SigV4 caller, admin-http.ts adminCaller) and why (`reason`, the request's `?reason=`: REQUEST_REASON).
   * The version is the policy's ETag (`"<version>"`) and each write is conditional on the version it read, so two
   * writers never lose each other's change (lambdas/admin/gateway-policy-write.ts).
   */
  gatewayChange: z.object({
    version: z.number().int().positive(),
    at: z.string(),
    actor: z.string(),
    method: z.enum(['PUT', 'PATCH']),
    reason: z.string().optional(),
  }).optional(),
  /**
   * The tenant's API Gateway usage key, in its tier's usage plan. Not a credential (callers
   * authenticate with JWTs): the authorizer hands it to API Gateway to apply the tier's plan.
   */
  usageKey: z.object({
    id: z.string(),
    value: z.string(),
    /** The usage plan's id; `''` while not known: written so before a move between plans, which records the plan once made. */
    plan: z.string(),
    /**
     * A move into the plan of the recorded tier that is owed: the tier was recorded outside the change's *Move usage key*
     * (a stack's standing, lambdas/lifecycle/stack-standing.ts) and the move that followed failed
     * (manage-usage-key.ts settleUsageKey). Until it is made the edge enforces the plan the key is in, not this tier's.
     * Made (and removed) by the next *Check drift* or *Move usage key*.
     */
    movePending: z.object({ tier: z.string(), at: z.string(), error: z.string() }).optional(),
  }).optional(),
  /** Models the tenant trained (fine-tuning), served by the gateway to this tenant only. */
  fineTunedModels: z.array(FineTunedModel).optional(),
  /** Quota increases requested for the tenant's account (GPU vCPUs at vending, or found short at network allocation). */
  quotaRequests: z.array(QuotaRequest).optional(),
  /** Dedicated compute: whether the GPU node group could start at the tier's sizes. */
  gpuCapacity: GpuCapacity.optional(),
  /** Account mode with the tier's `deleteDefaultVpcs`: the default VPCs the onboarding found and deleted, per region. */
  defaultVpcs: DefaultVpcs.optional(),
  /** Account mode with the tier's `ebsEncryptionByDefault`: EBS encryption by default, per region. */
  ebsEncryption: EbsEncryption.optional(),
  /** Account mode with the tier's `alternateContacts`: which alternate contacts the onboarding set in the account. */
  alternateContacts: AlternateContactsRecord.optional(),
  /** Account mode with the tier's `s3PublicAccessBlock`: the account-level S3 Block Public Access the onboarding set. */
  s3PublicAccessBlock: S3PublicAccessBlockRecord.optional(),
  offboarding: OffboardingRecord.optional(),
  /**
   * Account mode, after offboarding: the account closure queue's word on the tenant's account
   * (lambdas/lifecycle/account-closure.ts). `QUEUED` with `error`: CloseAccount failed, tried again
   * by the next run; `NEEDS_OPERATOR`: failed `attempts` times, set aside until an operator closes
   * the account by hand; `CLOSED`, with `note` when Organizations had closed it already.
   */
  accountClosure: z.object({
    accountId: z.string(),
    state: z.enum(['QUEUED', 'CLOSED', 'NEEDS_OPERATOR']),
    at: z.string(),
    attempts: z.number().int().optional(),
    error: z.string().optional(),
    note: z.string().optional(),
  }).optional(),
  /**
   * Announcements owed on the bus, oldest first: written with the registry write that completes an
   * operation (*Activate tenant*, *Finish change*, *Finish offboarding*) and removed once PutEvents
   * took them, so one whose PutEvents failed is sent again by a retry of the step, by *Record
   * failure*, or by `tessera tenants retry` (lambdas/lifecycle/announcements.ts).
   */
  owedAnnouncements: z.array(z.object({
    detailType: z.string(),
    /**
     * The event's detail as it is sent: within what the earlier owed ones leave of 64 KB (at least 2 KB), its largest
     * fields cut and the cut said in them (a string's ` … (<length> characters; cut to fit the tenant record's owed
     * announcements)`, a list's or the tags' `<field>Omitted`: announcements.ts owe).
     */
    detail: z.record(z.string(), z.unknown()),
    /** The execution whose completion it announces. */
    executionArn: z.string().optional(),
    at: z.string(),
    /** The latest PutEvents failure. */
    error: z.string().optional(),
  })).optional(),
  /** The latest change set refused for destroying a stateful resource (absent: none yet). */
  changeSetRefusal: ChangeSetRefusal.optional(),
  /** Destructive changes let through with `allowReplacement` (the latest 20), each with its reason. */
  allowedReplacements: z.array(AllowedReplacement).optional(),
  /** The latest drift detection of the tenant's stacks (the daily drift workflow). */
  drift: DriftRecord.optional(),
  /** The tenant's DR stack, when its tier has (or had) disaster recovery. */
  disasterRecovery: DisasterRecoveryRecord.optional(),
  /** The tenant's account customization stacks by customization name (tiers.<tier>.accountCustomizations; account tiers only). */
  customizations: z.record(z.string(), CustomizationRecord).optional(),
});
export type TenantRecord = z.infer<typeof TenantRecord>;

/**
 * When an offboarded tenant's offboarding ended (ISO 8601): its last succeeded `offboard`
 * execution's `endedAt` (the record's `updatedAt` moves with any later write, e.g. the daily
 * key-deletion job's), or `updatedAt` for a record without one. Until then it may have been served
 * (the gateway stops at the offboarding's start, which is earlier). Used by the monthly statements
 * (which months an offboarded tenant has) and the reservation reclaim (which days).
 */
export const offboardedAt = (t: Pick<TenantRecord, 'executions' | 'updatedAt'>): string =>
  t.executions.filter((e) => e.kind === 'offboard' && e.status === 'SUCCEEDED' && e.endedAt).map((e) => e.endedAt!).sort().at(-1) ?? t.updatedAt;

/**
 * A tenant admin's email address as a request gives it: an address (zod's email check) of at most 254 characters whose
 * local part (before the `@`) is at most 64: SMTP's limits (RFC 5321 §4.5.3.1.1 local part 64 octets, §4.5.3.1.3 path
 * 256 octets with its angle brackets). Before, `z.email()` alone took a 300-character local part, recorded as the
 * admin's address, which no mail server delivers to.
 */
export const AdminEmail = z.email().max(254, 'must be at most 254 characters (RFC 5321 §4.5.3.1.3)')
  .refine((v) => v.slice(0, v.lastIndexOf('@')).length <= 64, 'its local part (before the @) must be at most 64 characters (RFC 5321 §4.5.3.1.1)');

/** Strict: a field the API does not know is refused (400 naming it), never dropped. */
export const OnboardRequest = z.strictObject({
  tenantId: TenantId,
  name: RequestDisplayName,
  tier: z.string().min(1),
  adminEmail: AdminEmail,
  /**
   * Invite `adminEmail` as the tenant's first admin (role `admin`) in the platform's Cognito pool once its resources are
   * up, just before it becomes ACTIVE. @default - true with the platform's own pool, false with an external identity provider
   */
  inviteAdmin: InviteAdmin.optional(),
  /**
   * The tenant's own tags, key to value (`{ "CostCenter": "4711" }`; TenantTags, lib/tenant-tags.ts: AWS's tag rules, no
   * `aws:` or `tessera:` key): put on the tenant's AWS account (account tiers) and on its stacks, whose resources
   * CloudFormation tags with them, so AWS cost allocation tags can split the bill by them. @default - none
   */
  tags: TenantTags.optional(),
  /** Client-chosen idempotency key; the same key again returns the existing onboarding. */
  requestId: z.string().min(8).max(80).regex(/^[A-Za-z0-9_-]+$/, 'must be 8-80 characters of A-Z, a-z, 0-9, _ and -'),
});
export type OnboardRequest = z.infer<typeof OnboardRequest>;

/**
 * The admin API's `Idempotency-Key` header on a change (PATCH): 1-80 printable ASCII characters, no
 * spaces; a request id of the tenant's history when the change starts. Checked by the admin API
 * (400 `invalid_idempotency_key`) and by `tessera tenants update --request-id` before it calls.
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,80}$/;

/** The bounds of an `allowReplacement` reason (AllowReplacement), which the CLI's help of --allow-replacement states: its characters once trimmed, and the letters or digits among them. */
export const ALLOW_REPLACEMENT_REASON = { minChars: 8, maxChars: 500, minLettersOrDigits: 8 } as const;

/** `allowReplacement`: why replacing or removing a stateful resource is acceptable (8-500 characters, printable, at least 8 letters or digits: ALLOW_REPLACEMENT_REASON). */
export const AllowReplacement = z.strictObject({
  reason: z.string().trim().min(ALLOW_REPLACEMENT_REASON.minChars, `must say why (at least ${ALLOW_REPLACEMENT_REASON.minChars} characters)`).max(ALLOW_REPLACEMENT_REASON.maxChars).regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must not contain control or format characters (e.g. zero-width spaces)')
    .refine((r) => (r.match(/[\p{L}\p{N}]/gu) ?? []).length >= ALLOW_REPLACEMENT_REASON.minLettersOrDigits, `must say why in words (at least ${ALLOW_REPLACEMENT_REASON.minLettersOrDigits} letters or digits)`),
});

/** The reason's rule as --allow-replacement's help says it: `8-500 characters saying why, at least 8 of them letters or digits`. */
export const ALLOW_REPLACEMENT_REASON_RULE = `${ALLOW_REPLACEMENT_REASON.minChars}-${ALLOW_REPLACEMENT_REASON.maxChars} characters saying why, at least ${ALLOW_REPLACEMENT_REASON.minLettersOrDigits} of them letters or digits`;
export type AllowReplacement = z.infer<typeof AllowReplacement>;

export const ChangeRequest = z
  .strictObject({
    /** The tier to move the tenant to; an account tenant's AWS account moves into its OU, `tessera-<tier>` (*Move account*). @default - the tenant's */
    tier: z.string().min(1).optional(),
    blueprintVersion: BlueprintVersion.optional(),
    name: RequestDisplayName.optional(),
    /**
     * Lets a change set through that replaces or removes a stateful resource (database, bucket,
     * key, cache, Backup vault, cluster, table, a namespace tier's Kubernetes manifest: lib/stateful-resources.ts). The reason is recorded
     * in the registry (`allowedReplacements`) with the resources. @default - such a change is refused
     */
    allowReplacement: AllowReplacement.optional(),
    /**
     * Re-applies the tenant's blueprint at its current tier and version through a drift-aware
     * change set (`DeploymentMode: REVERT_DRIFT`), which brings drifted resources back to the
     * template. An account tenant's AWS account is put back in its tier's OU (*Move account*) and retagged (*Tag account*)
     * too. @default false
     */
    repair: z.literal(true).optional(),
    /**
     * The tenant's own tags after the change, all of them (TenantTags, lib/tenant-tags.ts): they replace the recorded ones,
     * as a CloudFormation update's `Tags` replace a stack's; `{}` removes them all. Put on each of the tenant's stacks (stack
     * `Tags`, which CloudFormation propagates to the stacks' resources), on an account tenant's AWS account (*Tag account*:
     * Organizations UntagResource / TagResource, the record following the account call by call) and recorded at *Finish
     * change*. Alone, the change keeps the tenant's tier and blueprint version. @default - the tags stay as recorded
     */
    tags: TenantTags.optional(),
  })
  .refine((c) => c.tier !== undefined || c.blueprintVersion !== undefined || c.name !== undefined || c.repair !== undefined || c.tags !== undefined, 'must change at least one of tier, blueprintVersion, name, tags (or repair)');
export type ChangeRequest = z.infer<typeof ChangeRequest>;

/** A rolling upgrade's requestId (UpgradeRequest): 1-80 characters of A-Z, a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit. */
export const UPGRADE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/**
 * The rolling upgrade's request (`POST /admin/upgrades`, the `tessera-upgrade` workflow): every ACTIVE tenant of `tier`
 * not on `blueprintVersion` is changed to it. `allowReplacement` applies to every tenant of the run (see
 * ChangeRequest); without it a tenant whose change set would replace or remove a stateful resource
 * is refused and stays on its version.
 */
export const UpgradeRequest = z.strictObject({
  tier: z.string().min(1),
  blueprintVersion: BlueprintVersion,
  /**
   * The caller's idempotency key; names the work prefix `upgrades/<requestId>/` as it is (1-80 characters of A-Z, a-z,
   * 0-9, `.`, `_`, `-`, starting with a letter or digit: docs/upgrading-and-teardown.md's `starter-0.2.0` is found under `upgrades/starter-0.2.0/`).
   */
  requestId: z.string().regex(UPGRADE_REQUEST_ID, 'must be 1-80 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit (it names the work prefix upgrades/<requestId>/)'),
  allowReplacement: AllowReplacement.optional(),
});
export type UpgradeRequest = z.infer<typeof UpgradeRequest>;

/**
 * The rolling upgrade's execution input as `POST /admin/upgrades` starts it: the UpgradeRequest and `actor`, who started it
 * (`admin:<IAM ARN of the SigV4 caller>`, lambdas/admin/admin-http.ts adminCaller: never from the body, which refuses an
 * `actor` field). It is the upgrade's own record (`GET /admin/upgrades/{upgradeId}` answers it), and *List tier tenants*
 * puts it on each tenant's item, whose run records it on the tenant's history entry with the upgrade's id. Absent on
 * upgrades started before 2026-12-05 and on a StartExecution of the upgrade workflow from elsewhere that gives none.
 */
export const UpgradeExecutionInput = UpgradeRequest.extend({ actor: z.string().min(1).optional() });
export type UpgradeExecutionInput = z.infer<typeof UpgradeExecutionInput>;

/**
 * How many lifecycle operations' entries (every kind but `gateway-policy`: isLifecycleEntry) a tenant's history
 * (`executions`) keeps: the last 50 (lambdas/shared/registry.ts withExecution drops the oldest ended one; an entry still
 * RUNNING stays). Gateway policy writes have their own bound (GATEWAY_POLICY_ENTRIES) and never push an operation's entry
 * out: an operation's entry is kept until 50 later operations, which is its Idempotency-Key's window (the admin API looks
 * a key up there: admin-api.ts earlierRequest) and what tells a Step Functions redrive of a stopped execution that its
 * operation was ended. Until 2026-12-07 both counted towards one cap of 50, and 50 policy writes dropped them. A history
 * with this many lifecycle entries may have lost older ones: what happened before its oldest is not recorded
 * (lib/statements/tenant-months.ts tiersInMonth).
 */
export const HISTORY_ENTRIES = 50;

/**
 * How many `gateway-policy` entries (one per policy write: who, why, the changed key paths, the version) the history keeps
 * beside HISTORY_ENTRIES lifecycle entries: the last 20, the oldest dropped first. Bounded apart so that the item stays
 * within DynamoDB's 400 KB (UTF-8 bytes of names and values): an entry is at most about 3.5 KB (an actor ARN, a reason of
 * 500 characters, at most 1,500 bytes, and the changed paths of the policy's keys), 20 of them about 70 KB beside the 50
 * lifecycle entries' (test/integration/failure-item-size.test.ts: the record's worst case, about 308 KB as JSON with the tenant's tags and the change requests bounded). The policy itself and `gatewayChange` keep its
 * current values and its last write.
 */
export const GATEWAY_POLICY_ENTRIES = 20;

/**
 * The reason a caller gives for a suspend, resume or offboarding (`{ "reason": … }`, `tessera tenants suspend|resume|delete
 * --reason`), recorded on the history entry (`requestReason`) and carried by the operation's event: 1-500 characters
 * (Unicode code points: zod 4.6 counts a string's length so, an emoji one), not only white space, none of the characters a DisplayName refuses (control characters, line
 * separators, bidirectional overrides and isolates: `tenants show` prints it and the event's consumers may show it), and
 * well-formed Unicode (a lone surrogate, `"\ud800"` in the JSON body, is no text: DynamoDB and EventBridge take UTF-8).
 * Optional: the actor is always recorded.
 */
export const REQUEST_REASON = z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters')
  .refine((v) => v.trim() !== '', 'must not be only white space (give the reason, or leave it out)')
  .refine((v) => !/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u.test(v),
    'must not contain control characters (U+0000-U+001F, U+007F-U+009F), line separators (U+2028, U+2029) or bidirectional overrides (U+202A-U+202E, U+2066-U+2069)')
  // In a `u` regex a surrogate pair is one code point: the class matches a lone surrogate only.
  .refine((v) => !/[\uD800-\uDFFF]/u.test(v), 'must be well-formed Unicode (no lone surrogate)');

/** The body of `POST /admin/tenants/{id}/suspend|resume` and `DELETE /admin/tenants/{id}`: none, `{}`, or `{ reason }`. */
export const StatusChangeRequest = z.strictObject({ reason: REQUEST_REASON.optional() });
export type StatusChangeRequest = z.infer<typeof StatusChangeRequest>;

/** Who asked for the execution `executionArn` of `record` and why, from its history entry: what its lifecycle event carries. */
export function requestedBy(record: Pick<TenantRecord, 'executions'>, executionArn: string | undefined): { actor?: string; reason?: string } {
  const entry = executionArn ? record.executions.findLast((e) => e.executionArn === executionArn) : undefined;
  return { ...(entry?.actor ? { actor: entry.actor } : {}), ...(entry?.requestReason ? { reason: entry.requestReason } : {}) };
}

/**
 * `POST /admin/tenants/{id}/retry`: a new attempt of a failed onboarding (or a stopped
 * offboarding), with corrections of the recorded request where the first attempt cannot have
 * used them yet — the documented path after `EMAIL_ALREADY_EXISTS`.
 */
export const RetryRequest = z.strictObject({
  /** A new administrator (root) email; only while no account was created or requested with the old one. */
  adminEmail: AdminEmail.optional(),
  name: RequestDisplayName.optional(),
});
export type RetryRequest = z.infer<typeof RetryRequest>;

export { LIFECYCLE_EVENT_SOURCE } from './lifecycle-constants.js';

/** EventBridge detail-types on the lifecycle bus (source `tessera.lifecycle`). */
export const LIFECYCLE_EVENTS = {
  onboardingRequested: 'Tenant Onboarding Requested',
  activated: 'Tenant Activated',
  failed: 'Tenant Lifecycle Failed',
  suspended: 'Tenant Suspended',
  resumed: 'Tenant Resumed',
  changed: 'Tenant Changed',
  offboarded: 'Tenant Offboarded',
  accountClosureQueued: 'Tenant Account Closure Queued',
  protectionLifted: 'Tenant Protection Lifted',
  keyDeletionScheduled: 'Tenant Key Deletion Scheduled',
  gpuQuotaApproved: 'Tenant GPU Quota Approved',
  driftDetected: 'Tenant Drift Detected',
  /** A tenant's AWS Budgets infrastructure budget passed a threshold (lambdas/budgets/infrastructure-budget-events.ts; lib/infrastructure-budget-events.ts). */
  infrastructureBudgetExceeded: 'Tenant Infrastructure Budget Exceeded',
  /** A write of the tenant's gateway policy (the admin API's PUT or PATCH): `{ tenantId, version, method, actor, reason?, paths, at }`. */
  gatewayPolicyChanged: 'Tenant Gateway Policy Changed',
} as const;
