import { drRestoredInstanceIdentifier, TENANT_ID_PATTERN } from '../tenant-naming.js';

/** Logical id of the restored instance in the step-7 stack (the IMPORT's `LogicalResourceId`). */
export const RESTORED_DATABASE_LOGICAL_ID = 'RestoredDatabase';

/** The step-7 stack of the failover runbook: `tessera-<id>-restored` (a tessera-* stack, as the guardrail SCP expects). */
export function restoredDatabaseStackName(tenantId: string): string {
  return `${drRestoredInstanceIdentifier(tenantId)}`;
}

/**
 * The CloudFormation template through which the failover runbook's step 7 modifies the restored
 * instance `tessera-<id>-restored` as the blueprint execution role (CloudFormation's service role,
 * which only CloudFormation can assume): first imported (`create-change-set --change-set-type
 * IMPORT`, `TenantKeyArn` empty: no property is applied on import), then updated with `TenantKeyArn`
 * set (`update-stack --use-previous-template`), which makes CloudFormation's RDS handler call
 * ModifyDBInstance with IAM database authentication on and an RDS-managed master secret under that
 * key (`ManageMasterUserPassword`, `MasterUserSecret.KmsKeyId`). Secrets Manager then encrypts the
 * secret with the key on the execution role's behalf, which the tenant key's policy admits
 * (`DeployerCreatesResourcesThroughServices`, kms:ViaService secretsmanager).
 *
 * - `DeletionPolicy`/`UpdateReplacePolicy` Retain (an import requires a DeletionPolicy): deleting
 *   this stack leaves the instance.
 * - `DeletionProtection` true with `TenantKeyArn` only, like the other modified properties: an import
 *   checks only the identifier and applies no property (a template that claimed `true` on import would
 *   start out drifted from the restored instance, whose protection is off), so the update turns it on
 *   (ModifyDBInstance DeletionProtection). https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html
 * - Parameters: `TenantId` (AllowedPattern TENANT_ID_PATTERN, the form every other tenant id check uses: no
 *   double hyphen either); `TenantKeyArn` (the rebuilt failover stack's `KeyArn` output; default
 *   empty = import only).
 * - Outputs (with `TenantKeyArn` only): `DbiResourceId`, `Endpoint`, `SecretArn`: the values step 8 passes.
 *
 * No `'` in it: the failover plan prints it inside a single-quoted shell argument.
 *
 * The properties left out are not managed by this stack: CloudFormation's update handler sends
 * ModifyDBInstance only what changed between the two templates' resolved properties.
 * Sources: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html
 */
export function restoredDatabaseTemplate(): Record<string, unknown> {
  const modify = 'SecretKeyGiven';
  const ifModify = (value: unknown) => ({ 'Fn::If': [modify, value, { Ref: 'AWS::NoValue' }] });
  const output = (description: string, value: unknown) => ({ Condition: modify, Description: description, Value: value });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Tessera failover runbook step 7: the restored DB instance tessera-<TenantId>-restored, imported, then given IAM database authentication and an RDS-managed master secret under the tenant key of the rebuilt stack',
    Parameters: {
      // The one tenant id form (TENANT_ID_PATTERN: TenantId's schema, isTenantId, the tenant stacks' parameter), its
      // `(?!.*--)` too: CloudFormation's AllowedPattern is Java's regex syntax, which has lookahead (cfn-regexes.html).
      TenantId: { Type: 'String', AllowedPattern: TENANT_ID_PATTERN, Description: 'Tenant id' },
      TenantKeyArn: { Type: 'String', Default: '', AllowedPattern: '^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]+)?$', Description: 'KeyArn output of the rebuilt failover stack; empty for the import' },
    },
    Conditions: { [modify]: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TenantKeyArn' }, ''] }] } },
    Resources: {
      [RESTORED_DATABASE_LOGICAL_ID]: {
        Type: 'AWS::RDS::DBInstance',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          DBInstanceIdentifier: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-restored']] },
          EnableIAMDatabaseAuthentication: ifModify(true),
          ManageMasterUserPassword: ifModify(true),
          MasterUserSecret: ifModify({ KmsKeyId: { Ref: 'TenantKeyArn' } }),
          // The instance with the live data: protected from deletion from the update on (a restore leaves it off).
          DeletionProtection: ifModify(true),
        },
      },
    },
    Outputs: {
      DbiResourceId: output('RestoredDbiResourceId of step 8', { 'Fn::GetAtt': [RESTORED_DATABASE_LOGICAL_ID, 'DbiResourceId'] }),
      Endpoint: output('RestoredDatabaseEndpoint of step 8', { 'Fn::GetAtt': [RESTORED_DATABASE_LOGICAL_ID, 'Endpoint.Address'] }),
      SecretArn: output('RestoredDatabaseCredentialsArn of step 8', { 'Fn::GetAtt': [RESTORED_DATABASE_LOGICAL_ID, 'MasterUserSecret.SecretArn'] }),
    },
  };
}
