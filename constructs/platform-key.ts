import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface PlatformKeyProps {
  /**
   * Alias of the key.
   * @default 'alias/tessera/platform'
   */
  readonly alias?: string;
  /**
   * The organization and the name of its provisioning role: the offboarding copies a tenant's final
   * database snapshot under this key in the tenant's own (or the workload) account, as that role,
   * so RDS must be able to use the key for it there.
   * @default - no principal outside the platform account may use the key
   */
  readonly archiveCopiers?: { readonly organizationId: string; readonly provisioningRoleName: string };
}

/**
 * The platform's own customer-managed key: tenant registry, lifecycle event bus, audit trail and
 * its logs. Tenant data never uses it; each tenant has its own key (`TenantKey`).
 */
export class PlatformKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias ?? 'alias/tessera/platform',
      description: 'Tessera platform: registry, lifecycle events, audit trail',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const trails = `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*`;
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailEncryptsTrailLogs',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': trails } },
    }));
    // DescribeKey carries no encryption context, so it needs a statement of its own (under the one
    // above it was never allowed). Source: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailDescribesKey',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringLike: { 'aws:SourceArn': trails } },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsPlatformLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }));
    if (props.archiveCopiers) {
      // CopyDBSnapshot with this key as the target, run by the provisioning role of a member account:
      // RDS creates grants and encrypts under it for the caller. Only through RDS, only that role,
      // only inside the organization; decrypting stays with the platform account.
      // Source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html (copying encrypted snapshots)
      const copiers = {
        StringEquals: { 'aws:PrincipalOrgID': props.archiveCopiers.organizationId, 'kms:ViaService': `rds.${Aws.REGION}.amazonaws.com` },
        ArnLike: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::*:role/${props.archiveCopiers.provisioningRoleName}` },
      };
      this.key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'ProvisioningRolesCopySnapshotsIntoArchive',
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: copiers,
      }));
      this.key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'ProvisioningRolesGrantRdsOnArchive',
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { ...copiers, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }));
    }
  }
}
