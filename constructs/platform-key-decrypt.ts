import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * What a role may kms:Decrypt with a key (the platform key, constructs/platform-key.ts): only as the AWS service that holds
 * the ciphertext asks it, for that resource. Each service calls AWS KMS with the caller's credentials, so the role's own
 * policy decides, and AWS KMS sets `kms:ViaService` to the service's endpoint in the stack's region (AWS KMS Developer
 * Guide, "kms:ViaService", whose table lists DynamoDB, S3, Secrets Manager and SQS):
 *
 * - `dynamodb`: the items of `tables` (names), and of their streams: DynamoDB's encryption context is
 *   `aws:dynamodb:tableName` = the table, and its streams are encrypted under their table's key ("Statements about tables in
 *   this topic apply to these objects [streams, global tables, backups], too": AWS KMS Developer Guide, "How Amazon DynamoDB
 *   uses AWS KMS"). One table is matched as a string, several as a list (any of them).
 * - `s3`: the objects of `bucketArn`, a bucket with an S3 Bucket Key, whose encryption context is the bucket's ARN
 *   (`aws:s3:arn`; Amazon S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"). Not for a bucket
 *   without one: its context is each object's ARN.
 * - `secretsmanager`: the secrets named by `secretArnPattern` (StringLike on `kms:EncryptionContext:SecretARN`, which
 *   Secrets Manager sets to the secret's ARN: AWS KMS Developer Guide, "How AWS Secrets Manager uses AWS KMS").
 * - `sqs`: messages of the SSE-KMS queues `queueArns` the role sends to (SendMessage needs kms:GenerateDataKey and
 *   kms:Decrypt) or receives from (kms:Decrypt), which SQS asks of AWS KMS as the caller (Amazon SQS Developer Guide,
 *   "Amazon SQS Key management": "Configuring AWS KMS permissions", the producer's and the consumer's permissions). A
 *   Lambda function's dead-letter queue and an event source mapping's on-failure queue are sent to, and an SQS event
 *   source polled, with the function's execution role (AWS Lambda Developer Guide, "Execution role" / "Adding a
 *   dead-letter queue"). SQS's encryption context is `aws:sqs:arn` = the queue's ARN (the context AWS's key policy
 *   examples for SQS with a customer managed key condition on, `kms:EncryptionContext:aws:sqs:arn`: Amazon EventBridge
 *   User Guide, dead-letter queues encrypted with a customer managed key; S3 event notifications to an encrypted
 *   queue), so the grant names each queue. One queue is matched as a string, several as a list (any of them).
 *   `actions` defaults to kms:Decrypt; a producer's statement passes kms:GenerateDataKey too. moto does not evaluate
 *   KMS conditions: a dev deploy is where a missing queue shows (the consumer's receives fail with KMS.AccessDenied).
 */
export type DecryptThrough =
  | { readonly service: 'dynamodb'; readonly tables: string[] }
  | { readonly service: 's3'; readonly bucketArn: string }
  | { readonly service: 'secretsmanager'; readonly secretArnPattern: string }
  | { readonly service: 'sqs'; readonly queueArns: string[]; readonly actions?: string[] };

/**
 * An Allow statement of kms:Decrypt (and, for SQS, the given actions) on `keyArn`, conditioned on the service that
 * decrypts and on what it decrypts ({@link DecryptThrough}); `scope`'s stack gives the region of `kms:ViaService`.
 * @throws Error when `tables` (DynamoDB) or `queueArns` (SQS) is empty: a statement must name what it decrypts
 */
export function decryptThrough(scope: Construct, sid: string, keyArn: string, through: DecryptThrough): iam.PolicyStatement {
  const viaService = `${through.service}.${Stack.of(scope).region}.amazonaws.com`;
  const statement = (actions: string[], conditions: Record<string, Record<string, unknown>>) => new iam.PolicyStatement({ sid, actions, resources: [keyArn], conditions });
  switch (through.service) {
    case 'dynamodb':
      if (through.tables.length === 0) throw new Error(`decryptThrough ${sid}: tables is empty; name the DynamoDB tables whose items the role decrypts`);
      return statement(['kms:Decrypt'], { StringEquals: { 'kms:ViaService': viaService, 'kms:EncryptionContext:aws:dynamodb:tableName': through.tables.length === 1 ? through.tables[0] : through.tables } });
    case 's3':
      return statement(['kms:Decrypt'], { StringEquals: { 'kms:ViaService': viaService, 'kms:EncryptionContext:aws:s3:arn': through.bucketArn } });
    case 'secretsmanager':
      return statement(['kms:Decrypt'], { StringEquals: { 'kms:ViaService': viaService }, StringLike: { 'kms:EncryptionContext:SecretARN': through.secretArnPattern } });
    case 'sqs':
      if (through.queueArns.length === 0) throw new Error(`decryptThrough ${sid}: queueArns is empty; name the SQS queues whose messages the role sends or receives`);
      return statement(through.actions ?? ['kms:Decrypt'], {
        StringEquals: { 'kms:ViaService': viaService, 'kms:EncryptionContext:aws:sqs:arn': through.queueArns.length === 1 ? through.queueArns[0] : through.queueArns },
      });
  }
}
