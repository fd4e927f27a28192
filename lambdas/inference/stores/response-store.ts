import { gunzipSync, gzipSync } from 'node:zlib';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Role } from '../../../lib/identity/roles.js';
import type { EventsChunk, EventsRead } from '../responses/background-events.js';

/**
 * Stored Responses API answers (`store: true`): kept per tenant, read and written only as that
 * tenant (the Lambdas' DynamoDB client is the tenant-scoped one), expiring after
 * `gateway.responsesTtlDays`. One interface, two implementations with one semantics: in memory
 * (`tessera serve`) and DynamoDB (the platform's responses table, partition key `tenantId`, sort
 * key `responseId`, TTL attribute `expiresAt`).
 */
export interface StoredResponse {
  tenantId: string;
  /** `resp_…`, the Response object's id. */
  responseId: string;
  /** The Response object as it was answered (OpenAI's `Response`). */
  response: Record<string, unknown>;
  /** The input items of the request, with ids (`GET /v1/responses/{id}/input_items`). */
  inputItems: Record<string, unknown>[];
  /**
   * The conversation through this turn as chat messages, for a next turn's `previous_response_id`
   * (OpenAI: the previous response's input and output come before the new input): the previous
   * turns' messages, this turn's input and the answer. Not the turn's `instructions` (OpenAI does
   * not carry them over) nor the tenant's system prompt (added to every turn).
   */
  messages: ChatCompletionMessageParam[];
  /** Epoch seconds after which it is gone (DynamoDB TTL; the stores also refuse to return it). */
  expiresAt: number;
  /**
   * A background response's run (`background: true`, ../responses/background.ts): who created it and its request,
   * kept until the run settles it (then dropped). Absent on every other response.
   */
  job?: BackgroundJob;
  /**
   * A background response created with `stream: true`: its stream events are kept beside it (ResponseStore.appendEvents)
   * and `GET /v1/responses/{id}?stream=true` follows them (../responses/background-events.ts). Absent otherwise.
   */
  stream?: boolean;
  /**
   * The `include` values of its create whose data is kept only when asked for (../responses/included-fields.ts
   * KEPT_ON_REQUEST: `file_search_call.results`, `message.output_text.logprobs`), for a retrieve's `include`. Absent
   * when it asked for none, and on responses stored before 2026-12-05 (keptIncludes reads their output).
   */
  include?: string[];
}

/** Who created a background response, as the run acts for them (the authorizer re-reads the tenant and key). */
export interface BackgroundOwner {
  tenantId: string;
  userId: string;
  role: Role;
  /** The API key it authenticated with (`key_…`), if any. */
  keyId?: string;
}

/** A background response's run, stored with it until it is settled. */
export interface BackgroundJob {
  owner: BackgroundOwner;
  /** The request's body as sent (JSON), run again by the worker through the same endpoint. */
  request: string;
  /**
   * The request id of the run's audit record (`req_` and 24 hex digits), minted at the create and named in the create's
   * audit record (`detail.runRequestId`), so that the create's `x-request-id` leads to the run's usage and cost
   * (`GET /v1/tenant/requests/{request_id}`). Absent on responses queued before 2026-12-05: the run mints one.
   */
  runRequestId?: string;
  /**
   * The run that holds it (`status: in_progress`): a random claim token, since when (epoch ms) and until when
   * (epoch ms; past it a delivery of its message settles it as failed). Absent while `queued`.
   */
  lease?: { claim: string; since: number; until: number };
}

export interface ResponseStore {
  /** @throws ResponseTooLargeError when the compressed item is over `MAX_STORED_BYTES` */
  put(item: StoredResponse): Promise<void>;
  /** The tenant's stored response, unless it has expired, or undefined (never another tenant's). */
  get(tenantId: string, responseId: string): Promise<StoredResponse | undefined>;
  /** @returns whether the tenant had such a response (an expired one counts as gone) */
  delete(tenantId: string, responseId: string): Promise<boolean>;
  /**
   * Reads the tenant's response, applies `change` and writes its result, atomically with respect to the other
   * writers of the store (the background run, a cancel): `change` returns undefined to leave it as it is.
   * @returns the response as written (or as read, when `change` left it); undefined when there is none (or it expired)
   * @throws ResponseTooLargeError when the changed item is over `MAX_STORED_BYTES`
   */
  update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined>;
  /**
   * Writes the next chunk of a background response's stream events (one writer per response, the run; chunks in
   * order: 0, 1, 2, …). @default - not kept: `background: true` with `stream: true` is a 400 naming `stream`
   */
  appendEvents?(tenantId: string, responseId: string, chunk: EventsChunk): Promise<void>;
  /**
   * The response's stream events written after `cursor` (0: from the first), in order; never another tenant's; none
   * (`exists: false`) once they expired (EventsChunk.expiresAt) or the response was deleted.
   */
  readEvents?(tenantId: string, responseId: string, cursor: number): Promise<EventsRead>;
  /**
   * Notes which response the latest background create of a fingerprint (sdk-retry.ts createRequestHash: the user and
   * the body) is making, until `expiresAt` (seconds since the epoch): an official client's retry of that create reads
   * it (retryMarker) to be answered that response instead of starting a second run. One small item per background
   * create attempt, overwritten by the next. @default - not kept: a retry starts a second run
   */
  putRetryMarker?(tenantId: string, requestHash: string, marker: RetryMarker): Promise<void>;
  /** The marker putRetryMarker wrote for the fingerprint, unless it expired, or undefined (never another tenant's). */
  retryMarker?(tenantId: string, requestHash: string): Promise<RetryMarker | undefined>;
}

/** Which response a background create attempt makes (ResponseStore.putRetryMarker). */
export interface RetryMarker {
  /** The response id the attempt made or was making. */
  responseId: string;
  /** Seconds since the epoch after which the marker is no answer (sdk-retry.ts RETRY_WINDOW_SECONDS after the attempt). */
  expiresAt: number;
}

/**
 * The most a stored response's body may take, gzipped: DynamoDB's item limit is 400 KB (names
 * and values, UTF-8); the keys, `expiresAt` and attribute names fit in the rest.
 */
export const MAX_STORED_BYTES = 390 * 1024;

/** What a stored response keeps beyond its keys. */
export type StoredBody = Pick<StoredResponse, 'response' | 'inputItems' | 'messages' | 'job' | 'stream' | 'include'>;

/** What a stored response keeps beyond its keys (the `job`, `stream` and `include` only when it has them). */
export const bodyOf = (item: StoredResponse): StoredBody => ({
  response: item.response, inputItems: item.inputItems, messages: item.messages, ...(item.job ? { job: item.job } : {}), ...(item.stream ? { stream: true } : {}), ...(item.include?.length ? { include: item.include } : {}),
});

/** A stored response's body as gzipped JSON (text compresses 3 to 10 times: long conversations fit in one item). */
export const encodeStoredBody = (body: StoredBody): Buffer => gzipSync(JSON.stringify(body));
export const decodeStoredBody = (bytes: Uint8Array): StoredBody => JSON.parse(gunzipSync(bytes).toString('utf8')) as StoredBody;

/** The body is over `MAX_STORED_BYTES` compressed: the response cannot be stored. */
export class ResponseTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`the response and its conversation take ${Math.ceil(bytes / 1024)} KiB compressed, over the ${MAX_STORED_BYTES / 1024} KiB a stored response may take (DynamoDB items are at most 400 KB)`);
  }
}

/** The encoded body, or ResponseTooLargeError. */
export function encodeWithinLimit(body: StoredBody): Buffer {
  const bytes = encodeStoredBody(body);
  if (bytes.length > MAX_STORED_BYTES) throw new ResponseTooLargeError(bytes.length);
  return bytes;
}

/** Whether an item that expires at `expiresAt` (epoch seconds) is gone at `now`. */
export const expired = (expiresAt: number, now = Date.now()) => expiresAt * 1000 <= now;
