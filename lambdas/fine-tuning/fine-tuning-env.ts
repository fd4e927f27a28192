// The fine-tuning Lambdas' environment names, in a module of their own: constructs/fine-tuning.ts
// imports only these, not lambda-deps.ts (SageMaker's client and the gateway's wiring).

/** Environment of the fine-tuning Lambdas (set by the FineTuning construct). */
export const FINE_TUNING_ENV = {
  jobsTable: 'TESSERA_FINE_TUNING_JOBS_TABLE',
  /** The events Lambda's queue of delayed looks at deployments' endpoints (endpoint-checks.ts). */
  endpointChecksQueue: 'TESSERA_FINE_TUNING_ENDPOINT_CHECKS_QUEUE',
} as const;
