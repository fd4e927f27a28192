import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { KEYS_BY_CREATION_INDEX } from '../../../lib/identity/api-key.js';

/**
 * The keys table's key schema and index as constructs/api-keys-table.ts declares them, for a CreateTable on moto
 * (`{ TableName, BillingMode: 'PAY_PER_REQUEST', ...KEYS_TABLE_SCHEMA }`): partition `tenantId` S, sort `keyHash` S,
 * and the global secondary index KEYS_BY_CREATION_INDEX (`tenantId`, `createdAtKeyId` S, every attribute projected).
 */
export const KEYS_TABLE_SCHEMA = {
  AttributeDefinitions: [
    { AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'keyHash', AttributeType: 'S' },
    { AttributeName: KEYS_BY_CREATION_INDEX.sortKey, AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'keyHash', KeyType: 'RANGE' }],
  GlobalSecondaryIndexes: [{
    IndexName: KEYS_BY_CREATION_INDEX.name,
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: KEYS_BY_CREATION_INDEX.sortKey, KeyType: 'RANGE' }],
    Projection: { ProjectionType: 'ALL' },
  }],
} satisfies Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'GlobalSecondaryIndexes'>;
