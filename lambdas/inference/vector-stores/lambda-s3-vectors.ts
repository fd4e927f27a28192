import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { roleArn, tenantRoleName } from '../../../lib/tenant-naming.js';
import { tenantRoleClient } from '../../shared/tenant-role-clients.js';
import { S3VectorsIndex } from './s3-vectors-index.js';

/**
 * The S3VectorsIndex the gateway Lambdas use: each tenant's calls made in the tenant's account as its
 * `tessera-<tenant>-vector-store` role (constructs/tenant-roles.ts, granted the indexes of its vector bucket only:
 * constructs/tenant-vector-bucket.ts), through a session the router's role assumes with the tag `tessera:tenant-id` =
 * the tenant (lambdas/shared/tenant-role-clients.ts: named `tessera-<tenant>-vector-store`, 15 minutes, renewed early),
 * as the fine-tuning API reaches the tenant bucket through the training-files role; each index created under the tenant
 * key (the role may create none under another).
 * @param tenantOf the tenant's account id (its registry record's `accountId`: a VPC tier's is the workload account) and
 *   its key's ARN (the record's stack output `KeyArn`), which only a CreateIndex needs
 * @param partition @default 'aws'
 * The returned index's createIndex throws an Error when the record has no `KeyArn` (nothing is created).
 */
export function s3VectorsIndexFor(tenantOf: (tenantId: string) => Promise<{ accountId: string; keyArn?: string }>, partition = 'aws'): S3VectorsIndex {
  return new S3VectorsIndex(
    async (tenantId) => tenantRoleClient(S3VectorsClient, roleArn(partition, (await tenantOf(tenantId)).accountId, tenantRoleName(tenantId, 'vector-store')), tenantId, 'vector-store'),
    async (tenantId) => {
      const { keyArn } = await tenantOf(tenantId);
      if (!keyArn) throw new Error(`tenant ${tenantId} has no KeyArn stack output in the registry: its vector indexes are created under its key only`);
      return keyArn;
    },
  );
}
