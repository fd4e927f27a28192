import type { DirRecordTable } from './dir-record-table.js';
import { fileKey, newRunId, type VectorStoreRecords } from './records.js';

/**
 * `tessera serve`'s resume at start of the vector store files a stopped serve left `in_progress` (its stop ends the
 * files' runs before their next embeddings call, and files still waiting their turn never start: processing.ts
 * `stopping`; a serve killed outright leaves them too). Each file `in_progress` whose record was last written before
 * `startedAtMs` (the serve process's start: a record written since is a live run of one of this serve's `--workers`
 * threads, left alone) is given a new run (StoredVectorStoreFile.run, the update conditional on the record being still
 * `in_progress` at its old run) and started (`start`): it is processed again from its first chunk, as a file attached
 * again is. The stopped run wrote no vector (a run writes its vectors only once every chunk is embedded), and one still
 * settling in the stopped process finds itself superseded and removes its own vectors, never the new run's; the
 * embeddings it had made before the stop are reused where the stopped run kept them (processing.ts `progress`:
 * embedding-progress.ts), so only the chunks after them are embedded (and billed). Nothing is left `in_progress` for ever.
 * @param start as VectorStoreService's `start`: queues the run in this process
 * @throws what the record table throws (serve logs it and goes on)
 */
export async function resumeVectorStoreFiles(table: DirRecordTable, records: VectorStoreRecords, startedAtMs: number, start: (tenantId: string, storeId: string, fileId: string, run: string) => void): Promise<void> {
  for (const tenantId of await table.tenantIds()) {
    for (const store of await records.listStores(tenantId)) {
      for (const file of await records.listFiles(tenantId, store.id)) {
        if (file.status !== 'in_progress') continue;
        const writtenAt = await table.writtenAtMs(tenantId, fileKey(store.id, file.fileId));
        if (writtenAt === undefined || writtenAt >= startedAtMs) continue;
        const run = newRunId();
        const resumed = await records.updateFile(tenantId, store.id, file.fileId, (f) => (f.status === 'in_progress' && f.run === file.run ? { ...f, run, chunks: 0 } : undefined));
        if (resumed?.status === 'in_progress' && resumed.run === run) start(tenantId, store.id, file.fileId, run);
      }
    }
  }
}
