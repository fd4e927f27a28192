import { inject } from './support/faults.js';

/**
 * A lost answer, for the integration tests of the lifecycle's fault handling: the Lambda that sent a CloudFormation call
 * dies right after the call went through, so the AWS side did the work but the step never learns it (as a Lambda timeout
 * loses it), and Step Functions' Retry or Catch takes over. Beside the tests, not in test/integration/support/ nor
 * test/support/: both are hashed into the integration disk caches' key (disk-cache.ts sourcesKey, default-app.ts
 * inputKey), and this helper changes no cached product.
 */

/** Which call {@link dieAfter} loses the answer of, and where its undo goes. */
export interface LostAnswer {
  /** The SDK command's name, as the middleware context has it (`CreateStackCommand`, `ExecuteChangeSetCommand`). */
  readonly command: string;
  /** The `StackName` of the call whose answer is lost (the first such call's only). */
  readonly stackName?: string;
  /** Instead of `stackName`: which call's answer is lost, by its input (the first matching call's only), e.g. `CreateDBSnapshotCommand` of one instance. */
  readonly where?: (input: Record<string, any>) => boolean;
  /** The test's undo list (the platform hooks' `cleanups`, run after each test): the fault's removal is pushed onto it. */
  readonly cleanups: Array<() => void>;
}

/**
 * The Lambda that sends `command` for stack `stackName` (or whose input `where` matches) dies once, right after the call went through: it throws
 * `Sandbox.Timedout` ("Task timed out after 60.00 seconds", the lifecycle functions' timeout: constructs/lambda-function.ts's
 * default), as Lambda reports a function timeout to Step Functions. An SDK middleware on every client the Lambdas make
 * (support/faults.ts inject), removed by `cleanups`.
 * @returns `died()`: whether the fault has fired
 */
export function dieAfter({ command, stackName, where, cleanups }: LostAnswer): { died: () => boolean } {
  let died = false;
  const matches = where ?? ((input: Record<string, any>) => input.StackName === stackName);
  cleanups.push(inject(`die-after-${command}-${stackName ?? Math.random()}`, (next, context) => async (args) => {
    const out = await next(args);
    if (context.commandName === command && !died && matches(args.input)) {
      died = true;
      throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
    }
    return out;
  }));
  return { died: () => died };
}
