import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { FineTuningJob, type FineTuningStatus } from '../../../lib/fine-tuning.js';
import { platformClient } from '../../shared/aws-clients.js';
import { ConcurrentJobLimitError, isActive, type FineTuningStore } from './job-store.js';

/** Item key of a tenant's active-job counter, beside its jobs (`jobId` of jobs is `ftjob-...`). */
const ACTIVE_COUNTER = '#active';
export const JOBS_BY_TRAINING_JOB_INDEX = 'by-training-job';

/** The stored item: the job plus its sort key. */
const item = (job: FineTuningJob) => ({ ...FineTuningJob.parse(job), jobId: job.id });

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Jobs in DynamoDB (partition `tenantId`, sort `jobId`; GSI on `trainingJobName` for SageMaker's
 * events). Create is one transaction: the job put plus a conditional ADD on the tenant's counter,
 * so concurrent Lambdas can never start more jobs than the tier allows.
 */
export class DynamoDbJobStore implements FineTuningStore {
  private readonly doc = DynamoDBDocumentClient.from(platformClient(DynamoDBClient), { marshallOptions: { removeUndefinedValues: true } });

  constructor(private readonly table: string) {}

  async create(job: FineTuningJob, maxActive: number): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({
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
    if (!jobId.startsWith('ftjob-')) return undefined;
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, jobId }, ConsistentRead: true }));
    return out.Item ? this.parse(out.Item) : undefined;
  }

  async list(tenantId: string): Promise<FineTuningJob[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(jobId, :p)',
        ExpressionAttributeValues: { ':t': tenantId, ':p': 'ftjob-' }, ExclusiveStartKey: start,
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map((i) => this.parse(i)).sort((a, b) => b.id.localeCompare(a.id));
  }

  async findByTrainingJobName(trainingJobName: string): Promise<FineTuningJob | undefined> {
    const out = await this.doc.send(new QueryCommand({
      TableName: this.table, IndexName: JOBS_BY_TRAINING_JOB_INDEX, KeyConditionExpression: 'trainingJobName = :n', ExpressionAttributeValues: { ':n': trainingJobName },
    }));
    const key = out.Items?.[0];
    return key ? this.get(String(key.tenantId), String(key.jobId)) : undefined;
  }

  async update(job: FineTuningJob, expected: FineTuningStatus): Promise<boolean> {
    const items: TransactItem[] = [{
      Put: {
        TableName: this.table, Item: item(job),
        ConditionExpression: '#s = :expected', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':expected': expected },
      },
    }];
    if (isActive(expected) && !isActive(job.status)) {
      items.push({ Update: { TableName: this.table, Key: { tenantId: job.tenantId, jobId: ACTIVE_COUNTER }, UpdateExpression: 'ADD #n :minus', ExpressionAttributeNames: { '#n': 'count' }, ExpressionAttributeValues: { ':minus': -1 } } });
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw e;
    }
  }

  private parse(item: Record<string, unknown>): FineTuningJob {
    return FineTuningJob.parse(item);
  }
}
