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
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailEncryptsTrailLogs',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` } },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsPlatformLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }));
  }
}
