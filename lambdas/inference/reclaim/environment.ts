/**
 * Environment of the reservation reclaim Lambda (lambdas/inference/reclaim/reclaim-handler.ts), set
 * by constructs/reservation-reclaim.ts. No imports: CDK code reads it.
 */
export const RECLAIM_ENV = {
  /** The tenant registry (listed with Scan: every tenant not OFFBOARDED). Same name as ENV.registryTable of lambdas/shared/environment.ts. */
  registryTable: 'TESSERA_REGISTRY_TABLE',
  /** The gateway's usage table (GATEWAY_ENV.usageTable). */
  usageTable: 'TESSERA_USAGE_TABLE',
} as const;

/** The attributes the reclaim reads (projected), the only ones its role may read (constructs/reservation-reclaim.ts). */
export const RECLAIM_READ_ATTRIBUTES = ['id', 'heldTokens', 'heldNanos', 'heldMicros', 'subjects'] as const;
/**
 * The attributes a release writes (key and ADDs), the only ones its role's UpdateItem may name:
 * cost in nano-dollars (`costNanos`, `heldNanos`), and in micro-dollars on items of before them
 * (`costMicros`, `heldMicros`: reservations of an upgrade's day).
 */
export const RECLAIM_WRITE_ATTRIBUTES = ['id', 'tokens', 'heldTokens', 'costNanos', 'heldNanos', 'costMicros', 'heldMicros'] as const;

/**
 * The router's longest invocation: Lambda's maximum timeout, which the router has
 * (constructs/inference-api.ts; its own deadline, lambdas/inference/lambda-deadline.ts, ends a
 * stream 15 s before it). Every reservation of a UTC day is settled or lost this long after the day ends.
 */
export const LONGEST_INVOCATION_MS = 15 * 60_000;

/**
 * How long after a UTC day ends no settle of it can still land: the router's longest invocation and
 * as much again for the routers' clocks (a router whose clock is behind dates a reservation of
 * 00:00:05 the day before) and a late settle's retries (the SDK's backoff). The handler refuses a
 * day that ended less than this ago, whatever its event says (a run by hand too: its release and a
 * late settle would both subtract the reservation).
 */
export const SETTLED_AFTER_MS = 2 * LONGEST_INVOCATION_MS;

/** When the daily run starts, after midnight UTC: SETTLED_AFTER_MS (30 minutes). */
export const RECLAIM_SCHEDULE = { hour: '0', minute: String(SETTLED_AFTER_MS / 60_000) } as const;

/** The reclaim's Powertools service name (logs and the metrics' `service` dimension). */
export const RECLAIM_SERVICE = 'tessera-reservation-reclaim';

/**
 * The metrics each run publishes (namespace `Tessera`, dimension `service` = RECLAIM_SERVICE), one
 * value per run, 0 included (a run that released nothing still shows it ran). Alarm on
 * `ReclaimedTokens` > 0 to hear of router Lambdas that died with reservations.
 */
export const RECLAIM_METRICS = {
  namespace: 'Tessera',
  /** Tokens released from tenants' day items (what lost requests held; their users' and keys' items held the same again, not added). */
  tokens: 'ReclaimedTokens',
  /** Nano-dollars released from tenants' day items (micro-dollars of items before nano-dollars counted times 1,000). */
  nanos: 'ReclaimedNanoDollars',
  /** Day items released: tenants', users' and keys'. */
  items: 'ReleasedItems',
  /** Day items not released because their month item holds less (a settle that landed on one of them only). */
  skipped: 'SkippedItems',
  /** Tenants that failed (the run fails after the others, for Lambda's retries and then the dead-letter queue). */
  failedTenants: 'FailedTenants',
} as const;
