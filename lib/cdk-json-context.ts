import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The context the CDK CLI would pass: cdk.json's feature flags, for Apps built outside the CLI
 * (tests, benchmarks), so that what tests assert is what `cdk synth` produces. There is no
 * cdk.context.json: the app performs no lookups (Availability Zones come from the config).
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

/**
 * What the CDK CLI adds to cdk.json's context when it runs the app (`cdk synth`, `cdk deploy`) and that shapes the
 * templates or their validation, with the CLI's defaults (cdk.json sets none of `versionReporting`, `pathMetadata`,
 * `assetMetadata`): `aws:cdk:version-reporting` (each stack's `CDKMetadata` resource, `AWS::CDK::Metadata`), path and
 * asset metadata (`aws:cdk:path`, `aws:asset:*` on each resource). Source: aws-cdk's `contextFromSettings`.
 *
 * The `CDKMetadata` resource is what makes aws-cdk-lib's CloudFormation validation (`@aws/cloudformation-validate`,
 * after cfn-lint's `is_cdk_template`) read a template as one CDK wrote, and skip the rules that do not apply to one:
 * W3010 "Avoid hardcoding availability zones", which every subnet of a VPC with pinned `availabilityZones` would
 * otherwise raise. An App built without these keys validates templates `cdk synth` never produces.
 *
 * Not included: `@aws-cdk/core:failSynthOnValidationErrors: false`, with which the CLI takes over printing the
 * validation report: an App synthesized in-process (no CLI) prints its findings and fails on an error itself.
 */
export const CDK_CLI_CONTEXT: Readonly<Record<string, unknown>> = {
  'aws:cdk:version-reporting': true,
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
};

/** cdk.json's context plus what the CDK CLI adds to it ({@link CDK_CLI_CONTEXT}): an App's context as under `cdk synth`. */
export function cdkCliContext(): Record<string, unknown> {
  return { ...cdkJsonContext(), ...CDK_CLI_CONTEXT };
}
