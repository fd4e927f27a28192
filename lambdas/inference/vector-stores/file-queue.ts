import { isTenantId } from '../../../lib/tenant-record.js';
import { processVectorStoreFile, type ProcessingDeps } from './processing.js';
import { isFileBatchId, isFileId, isRunId, isVectorStoreId } from './records.js';

/**
 * The message of one vector store file to process, on the vector store files' work queue
 * (work-queues.ts VECTOR_STORE_FILES_QUEUE_NAME): the file as attached (`fileId` in store `storeId` of tenant
 * `tenantId`), the run it starts (StoredVectorStoreFile.run: a message of a run the file has moved on from is skipped),
 * and the file batch it came with, if any. What is processed is read from the records when it runs.
 */
export interface VectorStoreFileMessage {
  kind: 'vector_store_file';
  tenantId: string;
  storeId: string;
  fileId: string;
  run: string;
  batchId?: string;
}

/** The message body of a file to process (what the router sends: lambda-deps.ts). */
export const vectorStoreFileMessage = (tenantId: string, storeId: string, fileId: string, run: string, batchId?: string): VectorStoreFileMessage =>
  ({ kind: 'vector_store_file', tenantId, storeId, fileId, run, ...(batchId ? { batchId } : {}) });

/**
 * The vector store file message of a queue message's body, or undefined when it is not one (no `kind:
 * 'vector_store_file'`: a batch chunk's or a background response's).
 * @throws Error for a `kind: 'vector_store_file'` message whose ids are not a tenant's, a store's, a file's (and a batch's)
 */
export function parseVectorStoreFileMessage(body: string): VectorStoreFileMessage | undefined {
  let m: Partial<VectorStoreFileMessage>;
  try {
    m = JSON.parse(body) as Partial<VectorStoreFileMessage>;
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || m.kind !== 'vector_store_file') return undefined;
  const ok = typeof m.tenantId === 'string' && isTenantId(m.tenantId) && typeof m.storeId === 'string' && isVectorStoreId(m.storeId)
    && typeof m.fileId === 'string' && isFileId(m.fileId) && typeof m.run === 'string' && isRunId(m.run) && (m.batchId === undefined || (typeof m.batchId === 'string' && isFileBatchId(m.batchId)));
  if (!ok) throw new Error(`not a vector store file message {kind: 'vector_store_file', tenantId, storeId (vs_…), fileId (file-…), run (12 hex digits), batchId? (vsfb_…)}: ${body.slice(0, 200)}`);
  return vectorStoreFileMessage(m.tenantId!, m.storeId!, m.fileId!, m.run!, m.batchId);
}

/** What a message's run did: processed (the file's status then), nothing to do (the file or store gone, no longer `in_progress`, or at another run). */
export type VectorStoreFileOutcome = { processed: string } | { skipped: string };

/**
 * Runs one message of the vector store files' queue (an SQS receive, at least once):
 * - the file (or its store) gone: nothing (a file detached or a store deleted meanwhile ends quietly);
 * - the file at another run than the message's (attached again or its attributes updated since: that run has its own
 *   message): nothing, whatever its status, so a redelivered or redriven message of an old run cannot undo a newer one;
 * - the file `failed` with `deadLettered` (an earlier message of it went to the dead-letter queue, and this is its
 *   redrive): set `in_progress` again, then processed;
 * - not `in_progress` (completed, failed for its own reason, cancelled): nothing; a redelivered message leaves the file
 *   as its first run did;
 * - `in_progress`: processed (processing.ts processVectorStoreFile with `transient: 'throw'`: a run that failed for a
 *   reason not the file's own removes what it wrote and throws, so SQS delivers the message again and the next run
 *   writes the same vectors under the same keys).
 * On the last receive (`lastAttempt`: the queue's maxReceiveCount reached) such a failure also sets the file `failed`
 * with `last_error` (`server_error`) and `deadLettered`, then throws: the message goes to the dead-letter queue and no
 * file stays `in_progress` for ever.
 * @throws the processing's error (the message is to be reported failed)
 */
export async function runVectorStoreFileMessage(deps: ProcessingDeps, message: VectorStoreFileMessage, options: { lastAttempt: boolean; deadLetterQueue: string }): Promise<VectorStoreFileOutcome> {
  const { tenantId, storeId, fileId, run } = message;
  const file = await deps.records.getFile(tenantId, storeId, fileId);
  if (!file || !(await deps.records.getStore(tenantId, storeId))) return { skipped: 'the file or its vector store is gone' };
  if (file.run !== run) return { skipped: `the file is at a newer run than the message's (${run})` };
  if (file.status === 'failed' && file.deadLettered) {
    await deps.records.updateFile(tenantId, storeId, fileId, (f) => {
      if (f.status !== 'failed' || !f.deadLettered || f.run !== run) return undefined;
      const { deadLettered: _redriven, ...kept } = f;
      return { ...kept, status: 'in_progress', lastError: null };
    });
  } else if (file.status !== 'in_progress') {
    return { skipped: `the file is ${file.status}` };
  }
  try {
    await processVectorStoreFile(deps, tenantId, storeId, fileId, run, { transient: 'throw' });
  } catch (e) {
    if (options.lastAttempt) {
      const lastError = { code: 'server_error' as const, message: `the file could not be processed: ${(e as Error).message} (every attempt failed; its message is in ${options.deadLetterQueue})`.slice(0, 1000) };
      await deps.records.updateFile(tenantId, storeId, fileId, (f) => (f.status === 'in_progress' && f.run === run ? { ...f, status: 'failed', lastError, deadLettered: true } : undefined));
    }
    throw e;
  }
  return { processed: (await deps.records.getFile(tenantId, storeId, fileId))?.status ?? 'gone' };
}
