import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LifecycleHandlerName } from '../../../lib/lifecycle-handlers.js';
import { buildApp } from '../../support/synth.js';

export type WorkflowName = 'onboard' | 'change' | 'status' | 'offboard' | 'upgrade';
type Definition = { States: Record<string, { Type: string; Resource?: string; Iterator?: Definition; ItemProcessor?: Definition }>; StartAt: string };
type Handler = (event: unknown) => Promise<unknown>;

/**
 * The state machines exactly as synthesized by the platform stack, made runnable locally:
 * Lambda ARNs in the definition are resolved to the handler each function bundles, and
 * aws-local-stepfunctions runs every Task state with that real handler (in this process, against
 * moto). Wait states and retry pauses are shortened through the library's override options; the
 * definitions themselves are not edited.
 */
export class LocalWorkflows {
  readonly definitions: Record<WorkflowName, Definition>;
  private readonly handlerOf = new Map<string, LifecycleHandlerName>();
  private readonly modules = new Map<LifecycleHandlerName, Handler>();
  /** Wraps handlers, e.g. to observe them (concurrency tests). */
  wrap?: (name: LifecycleHandlerName, handler: Handler) => Handler;

  constructor(config: PlatformConfig) {
    const built = buildApp(config);
    const stack = built.platform;
    const lifecycle = built.platform.lifecycle;
    for (const [name, fn] of Object.entries(lifecycle.functions)) {
      this.handlerOf.set(stack.getLogicalId(fn.function.node.defaultChild as never), name as LifecycleHandlerName);
    }
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
    const machines = lifecycle.workflows;
    const render = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const o = v as Record<string, any>;
      if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
      if (o['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:${stack.account}:function:${this.handlerOf.get(o['Fn::GetAtt'][0]) ?? o['Fn::GetAtt'][0]}`;
      if (o.Ref) return `<${o.Ref}>`;
      throw new Error(`cannot render ${JSON.stringify(v)}`);
    };
    const definitionOf = (sm: { node: { defaultChild?: unknown } }) =>
      JSON.parse(render(resources[stack.getLogicalId(sm.node.defaultChild as never)].Properties.DefinitionString)) as Definition;
    this.definitions = {
      onboard: definitionOf(machines.onboard),
      change: definitionOf(machines.change),
      status: definitionOf(machines.status),
      offboard: definitionOf(machines.offboard),
      upgrade: definitionOf(machines.upgrade),
    };
  }

  private async handler(name: LifecycleHandlerName): Promise<Handler> {
    if (!this.modules.has(name)) {
      const mod = (await import(`../../../lambdas/lifecycle/${name}.ts`)) as { handler: Handler };
      this.modules.set(name, mod.handler);
    }
    const h = this.modules.get(name)!;
    return this.wrap ? this.wrap(name, h) : h;
  }

  /** Runs `workflow` to its end; resolves with the output, or with the error of a failed execution. */
  async run(
    workflow: WorkflowName,
    input: unknown,
    options: { executionArn?: string; onEvent?: (e: { type: string; name?: string; at: Date }) => void; waitMs?: number } = {},
  ): Promise<{ output?: any; error?: { name: string; message: string }; states: string[] }> {
    const definition = this.definitions[workflow];
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
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } });
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waits, retryIntervalOverrides: retries },
      context: { Execution: { Id: options.executionArn ?? `arn:aws:states:us-east-1:222222222222:execution:tessera-${workflow}:${randomUUID()}`, Input: input, StartTime: new Date().toISOString() } } as never,
    });
    const states: string[] = [];
    const log = (async () => {
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; state?: { name: string } };
        if (e.type === 'StateEntered') states.push(e.state!.name);
        options.onEvent?.({ type: e.type, name: e.state?.name, at: new Date() });
      }
    })();
    try {
      const output = await execution.result;
      await log;
      return { output, states };
    } catch (e) {
      await log.catch(() => undefined);
      return { error: { name: (e as Error).name, message: (e as Error).message }, states };
    }
  }
}
