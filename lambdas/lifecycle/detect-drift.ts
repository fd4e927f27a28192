import { DetectStackDriftCommand } from '@aws-sdk/client-cloudformation';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { cloudFormationFor, needsNamespace, stackName, type BlueprintKind } from './blueprints.js';
import { notCheckable } from './drift.js';

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
 */
export const handler = lifecycleHandler('Detect drift', async (input: { tenantId: string }): Promise<{ tenantId: string; detections: DriftDetection[] }> => {
  const record = await requireTenant(input.tenantId);
  const detections: DriftDetection[] = [];
  // Taken by an operation since the run listed it (or no longer ACTIVE): no detection; Check drift skips it too.
  if (notCheckable(record)) return { tenantId: record.tenantId, detections };
  for (const { stack, kind, region } of driftStacks(record)) {
    const cfn = await cloudFormationFor(record, kind, 'drift', region);
    const where = region ? { region } : {};
    const startedAt = new Date().toISOString();
    try {
      const out = await cfn.send(new DetectStackDriftCommand({ StackName: stack }));
      detections.push({ stack, kind, ...where, detectionId: out.StackDriftDetectionId, startedAt });
    } catch (e) {
      if ((e as Error).name !== 'ValidationError') throw e;
      const deleted = /does not exist/.test((e as Error).message);
      detections.push({ stack, kind, ...where, error: (e as Error).message, ...(deleted ? { deleted: true } : {}), startedAt });
    }
  }
  return { tenantId: record.tenantId, detections };
}, { trackStep: false });
