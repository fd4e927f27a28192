import { DetectStackDriftCommand } from '@aws-sdk/client-cloudformation';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { RETRYABLE_ERRORS } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { cloudFormationFor, needsNamespace, stackName, type BlueprintKind } from './blueprints.js';
import { cloudFormationError, notCheckable } from './drift.js';

/** One stack's drift detection started by this step (or why none could start). */
export interface DriftDetection {
  stack: string;
  kind: BlueprintKind;
  /** The region of a `dr` stack (the tenant's recorded DR region); absent for the others (the tenant's or the platform's region). */
  region?: string;
  detectionId?: string;
  /** Why no detection runs for this stack (CloudFormation's ValidationError: the stack is busy, or gone). */
  error?: string;
  /** The stack does not exist (ValidationError "does not exist"): someone deleted it; *Check drift* records it DELETED, drifted. */
  deleted?: boolean;
  /**
   * When this step asked (before DetectStackDrift): what is found describes the stack from about
   * then. *Check drift* discards it when a lifecycle operation ended after it (superseded).
   */
  startedAt?: string;
}

/** A tenant's stacks the drift check covers, each with the region of a DR stack. */
export function driftStacks(record: TenantRecord): Array<{ stack: string; kind: BlueprintKind; region?: string }> {
  const stacks: Array<{ stack: string; kind: BlueprintKind; region?: string }> = [{ stack: stackName(record.tenantId, 'tenant'), kind: 'tenant' }];
  if (needsNamespace(record.tier)) stacks.push({ stack: stackName(record.tenantId, 'namespace'), kind: 'namespace' });
  const dr = record.disasterRecovery;
  // A DR stack exists until offboarding deletes it (REMOVED), whatever the tenant's tier now (a RETAINED one too).
  if (dr && dr.status !== 'REMOVED') stacks.push({ stack: dr.stackName, kind: 'dr', region: dr.region });
  return stacks;
}

/** Attempts of *Detect drift* to start every stack's detection while calls are throttled, before the tenant's check fails (as the step's retrier: 6). */
export const MAX_DETECT_ATTEMPTS = 6;

/** A throttling or transient error (the state machines' RETRYABLE_ERRORS): the stack's detection is started on the next attempt. */
const retryable = (e: unknown) => (RETRYABLE_ERRORS as readonly string[]).includes((e as Error).name);

/** The step's input: the tenant, and from the workflow's loop what the earlier attempts started. */
export interface DetectDriftInput {
  tenantId: string;
  /** The detections the earlier attempts of this run started (the state carries them): reused, never started again. */
  detections?: DriftDetection[];
  /** The attempt before this one (0 for the first). */
  attempt?: number;
}

export interface DetectDriftOutput {
  tenantId: string;
  detections: DriftDetection[];
  attempt: number;
  /** Stacks whose detection could not start yet (throttled): the workflow waits `waitSeconds` and calls this step again with `detections`. */
  pending?: string[];
  waitSeconds?: number;
}

/**
 * Starts DetectStackDrift on each of a tenant's stacks (driftStacks): the tenant stack (in the
 * tenant's account, through the same provisioning role as the lifecycle steps), for a tier on the
 * shared cluster its namespace stack (platform account), and its DR stack when one is recorded and
 * not REMOVED (`tessera-<id>-dr`, same account and role, in the recorded DR region). A stack
 * CloudFormation will not check now (an operation in progress: ValidationError) is reported with
 * the reason instead of failing the tenant's check; one that does not exist (ValidationError
 * "Stack with id … does not exist") is reported `deleted`: an ACTIVE tenant's stack deleted outside
 * Tessera is drift, the worst kind. A tenant no longer ACTIVE, or held by a lifecycle operation, is
 * not checked (drift.ts notCheckable).
 *
 * Throttled (or a transient error) on a stack: the detections already started are returned with the
 * stacks still `pending` and a `waitSeconds` (2 s × 2^attempt, at most 60 s, with jitter); the workflow
 * waits and calls the step again with them, and only the pending stacks get a DetectStackDrift. Before,
 * the error failed the step and the state machine's retry ran it again on its first input: every stack
 * whose detection had started got a second DetectStackDrift while the account was throttled. After
 * MAX_DETECT_ATTEMPTS attempts the error fails the step (the tenant's last verdict is kept, check-drift.ts).
 */
export const handler = lifecycleHandler('Detect drift', async (input: DetectDriftInput): Promise<DetectDriftOutput> => {
  const record = await requireTenant(input.tenantId);
  const attempt = (input.attempt ?? 0) + 1;
  const detections: DriftDetection[] = [];
  // Taken by an operation since the run listed it (or no longer ACTIVE): no detection; Check drift skips it too.
  if (notCheckable(record)) return { tenantId: record.tenantId, detections, attempt };
  const started = new Map((input.detections ?? []).map((d) => [d.stack, d]));
  const stacks = driftStacks(record);
  for (const [i, { stack, kind, region }] of stacks.entries()) {
    const earlier = started.get(stack);
    if (earlier) {
      detections.push(earlier);
      continue;
    }
    const where = region ? { region } : {};
    const startedAt = new Date().toISOString();
    try {
      const cfn = await cloudFormationFor(record, kind, 'drift', region);
      const out = await cfn.send(new DetectStackDriftCommand({ StackName: stack }));
      detections.push({ stack, kind, ...where, detectionId: out.StackDriftDetectionId, startedAt });
    } catch (e) {
      if (retryable(e)) {
        // No more calls while throttled: this stack and the ones after it wait for the next attempt.
        const pending = stacks.slice(i).map((s) => s.stack).filter((s) => !started.has(s));
        if (attempt >= MAX_DETECT_ATTEMPTS) throw e;
        const cap = Math.min(60, 2 * 2 ** attempt);
        const waitSeconds = Math.ceil(cap / 2 + (Math.random() * cap) / 2);
        logger.warn('drift detection not started: retrying the pending stacks only', { pending, attempt, waitSeconds, error: (e as Error).name });
        return { tenantId: record.tenantId, detections: [...detections, ...stacks.slice(i + 1).flatMap((s) => started.get(s.stack) ?? [])], attempt, pending, waitSeconds };
      }
      // An answer that is not CloudFormation's (moto has no DetectStackDrift): recorded as the endpoint and its HTTP status, not the SDK's parser hint.
      if ((e as Error).name !== 'ValidationError') throw cloudFormationError(`DetectStackDrift of ${stack}`, e);
      const deleted = /does not exist/.test((e as Error).message);
      detections.push({ stack, kind, ...where, error: (e as Error).message, ...(deleted ? { deleted: true } : {}), startedAt });
    }
  }
  return { tenantId: record.tenantId, detections, attempt };
}, { trackStep: false });
