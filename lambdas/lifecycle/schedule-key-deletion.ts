import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { clientWith } from '../shared/aws-clients.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

/** Schedules the tenant key for deletion (the waiting period comes from config: a last chance to cancel). */
export const handler = lifecycleHandler('Schedule key deletion', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const keyArn = record.stackOutputs.KeyArn;
  if (!keyArn) return { scheduled: false };
  const kms = clientWith(KMSClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'key'));
  const key = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
  if (key.KeyMetadata?.KeyState === 'PendingDeletion') return { scheduled: true, deletionDate: key.KeyMetadata.DeletionDate?.toISOString() };
  const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyMetadata?.KeyId ?? keyArn, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
  return { scheduled: true, deletionDate: out.DeletionDate?.toISOString() };
});
