/** Event source of every Tessera lifecycle event. */
export const LIFECYCLE_EVENT_SOURCE = 'tessera.lifecycle';

/** The platform's event bus: lifecycle events, and SageMaker training events forwarded by tenant blueprints. */
export const PLATFORM_EVENT_BUS_NAME = 'tessera-lifecycle';
