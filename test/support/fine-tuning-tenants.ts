import type { TenantRecord } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';

/** A tenant whose blueprint has been deployed: the stack outputs fine-tuning reads from the registry. */
export function trainedTenant(tenantId: string, tier: string, accountId: string, extra: Partial<TenantRecord> = {}): TenantRecord {
  return localTenant(tenantId, tier, {
    accountId,
    stackOutputs: {
      BucketName: `tessera-${tenantId}-data-${accountId}`,
      KeyArn: `arn:aws:kms:us-east-1:${accountId}:key/${tenantId}-0000-0000-0000-000000000000`.slice(0, 80),
      TrainingRoleArn: `arn:aws:iam::${accountId}:role/tessera-${tenantId}-training`,
      ComputeSubnetIds: `subnet-${tenantId}a,subnet-${tenantId}b`,
      WorkloadSecurityGroupId: `sg-${tenantId}0001`,
    },
    ...extra,
  });
}
