import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';

/** Retries of a transaction DynamoDB cancelled only for conflicts; backoff 10, 20, 40, 80 ms plus up to 10 ms of jitter. */
export const CONFLICT_RETRIES = 4;

/**
 * Sends a transaction, again after a short backoff when DynamoDB cancelled it only for conflicts with
 * other transactions in flight on the same items (every reason `TransactionConflict`, `None` or absent:
 * nothing was written and no condition was evaluated against them). The gateway's usage items (every
 * request of a tenant writes its day and month items twice: its reservation and its settle) and the fine-tuning jobs table (every job
 * creation and end writes the tenant's counter; a deployment's claim, a cancel and a model deletion
 * write the job) meet such conflicts under concurrent Lambdas. Each send is a new request with a
 * new `ClientRequestToken` (the SDK's, per send): a cancelled transaction applied nothing, so the
 * next one must not be taken for it.
 * Source: DynamoDB API reference, TransactWriteItems, "TransactionCanceledException" reasons.
 * @throws the last TransactionCanceledException after CONFLICT_RETRIES retries; any other error (a failed condition among them) at once
 */
export async function sendTransaction(doc: { send(command: TransactWriteCommand): Promise<unknown> }, command: TransactWriteCommand): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await doc.send(command);
      return;
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : [];
      const conflict = reasons.some((r) => r.Code === 'TransactionConflict') && reasons.every((r) => r.Code === 'TransactionConflict' || r.Code === 'None' || r.Code === undefined);
      if (!conflict || attempt >= CONFLICT_RETRIES) throw e;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt + Math.random() * 10));
    }
  }
}

/**
 * Makes a single-item write (PutItem, UpdateItem, DeleteItem: `write`), again after sendTransaction's backoff
 * when DynamoDB rejected it with `TransactionConflictException` (not applied: made again, it is
 * applied once, its condition evaluated then). The registry's tenant items are in such transactions
 * since key writes and token revocations check the tenant's status in one (a ConditionCheck:
 * DynamoDbApiKeyStore.put, DynamoDbUserTokenRevocations.revoke), so the registry's writers use it.
 * @returns what `write` answered
 * @throws the last TransactionConflictException after CONFLICT_RETRIES retries; any other error at once
 */
export async function retryConflicts<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if ((e as { name?: string }).name !== 'TransactionConflictException' || attempt >= CONFLICT_RETRIES) throw e;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt + Math.random() * 10));
    }
  }
}
