import { ListParentsCommand, MoveAccountCommand } from '@aws-sdk/client-organizations';
import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { enqueueClosure } from '../shared/control-table.js';
import { platformConfig } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { processClosureQueue } from './account-closure.js';
import { ouIdByName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/** Account mode: moves the account to the Suspended OU and queues its closure under the quota. */
export const handler = lifecycleHandler('Retire account', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (record.isolation !== 'account' || !record.accountId) return { retired: false };
  const orgs = await organizationsClient();
  const suspended = await ouIdByName(orgs, platformConfig().organization.suspendedOuName);
  const parents = await orgs.send(new ListParentsCommand({ ChildId: record.accountId }));
  const source = parents.Parents?.[0]?.Id;
  if (source && source !== suspended) {
    await orgs.send(new MoveAccountCommand({ AccountId: record.accountId, SourceParentId: source, DestinationParentId: suspended }));
  }
  await enqueueClosure(record.accountId, record.tenantId);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.accountClosureQueued, { tenantId: record.tenantId, accountId: record.accountId });
  const queue = await processClosureQueue(orgs);
  return { retired: true, accountId: record.accountId, closedNow: queue.closed.includes(record.accountId), quota: queue.quota };
});
