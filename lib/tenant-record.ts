import { z } from 'zod';
import { TENANT_ID_PATTERN } from './tenant-naming.js';

/**
 * The tenant registry record and the lifecycle requests: one schema, used by the CDK app (table
 * keys), the lifecycle Lambdas, the admin API, the CLI and the inference path (which reads `status`).
 */

export const TenantId = z
  .string()
  .regex(new RegExp(TENANT_ID_PATTERN), 'must be a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter');

export const TENANT_STATUSES = ['REQUESTED', 'PROVISIONING', 'ACTIVE', 'UPDATING', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED', 'FAILED'] as const;
export const TenantStatus = z.enum(TENANT_STATUSES);
export type TenantStatus = z.infer<typeof TenantStatus>;

/** Statuses in which the gateway serves a tenant's requests; everything else is refused at once. */
export const SERVING_STATUSES: readonly TenantStatus[] = ['ACTIVE', 'UPDATING'];

export const LifecycleKind = z.enum(['onboard', 'change', 'suspend', 'resume', 'offboard', 'upgrade']);
export type LifecycleKind = z.infer<typeof LifecycleKind>;

export const LifecycleExecution = z.object({
  kind: LifecycleKind,
  requestId: z.string(),
  executionArn: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
  failedStep: z.string().optional(),
  reason: z.string().optional(),
});
export type LifecycleExecution = z.infer<typeof LifecycleExecution>;

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
    bedrockGuardrailId: z.string().optional(),
  }).default({ redactPii: true, redactResponses: false, promptInjectionScreen: true }),
  /** Monthly budgets; the tier's daily token limit applies as well. */
  monthlyTokenBudget: z.number().int().positive().optional(),
  monthlyCostBudgetUsd: z.number().positive().optional(),
  /** Keep prompt text in audit records (default: only its SHA-256). */
  auditPromptText: z.boolean().default(false),
  /** Bedrock application inference profile per model id, for per-tenant cost allocation. */
  bedrockInferenceProfiles: z.record(z.string(), z.string().regex(/^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:application-inference-profile\/[a-z0-9]+$/, 'must be a Bedrock application inference profile ARN')).optional(),
});
export type GatewayPolicy = z.infer<typeof GatewayPolicy>;

/** A fine-tuned model in its tenant's registry record, routable by the gateway's sagemaker provider. */
export const FineTunedModel = z.object({
  id: z.string().regex(/^ft:[a-z0-9.-]+:[a-z0-9-]+:[a-z0-9-]+$/),
  baseModel: z.string(),
  jobId: z.string(),
  endpointName: z.string(),
  /** Role in the endpoint's account that the gateway assumes to invoke it (tenant-scoped). */
  invokeRoleArn: z.string().optional(),
  createdAt: z.string(),
});
export type FineTunedModel = z.infer<typeof FineTunedModel>;

export const TenantRecord = z.object({
  tenantId: TenantId,
  name: z.string().min(1).max(200),
  tier: z.string(),
  isolation: z.enum(['account', 'vpc']),
  adminEmail: z.email(),
  /** The account the tenant blueprint runs in: the tenant's own, or the workload account. */
  accountId: z.string().regex(/^\d{12}$/).optional(),
  /** Organizations CreateAccount request, while the account is being created. */
  createAccountRequestId: z.string().optional(),
  vpcCidr: z.string().optional(),
  status: TenantStatus,
  /** The lifecycle step running now, or the one that failed. */
  currentStep: z.string().optional(),
  blueprintVersion: z.string().optional(),
  stackName: z.string().optional(),
  stackOutputs: z.record(z.string(), z.string()).default({}),
  /** Idempotency: the request that created the record; the same request again is a no-op. */
  requestId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  failure: z.object({ step: z.string(), reason: z.string(), at: z.string() }).optional(),
  executions: z.array(LifecycleExecution).default([]),
  gateway: GatewayPolicy.optional(),
  /**
   * The tenant's API Gateway usage key, in its tier's usage plan. Not a credential (callers
   * authenticate with JWTs): the authorizer hands it to API Gateway to apply the tier's plan.
   */
  usageKey: z.object({ id: z.string(), value: z.string(), plan: z.string() }).optional(),
  /** Models the tenant trained (fine-tuning), served by the gateway to this tenant only. */
  fineTunedModels: z.array(FineTunedModel).optional(),
});
export type TenantRecord = z.infer<typeof TenantRecord>;

export const OnboardRequest = z.object({
  tenantId: TenantId,
  name: z.string().min(1).max(200),
  tier: z.string().min(1),
  adminEmail: z.email(),
  /** Client-chosen idempotency key; the same key again returns the existing onboarding. */
  requestId: z.string().min(8).max(80).regex(/^[A-Za-z0-9_-]+$/, 'must be 8-80 characters of A-Z, a-z, 0-9, _ and -'),
});
export type OnboardRequest = z.infer<typeof OnboardRequest>;

export const ChangeRequest = z
  .object({
    tier: z.string().min(1).optional(),
    blueprintVersion: z.string().min(1).optional(),
    name: z.string().min(1).max(200).optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'must change at least one of tier, blueprintVersion, name');
export type ChangeRequest = z.infer<typeof ChangeRequest>;

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
} as const;
