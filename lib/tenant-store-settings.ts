/**
 * Settings of a tenant's data stores that the blueprints (constructs/tenant-database.ts,
 * constructs/tenant-cache.ts) and `tessera doctor` (lib/cli/doctor/store-offer-checks.ts, which asks
 * whether the Region offers the tier's classes for them) must agree on. No CDK import: the CLI
 * bundle loads this file.
 */

/** RDS engine of the tenant database (CreateDBInstance `Engine`). */
export const TENANT_DB_ENGINE = 'postgres';

/** RDS storage type of the tenant database (CreateDBInstance `StorageType`). */
export const TENANT_DB_STORAGE_TYPE = 'gp3';

/** ElastiCache engine of the tenant cache (CreateReplicationGroup `Engine`). */
export const TENANT_CACHE_ENGINE = 'valkey';
