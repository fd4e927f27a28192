import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { newConversationId } from '../../../lambdas/inference/endpoints/conversations.js';
import { DuplicateConversationItemError, encodeItem, type ConversationItem, type ConversationStore, type StoredConversation } from '../../../lambdas/inference/stores/conversation-store.js';
import { FileConversationStore } from '../../../lambdas/inference/stores/file-conversation-store.js';
import { MemoryConversationStore } from '../../../lambdas/inference/stores/memory-conversation-store.js';
import { openTempFiles } from '../../support/file-state-leaks.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * The conversation stores of `tessera serve`: the one semantics in memory and in files, and what only
 * files have: one directory shared by every worker thread (several writers at once on one conversation),
 * kept across restarts, a writer stopped before its commit leaving nothing a reader counts.
 */
const now = () => Math.floor(Date.now() / 1000);
const conv = (tenantId = 'acme', expiresAt = now() + 3600): StoredConversation => ({ tenantId, conversationId: newConversationId(), createdAt: now(), metadata: { k: 'v' }, expiresAt });
const msg = (id: string, text = id): ConversationItem => ({ id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });
const ids = (items: ConversationItem[] | undefined) => items?.map((i) => i.id);

describe.each([
  { name: 'MemoryConversationStore', make: (): ConversationStore => new MemoryConversationStore() },
  { name: 'FileConversationStore', make: (): ConversationStore => new FileConversationStore(tempDir('tessera-conversations-')) },
])('$name', ({ make }) => {
  it('create, append, pages both ways, item get/delete, metadata, delete; tenant-scoped', async () => {
    const s = make();
    const c = conv();
    await s.create(c, [msg('m1')]);
    expect(await s.get('acme', c.conversationId)).toEqual(c);
    expect(await s.get('globex', c.conversationId)).toBeUndefined();
    expect(await s.append('globex', c.conversationId, [msg('x')])).toBe(false);
    expect(await s.append('acme', c.conversationId, [msg('m2'), msg('m3')])).toBe(true);
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1', 'm2', 'm3']);
    expect(await s.list('acme', c.conversationId, { order: 'desc', limit: 2 })).toEqual({ items: [msg('m3'), msg('m2')], hasMore: true });
    expect(await s.list('acme', c.conversationId, { order: 'asc', limit: 5, after: 'm1' })).toEqual({ items: [msg('m2'), msg('m3')], hasMore: false });
    expect(await s.getItem('acme', c.conversationId, 'm2')).toEqual(msg('m2'));
    expect(await s.getItem('globex', c.conversationId, 'm2')).toBeUndefined();
    await expect(s.append('acme', c.conversationId, [msg('m4'), msg('m2')])).rejects.toMatchObject({ index: 1, itemId: 'm2' });
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1', 'm2', 'm3']); // nothing of a refused append
    expect(await s.deleteItem('acme', c.conversationId, 'm2')).toBe(true);
    expect(await s.deleteItem('acme', c.conversationId, 'm2')).toBe(false);
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1', 'm3']);
    expect(await s.updateMetadata('acme', c.conversationId, { a: 'b' })).toEqual({ ...c, metadata: { a: 'b' } });
    expect(await s.updateMetadata('globex', c.conversationId, { a: 'c' })).toBeUndefined();
    expect(await s.delete('globex', c.conversationId)).toBe(false);
    expect(await s.delete('acme', c.conversationId)).toBe(true);
    expect(await s.delete('acme', c.conversationId)).toBe(false);
    expect(await s.all('acme', c.conversationId)).toBeUndefined();
    expect(await s.append('acme', c.conversationId, [msg('m5')])).toBe(false);
  });

  it('an expired conversation is gone for every call', async () => {
    const s = make();
    const c = conv('acme', now() - 1);
    await s.create(c, [msg('m1')]);
    expect(await s.get('acme', c.conversationId)).toBeUndefined();
    expect(await s.append('acme', c.conversationId, [msg('m2')])).toBe(false);
    expect(await s.getItem('acme', c.conversationId, 'm1')).toBeUndefined();
  });
});

describe('FileConversationStore: the state of serve and of its --workers threads', () => {
  it('kept across a restart: a new store on the same directory holds the conversation and its items', async () => {
    const dir = tempDir('tessera-conversations-');
    const c = conv();
    await new FileConversationStore(dir).create(c, [msg('m1')]);
    await new FileConversationStore(dir).append('acme', c.conversationId, [msg('m2')]);
    const restarted = new FileConversationStore(dir);
    expect(await restarted.get('acme', c.conversationId)).toEqual(c);
    expect(ids(await restarted.all('acme', c.conversationId))).toEqual(['m1', 'm2']);
  });

  it('several writers at once on one conversation (a store per worker): no item lost or doubled, each turn in order and whole', async () => {
    const dir = tempDir('tessera-conversations-');
    const c = conv();
    await new FileConversationStore(dir).create(c, []);
    const writers = Array.from({ length: 6 }, () => new FileConversationStore(dir));
    const turns = Array.from({ length: 24 }, (_, t) => [msg(`t${t}-in`), msg(`t${t}-out1`), msg(`t${t}-out2`)]);
    const added = await Promise.all(turns.map((items, t) => writers[t % writers.length]!.append('acme', c.conversationId, items)));
    expect(added.every(Boolean)).toBe(true);
    const all = ids(await new FileConversationStore(dir).all('acme', c.conversationId))!;
    expect(all).toHaveLength(72);
    expect(new Set(all).size).toBe(72);
    // every turn's items next to each other, in their order
    for (let at = 0; at < all.length; at += 3) {
      const t = all[at]!.split('-')[0];
      expect(all.slice(at, at + 3)).toEqual([`${t}-in`, `${t}-out1`, `${t}-out2`]);
    }
    // the item files: one per item, at positions 0 to 71
    const names = readdirSync(join(dir, 'acme', c.conversationId, 'items')).sort();
    expect(names.map((n) => Number(n.slice(0, 12)))).toEqual(Array.from({ length: 72 }, (_, i) => i));
    expect(readdirSync(join(dir, 'acme', c.conversationId))).not.toContain('lock');
  });

  it('the same item id added by several writers at once: added once, the others refused as duplicates', async () => {
    const dir = tempDir('tessera-conversations-');
    const c = conv();
    await new FileConversationStore(dir).create(c, []);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => new FileConversationStore(dir).append('acme', c.conversationId, [msg('same')])));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toBeInstanceOf(DuplicateConversationItemError);
    expect(ids(await new FileConversationStore(dir).all('acme', c.conversationId))).toEqual(['same']);
  });

  it('a writer that stopped before its commit (item files past nextPos, its lock left behind by a gone process) leaves nothing a reader counts; the next append takes over', async () => {
    const dir = tempDir('tessera-conversations-');
    const s = new FileConversationStore(dir);
    const c = conv();
    await s.create(c, [msg('m1')]);
    const at = join(dir, 'acme', c.conversationId);
    // what an append that died after writing one item file leaves: the file at position 1, the head still at 1, its lock
    writeFileSync(join(at, 'items', `000000000001-${'ab'.repeat(32)}.json.gz`), encodeItem(msg('half')));
    writeFileSync(join(at, 'lock'), '2147483646 deadbeef'); // no such process
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1']);
    expect(await s.list('acme', c.conversationId, { order: 'desc', limit: 10 })).toEqual({ items: [msg('m1')], hasMore: false });
    expect(await s.append('acme', c.conversationId, [msg('m2')])).toBe(true);
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1', 'm2']);
    expect(readdirSync(join(at, 'items'))).toHaveLength(2);
  });

  // s47l: the lock's FileHandle was closed only after a write that succeeded: one that threw left it to garbage collection
  // (Node's DEP0137 warning), and the lock file, with no token, held the conversation until STALE_LOCK_MS.
  it('a lock whose token cannot be written (a full disk) is closed and removed: the append fails, the next one takes the lock at once', async () => {
    const dir = tempDir('tessera-conversations-');
    const s = new FileConversationStore(dir);
    const c = conv();
    await s.create(c, [msg('m1')]);
    const probe = await open(join(dir, 'probe'), 'w');
    const handles = Object.getPrototypeOf(probe) as { writeFile(data: string): Promise<void> };
    await probe.close();
    const write = vi.spyOn(handles, 'writeFile').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    try {
      await expect(s.append('acme', c.conversationId, [msg('m2')])).rejects.toThrow('ENOSPC');
      // (a FileHandle's `close` is its own property, not its prototype's: the descriptors open under the directory are counted)
      expect([...openTempFiles()].filter((f) => f.includes(dir))).toEqual([]);
    } finally {
      write.mockRestore();
    }
    expect(existsSync(join(dir, 'acme', c.conversationId, 'lock'))).toBe(false);
    expect(await s.append('acme', c.conversationId, [msg('m3')])).toBe(true);
    expect(ids(await s.all('acme', c.conversationId))).toEqual(['m1', 'm3']);
  });

  it('ids that are not the gateway\'s name no directory', async () => {
    const s = new FileConversationStore(tempDir('tessera-conversations-'));
    expect(await s.get('acme', '../../etc')).toBeUndefined();
    expect(await s.get('..', newConversationId())).toBeUndefined();
    expect(await s.append('acme', 'conv_../x', [msg('m')])).toBe(false);
  });
});
