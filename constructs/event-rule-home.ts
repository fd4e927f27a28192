import type { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { NestedHome } from './nested-home.js';

const rules = new NestedHome('placeEventRulesIn');

/**
 * Every EventBridge rule created with {@link ruleScopeFor} in `stack` from now on goes to `home` (a nested stack of
 * `stack`), under `<owner's path in the stack, '/' as '--'>/<rule id>`, with what the rule puts beside itself: a Lambda
 * target's invoke permission (aws-events-targets places it in the rule's scope). Its references to the parent's
 * resources (the bus, the target function or state machine, EventBridge's role, the dead-letter queue) become the
 * nested stack's parameters; the dead-letter queue's policy, in the parent, names the rule through the nested stack's
 * output.
 *
 * The rules are unnamed (CloudFormation names them), so moving one is a create in the nested stack and a delete in the
 * parent's cleanup: for a moment both match an event (EventBridge delivers at least once anyway, and each target is
 * idempotent for that reason), never neither (docs/measured.md "Room in TesseraPlatform").
 * @throws Error when `home` is in `stack` itself
 */
export function placeEventRulesIn(stack: Stack, home: Construct): void {
  rules.place(stack, home);
}

/**
 * The scope for `owner`'s EventBridge rules: a construct named after `owner`'s path in its stack (`/` as `--`) in the
 * stack's rule home ({@link placeEventRulesIn}), the same one for each call with `owner`; or `owner` itself when the
 * stack names no home (a construct built in a stack of its own, as the tests do).
 */
export function ruleScopeFor(owner: Construct): Construct {
  return rules.ownerScope(owner);
}
