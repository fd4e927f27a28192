/** Event source of every Tessera lifecycle event. */
export const LIFECYCLE_EVENT_SOURCE = 'tessera.lifecycle';
