import { CfnElement, CfnResource, Stack, TagManager, type App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { TesseraApp } from '../../lib/tessera-app.js';

type Json = Record<string, unknown>;

/**
 * Everything a read-only infra test reads of a synthesized app, as plain JSON: what
 * test/support/default-app.ts caches on disk per config and per state of the sources.
 */
export interface AppSnapshot {
  organization: Json;
  platform: Json;
  /** The platform's Operations nested stack. */
  operations: Json;
  /** The platform's FunctionPolicies nested stack (the managed policy of each platform Lambda but the admin API's). */
  functionPolicies: Json;
  /** The platform's EventRules nested stack (its EventBridge rules and their Lambda invoke permissions). */
  eventRules: Json;
  /** The platform's NamespaceKubectl nested stack (the tenants' namespace kubectl provider), with a tier of shared compute only. */
  namespaceKubectl?: Json;
  /** The platform's ClusterAutoscaler nested stack (the shared cluster's Cluster Autoscaler), with a tier of shared compute only. */
  clusterAutoscaler?: Json;
  /** `TesseraPlatformDr`, with `platformDisasterRecovery: { region }` only. */
  platformDr?: Json;
  accountBaseline: Json;
  workloadProvisioning: Json;
  /** Tier name → template, as in {@link TesseraApp}. */
  blueprints: Record<string, Json>;
  namespaceBlueprints: Record<string, Json>;
  drBlueprints: Record<string, Json>;
  failoverBlueprints: Record<string, Json>;
  /** The blueprint catalog the platform publishes (`TesseraApp#blueprintTemplates`): file name → template. */
  blueprintCatalog: Record<string, unknown>;
  /**
   * `cdk.out/validation-report.json` of `app.synth()` (the compliance packs and CloudFormation
   * validation over every stack, the Blueprints stage included).
   */
  validationReport: Json;
  /** Construct path → logical id of every CfnElement of the app. */
  logicalIds: Record<string, string>;
  /** The construct path of every CfnResource of the app (nested stacks and stages included), in `app.node.findAll()` order. */
  resourcePaths: string[];
  /**
   * The construct path of every CfnResource of the app that takes tags (`TagManager.isTaggable`), in
   * `app.node.findAll()` order: what a test of the tags the app's Aspects add reads instead of the construct tree.
   */
  taggableResourcePaths: string[];
  /**
   * Construct path → `stack.environment` (`aws://<account>/<region>`, `unknown-account`/`unknown-region` for an
   * environment-agnostic stack) of every stack of the app, nested stacks and stages included ({@link StackPaths.all}).
   */
  environments: Record<string, string>;
  /**
   * The directory assets the synth wrote into the assembly ({@link assetFilesOf}): directory name (`asset.<hash>`,
   * the hash the stacks' asset parameters and `SourceObjectKeys` name) → path of each file in it → the SHA-256 (hex) of
   * its bytes. File assets (`asset.<hash>.zip`) are left out.
   */
  assetFiles: Record<string, Record<string, string>>;
  /** The construct path of each stack above, in the same shape (`stackPaths.drBlueprints.professional`). */
  stackPaths: StackPaths;
  /**
   * Construct path → the error annotations of each top-level stack (organization, platform, platform DR):
   * `Annotations.fromStack(stack).findError('*', Match.anyValue())`, as id and data (read from the synth's assembly: {@link errorsOf}).
   */
  errors: Record<string, Array<{ id: string; data: unknown }>>;
  /**
   * Construct path → the construct paths of the stacks it depends on (`stack.dependencies`: what
   * `cdk deploy --all` deploys first), for each top-level stack (organization, platform, platform DR).
   */
  stackDependencies: Record<string, string[]>;
  /**
   * Construct path → the stack name, account and region (`stack.stackName`, `stack.account`,
   * `stack.region`, tokens resolved) of each top-level stack (organization, platform, platform DR).
   */
  stackEnvironments: Record<string, StackEnvironment>;
  /**
   * Logical ids in the platform stack (`stack.getLogicalId(x.node.defaultChild)`) of what the lifecycle's state
   * machines reference: each lifecycle Lambda by handler name, the fine-tuning events Lambda (offboarding invokes it),
   * and each state machine by workflow name. With `platform`, what test/integration/support/lifecycle-definitions.ts
   * renders the definitions from, so the harness needs no whole-app synth of its own for a snapshotted config.
   */
  lifecycleIds: LifecycleIds;
}

/** See {@link AppSnapshot.stackEnvironments}. */
export interface StackEnvironment {
  stackName: string;
  account: string;
  region: string;
}

/** See {@link AppSnapshot.lifecycleIds}. */
export interface LifecycleIds {
  /** Lifecycle handler name (lib/lifecycle-handlers.ts) → its Lambda's logical id. */
  functions: Record<string, string>;
  /** The fine-tuning events Lambda's logical id. */
  fineTuningEvents: string;
  /** Workflow name (`onboard`, `change`, `status`, `offboard`, `upgrade`, `drift`) → its state machine's logical id. */
  workflows: Record<string, string>;
}

export interface StackPaths {
  organization: string;
  platform: string;
  operations: string;
  functionPolicies: string;
  eventRules: string;
  namespaceKubectl?: string;
  clusterAutoscaler?: string;
  platformDr?: string;
  accountBaseline: string;
  workloadProvisioning: string;
  blueprints: Record<string, string>;
  namespaceBlueprints: Record<string, string>;
  drBlueprints: Record<string, string>;
  failoverBlueprints: Record<string, string>;
  /** Every stack of the Blueprints stage (`blueprintStage.node.children` that are stacks). */
  blueprintStage: string[];
  /** Every stack of the app, nested stacks and stages included (`Stack.isStack` over `app.node.findAll()`), sorted. */
  all: string[];
}

/**
 * The error annotations of `stack` (its constructs' and its nested stacks') in `assembly`, as id (construct path) and
 * data: what `Annotations.fromStack(stack).findError('*', Match.anyValue())` answers (level `error`, data not null),
 * read from the assembly already made. `Annotations.fromStack` reads the same messages from a forced synth of the
 * whole app (`root.synth({ force: true })`: aws-cdk-lib/assertions' toMessages), which ran the validation plugins and
 * cdk-nag again: three more whole-app synths per snapshot, about half of a snapshot's CPU. Compared on a built app
 * with planted warnings in the organization, the platform, its Operations nested stack and the DR stack: the same lists.
 * (`app.synth()` itself fails on an error annotation, so a snapshot's lists are empty.)
 */
function errorsOf(assembly: CloudAssembly, stack: Stack): Array<{ id: string; data: unknown }> {
  return assembly.getStackArtifact(stack.artifactId).messages
    .filter((m) => m.level === 'error' && m.entry.data !== undefined && m.entry.data !== null)
    .map((m) => ({ id: m.id, data: m.entry.data as unknown }));
}

/**
 * The directory assets in the assembly directory `dir` (each `asset.*` entry that is a directory): name → file path
 * in it (`/`-separated, sorted) → SHA-256 (hex) of the file's bytes. The blueprint catalog's published templates are
 * such directories (one file each: `Source.jsonData`), so a test can check what the catalog publishes without a synth
 * of its own. File assets (the Lambda layers' `.zip`, tens of MB) are not read.
 */
export function assetFilesOf(dir: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of readdirSync(dir).filter((n) => n.startsWith('asset.')).sort()) {
    const root = join(dir, name);
    if (!statSync(root).isDirectory()) continue;
    const files: Record<string, string> = {};
    const walk = (path: string) => {
      for (const entry of readdirSync(path).sort()) {
        const full = join(path, entry);
        if (statSync(full).isDirectory()) walk(full);
        else files[relative(root, full).split(sep).join('/')] = createHash('sha256').update(readFileSync(full)).digest('hex');
      }
    };
    walk(root);
    out[name] = files;
  }
  return out;
}

/**
 * Synthesizes `built` (`app.synth()`, which runs the compliance packs; it throws on any finding)
 * and reads its snapshot.
 */
export function snapshotOf(built: TesseraApp & { app: App }): AppSnapshot {
  const assembly = built.app.synth();
  const json = (stack: Stack) => Template.fromStack(stack).toJSON() as Json;
  const byTier = (stacks: Record<string, Stack>) => Object.fromEntries(Object.entries(stacks).map(([tier, s]) => [tier, json(s)]));
  const pathsByTier = (stacks: Record<string, Stack>) => Object.fromEntries(Object.entries(stacks).map(([tier, s]) => [tier, s.node.path]));
  return {
    platform: json(built.platform),
    organization: json(built.organization),
    operations: json(built.platform.operations),
    functionPolicies: json(built.platform.functionPolicies),
    eventRules: json(built.platform.eventRules),
    ...(built.platform.namespaceKubectl ? { namespaceKubectl: json(built.platform.namespaceKubectl) } : {}),
    ...(built.platform.clusterAutoscaler ? { clusterAutoscaler: json(built.platform.clusterAutoscaler) } : {}),
    ...(built.platformDr ? { platformDr: json(built.platformDr) } : {}),
    accountBaseline: json(built.accountBaseline),
    workloadProvisioning: json(built.workloadProvisioning),
    blueprints: byTier(built.blueprints),
    namespaceBlueprints: byTier(built.namespaceBlueprints),
    drBlueprints: byTier(built.drBlueprints),
    failoverBlueprints: byTier(built.failoverBlueprints),
    blueprintCatalog: { ...built.blueprintTemplates },
    validationReport: JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Json,
    logicalIds: Object.fromEntries(built.app.node.findAll().filter(CfnElement.isCfnElement).map((e) => [e.node.path, Stack.of(e).resolve(e.logicalId) as string])),
    resourcePaths: built.app.node.findAll().filter(CfnResource.isCfnResource).map((r) => r.node.path),
    taggableResourcePaths: built.app.node.findAll().filter((c) => CfnResource.isCfnResource(c) && TagManager.isTaggable(c)).map((r) => r.node.path),
    environments: Object.fromEntries(built.app.node.findAll().filter((c): c is Stack => Stack.isStack(c)).map((s) => [s.node.path, s.environment])),
    assetFiles: assetFilesOf(assembly.directory),
    errors: Object.fromEntries([built.organization, built.platform, ...(built.platformDr ? [built.platformDr] : [])]
      .map((s) => [s.node.path, errorsOf(assembly, s)])),
    stackDependencies: Object.fromEntries([built.organization, built.platform, ...(built.platformDr ? [built.platformDr] : [])]
      .map((s) => [s.node.path, s.dependencies.map((d) => d.node.path).sort()])),
    stackEnvironments: Object.fromEntries([built.organization, built.platform, ...(built.platformDr ? [built.platformDr] : [])]
      .map((s) => [s.node.path, { stackName: s.stackName, account: s.resolve(s.account) as string, region: s.resolve(s.region) as string }])),
    lifecycleIds: lifecycleIdsOf(built),
    stackPaths: {
      organization: built.organization.node.path,
      platform: built.platform.node.path,
      operations: built.platform.operations.node.path,
      functionPolicies: built.platform.functionPolicies.node.path,
      eventRules: built.platform.eventRules.node.path,
      ...(built.platform.namespaceKubectl ? { namespaceKubectl: built.platform.namespaceKubectl.node.path } : {}),
      ...(built.platform.clusterAutoscaler ? { clusterAutoscaler: built.platform.clusterAutoscaler.node.path } : {}),
      ...(built.platformDr ? { platformDr: built.platformDr.node.path } : {}),
      accountBaseline: built.accountBaseline.node.path,
      workloadProvisioning: built.workloadProvisioning.node.path,
      blueprints: pathsByTier(built.blueprints),
      namespaceBlueprints: pathsByTier(built.namespaceBlueprints),
      drBlueprints: pathsByTier(built.drBlueprints),
      failoverBlueprints: pathsByTier(built.failoverBlueprints),
      blueprintStage: built.blueprintStage.node.children.filter((c): c is Stack => c instanceof Stack).map((c) => c.node.path),
      all: built.app.node.findAll().filter((c): c is Stack => Stack.isStack(c)).map((c) => c.node.path).sort(),
    },
  };
}

/** {@link AppSnapshot.lifecycleIds} of `built`'s platform stack. */
export function lifecycleIdsOf(built: TesseraApp): LifecycleIds {
  const stack = built.platform;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const { workflows } = stack.lifecycle;
  return {
    functions: Object.fromEntries(Object.entries(stack.lifecycle.functions).map(([name, fn]) => [name, id(fn.function)])),
    fineTuningEvents: id(stack.fineTuning.eventsFunction),
    workflows: { onboard: id(workflows.onboard), change: id(workflows.change), status: id(workflows.status), offboard: id(workflows.offboard), upgrade: id(workflows.upgrade), drift: id(workflows.drift) },
  };
}
