import { Template } from 'aws-cdk-lib/assertions';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LifecycleHandlerName } from '../../../lib/lifecycle-handlers.js';
import { buildApp } from '../../support/synth.js';
import { cachedJson } from './disk-cache.js';
import { FINE_TUNING_EVENTS_HANDLER, WorkflowRunner, type Definition, type WorkflowName } from './workflow-runner.js';

export { WorkflowRunner, workflowDefinitions, type Definition, type WorkflowEvent, type WorkflowName } from './workflow-runner.js';

/**
 * The six lifecycle state machines of `config`'s platform stack as `npx cdk synth` writes them
 * (test context, no bundling), each Lambda ARN rendered as `arn:aws:lambda:us-east-1:<account>:function:<handler name>`
 * (the handler file the function bundles: lib/lifecycle-handlers.ts; the fine-tuning events Lambda, which
 * offboarding invokes, as `fine-tuning/training-events-handler`) and any other `Ref` as `<logicalId>`.
 */
export function synthesizeDefinitions(config: PlatformConfig): Record<WorkflowName, Definition> {
  const built = buildApp(config);
  const stack = built.platform;
  const lifecycle = built.platform.lifecycle;
  const handlerOf = new Map<string, string>();
  for (const [name, fn] of Object.entries(lifecycle.functions)) {
    handlerOf.set(stack.getLogicalId(fn.function.node.defaultChild as never), name as LifecycleHandlerName);
  }
  // Offboarding's *Retire fine-tuned models* invokes the fine-tuning events Lambda: rendered by its handler file (FINE_TUNING_EVENTS_HANDLER).
  handlerOf.set(stack.getLogicalId(built.platform.fineTuning.eventsFunction.node.defaultChild as never), FINE_TUNING_EVENTS_HANDLER);
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
 * WorkflowRunner (workflow-runner.ts) over the definitions of `config`, read synchronously: from the
 * disk cache, or synthesized in this process (this module imports aws-cdk-lib and the app for that).
 * The lifecycle harness itself builds its runner with `new WorkflowRunner(await workflowDefinitions(config))`,
 * which loads neither when the cache is warm.
 */
export class LocalWorkflows extends WorkflowRunner {
  constructor(config: PlatformConfig) {
    super(cachedJson('workflow-definitions', { config }, () => synthesizeDefinitions(config)));
  }
}
