import { Template } from 'aws-cdk-lib/assertions';
import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LifecycleHandlerName } from '../../../lib/lifecycle-handlers.js';
import { buildApp } from '../../support/synth.js';
import { cachedJson } from './disk-cache.js';

export type WorkflowName = 'onboard' | 'change' | 'status' | 'offboard' | 'upgrade' | 'drift';
export type Definition = { States: Record<string, { Type: string; Resource?: string; Iterator?: Definition; ItemProcessor?: Definition }>; StartAt: string };
type Handler = (event: unknown) => Promise<unknown>;
/** One event of a local run, as aws-local-stepfunctions logs it (`stateType` for state events). */
export type WorkflowEvent = { type: string; name?: string; stateType?: string; at: Date };

/** An execution's `cause` as Step Functions reports it: a string (an error's message, or JSON). */
function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

/**
 * The six lifecycle state machines of `config`'s platform stack as `npx cdk synth` writes them
 * (test context, no bundling), each Lambda ARN rendered as `arn:aws:lambda:us-east-1:<account>:function:<handler name>`
 * (the handler file the function bundles: lib/lifecycle-handlers.ts) and any other `Ref` as `<logicalId>`.
 */
function synthesizeDefinitions(config: PlatformConfig): Record<WorkflowName, Definition> {
  const built = buildApp(config);
  const stack = built.platform;
  const lifecycle = built.platform.lifecycle;
  const handlerOf = new Map<string, LifecycleHandlerName>();
  for (const [name, fn] of Object.entries(lifecycle.functions)) {
    handlerOf.set(stack.getLogicalId(fn.function.node.defaultChild as never), name as LifecycleHandlerName);
  }
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const machines = lifecycle.workflows;
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, any>;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
    if (o['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:${stack.account}:function:${handlerOf.get(o['Fn::GetAtt'][0]) ?? o['Fn::GetAtt'][0]}`;
    if (o.Ref) return `<${o.Ref}>`;
    throw new Error(`cannot render ${JSON.stringify(v)}`);
  };
  const definitionOf = (sm: { node: { defaultChild?: unknown } }) =>
    JSON.parse(render(resources[stack.getLogicalId(sm.node.defaultChild as never)].Properties.DefinitionString)) as Definition;
  return {
    onboard: definitionOf(machines.onboard),
    change: definitionOf(machines.change),
    status: definitionOf(machines.status),
    offboard: definitionOf(machines.offboard),
    upgrade: definitionOf(machines.upgrade),
    drift: definitionOf(machines.drift),
  };
}

/**
 * The state machines exactly as synthesized by the platform stack, made runnable locally:
 * Lambda ARNs in the definition are resolved to the handler each function bundles, and
 * aws-local-stepfunctions runs every Task state with that real handler (in this process, against
 * moto). Wait states and retry pauses are shortened through the library's override options; the
 * definitions themselves are not edited.
 */
export class LocalWorkflows {
  /** The state machines' definitions as synthesized (shared across test files through the disk cache: disk-cache.ts). */
  readonly definitions: Record<WorkflowName, Definition>;
  private readonly modules = new Map<LifecycleHandlerName, Handler>();
  private readonly machines = new WeakMap<Definition, StateMachine>();
  /** Wraps handlers, e.g. to observe them (concurrency tests). */
  wrap?: (name: LifecycleHandlerName, handler: Handler) => Handler;

  constructor(config: PlatformConfig) {
    this.definitions = cachedJson('workflow-definitions', { config }, () => synthesizeDefinitions(config));
  }

  /**
   * The runnable machine of `definition`, made once per definition and process. The definition is
   * validated then, with the options every run used before (asl-validator, ARNs and paths not
   * checked: the Lambda ARNs are rendered, the infra test checks both), nested Map definitions
   * included; the machine that runs is built with `noValidate`, because aws-local-stepfunctions
   * would otherwise validate again on every run and for every Map item (a new Ajv schema
   * compilation each time: about a quarter of a second of CPU per run here).
   */
  private machine(definition: Definition): StateMachine {
    let machine = this.machines.get(definition);
    if (!machine) {
      new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } }); // throws on an invalid definition
      machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
      this.machines.set(definition, machine);
    }
    return machine;
  }

  private async handler(name: LifecycleHandlerName): Promise<Handler> {
    if (!this.modules.has(name)) {
      const mod = (await import(`../../../lambdas/lifecycle/${name}.ts`)) as { handler: Handler };
      this.modules.set(name, mod.handler);
    }
    const h = this.modules.get(name)!;
    return this.wrap ? this.wrap(name, h) : h;
  }

  /**
   * Runs `workflow` to its end; resolves with the output, or with the error of a failed execution.
   * `status` is how Step Functions would close it; for FAILED, `error.error` and `error.cause` are
   * the execution's error and cause as DescribeExecution reports them. `signal` aborts the run (the
   * library's `abort()`: the state in flight finishes, no further state runs).
   */
  async run(
    workflow: WorkflowName | Definition,
    input: unknown,
    options: { executionArn?: string; onEvent?: (e: WorkflowEvent) => void; waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ output?: any; error?: { name: string; message: string; error?: string; cause?: string }; states: string[]; status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' }> {
    // A definition of its own: e.g. the upgrade's ItemProcessor, run as one tenant's child execution.
    const definition = typeof workflow === 'string' ? this.definitions[workflow] : workflow;
    const machineName = typeof workflow === 'string' ? workflow : 'child';
    const taskHandlers: Record<string, Handler> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    const visit = async (d: Definition) => {
      for (const [name, state] of Object.entries(d.States)) {
        if (state.Type === 'Task') {
          const fn = state.Resource!.split(':function:')[1] as LifecycleHandlerName;
          const handler = await this.handler(fn);
          taskHandlers[name] = (event: unknown) => handler(event);
          retries[name] = 1;
        }
        if (state.Type === 'Wait') waits[name] = options.waitMs ?? 1;
        const inner = state.Iterator ?? state.ItemProcessor;
        if (inner) await visit(inner);
      }
    };
    await visit(definition);
    const machine = this.machine(definition);
    const executionId = options.executionArn ?? `arn:aws:states:us-east-1:222222222222:execution:tessera-${machineName}:${randomUUID()}`;
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waits, retryIntervalOverrides: retries },
      context: { Execution: { Id: executionId, Name: executionId.split(':').pop(), Input: input, StartTime: new Date().toISOString() } } as never,
    });
    const states: string[] = [];
    let failure: { Error?: string; Cause?: unknown } | undefined;
    const log = (async () => {
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; state?: { name: string; type?: string }; Error?: string; Cause?: unknown };
        if (e.type === 'StateEntered') states.push(e.state!.name);
        if (e.type === 'ExecutionFailed') failure = e;
        options.onEvent?.({ type: e.type, name: e.state?.name, stateType: e.state?.type, at: new Date() });
      }
    })();
    const abort = () => execution.abort();
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const output = await execution.result;
      await log;
      return { output, states, status: 'SUCCEEDED' };
    } catch (e) {
      await log.catch(() => undefined);
      const error = { name: (e as Error).name, message: (e as Error).message };
      if (e instanceof ExecutionAbortedError) return { error, states, status: 'ABORTED' };
      if (e instanceof ExecutionTimeoutError) return { error: { ...error, error: 'States.Timeout' }, states, status: 'TIMED_OUT' };
      const caught = (e as Error).cause as Error | undefined;
      return { error: { ...error, error: failure?.Error ?? caught?.name, cause: causeText(failure ? failure.Cause : caught?.message) }, states, status: 'FAILED' };
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }
}
