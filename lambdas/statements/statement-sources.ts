import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { FineTuningJob } from '../../lib/fine-tuning.js';
import type { TenantStatement } from '../../lib/statements/schema.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { ModelDayUsage, SubjectUsageList } from '../inference/stores/gateway-store.js';
import { buildStatement } from './build-statement.js';
import { infrastructureCost } from './cost-explorer.js';

/** Where a statement's figures come from: the gateway's store, the fine-tuning jobs, Cost Explorer. */
export interface StatementSources {
  /** GatewayStore.modelUsage: the tenant's usage by model and day of the month, sorted by day, model. */
  modelUsage(tenantId: string, month: string): Promise<ModelDayUsage[]>;
  /** GatewayStore.usageBy: the users (or keys) that used the gateway in the month of `dateInMonth`. */
  usageBy(tenantId: string, dateInMonth: Date, kind: 'user' | 'key'): Promise<SubjectUsageList>;
  /** FineTuningStore.list: the tenant's jobs. */
  jobs(tenantId: string): Promise<FineTuningJob[]>;
  costExplorer: CostExplorerClient;
}

/**
 * Reads every source for one tenant's month and builds its statement (build-statement.ts).
 * `now` is the statement's `asOf` and bounds the Cost Explorer period of the running month.
 */
export async function tenantStatement(sources: StatementSources, tenant: TenantRecord, month: string, now: Date): Promise<TenantStatement> {
  const inMonth = new Date(`${month}-01T00:00:00Z`);
  const [modelUsage, users, keys, jobs, infrastructure] = await Promise.all([
    sources.modelUsage(tenant.tenantId, month),
    sources.usageBy(tenant.tenantId, inMonth, 'user'),
    sources.usageBy(tenant.tenantId, inMonth, 'key'),
    sources.jobs(tenant.tenantId),
    infrastructureCost(sources.costExplorer, tenant, month, now),
  ]);
  return buildStatement({ tenant, month, asOf: now, modelUsage, users, keys, jobs, infrastructure });
}
