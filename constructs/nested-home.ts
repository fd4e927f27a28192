import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A kind of resource a stack may keep in one of its nested stacks (its "home"), to stay under CloudFormation's 500
 * resources a template: the LambdaFunctions' managed policies (lambda-function.ts placeFunctionPoliciesIn), the
 * EventBridge rules (event-rule-home.ts placeEventRulesIn). Each owner gets one scope in the home, named after its path
 * in the stack (`/` as `--`), so the resources keep distinct, stable logical ids there.
 */
export class NestedHome {
  /** Stack → the construct (a nested stack of it) where this kind of resource lives. */
  private readonly homes = new WeakMap<Stack, Construct>();
  /** Owner → its scope in the home (one per owner, however many resources it puts there). */
  private readonly scopes = new WeakMap<Construct, Construct>();

  /** @param placer the public function's name, for the error (e.g. `placeEventRulesIn`) */
  constructor(private readonly placer: string) {}

  /**
   * From now on, `ownerScope` in `stack` answers a scope in `home`.
   * @throws Error when `home` is in `stack` itself (it must be a nested stack of it, or inside one)
   */
  place(stack: Stack, home: Construct): void {
    if (Stack.of(home) === stack) throw new Error(`${this.placer}: ${home.node.path} is in ${stack.node.path} itself; give a nested stack of it`);
    this.homes.set(stack, home);
  }

  /**
   * The scope for `owner`'s resources of this kind: a construct named after `owner`'s path in its stack (`/` as `--`) in
   * the stack's home, the same one for each call with `owner`; or `owner` itself when the stack has no home.
   */
  ownerScope(owner: Construct): Construct {
    const stack = Stack.of(owner);
    const home = this.homes.get(stack);
    if (!home) return owner;
    let scope = this.scopes.get(owner);
    if (!scope) {
      scope = new Construct(home, owner.node.path.split('/').slice(stack.node.path.split('/').length).join('--'));
      this.scopes.set(owner, scope);
    }
    return scope;
  }
}
