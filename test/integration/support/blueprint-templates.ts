import type { Stack } from 'aws-cdk-lib';
import { readAccountCustomizations } from '../../../lib/config/customization-templates.js';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { ACCOUNT_BASELINE_FILE_NAME } from '../../../lib/tenant-naming.js';
import { blueprintFileName, blueprintStackId, buildTesseraApp, drBlueprintStackId, namespaceBlueprintStackId } from '../../../lib/tessera-app.js';
import { newApp } from '../../support/synth.js';
import type { CfnTemplate } from './derive-moto-blueprint.js';

/** Construct id of the account baseline stack in the `Blueprints` stage (decision 1 of issue 9). */
export const ACCOUNT_BASELINE_STACK_ID = 'TesseraAccountBaseline';

/** One synthesized blueprint and the catalog file it is published as (`blueprints/<version>/<file>`). */
export interface BlueprintTemplate {
  /** `<tier>` | `<tier>-namespace` | `<tier>-dr` | `account-baseline` | `customizations/<tier>/<name>` (an account customization). */
  readonly name: string;
  readonly file: string;
  readonly template: CfnTemplate;
}

/**
 * The real blueprints of `config` at `blueprintVersion`, synthesized in this process exactly as
 * `npx cdk synth` builds them (lib/tessera-app.ts, test context, no Lambda bundling): each tier's
 * tenant template, each shared-compute tier's namespace template, the account baseline when
 * the app has one, and each account tier's customization templates (`tiers.<tier>.accountCustomizations`,
 * read and checked as synth publishes them: lib/config/customization-templates.ts readAccountCustomizations,
 * the template files resolved against the working directory, the project root in tests).
 */
export function synthesizeBlueprints(config: PlatformConfig, blueprintVersion: string): BlueprintTemplate[] {
  const built = buildTesseraApp(newApp(), config, blueprintVersion);
  const assembly = built.blueprintStage.synth();
  const templateOf = (stack: Stack) => assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
  const out: BlueprintTemplate[] = [];
  for (const tier of Object.keys(config.tiers)) {
    const tenant = built.blueprintStage.node.findChild(blueprintStackId(tier)) as Stack;
    out.push({ name: tier, file: blueprintFileName(tier, 'tenant'), template: templateOf(tenant) });
    const namespace = built.blueprintStage.node.tryFindChild(namespaceBlueprintStackId(tier)) as Stack | undefined;
    if (namespace) out.push({ name: `${tier}-namespace`, file: blueprintFileName(tier, 'namespace'), template: templateOf(namespace) });
    // A DR tier's DR blueprint (TesseraTenantDr-<tier>, <tier>-dr.template.json).
    const dr = built.blueprintStage.node.tryFindChild(drBlueprintStackId(tier)) as Stack | undefined;
    if (dr) out.push({ name: `${tier}-dr`, file: blueprintFileName(tier, 'dr'), template: templateOf(dr) });
  }
  const baseline = built.blueprintStage.node.tryFindChild(ACCOUNT_BASELINE_STACK_ID) as Stack | undefined;
  if (baseline) out.push({ name: 'account-baseline', file: ACCOUNT_BASELINE_FILE_NAME, template: templateOf(baseline) });
  // Published as synth publishes them (lib/tessera-app.ts): `blueprints/<version>/customizations/<tier>/<name>.template.json`.
  for (const c of readAccountCustomizations(config)) out.push({ name: `customizations/${c.tier}/${c.name}`, file: c.file, template: c.template as CfnTemplate });
  return out;
}
