import { CloudWatchLogsClient, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateDBSnapshotCommand, DeleteDBSubnetGroupCommand, DescribeDBSubnetGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentity } from '@smithy/types';
import { createHash } from 'node:crypto';
import { harnessHttp } from './harness-http.js';


/**
 * The deletions and snapshots CloudFormation makes on a rollback that moto's DeleteStack does not:
 * moto keeps every resource whose policy (in its copy of the template) is `Retain`, so a retained
 * resource the rollback must delete (RetainExceptOnCreate, or Retain under the RetainExceptOnCreate
 * parameter) is deleted here by API, as its CloudFormation handler would. Only the retained types
 * of the blueprints are known; any other type is an error naming it.
 */
export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
}

/** `client`: the credentials and region of the stack's caller (a DR stack's resources are in its DR region). */
type Deleter = (r: DeployedResource, client: { credentials: AwsCredentialIdentity; region: string }, stackName: string) => Promise<void>;

const DELETERS: Record<string, Deleter> = {
  'AWS::Logs::LogGroup': async (r, client) => {
    await new CloudWatchLogsClient(harnessHttp(client)).send(new DeleteLogGroupCommand({ logGroupName: r.physicalId }));
  },
  'AWS::S3::Bucket': async (r, client) => {
    await new S3Client(harnessHttp({ ...client, forcePathStyle: true })).send(new DeleteBucketCommand({ Bucket: r.physicalId }));
  },
  // The KMS key handler schedules the deletion (PendingWindowInDays, default 30) rather than deleting.
  'AWS::KMS::Key': async (r, client) => {
    await new KMSClient(harnessHttp(client)).send(new ScheduleKeyDeletionCommand({ KeyId: r.physicalId, PendingWindowInDays: 30 }));
  },
  // A queue's physical id is its URL (the dead-letter queues are retained: RetainExceptOnCreate).
  'AWS::SQS::Queue': async (r, client) => {
    // moto's queue URLs name sqs.<region>.amazonaws.com: the endpoint stays moto's (AWS_ENDPOINT_URL).
    const sqs = new SQSClient(harnessHttp({ ...client, useQueueUrlAsEndpoint: false }));
    const url = r.physicalId.startsWith('http') ? r.physicalId : (await sqs.send(new GetQueueUrlCommand({ QueueName: r.physicalId }))).QueueUrl!;
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  },
  // moto reports no physical id for a subnet group; its name is the one moto generates (`<stack>-<logicalId>-<suffix>`).
  'AWS::RDS::DBSubnetGroup': async (r, client, stackName) => {
    const rds = new RDSClient(harnessHttp(client));
    const prefix = `${stackName}-${r.logicalId}-`.toLowerCase();
    const groups = r.physicalId ? [r.physicalId] : ((await rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups ?? [])
      .map((g) => g.DBSubnetGroupName!).filter((n) => n.toLowerCase().startsWith(prefix));
    for (const name of groups) await rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: name }));
  },
};

/** Deletes `resource` by API in `region` (the stack's); throws for a type without a known deleter. */
export async function deleteResource(stackName: string, resource: DeployedResource, credentials: AwsCredentialIdentity, region: string): Promise<void> {
  const deleter = DELETERS[resource.type];
  if (!deleter) throw new Error(`the rollback emulation cannot delete ${resource.logicalId} (${resource.type}); add a deleter to test/integration/support/resource-deleters.ts`);
  await deleter(resource, { credentials, region }, stackName);
}

/**
 * The final snapshot CloudFormation takes of an AWS::RDS::DBInstance with DeletionPolicy Snapshot,
 * named as the RDS resource provider names it (`<stack>-snapshot-<logicalId>-<suffix>`, lower case).
 * Returns the snapshot id.
 */
export async function snapshotDatabase(stackName: string, resource: DeployedResource, credentials: AwsCredentialIdentity): Promise<string> {
  const suffix = createHash('sha256').update(`${resource.physicalId}${Date.now()}`).digest('hex').slice(0, 12);
  const id = `${stackName}-snapshot-${resource.logicalId}-${suffix}`.toLowerCase().slice(0, 255);
  await new RDSClient(harnessHttp({ credentials })).send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: resource.physicalId, DBSnapshotIdentifier: id }));
  return id;
}
