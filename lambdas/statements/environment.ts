/**
 * Environment of the statements code (the admin API's statement route and the monthly job), set
 * by constructs/admin-api.ts and constructs/tenant-statements.ts. No imports: CDK code reads it.
 */

/** The gateway's usage table (GATEWAY_ENV.usageTable of lambdas/inference/lambda-deps.ts, not imported: it would bundle the gateway; a test keeps them equal). */
export const STATEMENT_USAGE_TABLE_ENV = 'TESSERA_USAGE_TABLE';
/** The fine-tuning jobs table (FINE_TUNING_ENV.jobsTable of lambdas/fine-tuning/lambda-deps.ts; a test keeps them equal). */
export const STATEMENT_JOBS_TABLE_ENV = 'TESSERA_FINE_TUNING_JOBS_TABLE';
/** The statements bucket (constructs/tenant-statements.ts). */
export const STATEMENTS_BUCKET_ENV = 'TESSERA_STATEMENTS_BUCKET';
