import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * One thing a lifecycle handler does that AWS KMS is asked for with the platform key on the handler's behalf
 * (constructs/tenant-lifecycle.ts, by capability). No lifecycle handler calls AWS KMS with the platform key itself: its
 * KMS calls (schedule-key-deletion.ts, failed-rollbacks.ts, dr-stores.ts) are a tenant account's session on the tenant's
 * keys, and the RDS snapshot copy under the platform key (snapshot-database.ts) is the tenant account's, admitted by the
 * key policy (constructs/platform-key.ts). So every use is a service's:
 *
 * - `dynamodb`: the items of `table` (a table name; `name` names the use). DynamoDB asks AWS KMS as the caller, with
 *   the encryption context `aws:dynamodb:tableName` = the table (AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS
 *   KMS": encryption context; a table's streams and indexes are under its key).
 * - `s3`: objects of the bucket `bucketArn`, every one with an S3 Bucket Key (constructs/secure-bucket-props.ts), whose
 *   encryption context is the bucket's ARN (`aws:s3:arn`; Amazon S3 User Guide, "Reducing the cost of SSE-KMS with Amazon
 *   S3 Bucket Keys"). `actions`: kms:GenerateDataKey to write (PutObject, CreateMultipartUpload), kms:Decrypt to read
 *   (GetObject) and to write by multipart upload (UploadPart, CompleteMultipartUpload: Amazon S3 User Guide, "Using
 *   server-side encryption with AWS KMS keys (SSE-KMS)": permissions). `name` names the statement
 *   (`PlatformKeyThroughS3For<name>`).
 *
 * EventBridge (PutEvents) needs none of the caller: it encrypts the bus's events as itself, by the key policy (Amazon
 * EventBridge User Guide, "Authorizing EventBridge to use a customer managed key"). Neither do the dead-letter queues
 * (DeadLetterKey) and the function's environment (EnvironmentKey), which constructs/lambda-function.ts grants.
 */
export type PlatformKeyUse =
  | { readonly service: 'dynamodb'; readonly name: string; readonly table: string }
  | { readonly service: 's3'; readonly name: string; readonly bucketArn: string; readonly actions: ReadonlyArray<'kms:Decrypt' | 'kms:GenerateDataKey'> };

/**
 * A name for a set of uses, the same for the same set in any order and with repeats (so that roles with the same uses can
 * share one policy): `PlatformKeyFor` and each use's name, sorted; an S3 use's with `Read` for kms:Decrypt and `Write`
 * for kms:GenerateDataKey (e.g. `PlatformKeyForAuditRecordsWriteControlRegistry`).
 * @throws Error when `uses` is empty
 */
export function platformKeyUsesName(uses: readonly PlatformKeyUse[]): string {
  if (uses.length === 0) throw new Error('platformKeyUsesName: no uses');
  const label = (u: PlatformKeyUse) => (u.service === 'dynamodb' ? u.name
    : `${u.name}${u.actions.includes('kms:Decrypt') ? 'Read' : ''}${u.actions.includes('kms:GenerateDataKey') ? 'Write' : ''}`);
  return `PlatformKeyFor${[...new Set(uses.map(label))].sort().join('')}`;
}

/**
 * The statements that let one role use `keyArn` for `uses`, each held to the service that asks (`kms:ViaService`, the
 * service's endpoint in `scope`'s stack's region) and to what it asks for (the encryption context):
 *
 * - `PlatformKeyThroughDynamoDB`: kms:Decrypt, kms:Encrypt and kms:GenerateDataKey for the items of the tables of `uses`
 *   (`kms:EncryptionContext:aws:dynamodb:tableName`, one table a string, several a list), and
 *   `DescribePlatformKeyThroughDynamoDB`: kms:DescribeKey as DynamoDB asks it (DescribeKey carries no encryption context);
 * - `PlatformKeyThroughS3For<name>`: per bucket, the union of its uses' actions (`kms:EncryptionContext:aws:s3:arn`).
 *
 * None when `uses` is empty: a handler that touches no platform-key resource gets no key grant.
 */
export function platformKeyStatements(scope: Construct, keyArn: string, uses: readonly PlatformKeyUse[]): iam.PolicyStatement[] {
  const region = Stack.of(scope).region;
  const via = (service: string) => `${service}.${region}.amazonaws.com`;
  const statements: iam.PolicyStatement[] = [];
  const tables = [...new Set(uses.flatMap((u) => (u.service === 'dynamodb' ? [u.table] : [])))];
  if (tables.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'PlatformKeyThroughDynamoDB', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': via('dynamodb'), 'kms:EncryptionContext:aws:dynamodb:tableName': tables.length === 1 ? tables[0] : tables } },
      }),
      new iam.PolicyStatement({
        sid: 'DescribePlatformKeyThroughDynamoDB', actions: ['kms:DescribeKey'], resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': via('dynamodb') } },
      }),
    );
  }
  const buckets = new Map<string, { bucketArn: string; actions: Set<string> }>();
  for (const u of uses) {
    if (u.service !== 's3') continue;
    const bucket = buckets.get(u.name) ?? { bucketArn: u.bucketArn, actions: new Set<string>() };
    for (const a of u.actions) bucket.actions.add(a);
    buckets.set(u.name, bucket);
  }
  for (const [name, { bucketArn, actions }] of buckets) {
    statements.push(new iam.PolicyStatement({
      sid: `PlatformKeyThroughS3For${name}`, actions: [...actions].sort(), resources: [keyArn],
      conditions: { StringEquals: { 'kms:ViaService': via('s3'), 'kms:EncryptionContext:aws:s3:arn': bucketArn } },
    }));
  }
  return statements;
}
