import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateQuery, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../../lib/aws-pages.js';
import { FineTuningJob, parseTrainingJobName, type FineTuningStatus } from '../../../lib/fine-tuning.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';
import { ConcurrentJobLimitError, DeployedModelLimitError, deployedModelsOf, isActive, slotsInUse, type DeployedModelBound, type FineTuningStore } from './job-store.js';

/** Item key of a tenant's active-job counter, beside its jobs (`jobId` of jobs is `ftjob-...`). */
const ACTIVE_COUNTER = '#active';

/** Counts of a create with a deployed-model bound before it gives up to concurrent creates (each lost count means another create committed). */
const CREATE_ATTEMPTS = 8;

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

  /**
   * One transaction: the job's put and a conditional ADD on the tenant's `#active` counter (`count` < `maxActive`).
   * With `deployed`, the slots in use (deployedModelsOf) are counted from a strongly consistent
   * listing first, and the same ADD bumps the counter's `deployedGeneration`, conditional on the value read before that
   * listing: a create that commits in between (the only write that adds a holder) moves it, so this transaction is
   * refused and counts again. A job's end or a model's deletion only frees slots, so a listing it races is merely
   * conservative. Concurrent creates at the bound: one commits, the others count again and get DeployedModelLimitError.
   * @throws ConcurrentJobLimitError, DeployedModelLimitError; an Error after CREATE_ATTEMPTS counts that all lost to concurrent creates
   */
  async create(job: FineTuningJob, maxActive: number, deployed?: DeployedModelBound): Promise<void> {
    const doc = await this.docFor(job.tenantId);
    const counterKey = { tenantId: job.tenantId, jobId: ACTIVE_COUNTER };
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      let generation: number | undefined;
      if (deployed) {
        const counter = await doc.send(new GetCommand({ TableName: this.table, Key: counterKey, ConsistentRead: true }));
        generation = typeof counter?.Item?.deployedGeneration === 'number' ? counter.Item.deployedGeneration : 0;
        const models = deployedModelsOf(await this.list(job.tenantId), deployed.listed);
        if (slotsInUse(models) >= deployed.max) throw new DeployedModelLimitError(deployed.max, models);
      }
      const generationCondition = generation === undefined ? '' : generation === 0 ? ' AND attribute_not_exists(#g)' : ' AND #g = :gen';
      try {
        await sendTransaction(doc, new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: item(job), ConditionExpression: 'attribute_not_exists(jobId)' } },
            {
              Update: {
                TableName: this.table, Key: counterKey,
                UpdateExpression: generation === undefined ? 'ADD #n :one' : 'ADD #n :one, #g :one',
                ConditionExpression: `(attribute_not_exists(#n) OR #n < :max)${generationCondition}`,
                ExpressionAttributeNames: { '#n': 'count', ...(generation === undefined ? {} : { '#g': 'deployedGeneration' }) },
                ExpressionAttributeValues: { ':one': 1, ':max': maxActive, ...(generation ? { ':gen': generation } : {}) },
              },
            },
          ],
        }));
        return;
      } catch (e) {
        if (!(e instanceof TransactionCanceledException && e.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed')) throw e;
        if (generation === undefined) throw new ConcurrentJobLimitError(maxActive);
        // The count, or the generation a concurrent create moved: read again to tell.
        const counter = await doc.send(new GetCommand({ TableName: this.table, Key: counterKey, ConsistentRead: true }));
        if (typeof counter?.Item?.count === 'number' && counter.Item.count >= maxActive) throw new ConcurrentJobLimitError(maxActive);
      }
    }
    throw new Error(`fine-tuning job ${job.id} was not recorded: ${CREATE_ATTEMPTS} attempts lost to concurrent job creations of tenant ${job.tenantId}; create it again`);
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
