import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import {
  decodeItem, DuplicateConversationItemError, encodeItemsWithinLimit, firstDuplicate, isConversationId, UnknownAfterItemError,
  type ConversationItem, type ConversationStore, type ItemPage, type ItemPageQuery, type StoredConversation,
} from './conversation-store.js';
import { expired } from './response-store.js';
import { writeWhole } from '../../shared/write-whole.js';

/** What `head.json` holds: the conversation and `nextPos`, the position after its last committed item. */
interface Head { createdAt: number; metadata: Record<string, string>; expiresAt: number; nextPos: number }

/** An item file's name: `<position, 12 digits>-<SHA-256 of the item id, hex>.json.gz`. */
const ITEM_FILE = /^(\d{12})-([0-9a-f]{64})\.json\.gz$/;
const pos = (n: number) => String(n).padStart(12, '0');
const idHash = (itemId: string) => createHash('sha256').update(itemId).digest('hex');

/** A lock older than this is taken for one its holder left behind (a write holds it for milliseconds). */
const STALE_LOCK_MS = 10_000;
/** How long a write waits for the lock before it fails. */
const LOCK_WAIT_MS = 30_000;

interface Listed { pos: number; hash: string; file: string }

/**
 * Conversations of `tessera serve`, as files under its state directory, with the DynamoDB store's
 * semantics (tenant-scoped ids, the same item size limit, expired conversations never returned and
 * removed when read). Every worker thread of `serve --workers N` shares the directory, and the files
 * outlive a restart until they expire, as stored responses' do (FileResponseStore):
 * - `<dir>/<tenant>/<conv_…>/head.json`: `createdAt`, `metadata`, `expiresAt` and `nextPos`, the
 *   commit record: an item counts only when its position is below `nextPos`;
 * - `<dir>/<tenant>/<conv_…>/items/<position>-<sha256(item id)>.json.gz`: one gzipped item each (so an
 *   id never names a path, and a conversation grows without one file being rewritten);
 * - `<dir>/<tenant>/<conv_…>/lock`: held by one writer at a time (created exclusively, `O_EXCL`).
 * Writes to a conversation (append, metadata, item delete, delete) take its lock, so concurrent
 * writers on any thread or process never share a position or an id; an append writes its items past
 * `nextPos`, then replaces `head.json` (write and rename: readers see the old head or the new one), so
 * a reader sees a turn whole or not at all, and a writer that died before its head leaves files no
 * reader counts (the next append removes them). Reads take no lock. A lock whose holder's process is
 * gone, or older than 10 s, is taken over.
 */
export class FileConversationStore implements ConversationStore {
  /** @param dir the directory (`<state-dir>/conversations` for serve); made when the first conversation is */
  constructor(private readonly dir: string) {}

  private convDir(tenantId: string, conversationId: string): string | undefined {
    return isTenantId(tenantId) && isConversationId(conversationId) ? join(this.dir, tenantId, conversationId) : undefined;
  }

  async create(conversation: StoredConversation, items: ConversationItem[]): Promise<void> {
    const { tenantId, conversationId, createdAt, metadata, expiresAt } = conversation;
    const dir = this.convDir(tenantId, conversationId);
    if (!dir) throw new Error(`cannot keep conversation ${conversationId} of tenant ${tenantId}: not ids the gateway makes`);
    const bodies = encodeItemsWithinLimit(items);
    const dup = firstDuplicate(items, () => false);
    if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
    await mkdir(join(dir, 'items'), { recursive: true });
    await Promise.all(items.map((item, i) => writeFile(join(dir, 'items', `${pos(i)}-${idHash(item.id)}.json.gz`), bodies[i]!)));
    await writeHead(dir, { createdAt, metadata, expiresAt, nextPos: items.length });
  }

  async get(tenantId: string, conversationId: string): Promise<StoredConversation | undefined> {
    const head = await this.head(tenantId, conversationId);
    return head && { tenantId, conversationId, createdAt: head.createdAt, metadata: head.metadata, expiresAt: head.expiresAt };
  }

  async updateMetadata(tenantId: string, conversationId: string, metadata: Record<string, string>): Promise<StoredConversation | undefined> {
    return this.locked(tenantId, conversationId, async (dir, head) => {
      await writeHead(dir, { ...head, metadata });
      return { tenantId, conversationId, createdAt: head.createdAt, metadata, expiresAt: head.expiresAt };
    });
  }

  async delete(tenantId: string, conversationId: string): Promise<boolean> {
    const deleted = await this.locked(tenantId, conversationId, async (dir) => {
      await unlink(join(dir, 'head.json')); // gone for every reader from here
      return true;
    });
    const dir = this.convDir(tenantId, conversationId);
    if (deleted && dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined); // without its head, what is left is never read
    return deleted === true;
  }

  async append(tenantId: string, conversationId: string, items: ConversationItem[]): Promise<boolean> {
    if (!this.convDir(tenantId, conversationId)) return false;
    const bodies = encodeItemsWithinLimit(items);
    const added = await this.locked(tenantId, conversationId, async (dir, head) => {
      const listed = await listItems(dir);
      // Files at or past nextPos are a writer's that stopped before its head: not items, removed.
      await Promise.all(listed.filter((f) => f.pos >= head.nextPos).map((f) => unlink(f.file).catch(() => undefined)));
      const held = new Set(listed.filter((f) => f.pos < head.nextPos).map((f) => f.hash));
      const dup = firstDuplicate(items, (id) => held.has(idHash(id)));
      if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
      await Promise.all(items.map((item, i) => writeFile(join(dir, 'items', `${pos(head.nextPos + i)}-${idHash(item.id)}.json.gz`), bodies[i]!)));
      await writeHead(dir, { ...head, nextPos: head.nextPos + items.length });
      return true;
    });
    return added === true;
  }

  async list(tenantId: string, conversationId: string, query: ItemPageQuery): Promise<ItemPage | undefined> {
    const found = await this.committed(tenantId, conversationId);
    if (!found) return undefined;
    const ordered = query.order === 'asc' ? found : [...found].reverse();
    let start = 0;
    if (query.after !== undefined) {
      const hash = idHash(query.after);
      const at = ordered.findIndex((f) => f.hash === hash);
      if (at < 0) throw new UnknownAfterItemError(query.after);
      start = at + 1;
    }
    const items = await readItems(ordered.slice(start, start + query.limit + 1));
    return { items: items.slice(0, query.limit), hasMore: items.length > query.limit };
  }

  async all(tenantId: string, conversationId: string): Promise<ConversationItem[] | undefined> {
    const found = await this.committed(tenantId, conversationId);
    return found && readItems(found);
  }

  async getItem(tenantId: string, conversationId: string, itemId: string): Promise<ConversationItem | undefined> {
    const hash = idHash(itemId);
    const found = (await this.committed(tenantId, conversationId))?.find((f) => f.hash === hash);
    return found && (await readItems([found]))[0];
  }

  async deleteItem(tenantId: string, conversationId: string, itemId: string): Promise<boolean> {
    const hash = idHash(itemId);
    const deleted = await this.locked(tenantId, conversationId, async (dir, head) => {
      const found = (await listItems(dir)).find((f) => f.hash === hash && f.pos < head.nextPos);
      if (!found) return false;
      await unlink(found.file);
      return true;
    });
    return deleted === true;
  }

  /** The conversation's head, unless it is unknown, deleted or expired (then its files are removed). */
  private async head(tenantId: string, conversationId: string): Promise<Head | undefined> {
    const dir = this.convDir(tenantId, conversationId);
    if (!dir) return undefined;
    let head: Head;
    try {
      head = JSON.parse(await readFile(join(dir, 'head.json'), 'utf8')) as Head;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    if (expired(head.expiresAt)) {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      return undefined;
    }
    return head;
  }

  /** The committed items' files (positions below the head's `nextPos`), oldest first, or undefined when there is no such conversation. */
  private async committed(tenantId: string, conversationId: string): Promise<Listed[] | undefined> {
    const head = await this.head(tenantId, conversationId);
    if (!head) return undefined;
    return (await listItems(this.convDir(tenantId, conversationId)!)).filter((f) => f.pos < head.nextPos);
  }

  /**
   * `f` with the conversation's lock held and its head read under it.
   * @returns what `f` returned, or undefined when the tenant has no such conversation
   */
  private async locked<T>(tenantId: string, conversationId: string, f: (dir: string, head: Head) => Promise<T>): Promise<T | undefined> {
    const dir = this.convDir(tenantId, conversationId);
    if (!dir || !(await this.head(tenantId, conversationId))) return undefined;
    const release = await lock(join(dir, 'lock'));
    if (!release) return undefined; // the conversation was deleted meanwhile
    try {
      const head = await this.head(tenantId, conversationId);
      return head && (await f(dir, head));
    } finally {
      await release();
    }
  }
}

/** Replaces `head.json` whole (a reader sees the old one or the new one). */
async function writeHead(dir: string, head: Head): Promise<void> {
  await writeWhole(join(dir, 'head.json'), JSON.stringify(head));
}

/** The item files of a conversation's directory, by position. */
async function listItems(dir: string): Promise<Listed[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'items'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Listed[] = [];
  for (const name of names) {
    const m = ITEM_FILE.exec(name);
    if (m) out.push({ pos: Number(m[1]), hash: m[2]!, file: join(dir, 'items', name) });
  }
  return out.sort((a, b) => a.pos - b.pos);
}

/** The items of these files, in their order; a file deleted meanwhile (an item delete) is left out. */
async function readItems(files: Listed[]): Promise<ConversationItem[]> {
  const read = await Promise.all(files.map(async (f) => {
    try {
      return decodeItem(await readFile(f.file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }));
  return read.filter((i): i is ConversationItem => i !== undefined);
}

/**
 * Takes the lock file `file` (created exclusively, holding this process's pid), waiting while another
 * writer holds it; one left by a process that is gone, or older than STALE_LOCK_MS, is taken over.
 * @returns its release, or undefined when the lock's directory is gone (the conversation was deleted)
 * @throws Error after LOCK_WAIT_MS of waiting
 */
async function lock(file: string): Promise<(() => Promise<void>) | undefined> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      // Closed whatever the write does (else its descriptor waits for garbage collection); a lock whose token could not
      // be written is removed at once, not left to hold the conversation until STALE_LOCK_MS.
      try {
        await handle.writeFile(token);
      } catch (e) {
        await handle.close().catch(() => undefined);
        await unlink(file).catch(() => undefined);
        throw e;
      }
      await handle.close();
      return async () => {
        // Released only if still ours (a holder past STALE_LOCK_MS may have lost it).
        if ((await readFile(file, 'utf8').catch(() => '')) === token) await unlink(file).catch(() => undefined);
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code !== 'EEXIST') throw e;
    }
    if (await stale(file)) await unlink(file).catch(() => undefined);
    else if (Date.now() > until) throw new Error(`the conversation's lock ${file} was held for over ${LOCK_WAIT_MS / 1000} s`);
    else await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
  }
}

/** Whether a lock file was left by a process that is gone, or is older than STALE_LOCK_MS. */
async function stale(file: string): Promise<boolean> {
  try {
    const [held, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(held.split(' ')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // released meanwhile
  }
}
