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
  const built = localPlatformApp(config);
  return definitionsOf(Template.fromStack(built.platform).toJSON(), lifecycleIdsOf(built), built.platform.account);
}

/**
 * `config`'s app as `new LocalWorkflows(config)` synthesizes it on a cache miss: buildApp's, with the context the CDK
 * CLI adds (test/support/synth.ts AppOptions `cdkCli`), so its CloudFormation validation finds and prints what
 * `npx cdk synth` of the same config does. Before, without the stacks' `CDKMetadata`, a config pinning
 * `availabilityZones` printed four W3010 "Avoid hardcoding availability zones" warnings (the shared-compute VPC's
 * subnets) and the path of a temporary validation-report.json, which `cdk synth` never reports (the validator skips
 * that rule for a template CDK wrote). The local platform's server (`npm run local-platform -- --config <file>`) reads
 * its definitions through workflowDefinitions instead, from the config's app snapshot, synthesized with cdk.json's
 * context alone: there the subnets acknowledge W3010 themselves (constructs/network.ts PINNED_ZONES_REASON).
 */
export function localPlatformApp(config: PlatformConfig): ReturnType<typeof buildApp> {
  return buildApp(config, {}, { cdkCli: true });
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
