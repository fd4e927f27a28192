import { isDeepStrictEqual } from 'node:util';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LifecycleIds } from '../../support/app-snapshot.js';
import { configWith } from '../../support/config-with.js';
import { configTemplates, defaultAppTemplates } from '../../support/default-app.js';
import { FINE_TUNING_EVENTS_HANDLER, type Definition, type WorkflowName } from './workflow-runner.js';

/**
 * The six lifecycle state machines' definitions rendered from the platform stack's template
 * (`platform`: its JSON, as `Template.fromStack(stack).toJSON()` gives it) and the logical ids of
 * the lifecycle's Lambdas and state machines in it (`ids`, test/support/app-snapshot.ts
 * `LifecycleIds`): each Lambda ARN as `arn:aws:lambda:us-east-1:<account>:function:<handler name>`
 * (`account`: the platform stack's account; the fine-tuning events Lambda as
 * `fine-tuning/training-events-handler`), any other `Ref` as `<logicalId>`, any other
 * `Fn::GetAtt` as `arn:aws:lambda:us-east-1:<account>:function:<logicalId>`.
 * @throws Error naming the value when a definition holds an intrinsic other than Fn::Join, Fn::GetAtt and Ref
 */
export function definitionsOf(platform: { Resources?: Record<string, any> }, ids: LifecycleIds, account: string): Record<WorkflowName, Definition> {
  const handlerOf = new Map<string, string>(Object.entries(ids.functions).map(([name, logicalId]) => [logicalId, name]));
  // Offboarding's *Retire fine-tuned models* invokes the fine-tuning events Lambda: rendered by its handler file (FINE_TUNING_EVENTS_HANDLER).
  handlerOf.set(ids.fineTuningEvents, FINE_TUNING_EVENTS_HANDLER);
  const resources = platform.Resources ?? {};
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, any>;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
    if (o['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:${account}:function:${handlerOf.get(o['Fn::GetAtt'][0]) ?? o['Fn::GetAtt'][0]}`;
    if (o.Ref) return `<${o.Ref}>`;
    throw new Error(`cannot render ${JSON.stringify(v)}`);
  };
  const definitionOf = (workflow: WorkflowName) => JSON.parse(render(resources[ids.workflows[workflow]].Properties.DefinitionString)) as Definition;
  return {
    onboard: definitionOf('onboard'),
    change: definitionOf('change'),
    status: definitionOf('status'),
    offboard: definitionOf('offboard'),
    upgrade: definitionOf('upgrade'),
    drift: definitionOf('drift'),
  };
}

/**
 * The definitions of `config` from the default app's snapshot (test/support/default-app.ts
 * `defaultAppTemplates()`: `buildApp()` synthesized once per state of the sources and shared by
 * the infra files) when `config` is the default config (`configWith()`, compared deeply); else
 * undefined (the caller synthesizes `config`'s app). A fresh clone's run then synthesizes the
 * default app once instead of once for the snapshot and once for the harness's definitions.
 * @throws Error when the default app's synth fails (test/support/default-app.ts)
 */
export function defaultConfigDefinitions(config: PlatformConfig): Record<WorkflowName, Definition> | undefined {
  if (!isDeepStrictEqual(config, configWith())) return undefined;
  const app = defaultAppTemplates();
  return definitionsOf(app.platform.toJSON() as { Resources?: Record<string, any> }, app.lifecycleIds, config.platformAccountId);
}

/**
 * The definitions of `config` from an app snapshot: the default app's for the default config
 * ({@link defaultConfigDefinitions}), else the snapshot of `config` (test/support/default-app.ts
 * `configTemplates`: the one an infra file's `appTemplates(overrides)` made when its overrides make
 * this config, else made here and kept for the next run).
 * @throws Error when the app's synth fails
 */
export async function snapshotDefinitions(config: PlatformConfig): Promise<Record<WorkflowName, Definition>> {
  const fromDefault = defaultConfigDefinitions(config);
  if (fromDefault) return fromDefault;
  const app = await configTemplates(config);
  return definitionsOf(app.platform.toJSON() as { Resources?: Record<string, any> }, app.lifecycleIds, config.platformAccountId);
}
