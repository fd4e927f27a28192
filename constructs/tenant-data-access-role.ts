import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { TENANT_DATA_ROLE_NAME, TENANT_ID_TAG } from '../lib/tenant-naming.js';
import { MODEL_USAGE_INDEX } from '../lambdas/inference/stores/model-usage.js';
import { auditStreamPrefix, REQUEST_AUDIT_STREAMS } from '../lib/audit-prefixes.js';
import { KEYS_BY_CREATION_INDEX } from '../lib/identity/api-key.js';
import { batchFilesPrefix, keptFilesPrefix } from './batch-work.js';
import type { LambdaFunction } from './lambda-function.js';
import { policyScopeFor } from './lambda-function.js';

export interface TenantDataAccessRoleProps {
  /** The tenant registry (partition key `tenantId`): a session reads its tenant's record and adds fine-tuned models to it. */
  readonly registry: dynamodb.ITableV2;
  /**
   * The gateway's usage table (partition key `id` = `rate#<tenant>#<window>` | `usage#<tenant>#<day|month>`
   * | `usage#<tenant>#<user|key>#<id>#<period>` | `usage#<tenant>#model#<day>#<model>`, the usage ledger,
   * whose index `model-usage` a session may Query only in its own tenant's partitions `usage#<tenant>#model#<YYYY-MM>`:
   * `GET /v1/usage?group_by=model`).
   */
  readonly usageTable: dynamodb.ITableV2;
  /** The fine-tuning jobs table (partition key `tenantId`, sort key `jobId`). */
  readonly jobsTable: dynamodb.ITableV2;
  /** Stored Responses API answers and conversations (partition key `tenantId`, sort key `responseId`: `resp_…`, `conv_…`): the router stores, reads, updates, queries and deletes a tenant's. */
  readonly responsesTable: dynamodb.ITableV2;
  /**
   * Tenant API keys (constructs/api-keys-table.ts; partition key `tenantId`, sort key `keyHash`):
   * the authorizer looks a key up by hash and records its last use, the router lists, creates,
   * revokes and rotates a tenant's keys (`/v1/tenant/keys`).
   */
  readonly apiKeysTable: dynamodb.ITableV2;
  /** The platform key, which encrypts the tables and the tenants' provider secrets. */
  readonly encryptionKey: kms.IKey;
  /**
   * The Batch API's files (constructs/batch-work.ts; SSE-KMS with `encryptionKey`, no S3 Bucket Key): a session reads,
   * writes and deletes its tenant's objects under `tenants/<tenant>/batch-files/` only.
   * @default - no batch files: no S3 statement
   */
  readonly batchFilesBucket?: s3.IBucket;
  /**
   * The audit bucket (constructs/audit-trail.ts; SSE-KMS with `encryptionKey` and an S3 Bucket Key): a session reads
   * its tenant's gateway records only (the router's and the fine-tuning API's streams),
   * `tessera-audit/{,dr-tier/}inference/<tenant>/*` and `tessera-audit/{,dr-tier/}fine-tuning/<tenant>/*`
   * (`GET /v1/tenant/requests/{request_id}`: lambdas/inference/s3-audit-reader.ts).
   * @default - no audit reads: no statement
   */
  readonly auditBucket?: s3.IBucket;
  /**
   * The Lambdas that act for one tenant at a time (the gateway authorizer and router, the
   * fine-tuning Lambdas): the role trusts their roles, and their policies may assume it.
   */
  readonly trustedFunctions: LambdaFunction[];
}

/** The session tag as a policy variable: the tenant the session was assumed for. */
export const SESSION_TENANT = `\${aws:PrincipalTag/${TENANT_ID_TAG}}`;

/**
 * Tenant-scoped credentials for the platform's pooled data (AWS SaaS Lens, "token vending"). The
 * gateway and fine-tuning Lambdas assume this role with the session tag `tessera:tenant-id` = the
 * tenant they act for (lambdas/shared/tenant-credentials.ts); its policies admit only that tenant's
 * items (`dynamodb:LeadingKeys`) and secrets (path and `tessera:tenant-id` resource tag). So a
 * request for another tenant's item is refused by AWS, whatever the code asks.
 *
 * - Every DynamoDB statement requires `dynamodb:LeadingKeys` to be present (`Null`): `ForAllValues`
 *   is true of a request that has none (Scan, a query of an index keyed otherwise). No Scan and no
 *   BatchGetItem is granted; only the item actions the Lambdas call, and one index: Query of the usage
 *   ledger's `model-usage` index (`GET /v1/usage?group_by=model`, and the cached token counts of
 *   `GET /v1/usage`) where its partition key, which LeadingKeys holds for a Query of an index (DynamoDB
 *   developer guide, "Using IAM policy conditions for fine-grained access control"), is
 *   `usage#<session tenant>#model#*`: the tenant's own months, never another's (`#` follows the tag).
 * - The usage table keeps its key schema: its keys start with `rate#<tenant>#` or `usage#<tenant>#`
 *   and neither a tenant id nor an STS tag value can contain `#`, so `rate#acme#*` never matches
 *   tenant `acme-2`'s `rate#acme-2#…`. (A new key schema would replace a retained, deletion-protected
 *   table and lose the month-to-date totals that budgets are checked against.)
 * - The registry: GetItem, and UpdateItem of `fineTunedModels` and `updatedAt` only
 *   (`dynamodb:Attributes`): a session can never change its tenant's status, tier or limits.
 * - Stored responses and conversations (one table): GetItem, PutItem and DeleteItem of the session
 *   tenant's partition (the Responses API's store, retrieve and delete; input items live in the
 *   response's item), UpdateItem (a conversation's metadata and its next item position) and Query
 *   (a page of a conversation's items: lambdas/inference/stores/dynamodb-conversation-store.ts), all
 *   of the session tenant's partition only.
 * - API keys: GetItem (by hash), Query (the tenant's list), PutItem (create, rotate) and UpdateItem
 *   (revoke, expiry of a rotated key, lastUsedAt) of the session tenant's partition. No DeleteItem
 *   or BatchWriteItem: a key is revoked, never deleted, by the gateway; offboarding deletes a
 *   tenant's keys with its own role (constructs/tenant-lifecycle.ts).
 * - Gateway files (the Files API's purposes but `fine-tune`): GetObject, PutObject, DeleteObject and AbortMultipartUpload (an upload's parts composed into its file, aborted when refused) of
 *   `tenants/<session tenant>/batch-files/*` (files that expire) and `kept-files/<session tenant>/*` (files kept until
 *   deleted) of the batch files bucket; no other prefix. Listing (ListBucket) only with an `s3:prefix` inside
 *   `tenants/<session tenant>/batch-files/uploads/` (the Uploads API's parts of an upload; the file records are in the
 *   responses table).
 * - Audit records (the router's and the fine-tuning API's, one object per request): GetObject of
 *   `tessera-audit/{,dr-tier/}inference/<session tenant>/*` and `tessera-audit/{,dr-tier/}fine-tuning/<session tenant>/*`
 *   of the audit bucket; no listing (a missing record is S3's 403 then, read as absent), no write (the gateway writes
 *   records with its own roles), not the lifecycle stream, no other prefix.
 * - KMS only through DynamoDB for these tables (encryption context `aws:dynamodb:tableName`),
 *   through Secrets Manager for the tenant's own secrets (encryption context `SecretARN`) and
 *   through S3 for the tenant's own batch files (encryption context `aws:s3:arn`, the object's ARN
 *   under its prefix: the bucket uses no S3 Bucket Key, which would make it the bucket's).
 *
 * The trust admits only `trustedRoles`, only with the tag `tessera:tenant-id` (and no other tag),
 * not transitive (the role can assume nothing, and no chained session could carry the tag on).
 * IAM has no regular expressions: the trust refuses values with characters a tenant id cannot
 * have that STS tag values may (`/ : . _ = + @` and spaces), hyphens a tenant id cannot have, and
 * values over 24 characters; lambdas/shared/tenant-credentials.ts checks the full pattern before
 * calling STS. No tag value can reach another tenant's data either way: the policies compare the
 * tag whole, with `#` or `/` after it.
 */
export class TenantDataAccessRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TenantDataAccessRoleProps) {
    super(scope, id);
    if (props.trustedFunctions.length === 0) throw new Error('TenantDataAccessRole: trustedFunctions must name at least one function (got none)');
    const stack = Stack.of(this);
    const tag = `aws:RequestTag/${TENANT_ID_TAG}`;

    this.role = new iam.Role(this, 'Role', {
      roleName: TENANT_DATA_ROLE_NAME,
      description: 'Tessera: one tenant\'s items of the pooled tables and its provider secrets, for the session tag tessera:tenant-id',
      assumedBy: new iam.SessionTagsPrincipal(new iam.CompositePrincipal(...props.trustedFunctions.map((f) => new iam.ArnPrincipal(f.role.roleArn)))).withConditions({
        Null: { [tag]: 'false', 'sts:TransitiveTagKeys': 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_ID_TAG] },
        StringNotLike: { [tag]: ['*/*', '*:*', '*.*', '*_*', '*=*', '*+*', '*@*', '* *', '*--*', '-*', '*-', `${'?'.repeat(25)}*`] },
      }),
    });

    const tenantKeys = (patterns: string[]) => ({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    const policyScope = policyScopeFor(this);
    const policy = new iam.ManagedPolicy(policyScope, 'Policy', { roles: [this.role], description: 'Tessera: one tenant\'s pooled items and provider secrets (the session\'s tessera:tenant-id tag)' });
    policy.addStatements(
      new iam.PolicyStatement({
        sid: 'RegistryReadOwnRecord', actions: ['dynamodb:GetItem'], resources: [props.registry.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
      // The fence of a key write (DynamoDbApiKeyStore.put) and of a user's token revocation (DynamoDbUserTokenRevocations.revoke):
      // a ConditionCheck of the tenant's own status in the write's transaction.
      new iam.PolicyStatement({
        sid: 'RegistryKeyWriteFence', actions: ['dynamodb:ConditionCheckItem'], resources: [props.registry.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
      new iam.PolicyStatement({
        sid: 'RegistryAddFineTunedModels', actions: ['dynamodb:UpdateItem'], resources: [props.registry.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT], 'dynamodb:Attributes': ['tenantId', 'fineTunedModels', 'updatedAt'] },
          Null: { 'dynamodb:LeadingKeys': 'false', 'dynamodb:Attributes': 'false' },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'UsageOwnCounters', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.usageTable.tableArn],
        conditions: tenantKeys([`rate#${SESSION_TENANT}#*`, `usage#${SESSION_TENANT}#*`]),
      }),
      new iam.PolicyStatement({
        sid: 'UsageOwnLedger', actions: ['dynamodb:Query'], resources: [`${props.usageTable.tableArn}/index/${MODEL_USAGE_INDEX.name}`],
        conditions: tenantKeys([`usage#${SESSION_TENANT}#model#*`, `usage#${SESSION_TENANT}#tag#*`]), // the ledger by model, and by request tag (GET /v1/usage?group_by=model|tag)
      }),
      new iam.PolicyStatement({
        sid: 'FineTuningOwnJobs', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [props.jobsTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
      new iam.PolicyStatement({
        sid: 'ResponsesOwnItems', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [props.responsesTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
      new iam.PolicyStatement({
        // With the creation index (key lists in creation order): its partition key is `tenantId` too, so LeadingKeys holds a
        // Query of it to the session's tenant. One statement for both (the managed policy is near IAM's 6,144 characters); an
        // index takes only Query and Scan, so the item actions grant nothing more on it.
        sid: 'ApiKeysOwnItems', actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.apiKeysTable.tableArn, `${props.apiKeysTable.tableArn}/index/${KEYS_BY_CREATION_INDEX.name}`],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SESSION_TENANT] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
    );
    const ownSecrets = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `tessera/tenants/${SESSION_TENANT}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    policy.addStatements(new iam.PolicyStatement({
      sid: 'OwnProviderSecrets', actions: ['secretsmanager:GetSecretValue'], resources: [ownSecrets],
      conditions: { StringEquals: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: SESSION_TENANT } },
    }));
    const tableNames = [props.registry.tableName, props.usageTable.tableName, props.jobsTable.tableName, props.responsesTable.tableName, props.apiKeysTable.tableName];
    policy.addStatements(
      new iam.PolicyStatement({
        sid: 'PlatformKeyForTheTables', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`,
            'kms:EncryptionContext:aws:dynamodb:tableName': tableNames,
            'kms:EncryptionContext:aws:dynamodb:subscriberId': stack.account,
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'DescribePlatformKeyThroughDynamoDB', actions: ['kms:DescribeKey'], resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({
        sid: 'PlatformKeyForOwnSecrets', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:SecretARN': ownSecrets },
        },
      }),
    );
    // cdk-nag prints a policy variable `${x}` as `<x>`.
    const nagVariable = (finding: string) => finding.replace(SESSION_TENANT, `<aws:PrincipalTag/${TENANT_ID_TAG}>`);
    acknowledge(policy, [nagVariable(wildcardResourceFinding(this, ownSecrets))],
      'Secrets Manager appends a random suffix to every secret ARN; the pattern is the session tenant\'s own path (tessera/tenants/<tenant>/), and the secret must also carry the tag tessera:tenant-id = that tenant.');
    if (props.batchFilesBucket) {
      const ownBatchFiles = props.batchFilesBucket.arnForObjects(`${batchFilesPrefix(SESSION_TENANT)}*`);
      const ownKeptFiles = props.batchFilesBucket.arnForObjects(`${keptFilesPrefix(SESSION_TENANT)}*`);
      policy.addStatements(
        // AbortMultipartUpload: an upload's `complete` composes its parts into the file with a multipart upload
        // (lambdas/shared/s3-compose.ts: CreateMultipartUpload, UploadPart and UploadPartCopy are s3:PutObject, the copy's
        // source s3:GetObject) and aborts it when the content is refused. No ListMultipartUploadParts: the compose keeps
        // its parts' ETags; the bucket's abort-incomplete-multipart-uploads rule removes what a failed abort left.
        new iam.PolicyStatement({ sid: 'OwnBatchFiles', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [ownBatchFiles, ownKeptFiles] }),
        // OpenAI's Uploads API lists an upload's parts (lambdas/inference/uploads/gateway-uploads.ts, the S3 store's
        // partSizes): ListObjectsV2 of the bucket, only with a prefix inside the session tenant's uploads' prefix.
        new iam.PolicyStatement({
          sid: 'ListOwnUploads', actions: ['s3:ListBucket'], resources: [props.batchFilesBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${batchFilesPrefix(SESSION_TENANT)}uploads/*` } },
        }),
        // SSE-KMS: PutObject needs GenerateDataKey, GetObject Decrypt (S3 User Guide, "Using server-side encryption with
        // AWS KMS keys": permissions), only as S3 asks for an object of the session tenant's prefix.
        new iam.PolicyStatement({
          sid: 'PlatformKeyForOwnBatchFiles', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [ownBatchFiles, ownKeptFiles] },
          },
        }),
      );
      acknowledge(policy, [nagVariable(wildcardResourceFinding(this, ownBatchFiles)), nagVariable(wildcardResourceFinding(this, ownKeptFiles))],
        'A tenant\'s gateway files are keyed by file id, chosen at upload; the patterns are the session tenant\'s own prefixes (tenants/<tenant>/batch-files/ for files that expire, kept-files/<tenant>/ for files kept until deleted) of the batch files bucket, nothing else in it.');
    }

    if (props.auditBucket) {
      // The gateway's records of the session tenant (the router's and the fine-tuning API's streams: REQUEST_AUDIT_STREAMS),
      // under both prefixes a record may be under (lib/audit-prefixes.ts); not the lifecycle's stream.
      const ownRequests = REQUEST_AUDIT_STREAMS.flatMap((stream) => [false, true].map((drTier) => props.auditBucket!.arnForObjects(`${auditStreamPrefix(stream, drTier)}${SESSION_TENANT}/*`)));
      // A managed policy of their own: with the four prefixes the role's first policy passed IAM's 6,144 characters of
      // a managed policy once resolved (test/infra/iam-policy-sizes.test.ts: 6,183 with the longest names).
      const auditPolicy = new iam.ManagedPolicy(policyScope, 'AuditPolicy', { roles: [this.role], description: 'Tessera: one tenant\'s own gateway audit records, read only (the session\'s tessera:tenant-id tag)' });
      auditPolicy.addStatements(
        new iam.PolicyStatement({ sid: 'AuditOwnRequests', actions: ['s3:GetObject'], resources: ownRequests }),
        // The audit bucket uses an S3 Bucket Key: S3 asks KMS with the bucket's ARN as the encryption context (S3 User
        // Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": encryption context), not the object's, so
        // the prefix is held by AuditOwnRequests; this admits the decrypt only as S3 asks it for that bucket.
        new iam.PolicyStatement({
          sid: 'PlatformKeyForOwnRequests', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': props.auditBucket.bucketArn },
          },
        }),
      );
      acknowledge(auditPolicy, ownRequests.map((arn) => nagVariable(wildcardResourceFinding(this, arn))),
        'A tenant\'s gateway audit records are keyed by day and request id, chosen at run time; the patterns are the session tenant\'s own prefixes of the router\'s and the fine-tuning API\'s streams (tessera-audit/{,dr-tier/}{inference,fine-tuning}/<tenant>/) of the audit bucket, read only.');
    }

    for (const fn of props.trustedFunctions) {
      fn.addToPolicy(new iam.PolicyStatement({
        sid: 'ActForOneTenant', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [this.role.roleArn],
        conditions: { Null: { [tag]: 'false' } },
      }));
    }
  }
}
