import { DetectStackDriftCommand } from '@aws-sdk/client-cloudformation';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { cloudFormationFor, needsNamespace, stackName, type BlueprintKind } from './blueprints.js';

/** One stack's drift detection started by this step (or why none could start). */
export interface DriftDetection {
  stack: string;
  kind: BlueprintKind;
  detectionId?: string;
  /** Why no detection runs for this stack (CloudFormation's ValidationError: the stack is busy, or gone). */
  error?: string;
}

/**
 * Starts DetectStackDrift on each of a tenant's stacks: the tenant stack (in the tenant's account,
 * through the same provisioning role as the lifecycle steps) and, for a tier on the shared
 * cluster, its namespace stack (platform account). A stack CloudFormation will not check now (an
 * operation in progress, a stack that does not exist: ValidationError) is reported with the reason
 * instead of failing the tenant's check.
 */
export const handler = lifecycleHandler('Detect drift', async (input: { tenantId: string }): Promise<{ tenantId: string; detections: DriftDetection[] }> => {
  const record = await requireTenant(input.tenantId);
  const kinds: BlueprintKind[] = needsNamespace(record.tier) ? ['tenant', 'namespace'] : ['tenant'];
  const detections: DriftDetection[] = [];
  for (const kind of kinds) {
    const stack = stackName(record.tenantId, kind);
    const cfn = await cloudFormationFor(record, kind, 'drift');
    try {
      const out = await cfn.send(new DetectStackDriftCommand({ StackName: stack }));
      detections.push({ stack, kind, detectionId: out.StackDriftDetectionId });
    } catch (e) {
      if ((e as Error).name !== 'ValidationError') throw e;
      detections.push({ stack, kind, error: (e as Error).message });
    }
  }
  return { tenantId: record.tenantId, detections };
}, { trackStep: false });
