import { DescribeStacksCommand, paginateListStacks, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@smithy/types';
import { pages } from '../../lib/aws-pages.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { logger } from '../shared/handler.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { deletionPolicies, stackResources, writeAudit } from './offboarding-support.js';
import { stackEvents } from './stack-events.js';
import { ownershipProblem } from './stack-ownership.js';

/** Already gone, or already on its way (a key pending deletion): nothing left to do. */
const done = (e: unknown) => /NotFound|NoSuchBucket|KMSInvalidState/.test((e as Error).name);

type Remover = (physicalId: string, credentials: AwsCredentialIdentity) => Promise<void>;

/** How each RetainExceptOnCreate type of the blueprints is removed, as its CloudFormation delete handler would. */
const REMOVERS: Record<string, Remover> = {
  'AWS::Logs::LogGroup': async (id, credentials) => { await clientWith(CloudWatchLogsClient, credentials).send(new DeleteLogGroupCommand({ logGroupName: id })); },
  // The key handler schedules the deletion (a waiting period in which it can be cancelled) rather than deleting.
  'AWS::KMS::Key': async (id, credentials) => {
    await clientWith(KMSClient, credentials).send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
  },
  // Only an empty bucket goes (S3 refuses the rest, BucketNotEmpty: left, and logged).
  'AWS::S3::Bucket': async (id, credentials) => { await clientWith(S3Client, credentials).send(new DeleteBucketCommand({ Bucket: id })); },
};

/**
 * Completes the rollbacks that failed, once their dead stacks are gone. A create whose rollback
 * failed (ROLLBACK_FAILED, typically on a deletion-protected database) never reaches what the
 * refusing resource depends on; the deletion of that dead stack then keeps the ones whose policy
 * is `RetainExceptOnCreate` (it retains on every operation but the rollback of its own create),
 * the database's named log groups among them, and the next create of the same names fails with
 * "already exists". These are exactly what the failed rollback would have deleted, created by a
 * create that never completed: for each deleted stack named `stackName` whose events show
 * ROLLBACK_FAILED, its `DELETE_SKIPPED` resources with that policy are removed here by API (log
 * groups deleted, keys scheduled for deletion, empty buckets deleted), each written to the audit
 * bucket. Plain `Retain` resources are kept: the template asked for them. Returns what was removed.
 */
export async function completeFailedRollbacks(cfn: CloudFormationClient, record: TenantRecord & { accountId: string }, stackName: string, context: { requestId: string; executionArn?: string }): Promise<string[]> {
  const deleted: string[] = [];
  for await (const page of paginateListStacks(pages(cfn), { StackStatusFilter: ['DELETE_COMPLETE'] })) {
    for (const s of page.StackSummaries ?? []) if (s.StackName === stackName && s.StackId) deleted.push(s.StackId);
  }
  const removed: string[] = [];
  let credentials: AwsCredentialIdentity | undefined;
  for (const stackId of deleted) {
    // Only what Tessera's workflow created for this tenant (a deleted stack still answers DescribeStacks by id, tags included).
    const described = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
    if (!described || ownershipProblem(described, record, 'tenant')) continue;
    const events = await stackEvents(cfn, stackId);
    if (!events.some((e) => e.LogicalResourceId === stackName && e.ResourceType === 'AWS::CloudFormation::Stack' && e.ResourceStatus === 'ROLLBACK_FAILED')) continue;
    const policies = await deletionPolicies(cfn, stackId);
    const retained = (await stackResources(cfn, stackId)).filter((r) => r.ResourceStatus === 'DELETE_SKIPPED' && r.PhysicalResourceId && policies[r.LogicalResourceId!] === 'RetainExceptOnCreate');
    for (const r of retained) {
      const remove = REMOVERS[r.ResourceType!];
      const what = `${r.LogicalResourceId} (${r.ResourceType}) ${r.PhysicalResourceId}`;
      if (!remove) {
        logger.warn('a failed rollback left a resource no remover knows; left in place', { stackId, resource: what });
        continue;
      }
      credentials ??= await tenantAccountCredentials(record.accountId, record.tenantId, 'remnants');
      try {
        await remove(r.PhysicalResourceId!, credentials);
      } catch (e) {
        if (done(e)) continue;
        if ((e as Error).name === 'BucketNotEmpty') {
          logger.warn('a failed rollback left a bucket that is not empty; left in place', { stackId, resource: what });
          continue;
        }
        throw e;
      }
      removed.push(what);
      const at = new Date().toISOString();
      await writeAudit(record, 'remnant-removed', r.LogicalResourceId!, {
        at, accountId: record.accountId, stack: stackName, stackId, logicalId: r.LogicalResourceId, type: r.ResourceType, physicalId: r.PhysicalResourceId,
        reason: 'retained by the deletion of a dead stack whose create could not roll back (DeletionPolicy RetainExceptOnCreate)', ...context,
      });
    }
  }
  if (removed.length) logger.info('completed failed rollbacks', { stackName, removed });
  return removed;
}
