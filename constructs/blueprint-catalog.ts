import { type CfnElement, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeployTimeFunction } from '../lib/compliance.js';

export interface BlueprintCatalogProps {
  /** Only principals of this AWS Organization may read the templates. */
  readonly organizationId: string;
  /** Bucket receiving the catalog's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Blueprint version: templates are published under `blueprints/<version>/`. */
  readonly version: string;
  /** Encrypts the publisher's logs. */
  readonly encryptionKey: kms.IKey;
  /** Template objects by file name, e.g. `{ 'starter.template.json': {...} }`. */
  readonly templates: Record<string, unknown>;
}

/**
 * Where the lifecycle workflow finds the tier blueprints: CloudFormation in any account of the
 * organization reads a template by URL with the caller's credentials, so the bucket admits the
 * organization (`aws:PrincipalOrgID`) and denies everyone else.
 */
export class BlueprintCatalog extends Construct {
  readonly bucket: s3.Bucket;
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: BlueprintCatalogProps) {
    super(scope, id);
    this.prefix = `blueprints/${props.version}/`;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // Templates are read cross-account by every member; SSE-KMS would need every member role on the key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'blueprint-catalog/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OrganizationReadsBlueprints',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [this.bucket.arnForObjects('blueprints/*')],
      conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
    }));
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyReadsOutsideOrganization',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'],
      resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      conditions: { StringNotEquals: { 'aws:PrincipalOrgID': props.organizationId } },
    }));
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS'],
      'Blueprint templates hold no tenant data or secrets and are read cross-account by CloudFormation in every member account; SSE-KMS would require every member role on a platform key.');
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'Blueprint templates are build output: `cdk deploy` republishes them from source, so a replica adds nothing.');

    new s3deploy.BucketDeployment(this, 'Publish', {
      logGroup: new logs.LogGroup(this, 'PublishLogs', { encryptionKey: props.encryptionKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN }),
      destinationBucket: this.bucket,
      destinationKeyPrefix: this.prefix,
      sources: Object.entries(props.templates).map(([name, template]) => s3deploy.Source.jsonData(name, template)),
      prune: false, // earlier versions stay readable while tenants still run them
      retainOnDelete: true,
    });
    const stack = Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) throw new Error('BlueprintCatalog: the BucketDeployment handler was not found');
    const assetBucket = `cdk-hnb659fds-assets-${stack.account}-${stack.region}`;
    acknowledgeDeployTimeFunction(handler, {
      purpose: 'The blueprint publisher (aws-cdk-lib BucketDeployment)',
      managedPolicyFindings: ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'],
      wildcards: {
        findings: [
          ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((a) => `AwsSolutions::AwsSolutions-IAM5[Action::${a}]`),
          `AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/*]`,
          `AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::${assetBucket}/*]`,
        ],
        reason: 'the copy needs object-level read on the CDK asset bucket and object-level write on the catalog bucket; the action groups are aws-cdk-lib\'s grantRead/grantReadWrite, each limited to those two buckets.',
      },
      outsideVpcReason: 'it only copies objects from the CDK asset bucket to the catalog bucket through the S3 API and reaches no VPC resource.',
    });
  }
}
