/**
 * Builds the Tessera app in-process (no Lambda bundling, no full app synth: seconds) and hands the
 * preflight what it checks: every tier blueprint, every namespace and DR blueprint, the account baseline
 * template (and the DR tiers' failover blueprints), and the namespace deployer role (the CloudFormation service role of namespace
 * blueprints, defined in constructs/shared-cluster.ts inside the platform stack).
 */
import { App, CfnElement, CfnResource, Stack, type Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdkJsonContext } from '../cdk-json-context.js';
import type { PlatformConfig, TierConfig } from '../config/schema.js';
import { buildTesseraApp } from '../tessera-app.js';
import type { CfnTemplate } from './cfn-template.js';

/** Construct id of the account baseline stack in the Blueprints stage (decision 1 of the issue 9 plan). */
export const ACCOUNT_BASELINE_STACK_ID = 'TesseraAccountBaseline';

export interface TierBlueprints {
  readonly tierName: string;
  readonly tier: TierConfig;
  /** The tier blueprint (`<tier>.template.json`). */
  readonly tenant: CfnTemplate;
  /** The namespace blueprint (`<tier>-namespace.template.json`), shared-compute tiers only. */
  readonly namespace?: CfnTemplate;
  /** The DR blueprint (`<tier>-dr.template.json`), deployed in the tier's DR region: DR tiers only. */
  readonly dr?: CfnTemplate;
  /**
   * The failover blueprint (`TesseraTenantFailover-<tier>`, in cdk.out only, lib/tenant-failover-stack.ts),
   * which the failover runbook deploys in the tier's DR region as the execution role: DR tiers only.
   */
  readonly failover?: CfnTemplate;
}

export interface NamespaceDeployer {
  /** Logical id of the role in the platform template. */
  readonly roleLogicalId: string;
  /**
   * A template holding the role, the managed policies attached to it and every resource their
   * documents refer to, exactly as in the platform stack (unresolved), to be instantiated for the
   * platform account with stack name `TesseraPlatform`.
   */
  readonly template: CfnTemplate;
}

export interface LoadedBlueprints {
  readonly config: PlatformConfig;
  readonly tiers: TierBlueprints[];
  /** The account baseline template, or undefined while the Blueprints stage has no `TesseraAccountBaseline` stack. */
  readonly baseline?: CfnTemplate;
  readonly namespaceDeployer?: NamespaceDeployer;
  /**
   * Every resource of the platform stack and of its nested stacks (FunctionPolicies, EventRules, Operations, and
   * NamespaceKubectl with a tier of shared compute: the tenants' kubectl handler role their kubectl roles trust), rendered
   * as in its template but without synthesizing the stack (no bundling, no nag): what the isolation check
   * needs of the platform account (the event bus policy, the tenant-scoped data role, the pooled tables),
   * and the roles tenant stacks name there (service rule `platform-principals-exist`).
   */
  readonly platform: CfnTemplate;
  /**
   * The platform's DR stack (`TesseraPlatformDr`, lib/platform-dr-stack.ts: the replica audit bucket, its key, the
   * registry's DR backup vault), rendered like {@link platform}; undefined with `platformDisasterRecovery: 'none'`.
   */
  readonly platformDr?: CfnTemplate;
  /** The version the blueprints were built as (the `tessera:blueprint-version` stack tag). */
  readonly blueprintVersion: string;
  /** Milliseconds the build took. */
  readonly buildMs: number;
}

/** Builds the blueprints of `config`: one App, `aws:cdk:bundling-stacks: []`, a throwaway outdir. */
export function loadBlueprints(config: PlatformConfig, blueprintVersion = '0.0.0-preflight'): LoadedBlueprints {
  const started = Date.now();
  const outdir = mkdtempSync(join(tmpdir(), 'tessera-preflight-'));
  try {
    return build(config, blueprintVersion, outdir, started);
  } finally {
    // The templates are read into memory below; nothing else needs the synthesized files.
    rmSync(outdir, { recursive: true, force: true });
  }
}

function build(config: PlatformConfig, blueprintVersion: string, outdir: string, started: number): LoadedBlueprints {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir });
  const built = buildTesseraApp(app, config, blueprintVersion);
  const assembly = built.blueprintStage.synth();
  const templateOf = (stack: Stack) => assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
  const tiers = Object.entries(config.tiers).map(([tierName, tier]) => ({
    tierName,
    tier,
    tenant: templateOf(built.blueprints[tierName]),
    namespace: built.namespaceBlueprints[tierName] ? templateOf(built.namespaceBlueprints[tierName]) : undefined,
    dr: built.drBlueprints[tierName] ? templateOf(built.drBlueprints[tierName]) : undefined,
    failover: built.failoverBlueprints[tierName] ? templateOf(built.failoverBlueprints[tierName]) : undefined,
  }));
  const baselineStack = findBaseline(built.blueprintStage);
  return {
    config,
    tiers,
    baseline: baselineStack ? templateOf(baselineStack) : undefined,
    namespaceDeployer: namespaceDeployerOf(built.platform),
    platform: renderStack(built.platform, [built.platform.functionPolicies, built.platform.eventRules, built.platform.operations, ...(built.platform.namespaceKubectl ? [built.platform.namespaceKubectl] : [])]),
    platformDr: built.platformDr ? renderStack(built.platformDr) : undefined,
    blueprintVersion,
    buildMs: Date.now() - started,
  };
}

function findBaseline(stage: Stage): Stack | undefined {
  const child = stage.node.tryFindChild(ACCOUNT_BASELINE_STACK_ID);
  return child && Stack.isStack(child) ? child : undefined;
}

/** The CloudFormation JSON of one L1 resource, resolved against its stack (tokens → Ref/GetAtt). */
function cfnJson(resource: CfnResource): Record<string, unknown> {
  // `_toCloudFormation` is how a stack renders its resources; calling it on the few resources the
  // deployer needs avoids synthesizing (and nag-validating) the whole platform stack.
  const rendered = (resource as unknown as { _toCloudFormation(): { Resources: Record<string, unknown> } })._toCloudFormation();
  const resolved = Stack.of(resource).resolve(rendered) as { Resources: Record<string, Record<string, unknown>> };
  return Object.values(resolved.Resources)[0];
}

/**
 * Every CloudFormation element of `stack` (resources, conditions, parameters, mappings) rendered and
 * resolved, as a template; with `alsoFrom`'s (nested stacks of it), whose references to `stack`'s
 * resources, unsynthesized, resolve to `stack`'s logical ids: the platform's Lambda policies
 * (its FunctionPolicies nested stack) stand beside the roles they are attached to.
 */
function renderStack(stack: Stack, alsoFrom: readonly Stack[] = []): CfnTemplate {
  const template: Record<string, Record<string, unknown>> = { Resources: {} };
  const stacks = new Set<Stack>([stack, ...alsoFrom]);
  for (const c of stack.node.findAll()) {
    if (!CfnElement.isCfnElement(c) || !stacks.has(Stack.of(c))) continue;
    const rendered = stack.resolve((c as unknown as { _toCloudFormation(): object })._toCloudFormation()) as Record<string, Record<string, unknown>>;
    for (const [section, entries] of Object.entries(rendered ?? {})) Object.assign((template[section] ??= {}), entries);
  }
  return template as unknown as CfnTemplate;
}

/**
 * The namespace deployer role of the platform stack with its managed policies and the resources
 * their documents name (the shared cluster, the kubectl provider function).
 */
function namespaceDeployerOf(platform: Stack): NamespaceDeployer | undefined {
  const role = platform.node.findAll().find((c): c is iam.Role => c instanceof iam.Role && c.node.id === 'NamespaceDeployerRole');
  if (!role) return undefined;
  const cfnResources = platform.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c));
  const byLogicalId = new Map(cfnResources.map((r) => [platform.resolve(r.logicalId) as string, r]));
  const roleLogicalId = platform.resolve((role.node.defaultChild as CfnResource).logicalId) as string;
  const resources: Record<string, Record<string, unknown>> = { [roleLogicalId]: cfnJson(role.node.defaultChild as CfnResource) };
  // Managed policies whose Roles name the deployer role.
  for (const r of cfnResources) {
    if (r.cfnResourceType !== 'AWS::IAM::ManagedPolicy') continue;
    const json = cfnJson(r);
    if (JSON.stringify((json.Properties as Record<string, unknown>)?.Roles ?? []).includes(`"${roleLogicalId}"`)) {
      resources[platform.resolve(r.logicalId) as string] = json;
    }
  }
  // Resources the documents refer to, one level deep (their names and ARNs are all that is needed).
  const referenced = new Set<string>();
  for (const json of Object.values(resources)) JSON.stringify(json).replace(/"(?:Ref|Fn::GetAtt)":\s*(?:\["|")([A-Za-z0-9]+)"/g, (_m, id: string) => (referenced.add(id), ''));
  for (const id of referenced) {
    const r = byLogicalId.get(id);
    if (r && !resources[id]) resources[id] = cfnJson(r);
  }
  return { roleLogicalId, template: { Resources: resources } as unknown as CfnTemplate };
}
