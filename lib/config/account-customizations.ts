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

/**
 * An IAM managed policy ARN a customizations role may carry: an AWS managed policy (`arn:<partition>:iam::aws:policy/[<path>/]<name>`)
 * or the platform team's own in the tenant account, its account written `{accountId}` (filled in per account:
 * `arn:aws:iam::{accountId}:policy/SecurityTooling`), since IAM attaches a policy of the role's own account only.
 * Partitions aws, aws-cn, aws-us-gov; path and name of IAM's characters (letters, digits and +=,.@_-), the name at most 128.
 */
export const CUSTOMIZATIONS_POLICY_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(?:aws|\{accountId\}):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;

/** IAM's default quota of managed policies attached to one role (the permissions boundary is not one of them). */
export const ROLE_MANAGED_POLICY_QUOTA = 10;

/**
 * `tiers.<tier>.accountCustomizationsRole`: what the customization stacks of the tier may create, as the managed
 * policies of the customizations role (ACCOUNT_CUSTOMIZATIONS_ROLE_NAME, constructs/account-customizations-role.ts)
 * in each tenant account. Whatever they grant, the role's permissions boundary denies Tessera's own resources.
 */
export const AccountCustomizationsRoleSchema = z.strictObject({
  /** 1-10 ARNs (CUSTOMIZATIONS_POLICY_ARN), e.g. `arn:aws:iam::aws:policy/AWSSecurityHubFullAccess`. */
  managedPolicyArns: z.array(z.string().regex(CUSTOMIZATIONS_POLICY_ARN, 'must be an IAM managed policy ARN: an AWS managed policy (arn:aws:iam::aws:policy/<name>) or one of the tenant account\'s own, written arn:aws:iam::{accountId}:policy/<name> (IAM attaches a policy of the role\'s own account only)'))
    .min(1).max(ROLE_MANAGED_POLICY_QUOTA, `at most ${ROLE_MANAGED_POLICY_QUOTA} (IAM's quota of managed policies per role)`),
});
export type AccountCustomizationsRole = z.infer<typeof AccountCustomizationsRoleSchema>;

/** The role's policy ARNs in account `accountId` (`{accountId}` filled in), for the account baseline's ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER. */
export const customizationsPolicyArns = (role: AccountCustomizationsRole, accountId: string) => role.managedPolicyArns.map((a) => a.replace('{accountId}', accountId));
