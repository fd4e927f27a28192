import { DynamoDbJobStore } from '../fine-tuning/stores/dynamodb-job-store.js';
import { DynamoDbStore } from '../inference/stores/dynamodb-store.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import { costExplorer } from './cost-explorer.js';
import { STATEMENT_JOBS_TABLE_ENV, STATEMENT_USAGE_TABLE_ENV } from './environment.js';
import type { StatementSources } from './statement-sources.js';

let sources: StatementSources | undefined;

/**
 * The statement sources of the admin API and the monthly job, read with the Lambda's own role
 * (an operator's view across tenants: GetItem/Query on the usage and jobs tables, and
 * ce:GetCostAndUsage).
 */
export function lambdaStatementSources(): StatementSources {
  if (sources) return sources;
  const store = new DynamoDbStore(requireEnv(ENV.registryTable), requireEnv(STATEMENT_USAGE_TABLE_ENV), unscopedDocumentClient());
  const jobs = new DynamoDbJobStore(requireEnv(STATEMENT_JOBS_TABLE_ENV), unscopedDocumentClient());
  return (sources = {
    modelUsage: (tenantId, month) => store.modelUsage(tenantId, month),
    usageBy: (tenantId, date, kind) => store.usageBy(tenantId, date, kind),
    jobs: (tenantId) => jobs.list(tenantId),
    costExplorer: costExplorer(),
  });
}
