import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The compliance packs every Tessera stage is checked against; synth fails on any finding. */
export function applyCompliancePacks(stage: IConstruct): void {
  Validations.of(stage).addPlugins(new AwsSolutionsChecks(stage), new HIPAASecurityChecks(stage), new NIST80053R5Checks(stage));
}

/**
 * Acknowledges cdk-nag rules on one construct, with the reason they are acceptable there.
 * Rule ids are the pack-qualified ids cdk-nag reports, e.g. `AwsSolutions-IAM5[Resource::*]`.
 */
export function acknowledge(construct: IConstruct, ruleIds: string[], reason: string): void {
  if (reason.length < 40) throw new Error(`acknowledgement of ${ruleIds.join(', ')} on ${construct.node.path} needs a specific reason, got "${reason}"`);
  Validations.of(construct).acknowledge(...ruleIds.map((id) => ({ id, reason })));
}
