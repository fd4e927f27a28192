import { z } from 'zod';

/**
 * An account customization's name: the last part of its stack name `tessera-<tenant>-custom-<name>` and of its catalog
 * key `blueprints/<version>/customizations/<tier>/<name>.template.json`. Lower-case letters, digits and hyphens, 1-32,
 * starting and ending with a letter or digit: with the longest tenant id (24) the stack name is at most 72 characters,
 * within CloudFormation's 128 and its `[a-zA-Z][-a-zA-Z0-9]*`.
 */
export const CUSTOMIZATION_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * One entry of `tiers.<tier>.accountCustomizations` (an `account`-isolation tier only): a CloudFormation template of
 * the platform team's own, deployed as its own stack `tessera-<tenant>-custom-<name>` in every tenant account of the
 * tier, after the tier blueprint (AFT's account customizations, Landing Zone Accelerator's customizations).
 */
export const AccountCustomizationSchema = z.strictObject({
  /** Stack-name fragment (CUSTOMIZATION_NAME), unique in the tier. */
  name: z.string().regex(CUSTOMIZATION_NAME, 'must be 1-32 lower-case letters, digits and hyphens, starting and ending with a letter or digit (it ends the stack name tessera-<tenant>-custom-<name>)'),
  /**
   * Path of the template (JSON or YAML, CloudFormation's short-form tags such as `!Ref` read), relative to the directory
   * `cdk synth` runs in (the project root) unless absolute. Read, checked and published at synth (readAccountCustomizations).
   */
  templateFile: z.string().min(1),
  /** Stack parameters by name (values as CloudFormation takes them: strings; a list is comma-joined). @default - none: the template's defaults */
  parameters: z.record(z.string().min(1), z.string()).optional(),
});
export type AccountCustomization = z.infer<typeof AccountCustomizationSchema>;

/** Catalog file of a tier's customization: `customizations/<tier>/<name>.template.json` (lambdas/lifecycle/customizations.ts reads the same key). */
export const customizationFileName = (tier: string, name: string) => `customizations/${tier}/${name}.template.json`;

/** The stack of a tenant's customization in its account: `tessera-<tenant>-custom-<name>`. */
export const customizationStackName = (tenantId: string, name: string) => `tessera-${tenantId}-custom-${name}`;
