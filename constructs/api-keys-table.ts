import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { secureTableProps } from './secure-table-props.js';
import { API_KEYS_TABLE_NAME, KEYS_BY_CREATION_INDEX } from '../lib/identity/api-key.js';

export interface ApiKeysTableProps {
  /** The platform key: encrypts the table and its point-in-time recovery data. */
  readonly encryptionKey: kms.IKey;
  /**
   * Table name. In the `tessera-gateway-` family, whose tenant ids are reserved
   * (lib/tenant-naming.ts `gateway-`), like the responses table: `tessera-api-keys` would have
   * needed two more reserved ids (`api-keys`, and `api` as its leading part), which a live
   * platform may already have given to tenants.
   * @default 'tessera-gateway-api-keys'
   */
  readonly tableName?: string;
}

/**
 * Tenant API keys (`tsk_…`, lib/identity/api-key.ts): one item per key, partition key `tenantId`,
 * sort key `keyHash` (SHA-256 hex of the key; the key itself is never stored), and a global secondary index
 * by creation (KEYS_BY_CREATION_INDEX: `tenantId`, `createdAtKeyId`, every attribute projected) that key lists page. Encrypted with the
 * platform key, point-in-time recovery, deletion protection, on-demand, retained when the stack
 * goes (like the responses table): a lost key table would lock every tenant's apps out at once.
 *
 * Who reaches it (constructs/tenant-data-access-role.ts, admin-api.ts, tenant-lifecycle.ts):
 * - the gateway (authorizer, router, fine-tuning API) only through the tenant-data role, whose
 *   `dynamodb:LeadingKeys` condition admits the session tenant's partition only: GetItem, Query,
 *   PutItem, UpdateItem (look-up by hash, list, create, revoke/rotate, lastUsedAt), and Query of the index; no delete;
 * - the admin API with its own role, on the table and the index (platform admins manage any tenant's keys);
 * - the offboarding step `revoke-tenant-identities` with its own role (Query + BatchWriteItem
 *   deletes of the offboarded tenant's keys).
 * No TTL: an expired or revoked key stays as a record (refused by the authorizer) until the
 * tenant is offboarded, so `GET /v1/tenant/keys` can show when and by whom (docs/identity.md, API
 * keys: an audit of a leaked key asks it; ~600 bytes a key). Nothing on a request's path reads them
 * all: lists are paged (Query Limit), and a create reads the tenant's live-key index item (sort
 * key `live#keys`, lambdas/identity/stores/dynamodb-live-keys.ts) beside its key records.
 */
export class ApiKeysTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ApiKeysTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName ?? API_KEYS_TABLE_NAME,
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'keyHash', type: dynamodb.AttributeType.STRING },
      // Key lists in creation order (GET /v1/tenant/keys, GET /admin/tenants/{id}/keys): one Query a page.
      globalSecondaryIndexes: [{
        indexName: KEYS_BY_CREATION_INDEX.name,
        partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: KEYS_BY_CREATION_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      }],
      ...secureTableProps({ encryptionKey: props.encryptionKey }),
    });
    acknowledge(this.table, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'Key records hold only hashes and metadata; a lost key is replaced by minting a new one (the secret itself is never stored, so no backup could restore it). Point-in-time recovery (35 days) covers mistakes, and deletion protection plus RETAIN keep the table.');
  }
}
