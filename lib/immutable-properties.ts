/**
 * Properties of the stateful types (lib/stateful-resources.ts) that CloudFormation's documentation says a stack update
 * cannot change in place, but that the resource provider schemas (`createOnlyProperties`, as cfn-lint ships them:
 * lib/preflight/provider-schemas.ts, pinned cfn-lint 1.58.0) do not list. A supplement to the schemas, read with them
 * by the released-blueprints record (lib/released-blueprints.ts: recordedResources, upgradeRisks), the one reader of
 * createOnly that decides whether an upgrade keeps a store.
 *
 * Each entry says what a change does:
 * - `replaces`: the property table says "Update requires: Replacement" (a new, empty resource; with a custom name,
 *   CloudFormation refuses the replacement and the update fails instead);
 * - `update fails`: the documentation says the value cannot be updated and the update request fails (the stack rolls
 *   back): not a lost store, but an upgrade that no tenant on the released version can take.
 *
 * Checked (2026-12-06) for the stateful types the released records hold (RDS DBInstance, ElastiCache ReplicationGroup,
 * EKS Cluster, S3 Bucket, DynamoDB GlobalTable, KMS Key, Backup BackupVault, S3 Vectors VectorBucket, Logs LogGroup,
 * Cognito UserPool): only the properties the blueprints set outside createOnlyProperties were compared with the
 * CloudFormation reference; the entries below are the ones it documents as not updatable.
 */

/** What a change of the property does to a stack update: a new resource, or a failed update. */
export type ImmutableEffect = 'replaces' | 'update fails';

/** One property the schemas miss: its JSON pointer (`/properties/KeySchema`) and what changing it does. */
export interface ImmutableProperty {
  readonly pointer: string;
  readonly effect: ImmutableEffect;
}

const fails = (...names: string[]): ImmutableProperty[] => names.map((n) => ({ pointer: `/properties/${n}`, effect: 'update fails' }));
const replaces = (...names: string[]): ImmutableProperty[] => names.map((n) => ({ pointer: `/properties/${n}`, effect: 'replaces' }));

/**
 * The supplement, by resource type.
 * - AWS::Cognito::UserPool (its schema lists no createOnlyProperties): `AliasAttributes` and `UsernameAttributes`, "This
 *   user pool property cannot be updated", and `UsernameConfiguration`, "This configuration is immutable once it has been
 *   set" (CloudFormation user guide, aws-resource-cognito-userpool; the Cognito developer guide, "Settings you can't
 *   change": "To change user pool sign-in options, create a new user pool"). CloudFormation answers such an update
 *   "Invalid request provided: Updates are not allowed for property - UsernameConfiguration" and rolls back. Its table says
 *   "Update requires: No interruption" today; the 2018 table's "Replacement" for the two sign-in properties is gone, and
 *   CloudFormation no longer replaces the pool for them. `Schema` is not here: a new attribute is an update in place, only
 *   a changed or removed one fails, which a whole-value comparison cannot tell apart.
 * - AWS::KMS::Key (no createOnlyProperties either): "If you change the value of the KeySpec, KeyUsage, Origin, or
 *   MultiRegion properties of an existing KMS key, the update request fails, regardless of the value of the
 *   UpdateReplacePolicy attribute" (CloudFormation template reference, AWS::KMS::Key).
 * - AWS::DynamoDB::GlobalTable (createOnlyProperties: TableName alone): `KeySchema` and `LocalSecondaryIndexes`, "Update
 *   requires: Replacement" (CloudFormation user guide, aws-resource-dynamodb-globaltable).
 */
export const IMMUTABLE_PROPERTIES: Readonly<Record<string, readonly ImmutableProperty[]>> = {
  'AWS::Cognito::UserPool': fails('AliasAttributes', 'UsernameAttributes', 'UsernameConfiguration'),
  'AWS::KMS::Key': fails('KeySpec', 'KeyUsage', 'Origin', 'MultiRegion'),
  'AWS::DynamoDB::GlobalTable': replaces('KeySchema', 'LocalSecondaryIndexes'),
};

/** The supplement's properties of `type` (a CloudFormation resource type); `[]` for a type it has none for. */
export const immutableProperties = (type: string): readonly ImmutableProperty[] => IMMUTABLE_PROPERTIES[type] ?? [];
