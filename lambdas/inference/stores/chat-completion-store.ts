import { gunzipSync, gzipSync } from 'node:zlib';
import { MAX_STORED_BYTES, ResponseTooLargeError, expired } from './response-store.js';

/**
 * Stored chat completions (`POST /v1/chat/completions` with `store: true`): kept per tenant in the
 * responses' store, under the same tenant policy (`storeResponses`) and TTL (`gateway.responsesTtlDays`),
 * read and written only as that tenant. Three implementations with one semantics: in memory, files
 * (`tessera serve`) and DynamoDB (the responses table, sort key the completion id `chatcmpl-…`, a
 * prefix no response `resp_`, conversation `conv_`, batch `batch_` or file `file-` id has).
 */
export interface StoredChatCompletion {
  tenantId: string;
  /** `chatcmpl-…`, the completion's id (its `x-request-id`). */
  id: string;
  /** The completion's `created` (Unix seconds) as the upstream gave it. */
  created: number;
  /**
   * When the gateway stored it (epoch ms, nextStoredAt: strictly increasing within a process): what the list is
   * ordered by (listOrderOf). @default - absent on a completion stored before it was kept: its `created` × 1000
   */
  storedAt?: number;
  /** The catalog model that answered (the completion's `model`). */
  model: string;
  /** OpenAI's `Metadata`: at most 16 pairs (checked by the endpoint). */
  metadata: Record<string, string>;
  /** Who created it: the user and, when it came with an API key, the key. */
  caller: { userId: string; keyId?: string };
  /** The ChatCompletion as the caller received it (after the output guardrails; a stream assembled). */
  completion: Record<string, unknown>;
  /** The request's messages after the tenant's input guardrails, as `ChatCompletionStoreMessage`s (ids `<id>-<index>`). */
  messages: Record<string, unknown>[];
  /** Epoch seconds after which it is gone. */
  expiresAt: number;
}

/** What the list reads of each stored completion before it loads the page's. */
export type ChatCompletionSummary = Pick<StoredChatCompletion, 'id' | 'created' | 'storedAt' | 'model' | 'metadata'>;

let lastStoredAt = 0;
/**
 * The `storedAt` of a completion stored now: epoch ms, past every one this process gave before (two stored in the same
 * millisecond, or under a clock set back, still list in the order they were stored). Across processes (serve's
 * workers, Lambdas) the clocks order them, and the id breaks a tie.
 */
export function nextStoredAt(now = Date.now()): number {
  lastStoredAt = Math.max(now, lastStoredAt + 1);
  return lastStoredAt;
}

/**
 * What the list orders a completion by (epoch ms): when the gateway stored it, not the upstream's `created` (whole
 * seconds, and an upstream's own clock or a constant); one stored before `storedAt` was kept, its `created` × 1000.
 */
export const listOrderOf = (c: Pick<ChatCompletionSummary, 'created' | 'storedAt'>): number => c.storedAt ?? c.created * 1000;

export interface ChatCompletionStore {
  /** @throws ResponseTooLargeError when the gzipped completion and messages are over MAX_STORED_BYTES */
  put(item: StoredChatCompletion): Promise<void>;
  /** The tenant's stored completion, unless it expired, or undefined (never another tenant's). */
  get(tenantId: string, id: string): Promise<StoredChatCompletion | undefined>;
  /** Every unexpired stored completion of the tenant, in no particular order (the endpoint filters, sorts and pages). */
  list(tenantId: string): Promise<ChatCompletionSummary[]>;
  /** Replaces the metadata. @returns the completion as updated; undefined when there is none (or it expired) */
  setMetadata(tenantId: string, id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined>;
  /** @returns whether the tenant had such a completion (an expired one counts as gone) */
  delete(tenantId: string, id: string): Promise<boolean>;
}

/** Whether `id` can be a chat completion id the gateway made (`chatcmpl-` and 24 hex characters: gateway.ts). */
export const isChatCompletionId = (id: string) => /^chatcmpl-[0-9a-f]{24}$/.test(id);

/** The stored body (completion and messages), gzipped JSON. */
export type ChatCompletionBody = Pick<StoredChatCompletion, 'completion' | 'messages' | 'caller'>;

/**
 * The body gzipped, within the stored responses' limit (one DynamoDB item).
 * @throws ResponseTooLargeError over MAX_STORED_BYTES
 */
export function encodeChatCompletionBody(item: StoredChatCompletion): Buffer {
  const bytes = gzipSync(JSON.stringify({ completion: item.completion, messages: item.messages, caller: item.caller } satisfies ChatCompletionBody));
  if (bytes.length > MAX_STORED_BYTES) throw new ResponseTooLargeError(bytes.length);
  return bytes;
}
export const decodeChatCompletionBody = (bytes: Uint8Array): ChatCompletionBody => JSON.parse(gunzipSync(bytes).toString('utf8')) as ChatCompletionBody;

/**
 * Stored chat completions in memory, with the DynamoDB store's semantics (keyed by tenant and id, the same size limit,
 * expired items never returned).
 */
export class MemoryChatCompletionStore implements ChatCompletionStore {
  private readonly items = new Map<string, Map<string, { summary: ChatCompletionSummary; expiresAt: number; body: Buffer }>>();

  async put(item: StoredChatCompletion): Promise<void> {
    const body = encodeChatCompletionBody(item);
    let tenant = this.items.get(item.tenantId);
    if (!tenant) this.items.set(item.tenantId, (tenant = new Map()));
    tenant.set(item.id, { summary: { id: item.id, created: item.created, ...(item.storedAt !== undefined ? { storedAt: item.storedAt } : {}), model: item.model, metadata: { ...item.metadata } }, expiresAt: item.expiresAt, body });
  }

  async get(tenantId: string, id: string): Promise<StoredChatCompletion | undefined> {
    return this.read(tenantId, id);
  }

  /** The unexpired item, read synchronously (no await between a read and the write that depends on it). */
  private read(tenantId: string, id: string): StoredChatCompletion | undefined {
    const kept = this.items.get(tenantId)?.get(id);
    if (!kept) return undefined;
    if (expired(kept.expiresAt)) {
      this.items.get(tenantId)!.delete(id);
      return undefined;
    }
    return { tenantId, ...kept.summary, metadata: { ...kept.summary.metadata }, expiresAt: kept.expiresAt, ...decodeChatCompletionBody(kept.body) };
  }

  async list(tenantId: string): Promise<ChatCompletionSummary[]> {
    return [...(this.items.get(tenantId)?.values() ?? [])].filter((k) => !expired(k.expiresAt)).map((k) => ({ ...k.summary, metadata: { ...k.summary.metadata } }));
  }

  // Read and write with no await between them, as DynamoDB's conditional update: a delete racing an update is never undone.
  async setMetadata(tenantId: string, id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined> {
    const current = this.read(tenantId, id);
    if (!current) return undefined;
    const next = { ...current, metadata };
    const kept = this.items.get(tenantId)!.get(id)!;
    kept.summary = { ...kept.summary, metadata: { ...metadata } };
    return next;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const found = this.read(tenantId, id);
    this.items.get(tenantId)?.delete(id);
    return found !== undefined;
  }
}
