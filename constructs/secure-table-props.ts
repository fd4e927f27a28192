import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';

export interface SecureTableOptions {
  /** Customer-managed key of the table (the platform key): encrypts the items, streams and point-in-time recovery data. */
  readonly encryptionKey: kms.IKey;
  /**
   * How many days back point-in-time recovery can restore (1–35).
   * @default - DynamoDB's default, 35 days (no `RecoveryPeriodInDays` in the template)
   */
  readonly recoveryPeriodInDays?: number;
  /**
   * The item attribute holding each item's expiry (epoch seconds): DynamoDB TTL deletes expired
   * items lazily, within days, so readers must still refuse them. An option here rather than in
   * the caller's props so the props keep their order, and the synthesized template (CDK's
   * metadata included) stays as it was before the helper.
   * @default - no TTL
   */
  readonly timeToLiveAttribute?: string;
}

/**
 * The properties every Tessera DynamoDB table shares: on-demand billing, encrypted with the
 * platform key, point-in-time recovery, deletion protection, retained when the stack goes. Keys,
 * indexes and streams stay with each table. The backup-plan acknowledgement stays with each
 * table too: its reason is the table's own.
 */
export function secureTableProps(options: SecureTableOptions): Pick<dynamodb.TablePropsV2, 'billing' | 'encryption' | 'pointInTimeRecoverySpecification' | 'timeToLiveAttribute' | 'deletionProtection' | 'removalPolicy'> {
  return {
    billing: dynamodb.Billing.onDemand(),
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(options.encryptionKey),
    pointInTimeRecoverySpecification: {
      pointInTimeRecoveryEnabled: true,
      ...(options.recoveryPeriodInDays !== undefined ? { recoveryPeriodInDays: options.recoveryPeriodInDays } : {}),
    },
    ...(options.timeToLiveAttribute !== undefined ? { timeToLiveAttribute: options.timeToLiveAttribute } : {}),
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}
