import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { drBucketName, drKeyAlias } from '../lib/tenant-naming.js';

export interface TenantFailoverAccessProps {
  /** The tenant id (a token: the blueprint's `TenantId` parameter). */
  readonly tenantId: string;
  /** The tier's DR region, where the failover variant is deployed and the DR bucket and key live. */
  readonly drRegion: string;
  /**
   * The tenant's roles that copy the replica back into the rebuilt bucket (the runbook's "Tenant objects"
   * step): the tenant admin role and break-glass, imported from the home stack.
   */
  readonly roles: readonly iam.IRole[];
}

/**
 * The failover variant's one grant beyond the tier blueprint's: read the tenant's DR bucket
 * `tessera-<id>-dr-<account>-<region>` (the S3 replica of the lost home bucket) and decrypt its objects
 * with the DR key `alias/tessera-<id>-dr`, through S3 of the DR region only. The DR blueprint's key and
 * bucket policies already admit the tenant's roles and break-glass by exact ARN (constructs/tenant-dr-key.ts,
 * TenantRolesUseKey; the bucket policy's tenant statements), but the key policy admits them through the
 * account principal, so each also needs this identity policy
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
 *
 * One customer-managed policy with a name CloudFormation generates (stack, logical id and a random
 * suffix), attached to the imported roles: it never replaces a policy of the home stack on the same role.
 */
export class TenantFailoverAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: TenantFailoverAccessProps) {
    super(scope, id);
    const bucketArn = `arn:${Aws.PARTITION}:s3:::${drBucketName(props.tenantId, Aws.ACCOUNT_ID, props.drRegion)}`;
    const drKeys = `arn:${Aws.PARTITION}:kms:${props.drRegion}:${Aws.ACCOUNT_ID}:key/*`;
    this.policy = new iam.ManagedPolicy(this, 'ReadReplica', {
      description: `Tessera tenant failover: read the DR bucket (the replica) in ${props.drRegion} with the DR key, through S3 only`,
      roles: [...props.roles],
      statements: [
        new iam.PolicyStatement({ sid: 'ListReplica', actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [bucketArn] }),
        new iam.PolicyStatement({ sid: 'ReadReplicaObjects', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [`${bucketArn}/*`] }),
        new iam.PolicyStatement({
          // The DR key's ARN is not known to this blueprint; its alias is (kms:ResourceAliases: the key's aliases).
          // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases
          sid: 'DecryptReplicaWithDrKeyThroughS3',
          actions: ['kms:Decrypt'],
          resources: [drKeys],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${props.drRegion}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': drKeyAlias(props.tenantId) },
          },
        }),
      ],
    });
    acknowledge(this.policy, [
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::tessera-<TenantId>-dr-<AWS::AccountId>-${props.drRegion}/*]`,
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${props.drRegion}:<AWS::AccountId>:key/*]`,
    ], 'The failover copies every object of the tenant\'s own DR bucket (keys made at run time; the bucket admits this tenant\'s roles only); the DR key is created by the DR blueprint, so it is named by its alias through kms:ResourceAliases, and used only for decryption through S3 in the DR region.');
  }
}
