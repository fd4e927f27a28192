import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';

/**
 * Whether a tenant id names a registry record, and nothing else about it. The authorizer asks it
 * before it reads an API key as the key prefix's tenant, so a key with a tenant prefix no tenant
 * has never costs an STS AssumeRole of the tenant-data role (STS's request quota is the account's,
 * shared by every Lambda).
 */
export interface TenantExistence {
  /**
   * @returns true when the registry holds a record for `tenantId` (whatever its status)
   * @throws the store's error when it could not be asked (the authorizer answers 500, never 401)
   */
  exists(tenantId: string): Promise<boolean>;
}

/** The only attribute the existence check reads: the key (the authorizer's IAM grant admits this one, constructs/inference-api.ts). */
export const EXISTENCE_ATTRIBUTES = ['tenantId'] as const;

/**
 * TenantExistence over the registry table with the platform's own client (the authorizer
 * Lambda's role): GetItem `{tenantId}` with `ProjectionExpression: tenantId`, eventually
 * consistent (a tenant's record is written at its onboarding request, minutes before it is served).
 * Its grant (constructs/inference-api.ts `RegistryTenantExists`) admits GetItem of `tenantId` only
 * (`dynamodb:Attributes`, `dynamodb:Select` SPECIFIC_ATTRIBUTES): the status, tier, usage key and
 * limits stay readable as the tenant only.
 */
export class DynamoDbTenantExistence implements TenantExistence {
  /**
   * @param table the registry table's name (TESSERA_REGISTRY_TABLE)
   * @param doc the platform's document client (not a tenant's session: that is what this saves)
   */
  constructor(private readonly table: string, private readonly doc: DynamoDBDocumentClient) {}

  /** An id no tenant can have is answered false without a read. */
  async exists(tenantId: string): Promise<boolean> {
    if (!isTenantId(tenantId)) return false;
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { tenantId }, ProjectionExpression: EXISTENCE_ATTRIBUTES.join(', ') }));
    return out.Item !== undefined;
  }
}
