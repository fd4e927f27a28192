import { DynamoDbJobStore } from '../fine-tuning/stores/dynamodb-job-store.js';
import { DynamoDbStore } from '../inference/stores/dynamodb-store.js';
import type { ModelDayUsage } from '../../lib/statements/schema.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import { costExplorer } from './cost-explorer.js';
import type { StatementSources } from './statement-sources.js';

/** The gateway's usage table, as the admin API and the statements job name it (GATEWAY_ENV.usageTable; a test keeps them equal). */
export const STATEMENT_USAGE_TABLE_ENV = 'TESSERA_USAGE_TABLE';
/** The fine-tuning jobs table (FINE_TUNING_ENV.jobsTable of lambdas/fine-tuning/lambda-deps.ts, not imported: it would bundle the gateway's clients; a test keeps them equal). */
export const STATEMENT_JOBS_TABLE_ENV = 'TESSERA_FINE_TUNING_JOBS_TABLE';

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
  // GatewayStore.modelUsage comes with the usage ledger (issue 16); read through this narrow view so either order of landing compiles.
  const ledger = store as unknown as { modelUsage?: (tenantId: string, month: string) => Promise<ModelDayUsage[]> };
  return (sources = {
    modelUsage: (tenantId, month) => {
      if (!ledger.modelUsage) throw new Error('the gateway store has no modelUsage (the usage ledger): no gateway usage by model and day to report');
      return ledger.modelUsage.call(store, tenantId, month);
    },
    usageBy: (tenantId, date, kind) => store.usageBy(tenantId, date, kind),
    jobs: (tenantId) => jobs.list(tenantId),
    costExplorer: costExplorer(),
  });
}
