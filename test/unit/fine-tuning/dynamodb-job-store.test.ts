import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { trainingJobName, type FineTuningJob } from '../../../lib/fine-tuning.js';
import { ConcurrentJobLimitError } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { DynamoDbJobStore } from '../../../lambdas/fine-tuning/stores/dynamodb-job-store.js';

/**
 * The jobs table's transactions (create, update) against DynamoDB's transaction conflicts: a
 * transaction that meets another one on the same item (the job, or the tenant's `#active` counter
 * that every job creation and every job end writes) is cancelled with reason `TransactionConflict`,
 * nothing written. That is no answer about the condition: the write is sent again. Before, `update`
 * threw it: `DELETE /v1/models/{model}` answered a 500 after SageMaker had deleted the endpoint.
 */
const doc = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
const store = () => new DynamoDbJobStore('tessera-fine-tuning-jobs', async () => client);
const cancelled = (...codes: string[]) => new TransactionCanceledException({
  message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`, $metadata: {},
  CancellationReasons: codes.map((Code) => ({ Code })),
});

const id = `ftjob-${'a'.repeat(24)}`;
const job: FineTuningJob = {
  id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
  hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: 'support', instanceType: 'ml.g5.2xlarge', spot: false,
  trainingJobName: trainingJobName('acme', id), status: 'running', createdAt: 1, events: [],
};

beforeEach(() => doc.reset());

describe('DynamoDbJobStore: transaction conflicts are sent again, condition failures answered', () => {
  it('update: a TransactionConflict (the job\'s counter or item in another transaction) is retried and the write lands', async () => {
    doc.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).rejectsOnce(cancelled('TransactionConflict', 'None')).resolves({});
    expect(await store().update({ ...job, status: 'succeeded' }, 'running')).toBe(true);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('update: a failed condition is still false at once (not retried), and a conflict that never clears is thrown after a few tries', async () => {
    doc.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await store().update({ ...job, status: 'succeeded' }, 'running')).toBe(false);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(1);
    doc.reset();
    doc.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));
    await expect(store().update({ ...job, status: 'succeeded' }, 'running')).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(doc.commandCalls(TransactWriteCommand).length).toBeGreaterThan(1);
  });

  it('create: a TransactionConflict on the counter is retried; the limit is still the limit', async () => {
    doc.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});
    await store().create({ ...job, status: 'validating_files' }, 4);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(2);
    doc.reset();
    doc.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    await expect(store().create({ ...job, status: 'validating_files' }, 4)).rejects.toBeInstanceOf(ConcurrentJobLimitError);
  });
});
