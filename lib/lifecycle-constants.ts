/** Event source of every Tessera lifecycle event. */
export const LIFECYCLE_EVENT_SOURCE = 'tessera.lifecycle';

/** The platform's event bus: lifecycle events, and SageMaker training events forwarded by tenant blueprints. */
export const PLATFORM_EVENT_BUS_NAME = 'tessera-lifecycle';

/**
 * State names of the rolling upgrade (tessera-upgrade, constructs/lifecycle-workflows.ts upgradeDefinition) that the admin
 * API reads from its history (lambdas/admin/upgrade-routes.ts): the task that lists the tier's tenants (its output's
 * `tenants.count`), and the Distributed Map that runs one child execution per tenant (its map run).
 */
export const UPGRADE_STATES = { list: 'List tier tenants', map: 'Upgrade each tenant' } as const;
