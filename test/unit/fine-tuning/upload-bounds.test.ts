import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../../lib/fine-tuning.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { DirUploadStore, READING_MARK_MS } from '../../../lambdas/inference/uploads/dir-upload-store.js';
import { MemoryFileStore, type FileLocation, type StoredUpload } from '../../../lambdas/fine-tuning/stores/file-store.js';
import { COMPLETE_HOLD_SECONDS, TrainingUploadsService, UPLOAD_RECORD_KEPT_SECONDS, UPLOAD_SWEEP_INTERVAL_SECONDS, UPLOAD_TTL_SECONDS, partsLapsed, sweepLapsedUploads, type GatewayUploadFiles } from '../../../lambdas/fine-tuning/uploads-service.js';
import { tempDir } from '../../support/temp-dirs.js';
import { logSpy } from '../../support/service-log.js';

/**
 * The Uploads API's bound on an upload's parts by its `bytes` (a part that would take the bytes held past them is
 * refused before it is stored, and parts sent at once never pass it together), and the sweep of lapsed uploads' parts
 * from the stores nothing else empties (`tessera serve`'s), in TrainingUploadsService (uploads-service.ts) on the
 * memory store, for a fine-tune upload and a gateway purpose's.
 */
const at: FileLocation = { tenantId: 'acme', accountId: '444444444444', bucket: 'acme-bucket' };
const caller = { tenantId: 'acme', userId: 'u-1', role: 'admin' } as unknown as Caller;
const audit = () => ({ requestId: 'r', at: '2026-12-06T00:00:00.000Z' }) as AuditRecord;
const T0 = 1_796_000_000;

/** A gateway purpose's target that takes `batch` and checks nothing (its checks are gateway-uploads.ts's); `stored` the last file's content. */
const gatewayFiles: GatewayUploadFiles & { stored?: Uint8Array } = {
  purposes: ['batch'],
  refuseCreate: () => undefined,
  /** Reads the parts in order (checked by nothing) and keeps the file's content (`stored`). */
  store: async (_caller, upload) => {
    const pieces: Uint8Array[] = [];
    for await (const piece of upload.parts.pieces({ push: () => undefined, end: () => undefined })) pieces.push(piece);
    gatewayFiles.stored = Buffer.concat(pieces);
    return { id: 'file-1', bytes: upload.bytes, openAi: {} };
  },
  get: async () => undefined,
  delete: async () => undefined,
};

/** A memory store whose putPart waits at `gate` (when set) once it has counted itself in `entered`. */
class GatedStore extends MemoryFileStore {
  gate?: Promise<void>;
  entered = 0;
  override async putPart(...args: Parameters<MemoryFileStore['putPart']>) {
    this.entered++;
    await this.gate;
    return super.putPart(...args);
  }
}

function service(mode: 'fine-tune' | 'batch', store = new GatedStore(TRAINING_FILES_PREFIX)) {
  const clock = { now: T0 };
  const uploads = new TrainingUploadsService({
    files: store, location: () => at, toOpenAiFile: () => ({}), now: () => clock.now, ...(mode === 'batch' ? { gatewayFiles } : {}),
  });
  const call = async (path: string, body?: string, bytes?: Uint8Array, contentType?: string, sdkRetry?: number) =>
    JSON.parse((await uploads.handle('POST', path, {}, undefined, body, bytes, contentType, caller, audit(), sdkRetry)).body) as Record<string, unknown> & { id: string };
  const create = (bytes: number) => call('/v1/uploads', JSON.stringify({ bytes, filename: 'f.jsonl', mime_type: 'application/jsonl', purpose: mode }));
  /** A part, sent as the official client's `sdkRetry`-th retry when given (x-stainless-retry-count). */
  const part = async (id: string, data: Uint8Array, sdkRetry?: number) => {
    const form = new FormData();
    form.append('data', new File([data], 'p'));
    const request = new Request('http://gateway', { method: 'POST', body: form });
    return call(`/v1/uploads/${id}/parts`, undefined, new Uint8Array(await request.arrayBuffer()), request.headers.get('content-type')!, sdkRetry);
  };
  const complete = (id: string, partIds: string[]) => call(`/v1/uploads/${id}/complete`, JSON.stringify({ part_ids: partIds }));
  return { store, clock, create, part, complete };
}

const refusal = async (p: Promise<unknown>): Promise<GatewayError> => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(e)}`);
  return e;
};
const heldBytes = async (store: MemoryFileStore, id: string) => [...(await store.partSizes(at, id)).values()].reduce((a, b) => a + b, 0);

describe.each(['fine-tune', 'batch'] as const)('the bound on an upload\'s parts by its bytes (purpose %s)', (mode) => {
  it('a part that would take the bytes held past bytes is a 400 naming data and both figures, nothing stored; parts up to bytes are taken', async () => {
    const { store, create, part } = service(mode);
    const upload = await create(10);
    await part(upload.id, new Uint8Array(6));
    const over = await refusal(part(upload.id, new Uint8Array(5)));
    expect([over.status, over.param, over.code]).toEqual([400, 'data', 'upload_bytes_exceeded']);
    expect(over.message).toContain(`data is 5 bytes: with the 6 bytes upload ${upload.id} already holds in its parts, that is 11 bytes, over the 10 bytes it was created with (bytes); nothing was stored`);
    expect(await heldBytes(store, upload.id)).toBe(6);
    await part(upload.id, new Uint8Array(4));
    expect(await heldBytes(store, upload.id)).toBe(10);
    // Full: even one byte more is refused.
    expect((await refusal(part(upload.id, new Uint8Array(1)))).code).toBe('upload_bytes_exceeded');
    expect((await store.partSizes(at, upload.id)).size).toBe(2);
  });

  it('two parts in flight at once, each under the bound alone, over it together: neither kept past it (both are counted after storing)', async () => {
    const { store, create, part } = service(mode);
    const upload = await create(10);
    let open!: () => void;
    store.gate = new Promise<void>((ok) => { open = ok; });
    // Other bytes each (the same bytes twice are a part sent again: its copy is free).
    const racing = [part(upload.id, new Uint8Array(6).fill(1)), part(upload.id, new Uint8Array(6).fill(2))];
    // Both have passed the check before storing (nothing held yet) and wait to store.
    while (store.entered < 2) await new Promise((ok) => setTimeout(ok, 1));
    open();
    const sent = await Promise.allSettled(racing);
    expect(sent.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of sent) expect(((r as PromiseRejectedResult).reason as GatewayError).code).toBe('upload_bytes_exceeded');
    expect(await heldBytes(store, upload.id)).toBe(0);
    // The upload still takes its file's parts.
    store.gate = undefined;
    await part(upload.id, new Uint8Array(10));
    expect(await heldBytes(store, upload.id)).toBe(10);
  });
});

describe('a part sent again (an SDK retry of a part whose answer was lost, or whose first attempt still runs; x-stainless-retry-count)', () => {
  const block = (n: number) => new Uint8Array(n).fill(0x61);

  it('is stored under an id of its own: a file of equal parts whose second part\'s first attempt was refused before it was stored completes, each part named once', async () => {
    const { store, create, part, complete } = service('batch');
    const upload = await create(12);
    const first = await part(upload.id, block(4));
    // The second part's first attempt never reached the store (a 429, a 5xx): its retry carries the same bytes.
    const second = await part(upload.id, block(4), 1);
    expect(second.id).not.toBe(first.id);
    const third = await part(upload.id, block(4));
    expect(await heldBytes(store, upload.id)).toBe(12);
    // Before, the retry was answered the first part's id, and complete named it twice: the 400 naming part_ids.
    await complete(upload.id, [first.id, second.id, third.id]);
    expect(Buffer.from(gatewayFiles.stored!).equals(Buffer.from(block(12)))).toBe(true);
  });

  it('a lost answer\'s orphan and its copy count once: the file\'s last part still fits and the file completes; a client sending a part three times stores at most twice bytes', async () => {
    const { store, create, part, complete } = service('batch');
    const upload = await create(10);
    await part(upload.id, block(6)); // stored, its answer lost
    const retried = await part(upload.id, block(6), 1);
    const last = await part(upload.id, new Uint8Array(4).fill(0x62));
    await complete(upload.id, [retried.id, last.id]);
    expect(Buffer.from(gatewayFiles.stored!).toString()).toBe('aaaaaabbbb');
    expect((await store.partSizes(at, upload.id)).size).toBe(0);

    const forged = await create(10);
    await part(forged.id, block(6));
    await part(forged.id, block(6), 1);
    // A third copy counts: 12 bytes over 10.
    expect((await refusal(part(forged.id, block(6), 2))).code).toBe('upload_bytes_exceeded');
    expect(await heldBytes(store, forged.id)).toBe(12);
  });
});

describe('a retry whose first attempt still runs (both stored at once)', () => {
  it('both copies are kept, counted once: the file\'s last part fits and the file completes', async () => {
    const { store, create, part, complete } = service('batch');
    const upload = await create(10);
    let open!: () => void;
    store.gate = new Promise<void>((ok) => { open = ok; });
    // The first attempt and its retry (the client's timeout cut the first) both wait to store the same bytes.
    const both = [part(upload.id, new Uint8Array(6).fill(0x61)), part(upload.id, new Uint8Array(6).fill(0x61), 1)];
    while (store.entered < 2) await new Promise((ok) => setTimeout(ok, 1));
    open();
    store.gate = undefined;
    const [, retried] = await Promise.all(both);
    // Before, both counted: 12 bytes over 10, both refused (and the client, whose retry was refused, failed).
    const last = await part(upload.id, new Uint8Array(4).fill(0x62));
    await complete(upload.id, [retried!.id, last.id]);
    expect(Buffer.from(gatewayFiles.stored!).toString()).toBe('aaaaaabbbb');
  });
});

describe('the sweep of lapsed uploads\' parts', () => {
  it('partsLapsed: expired and a minute past it, or past a complete\'s hold; ended uploads with parts left', () => {
    const pending: StoredUpload = { id: 'upload_000000000000000000000001', bytes: 1, filename: 'f.jsonl', mimeType: 'text/jsonl', purpose: 'batch', createdAt: T0, expiresAt: T0 + UPLOAD_TTL_SECONDS, status: 'pending' };
    expect(partsLapsed(pending, T0 + UPLOAD_TTL_SECONDS)).toBe(false);
    expect(partsLapsed(pending, T0 + UPLOAD_TTL_SECONDS + COMPLETE_HOLD_SECONDS - 1)).toBe(false);
    expect(partsLapsed(pending, T0 + UPLOAD_TTL_SECONDS + COMPLETE_HOLD_SECONDS)).toBe(true);
    // A complete that held it a moment before it expired still reads its parts until its hold ran out, and a minute.
    const completing: StoredUpload = { ...pending, status: 'completing', completingUntil: T0 + UPLOAD_TTL_SECONDS + 59 };
    expect(partsLapsed(completing, T0 + UPLOAD_TTL_SECONDS + COMPLETE_HOLD_SECONDS)).toBe(false);
    expect(partsLapsed(completing, T0 + UPLOAD_TTL_SECONDS + 59 + COMPLETE_HOLD_SECONDS)).toBe(true);
    // Completed or cancelled: their parts are of no use (the request that ended it died before deleting them).
    expect(partsLapsed({ ...pending, status: 'completed', fileId: 'file-1' }, T0 + 10)).toBe(true);
    expect(partsLapsed({ ...pending, status: 'cancelled' }, T0 + 10)).toBe(true);
  });

  it('a create sweeps the store (at most every UPLOAD_SWEEP_INTERVAL_SECONDS): an expired upload\'s parts go, a live one\'s stay, the record stays', async () => {
    const { store, clock, create, part } = service('batch');
    const abandoned = await create(10);
    await part(abandoned.id, new Uint8Array(4));
    // Just before it lapsed: a create sweeps, and keeps its parts.
    clock.now = T0 + UPLOAD_TTL_SECONDS + COMPLETE_HOLD_SECONDS - 1;
    const live = await create(10);
    await part(live.id, new Uint8Array(4));
    expect(await heldBytes(store, abandoned.id)).toBe(4);
    // Lapsed, but the last sweep was a second ago: the next create does not sweep again yet.
    clock.now += 1;
    await create(10);
    expect(await heldBytes(store, abandoned.id)).toBe(4);
    clock.now += UPLOAD_SWEEP_INTERVAL_SECONDS - 1;
    await create(10);
    expect(await heldBytes(store, abandoned.id)).toBe(0);
    expect(await heldBytes(store, live.id)).toBe(4);
    // The record stays: a part is the 400 upload_expired, as before the sweep.
    expect((await refusal(part(abandoned.id, new Uint8Array(1)))).code).toBe('upload_expired');
    expect((await store.getUpload(at, abandoned.id))?.upload.status).toBe('pending');
  });

  it('DirUploadStore.sweepUploads removes parts/ of the lapsed uploads of every tenant, nothing else', async () => {
    const dir = tempDir('tessera-upload-sweep-');
    const store = new DirUploadStore(dir);
    const record = (id: string, createdAt: number): StoredUpload => ({ id, bytes: 4, filename: 'f.jsonl', mimeType: 'text/jsonl', purpose: 'batch', createdAt, expiresAt: createdAt + UPLOAD_TTL_SECONDS, status: 'pending' });
    const acme = { tenantId: 'acme', accountId: 'acme', bucket: 'gateway-uploads' };
    const globex = { tenantId: 'globex', accountId: 'globex', bucket: 'gateway-uploads' };
    const old = 'upload_00000000000000000000000a';
    const fresh = 'upload_00000000000000000000000b';
    const theirs = 'upload_00000000000000000000000c';
    await store.putUpload(acme, record(old, T0 - 2 * UPLOAD_TTL_SECONDS), null);
    await store.putUpload(acme, record(fresh, T0), null);
    await store.putUpload(globex, record(theirs, T0 - 2 * UPLOAD_TTL_SECONDS), null);
    for (const [where, id] of [[acme, old], [acme, fresh], [globex, theirs]] as const) await store.putPart(where, id, 'part_000000000000000000000001', new Uint8Array(4));
    // What the store does not make is left alone.
    mkdirSync(join(dir, 'acme', 'not-an-upload', 'parts'), { recursive: true });
    writeFileSync(join(dir, 'stray.txt'), 'x');

    expect(await store.sweepUploads((u) => partsLapsed(u, T0))).toBe(2);
    expect(existsSync(join(dir, 'acme', old, 'parts'))).toBe(false);
    expect(existsSync(join(dir, 'globex', theirs, 'parts'))).toBe(false);
    expect(readdirSync(join(dir, 'acme', fresh, 'parts'))).toEqual(['part_000000000000000000000001']);
    expect((await store.getUpload(acme, old))?.upload.id).toBe(old);
    expect(existsSync(join(dir, 'acme', 'not-an-upload', 'parts'))).toBe(true);
    // Again: nothing left to remove.
    expect(await store.sweepUploads((u) => partsLapsed(u, T0))).toBe(0);
  });

  it('DirUploadStore.sweepUploads leaves the parts of an upload a complete still reads (begun in its last second, past its hold), and sweeps them once the reads stop', async () => {
    const dir = tempDir('tessera-upload-sweep-');
    const store = new DirUploadStore(dir);
    const at = { tenantId: 'acme', accountId: 'acme', bucket: 'gateway-uploads' };
    const id = 'upload_00000000000000000000000a';
    const part = 'part_000000000000000000000001';
    // Its complete took the hold one second before expires_at; the hold and its minute's grace have run out, and the complete still reads.
    const expiresAt = T0 - 2 * COMPLETE_HOLD_SECONDS - 1;
    await store.putUpload(at, { id, bytes: 4, filename: 'f.jsonl', mimeType: 'text/jsonl', purpose: 'batch', createdAt: expiresAt - UPLOAD_TTL_SECONDS, expiresAt, status: 'completing', completingUntil: expiresAt - 1 + COMPLETE_HOLD_SECONDS }, null);
    await store.putPart(at, id, part, new Uint8Array(4));
    expect(partsLapsed((await store.getUpload(at, id))!.upload, T0)).toBe(true);
    await store.readPart(at, id, part);
    expect(await sweepLapsedUploads(store, T0)).toBe(0);
    expect(readdirSync(join(dir, 'acme', id, 'parts'))).toEqual([part]);
    // The complete died: its last read is older than READING_MARK_MS, and the parts go.
    const then = new Date(Date.now() - READING_MARK_MS - 1000);
    utimesSync(join(dir, 'acme', id, 'reading'), then, then);
    expect(await sweepLapsedUploads(store, T0)).toBe(1);
    expect(existsSync(join(dir, 'acme', id, 'parts'))).toBe(false);
  });

  it('DirUploadStore.sweepUploads removes the records of uploads a day past their expiry (then a 404), keeps the others', async () => {
    const dir = tempDir('tessera-upload-sweep-');
    const store = new DirUploadStore(dir);
    const at = { tenantId: 'acme', accountId: 'acme', bucket: 'gateway-uploads' };
    const record = (id: string, expiresAt: number, status: StoredUpload['status'] = 'pending'): StoredUpload => ({ id, bytes: 4, filename: 'f.jsonl', mimeType: 'text/jsonl', purpose: 'batch', createdAt: expiresAt - UPLOAD_TTL_SECONDS, expiresAt, status });
    const gone = 'upload_00000000000000000000000a';
    const completed = 'upload_00000000000000000000000b';
    const recent = 'upload_00000000000000000000000c';
    const now = Math.floor(Date.now() / 1000);
    await store.putUpload(at, record(gone, now - UPLOAD_RECORD_KEPT_SECONDS - 60), null);
    await store.putPart(at, gone, 'part_000000000000000000000001', new Uint8Array(4));
    await store.putUpload(at, record(completed, now - UPLOAD_RECORD_KEPT_SECONDS - 60, 'completed'), null);
    await store.putUpload(at, record(recent, now - 3600), null);
    // As their directories would be, last written when they were made.
    for (const id of [gone, completed, recent]) {
      const written = new Date(((await store.getUpload(at, id))!.upload.createdAt) * 1000);
      utimesSync(join(dir, 'acme', id), written, written);
    }
    expect(await sweepLapsedUploads(store, now)).toBe(2);
    expect(await store.getUpload(at, gone)).toBeUndefined();
    expect(await store.getUpload(at, completed)).toBeUndefined();
    expect(readdirSync(join(dir, 'acme'))).toEqual([recent]);
    expect((await store.getUpload(at, recent))?.upload.status).toBe('pending');
  });

  it('DirUploadStore.sweepUploads passes an upload it cannot sweep (logged) and sweeps the ones after it', async () => {
    const dir = tempDir('tessera-upload-sweep-');
    const store = new DirUploadStore(dir);
    const at = { tenantId: 'acme', accountId: 'acme', bucket: 'gateway-uploads' };
    const ids = ['upload_00000000000000000000000a', 'upload_00000000000000000000000b', 'upload_00000000000000000000000c'];
    for (const id of ids) {
      await store.putUpload(at, { id, bytes: 4, filename: 'f.jsonl', mimeType: 'text/jsonl', purpose: 'batch', createdAt: T0 - 2 * UPLOAD_TTL_SECONDS, expiresAt: T0 - UPLOAD_TTL_SECONDS, status: 'pending' }, null);
      await store.putPart(at, id, 'part_000000000000000000000001', new Uint8Array(4));
    }
    // Whichever the listing gives first fails (as an upload directory another user owns would, at its removal).
    let first: string | undefined;
    const logged = logSpy('tessera-gateway', 'error');
    try {
      const swept = await store.sweepUploads((u) => {
        first ??= u.id;
        if (u.id === first) throw new Error('EACCES: permission denied');
        return partsLapsed(u, T0);
      });
      // Before, the first failure ended the sweep: none of the others was swept.
      expect(swept).toBe(2);
      expect(logged.lines()).toEqual([expect.objectContaining({ level: 'ERROR', tenantId: 'acme', uploadId: first, error: 'EACCES: permission denied' })]);
    } finally {
      logged.mockRestore();
    }
    expect(ids.filter((id) => existsSync(join(dir, 'acme', id, 'parts')))).toEqual([first]);
  });
});
