import type { z } from 'zod';
import { ACCOUNT_BASELINE_FILE_NAME, WORKLOAD_PROVISIONING_FILE_NAME } from '../tenant-naming.js';

/**
 * A tier blueprint's file in the blueprint catalog (`blueprints/<version>/<file>`): `<tier>.template.json` (tenant),
 * `<tier>-namespace.template.json`, `<tier>-dr.template.json`. lambdas/lifecycle/blueprints.ts reads the same keys.
 */
export const blueprintFileName = (tier: string, kind: 'tenant' | 'namespace' | 'dr') => `${tier}${kind === 'tenant' ? '' : `-${kind}`}.template.json`;

/**
 * Every tier's blueprints must have catalog files of their own: the catalog is one object per file name
 * (lib/tessera-app.ts `blueprintTemplates`), so a tier named `account-baseline` or `workload-provisioning-role` would
 * silently replace the account baseline or the workload provisioning role's template with its tenant blueprint (every
 * account onboarding then deploying a tenant template as `tessera-account-baseline`), and a tier named `<tier>-namespace`
 * or `<tier>-dr` after another tier would take, or lose, that tier's namespace or DR blueprint file. Refused whatever the
 * other tier's compute mode or disaster recovery is now, so that turning either on later cannot collide. An issue names
 * the tier key and the file it would share.
 */
export function checkBlueprintFileNames(c: { tiers: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  const platformFiles = [ACCOUNT_BASELINE_FILE_NAME, WORKLOAD_PROVISIONING_FILE_NAME];
  for (const tier of Object.keys(c.tiers)) {
    const file = blueprintFileName(tier, 'tenant');
    const clash = platformFiles.includes(file)
      ? `the platform's own ${file}`
      : Object.keys(c.tiers).flatMap((other) => (['namespace', 'dr'] as const)
        .filter((kind) => blueprintFileName(other, kind) === file).map((kind) => `tier ${other}'s ${kind} blueprint ${file}`))[0];
    if (clash) {
      ctx.addIssue({ code: 'custom', path: ['tiers', tier], message: `is a tier name whose tenant blueprint would be the blueprint catalog's file ${file}, which is ${clash}: one would replace the other at synth; rename the tier` });
    }
  }
}
