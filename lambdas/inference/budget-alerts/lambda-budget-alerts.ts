import { requireEnv } from '../../shared/environment.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import type { GatewayStore } from '../stores/gateway-store.js';
import { BudgetAlerts } from './budget-alerts.js';
import { BUDGET_ALERTS_ENV } from './environment.js';
import { DynamoDbAlertMarkers } from './dynamodb-markers.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * Budget alerts as the router Lambda runs them: markers in the usage table written with the
 * tenant's document client (tenant-data role), events on the platform bus with the lifecycle
 * source (lambdas/shared/events.ts). @returns undefined when `TESSERA_EVENT_BUS` is not set
 */
export async function lambdaBudgetAlerts(store: GatewayStore, documents: TenantDocumentClient): Promise<BudgetAlerts | undefined> {
  if (!process.env[BUDGET_ALERTS_ENV.eventBus]) {
    logger.warn(`no event bus (${BUDGET_ALERTS_ENV.eventBus}): tenant budget alerts are off`);
    return undefined;
  }
  const { emitLifecycleEvent } = await import('../../shared/events.js');
  return new BudgetAlerts({ store, markers: new DynamoDbAlertMarkers(requireEnv(BUDGET_ALERTS_ENV.usageTable), documents), emit: emitLifecycleEvent });
}
