import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateQuery, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../../lib/aws-pages.js';
import { FineTuningJob, parseTrainingJobName, type FineTuningStatus } from '../../../lib/fine-tuning.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';
import { ConcurrentJobLimitError, isActive, type FineTuningStore } from './job-store.js';

/** Item key of a tenant's active-job counter, beside its jobs (`jobId` of jobs is `ftjob-...`). */
const ACTIVE_COUNTER = '#active';

/** The stored item: the job plus its sort key. */
const item = (job: FineTuningJob) => ({ ...FineTuningJob.parse(job), jobId: job.id });

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Jobs in DynamoDB (partition `tenantId`, sort `jobId`). Create is one transaction: the job put
 * plus a conditional ADD on the tenant's counter, so concurrent Lambdas can never start more jobs
 * than the tier allows. Every call acts for one tenant with that tenant's client (`docFor`): in the
 * Lambdas a session of the tenant-data role that reaches only that tenant's partition. SageMaker's
 * events name a training job; its tenant and job id are read from the name
 * (`<tenant>-ft-<24 hex>`), so no query across tenants (an index) is needed.
 */
export class DynamoDbJobStore implements FineTuningStore {
  /** `docFor` must drop undefined values (`marshallOptions.removeUndefinedValues`). */
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async create(job: FineTuningJob, maxActive: number): Promise<void> {
    const doc = await this.docFor(job.tenantId);
    try {
      await sendTransaction(doc, new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: item(job), ConditionExpression: 'attribute_not_exists(jobId)' } },
          {
            Update: {
              TableName: this.table, Key: { tenantId: job.tenantId, jobId: ACTIVE_COUNTER },
              UpdateExpression: 'ADD #n :one', ConditionExpression: 'attribute_not_exists(#n) OR #n < :max',
              ExpressionAttributeNames: { '#n': 'count' }, ExpressionAttributeValues: { ':one': 1, ':max': maxActive },
            },
          },
        ],
      }));
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed') throw new ConcurrentJobLimitError(maxActive);
      throw e;
    }
  }

  async get(tenantId: string, jobId: string): Promise<FineTuningJob | undefined> {
    if (!jobId.startsWith('ftjob-') || !isTenantId(tenantId)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, jobId }, ConsistentRead: true }));
    return out.Item ? this.parse(out.Item) : undefined;
  }

  async list(tenantId: string): Promise<FineTuningJob[]> {
    const items: Record<string, unknown>[] = [];
    const doc = await this.docFor(tenantId);
    const calls = paginateQuery(pages(doc), {
      // Strongly consistent: an offboarding's retirement must see every job recorded before it began (retire-fine-tuned-models.ts).
      TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(jobId, :p)', ConsistentRead: true,
      ExpressionAttributeValues: { ':t': tenantId, ':p': 'ftjob-' },
    });
    for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) items.push(...(out.Items ?? []));
    return items.map((i) => this.parse(i)).sort((a, b) => b.id.localeCompare(a.id));
  }

  async findByTrainingJobName(trainingJobName: string): Promise<FineTuningJob | undefined> {
    const key = parseTrainingJobName(trainingJobName);
    if (!key) return undefined;
    const job = await this.get(key.tenantId, key.jobId);
    return job?.trainingJobName === trainingJobName ? job : undefined;
  }

  async update(job: FineTuningJob, expected: FineTuningStatus, claim: string | undefined = job.deploying): Promise<boolean> {
    const items: TransactItem[] = [{
      Put: {
        TableName: this.table, Item: item(job),
        ConditionExpression: `#s = :expected AND ${claim === undefined ? 'attribute_not_exists(#d)' : '#d = :claim'}`,
        ExpressionAttributeNames: { '#s': 'status', '#d': 'deploying' },
        ExpressionAttributeValues: { ':expected': expected, ...(claim === undefined ? {} : { ':claim': claim }) },
      },
    }];
    if (isActive(expected) && !isActive(job.status)) {
      items.push({ Update: { TableName: this.table, Key: { tenantId: job.tenantId, jobId: ACTIVE_COUNTER }, UpdateExpression: 'ADD #n :minus', ExpressionAttributeNames: { '#n': 'count' }, ExpressionAttributeValues: { ':minus': -1 } } });
    }
    try {
      await sendTransaction(await this.docFor(job.tenantId), new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw e;
    }
  }

  async claimDeployment(tenantId: string, jobId: string, expected: FineTuningStatus, token: string): Promise<boolean> {
    try {
      await (await this.docFor(tenantId)).send(new UpdateCommand({
        TableName: this.table, Key: { tenantId, jobId }, UpdateExpression: 'SET #d = :token',
        ConditionExpression: '#s = :expected AND attribute_not_exists(modelDeletedAt) AND (attribute_not_exists(#d) OR #d = :token)',
        ExpressionAttributeNames: { '#s': 'status', '#d': 'deploying' }, ExpressionAttributeValues: { ':expected': expected, ':token': token },
      }));
      return true;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  async releaseDeployment(tenantId: string, jobId: string, token: string): Promise<void> {
    try {
      await (await this.docFor(tenantId)).send(new UpdateCommand({
        TableName: this.table, Key: { tenantId, jobId }, UpdateExpression: 'REMOVE #d', ConditionExpression: '#d = :token',
        ExpressionAttributeNames: { '#d': 'deploying' }, ExpressionAttributeValues: { ':token': token },
      }));
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  private parse(item: Record<string, unknown>): FineTuningJob {
    return FineTuningJob.parse(item);
  }
}
