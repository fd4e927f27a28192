import { registerClientPlugin } from '../../../lambdas/shared/aws-clients.js';

/**
 * Fault injection into the Lambdas' real SDK clients (moto has no failure modes of its own):
 * SDK middleware at the `initialize` step, before the SDK's own retries, so each injected error
 * reaches the handler and the state machine exactly as AWS would return it.
 */
type Args = { input: Record<string, any> };
type Middleware = (next: (args: Args) => Promise<{ output: any }>, context: { commandName?: string }) => (args: Args) => Promise<{ output: any }>;

export function inject(name: string, middleware: Middleware): () => void {
  return registerClientPlugin((client) => {
    const stack = client.middlewareStack as unknown as { add(m: Middleware, o: { step: string; name: string; override: boolean }): void };
    stack.add(middleware, { step: 'initialize', name: `tesseraFault-${name}`, override: true });
  });
}

/** Throws an AWS-style throttling error for the first `times` calls of `command` that match. */
export function throttle(command: string, times: number, errorName: string, matches: (input: Record<string, any>) => boolean): { removed: () => void; thrown: () => number } {
  let thrown = 0;
  const removed = inject(`throttle-${command}-${errorName}`, (next, context) => async (args) => {
    if (context.commandName === command && matches(args.input) && thrown < times) {
      thrown += 1;
      throw Object.assign(new Error('Rate exceeded'), { name: errorName, $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    return next(args);
  });
  return { removed, thrown: () => thrown };
}

/** Rewrites the output of `command` for matching calls. */
export function rewrite(name: string, command: string, change: (output: any, input: Record<string, any>) => void): () => void {
  return inject(name, (next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName === command) change(result.output, args.input);
    return result;
  });
}
