import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3vectors from 'aws-cdk-lib/aws-s3vectors';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { TENANT_ID_TAG, tenantVectorBucketName } from '../lib/tenant-naming.js';
import type { TenantKey } from './tenant-key.js';

/**
 * What the gateway does in a tenant's vector bucket (lambdas/inference/vector-stores/s3-vectors-index.ts), each on the
 * bucket's indexes only (resource type `Index`, `arn:…:s3vectors:<region>:<account>:bucket/<name>/index/<index>`, in the
 * Service Authorization Reference for Amazon S3 Vectors): GetIndex before CreateIndex, DeleteIndex, PutVectors,
 * DeleteVectors, QueryVectors, and GetVectors, which QueryVectors also needs when it returns metadata or filters on it.
 * No bucket action (no DeleteVectorBucket, no bucket policy), no ListIndexes or ListVectors. CreateIndex is granted apart,
 * with the tenant key only (VECTOR_STORE_CREATE_INDEX_CONDITIONS).
 */
export const VECTOR_STORE_ACTIONS = [
  's3vectors:CreateIndex', 's3vectors:GetIndex', 's3vectors:DeleteIndex',
  's3vectors:PutVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors', 's3vectors:QueryVectors',
] as const;

/**
 * The conditions of the vector-store role's CreateIndex: an index encrypted with SSE-KMS (`s3vectors:sseType` =
 * `aws:kms`, not SSE-S3's `AES256`) under the tenant key `keyArn` (`s3vectors:kmsKeyArn`, an ARN-typed key: ArnEquals).
 * Both condition keys are CreateIndex's (Service Authorization Reference for Amazon S3 Vectors, "Actions defined by
 * Amazon S3 Vectors": CreateIndex takes `s3vectors:kmsKeyArn` and `s3vectors:sseType`), the request's
 * `encryptionConfiguration`; so the role cannot create an index in its own bucket under another tenant's key, nor one
 * without the tenant key, whatever the key policies say. The gateway passes the configuration explicitly
 * (s3-vectors-index.ts), since the bucket's default is not documented to set the keys when the request omits it: a
 * CreateIndex without it is refused.
 */
export function vectorStoreCreateIndexConditions(keyArn: string): Record<string, Record<string, string>> {
  return { StringEquals: { 's3vectors:sseType': 'aws:kms' }, ArnEquals: { 's3vectors:kmsKeyArn': keyArn } };
}

/** The S3 Vectors indexing service, which uses the bucket's KMS key in the background (S3 Vectors "Data protection and encryption"). */
export const S3_VECTORS_INDEXING_PRINCIPAL = 'indexing.s3vectors.amazonaws.com';

export interface TenantVectorBucketProps {
  readonly tenantId: string;
  /** The tenant's key: the bucket's SSE-KMS key; its policy gains the statements S3 Vectors needs. */
  readonly key: TenantKey;
  /** The tenant's vector-store role (TenantRoles.vectorStore), assumed by the gateway's router: the one principal granted the indexes. */
  readonly vectorStoreRole: iam.IRole;
}

/**
 * The tenant's Amazon S3 Vectors bucket (`AWS::S3Vectors::VectorBucket`) for OpenAI's Vector Stores API on AWS:
 * `tessera-<tenant>-vectors` (lib/tenant-naming.ts), one index per vector store, in every tier. Each tenant has its own
 * bucket, whatever the tier's isolation: a VPC tier's tenants share the workload account, as they do for the tenant
 * bucket (constructs/tenant-storage.ts), and the bucket's name and ARN carry the tenant, so the grant names one bucket.
 *
 * - SSE-KMS with the tenant key (fixed at creation: S3 Vectors cannot change a bucket's encryption afterwards). The key
 *   policy lets the S3 Vectors indexing service decrypt for this bucket only (`aws:SourceAccount`, `aws:SourceArn` the
 *   bucket and its indexes, the encryption context keys S3 Vectors uses), and the vector-store role use the key through
 *   S3 Vectors in this Region only (`kms:ViaService`), as far as its identity policy allows too.
 * - Retained when removed from the template or the stack is deleted (DeletionPolicy/UpdateReplacePolicy Retain, which
 *   the blueprint's RetainExceptOnCreate makes RetainExceptOnCreate): vector stores are tenant data.
 * - The vector-store role: VECTOR_STORE_ACTIONS on `bucket/<name>/index/*` of this bucket only, CreateIndex only for an
 *   index under the tenant key (vectorStoreCreateIndexConditions), and the key for S3 Vectors' calls. Not a data principal of the tenant bucket, nor of anything else.
 * S3 Vectors has no replication, and nothing rebuilds a tenant's vector stores in a DR region: their records (the
 * responses table) and files (the batch files bucket) are not copied there either (docs/resilience.md, RTO and RPO by tier).
 */
export class TenantVectorBucket extends Construct {
  readonly bucket: s3vectors.CfnVectorBucket;
  /** `arn:<partition>:s3vectors:<region>:<account>:bucket/tessera-<tenant>-vectors`, built from the name (no reference to the bucket). */
  readonly bucketArn: string;
  readonly bucketName: string;

  constructor(scope: Construct, id: string, props: TenantVectorBucketProps) {
    super(scope, id);
    this.bucketName = tenantVectorBucketName(props.tenantId);
    // From the name, not the bucket's attribute: the key policy cannot refer to the bucket its key encrypts (a cycle).
    this.bucketArn = `arn:${Aws.PARTITION}:s3vectors:${Aws.REGION}:${Aws.ACCOUNT_ID}:bucket/${this.bucketName}`;
    this.bucket = new s3vectors.CfnVectorBucket(this, 'Bucket', {
      vectorBucketName: this.bucketName,
      encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn: props.key.keyArn },
      tags: [{ key: TENANT_ID_TAG, value: props.tenantId }],
    });
    this.bucket.applyRemovalPolicy(RemovalPolicy.RETAIN);

    props.key.allowServicePrincipal('S3VectorsIndexingDecrypts', S3_VECTORS_INDEXING_PRINCIPAL, ['kms:Decrypt'], {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': [this.bucketArn, `${this.bucketArn}/*`] },
      'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3vectors:arn', 'aws:s3vectors:resource-id'] },
    });
    const viaS3Vectors = { StringEquals: { 'kms:ViaService': `s3vectors.${Aws.REGION}.amazonaws.com` } };
    props.key.allowThroughIdentityPolicy('VectorStoreThroughS3Vectors', props.vectorStoreRole, ['kms:GenerateDataKey', 'kms:Decrypt'], viaS3Vectors);

    const policy = new iam.ManagedPolicy(this, 'VectorStorePolicy', {
      description: 'Tessera tenant VectorStore access: the indexes of the tenant vector bucket', roles: [props.vectorStoreRole],
    });
    const indexes = `${this.bucketArn}/index/*`;
    policy.addStatements(
      new iam.PolicyStatement({ sid: 'VectorStoreIndexes', actions: VECTOR_STORE_ACTIONS.filter((a) => a !== 's3vectors:CreateIndex'), resources: [indexes] }),
      new iam.PolicyStatement({ sid: 'VectorStoreCreateIndexWithTenantKey', actions: ['s3vectors:CreateIndex'], resources: [indexes], conditions: vectorStoreCreateIndexConditions(props.key.keyArn) }),
      new iam.PolicyStatement({ sid: 'TenantKeyThroughS3Vectors', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.key.keyArn], conditions: viaS3Vectors }),
    );
    acknowledge(policy, [wildcardResourceFinding(this, indexes)],
      'One index per vector store, created at run time as stores are created (vs-<hex>): the pattern is the indexes of this tenant\'s own vector bucket only, no bucket action.');
  }
}
