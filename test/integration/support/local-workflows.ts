import { Template } from 'aws-cdk-lib/assertions';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { lifecycleIdsOf } from '../../support/app-snapshot.js';
import { buildApp } from '../../support/synth.js';
import { cachedJson } from './disk-cache.js';
import { defaultConfigDefinitions, definitionsOf } from './lifecycle-definitions.js';
import { WorkflowRunner, type Definition, type WorkflowName } from './workflow-runner.js';

export { WorkflowRunner, workflowDefinitions, type Definition, type WorkflowEvent, type WorkflowName } from './workflow-runner.js';

/**
 * The six lifecycle state machines of `config`'s platform stack as `npx cdk synth` writes them
 * (test context, no bundling), rendered by lifecycle-definitions.ts `definitionsOf` (each Lambda ARN
 * as `arn:aws:lambda:us-east-1:<account>:function:<handler name>`, the handler file the function
 * bundles: lib/lifecycle-handlers.ts; any other `Ref` as `<logicalId>`). The default config's come
 * from the default app's snapshot (`defaultConfigDefinitions`, shared with the infra files); any
 * other config's app is built and synthesized here.
 */
export function synthesizeDefinitions(config: PlatformConfig): Record<WorkflowName, Definition> {
  const fromSnapshot = defaultConfigDefinitions(config);
  if (fromSnapshot) return fromSnapshot;
  const built = buildApp(config);
  return definitionsOf(Template.fromStack(built.platform).toJSON(), lifecycleIdsOf(built), built.platform.account);
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
