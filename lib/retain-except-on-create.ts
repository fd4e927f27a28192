import { CfnDeletionPolicy, CfnResource, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Turns every `DeletionPolicy: Retain` of a blueprint into `RetainExceptOnCreate`: kept when the
 * stack is updated or deleted, removed when the stack operation that created it rolls back. A
 * failed first create then leaves no named log group, vault or key behind, and re-running the
 * onboarding with the same names succeeds. `Snapshot` (database, cache) is left as it is.
 * Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
 */
export class RetainExceptOnCreate implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof CfnResource && node.cfnOptions.deletionPolicy === CfnDeletionPolicy.RETAIN) {
      node.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE;
    }
  }
}
