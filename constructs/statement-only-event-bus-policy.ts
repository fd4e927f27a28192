import type { IResolvable } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';

/**
 * An `AWS::Events::EventBusPolicy` given as one statement (`statement` + `statementId`), the form
 * `EventBus.addToResourcePolicy` renders.
 *
 * Why not `addToResourcePolicy` itself: cdk-nag's AwsSolutions-EVB1 (EventBusOpenAccess) reads the
 * deprecated `principal` property of every `CfnEventBusPolicy`, and aws-cdk-lib prints
 * "CfnEventBusPolicy#principal is deprecated" on each synth although no Tessera code sets it. Here
 * the deprecated statement-less props (`action`, `principal`, `condition`) read as absent, which
 * they are, without that notice; EVB1 still checks the statement (a `*` principal needs a condition).
 * Setting one of them is refused: write the statement instead.
 */
export class StatementOnlyEventBusPolicy extends events.CfnEventBusPolicy {
  constructor(scope: Construct, id: string, props: { eventBusName: string; statementId: string; statement: object }) {
    super(scope, id, props);
  }

  override get action(): string | undefined { return undefined; }
  override set action(value: string | undefined) { refuseDeprecated('action', value); }
  override get principal(): string | undefined { return undefined; }
  override set principal(value: string | undefined) { refuseDeprecated('principal', value); }
  override get condition(): events.CfnEventBusPolicy.ConditionProperty | IResolvable | undefined { return undefined; }
  override set condition(value: events.CfnEventBusPolicy.ConditionProperty | IResolvable | undefined) { refuseDeprecated('condition', value); }
}

function refuseDeprecated(prop: string, value: unknown): void {
  if (value !== undefined) throw new Error(`StatementOnlyEventBusPolicy.${prop} is deprecated in CloudFormation: put it in the statement instead (got ${JSON.stringify(value)})`);
}
