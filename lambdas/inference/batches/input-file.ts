/**
 * OpenAI's batch input file (JSON Lines, purpose `batch`) read and checked as OpenAI checks it when a
 * batch is created (OpenAI API reference, "The request input object" and BatchCreateParams.input_file_id;
 * Batch guide, "Prepare your batch file"): each line `{custom_id, method: "POST", url, body}`, `custom_id`
 * unique in the file, `url` the batch's `endpoint`, one model for the whole file, at most 50,000 requests
 * and 200 MiB (and, for `/v1/embeddings`, 50,000 embedding inputs in all); a leading UTF-8 byte order mark is
 * skipped. A file that breaks a rule fails the batch (status `failed`) with `errors.data` naming each line
 * (1-based) and field, in the codes OpenAI reports: `invalid_json_line`, `duplicate_custom_id`, `url_mismatch`,
 * `model_mismatch`, `empty_file`, `too_many_tasks`, and `missing_required_parameter` / `invalid_value` for a line's
 * own fields.
 */

import { topLevelMemberOfHead, topLevelMemberOfTail } from './top-level-key.js';

/** What the one-model rule counts a moderations line without `body.model` as (no model id has this form). */
const DEFAULT_MODERATION = '\u0000default-moderation';

/** The most requests one batch file holds (OpenAI: "up to 50,000 requests"). */
export const MAX_BATCH_REQUESTS = 50_000;
/**
 * The most bytes of a batch input file by OpenAI's contract: 200 MiB, 209,715,200 bytes. OpenAI writes "up to 200 MB"
 * (API reference, `batches.create` `input_file_id`; openai-node's BatchCreateParams) without saying which megabyte: the
 * larger one is taken, so no file OpenAI accepts is refused. AWS's uploads are smaller still (LAMBDA_MAX_GATEWAY_UPLOAD_BYTES).
 */
export const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;
/** The most errors a failed batch lists (the rest are counted in the last one's message). */
export const MAX_LISTED_ERRORS = 100;
/**
 * The most embedding inputs of one `/v1/embeddings` batch, across all its requests (openai BatchCreateParams.endpoint:
 * "`/v1/embeddings` batches are also restricted to a maximum of 50,000 embedding inputs across all requests in the
 * batch"). A request's `input` counts as OpenAI's EmbeddingCreateParams.input reads it: a string or one token array
 * is one input, an array of strings or of token arrays one per element.
 */
export const MAX_BATCH_EMBEDDING_INPUTS = 50_000;
/** A `custom_id`'s most characters (OpenAI does not publish one; the gateway keeps output lines bounded). */
export const MAX_CUSTOM_ID = 512;
/**
 * The most bytes one line of a batch input file may hold to be read and run (8 MiB, 8,388,608 bytes). OpenAI publishes
 * no bound on one request line (its batch guide and API reference bound the file: 50,000 requests, 200 MB); each line
 * runs as a live request, whose body the gateway bounds at `gateway.maxRequestBytes` (at most 2,000,000 bytes), so a
 * line past 8 MiB could only be served with over 2 MiB of blank space in it. Such a line is never read whole (a
 * 200 MiB line was held and parsed whole, at create and again at its run): its `custom_id` is looked for in its first
 * and last LINE_EDGE_BYTES, and the line is a request answered with an error line of code `request_too_large` naming it
 * (tooLargeLine), not run; the other lines run. One whose custom_id is not found there fails the batch at create
 * (`invalid_value` naming the line).
 */
export const MAX_BATCH_LINE_BYTES = 8 * 1024 * 1024;
/** The bytes kept of each end of a line past MAX_BATCH_LINE_BYTES, where its `custom_id` is looked for. */
export const LINE_EDGE_BYTES = 8 * 1024;

/**
 * The `custom_id` of a request line too long to be read whole, from its first and last bytes (`head`, `tail`): the
 * request object's own member only (depth 1, top-level-key.ts), never a `custom_id` key nested in its `body` (a tool's
 * schema, a message's JSON). JSON.parse keeps the last of a repeated key: the last one the tail holds, whatever its
 * value (a number, null, an empty or too long string there is the line's custom_id, not a valid string the head holds),
 * else the last one the head holds whole (a repeat in the unread middle cannot be seen). (Until 2026-12-06, session 43,
 * a pattern took the first `"custom_id": "…"` after a `{` or `,` in the head at any depth: a line whose body held one
 * was answered under the body's id; until s43i, the head's first of a repeated key was taken, and a tail's non-string
 * or invalid custom_id let the head's answer.)
 * @returns undefined when neither end holds it whole, or the one found is not a string of 1 to MAX_CUSTOM_ID characters
 */
export function customIdOfEdges(head: string, tail: string): string | undefined {
  const id = (topLevelMemberOfTail(tail, 'custom_id') ?? topLevelMemberOfHead(head, 'custom_id'))?.value;
  return typeof id === 'string' && id && id.length <= MAX_CUSTOM_ID ? id : undefined;
}

/**
 * A long line's first and last LINE_EDGE_BYTES bytes of UTF-8 as text, the edges rawLines (batch-file-ranges.ts) keeps of
 * it on AWS, so that `tessera serve` finds the custom_id AWS finds. (Its first and last 8,192 characters were taken until
 * 2026-12-06, s42j: up to 24 KiB of multi-byte text, where a custom_id AWS refuses at create was found.) A character cut
 * at an edge decodes as U+FFFD, as there.
 */
function byteEdges(text: string): [head: string, tail: string] {
  const head = Buffer.from(text.slice(0, LINE_EDGE_BYTES), 'utf8');
  const tail = Buffer.from(text.slice(-LINE_EDGE_BYTES), 'utf8');
  return [head.subarray(0, LINE_EDGE_BYTES).toString('utf8'), tail.subarray(Math.max(0, tail.byteLength - LINE_EDGE_BYTES)).toString('utf8')];
}

/** One request of a batch file. */
export interface BatchLine {
  /** The 1-based line number in the file. */
  line: number;
  customId: string;
  url: string;
  body: Record<string, unknown>;
  /**
   * The line's bytes, set when they are over MAX_BATCH_LINE_BYTES: it was not read (`url` empty, `body` {}), and is
   * answered an error line (tooLargeLine) without running. @default - the line was read
   */
  tooLarge?: number;
}

/** One entry of a failed batch's `errors.data` (openai BatchError). */
export interface BatchLineError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

/**
 * The requests of a batch input file, or why it fails the batch.
 * @param content the file's bytes (UTF-8 JSON Lines; blank lines are skipped and keep their numbers)
 * @param endpoint the batch's `endpoint`: every line's `url` must be it
 * @returns `lines` in file order and the one `model` they name; or `errors` (at most MAX_LISTED_ERRORS)
 */
export function readBatchFile(content: Uint8Array, endpoint: string): { lines: BatchLine[]; model: string | undefined; errors: BatchLineError[] } {
  const check = new BatchLineCheck(endpoint);
  if (!check.size(content.byteLength)) return { lines: [], ...check.end() };
  // A UTF-8 byte order mark opens many files saved on Windows; the upload's decoder skips it (TextDecoder), so does this.
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8').replace(/^\uFEFF/, '');
  const raw = text.split('\n');
  const lines: BatchLine[] = [];
  for (let i = 0; i < raw.length && !check.stopped; i++) {
    const text = raw[i]!;
    const bytes = text.length > MAX_BATCH_LINE_BYTES / 3 ? Buffer.byteLength(text) : 0;
    const line = bytes > MAX_BATCH_LINE_BYTES
      ? check.tooLarge(i + 1, bytes, customIdOfEdges(...byteEdges(text)))
      : check.line(text, i + 1);
    if (line) lines.push(line);
  }
  return { lines, ...check.end() };
}

/**
 * readBatchFile's checks one line at a time, in file order, holding only what the rules across lines need (each
 * `custom_id`'s first line, the model, the counts): a file read as a stream (batch-file-ranges.ts scanBatchFile) is
 * judged line for line as readBatchFile judges it whole, with the same codes, messages, lines and params.
 */
export class BatchLineCheck {
  private readonly errors: BatchLineError[] = [];
  private more = 0;
  private readonly seen = new Map<string, number>();
  private model: { name: string; line: number } | undefined;
  private embeddingInputs = 0;
  private tooManyInputs = false;
  /** Non-blank lines read so far (each one request, valid or not). */
  requests = 0;
  /** Set once the file has more than MAX_BATCH_REQUESTS requests: no further line is read. */
  stopped = false;

  /** @param endpoint the batch's `endpoint`: every line's `url` must be it */
  constructor(private readonly endpoint: string) {}

  private fail(code: string, message: string, line: number | null, param: string | null): void {
    if (this.errors.length < MAX_LISTED_ERRORS) this.errors.push({ code, message, line, param });
    else this.more++;
  }

  /**
   * Checks the file's size in bytes against MAX_BATCH_FILE_BYTES. @returns false (and the error `file_too_large`,
   * `stopped` set) when it is over
   */
  size(bytes: number): boolean {
    if (bytes <= MAX_BATCH_FILE_BYTES) return true;
    this.fail('file_too_large', `the input file is ${bytes} bytes, over the ${MAX_BATCH_FILE_BYTES}-byte (200 MiB, OpenAI's "200 MB") limit of a batch`, null, 'input_file_id');
    this.stopped = true;
    return false;
  }

  /**
   * Checks one line of the file.
   * @param raw the line's text without its `\n` (a trailing `\r` is dropped; a leading byte order mark is the caller's)
   * @param n its 1-based line number
   * @returns the request when the line is a valid one; undefined for a blank line or one that broke a rule (an error recorded)
   */
  line(raw: string, n: number): BatchLine | undefined {
    const { endpoint } = this;
    const fail = this.fail.bind(this);
    const source = raw.replace(/\r$/, '');
    if (!source.trim()) return undefined;
    if (++this.requests > MAX_BATCH_REQUESTS) {
      fail('too_many_tasks', `the input file has more than ${MAX_BATCH_REQUESTS} requests (line ${n} is request ${this.requests}); split it into several batches`, n, null);
      this.stopped = true;
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch {
      fail('invalid_json_line', `line ${n} is not parseable as valid JSON`, n, null);
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      fail('invalid_json_line', `line ${n} is not a JSON object ({"custom_id", "method", "url", "body"})`, n, null);
      return undefined;
    }
    const o = parsed as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !['custom_id', 'method', 'url', 'body'].includes(k));
    if (unknown) {
      fail('invalid_value', `line ${n} has an unknown field ${JSON.stringify(unknown.slice(0, 100))}: a request line takes custom_id, method, url and body`, n, unknown.slice(0, 100));
      return undefined;
    }
    const missing = ['custom_id', 'method', 'url', 'body'].find((k) => o[k] === undefined || o[k] === null);
    if (missing) {
      fail('missing_required_parameter', `line ${n} has no ${missing}`, n, missing);
      return undefined;
    }
    if (typeof o.custom_id !== 'string' || !o.custom_id || o.custom_id.length > MAX_CUSTOM_ID) {
      fail('invalid_value', `line ${n}: custom_id must be a string of 1 to ${MAX_CUSTOM_ID} characters`, n, 'custom_id');
      return undefined;
    }
    if (o.method !== 'POST') {
      fail('invalid_value', `line ${n}: method ${JSON.stringify(o.method)} is not supported; only "POST" is`, n, 'method');
      return undefined;
    }
    if (o.url !== endpoint) {
      fail('url_mismatch', `line ${n}: url ${JSON.stringify(String(o.url).slice(0, 200))} does not match the batch's endpoint ${JSON.stringify(endpoint)}`, n, 'url');
      return undefined;
    }
    if (typeof o.body !== 'object' || Array.isArray(o.body)) {
      fail('invalid_value', `line ${n}: body must be a JSON object (the request of ${endpoint})`, n, 'body');
      return undefined;
    }
    const body = o.body as Record<string, unknown>;
    const first = this.seen.get(o.custom_id);
    if (first !== undefined) {
      fail('duplicate_custom_id', `line ${n}: custom_id ${JSON.stringify(o.custom_id.slice(0, 200))} is also the custom_id of line ${first}; each request's custom_id must be unique in the batch`, n, 'custom_id');
      return undefined;
    }
    this.seen.set(o.custom_id, n);
    // OpenAI's moderations take no model (ModerationCreateParams.model is optional: omni-moderation-latest), and the
    // live endpoint picks the tenant's default moderation model (moderations/default-model.ts): so does a batch line.
    const optionalModel = endpoint === '/v1/moderations' && body.model === undefined;
    if (!optionalModel && (typeof body.model !== 'string' || !body.model)) {
      fail(body.model === undefined ? 'missing_required_parameter' : 'invalid_value', `line ${n}: body.model is required (a non-empty string)`, n, 'body.model');
      return undefined;
    }
    const lineModel = optionalModel ? DEFAULT_MODERATION : (body.model as string);
    if (body.stream === true) {
      fail('invalid_value', `line ${n}: body.stream is true; a batch's requests are answered whole (leave stream out)`, n, 'body.stream');
      return undefined;
    }
    if (this.model === undefined) this.model = { name: lineModel, line: n };
    else if (lineModel !== this.model.name) {
      const named = (m: string) => (m === DEFAULT_MODERATION ? 'absent (the default moderation model)' : JSON.stringify(m.slice(0, 200)));
      fail('model_mismatch', `line ${n}: body.model ${named(lineModel)} is not ${named(this.model.name)} as on line ${this.model.line}; a batch's requests all use one model`, n, 'body.model');
      return undefined;
    }
    if (endpoint === '/v1/embeddings' && !this.tooManyInputs) {
      this.embeddingInputs += embeddingInputCount(body.input);
      if (this.embeddingInputs > MAX_BATCH_EMBEDDING_INPUTS) {
        this.tooManyInputs = true;
        fail('too_many_tasks', `line ${n}: body.input brings the batch to ${this.embeddingInputs} embedding inputs, over the ${MAX_BATCH_EMBEDDING_INPUTS} of one /v1/embeddings batch (across all its requests); split it into several batches`, n, 'body.input');
        return undefined;
      }
    }
    return { line: n, customId: o.custom_id, url: o.url, body };
  }

  /**
   * Takes a line past MAX_BATCH_LINE_BYTES, not read: a request (counted, its `custom_id` unique) answered with an error
   * line when it would run (tooLargeLine); without a `custom_id` at either end, an `invalid_value` naming the line.
   * @param customId what customIdOfEdges found
   * @returns the request (`tooLarge` set), or undefined when it broke a rule (an error recorded)
   */
  tooLarge(n: number, bytes: number, customId: string | undefined): BatchLine | undefined {
    if (++this.requests > MAX_BATCH_REQUESTS) {
      this.fail('too_many_tasks', `the input file has more than ${MAX_BATCH_REQUESTS} requests (line ${n} is request ${this.requests}); split it into several batches`, n, null);
      this.stopped = true;
      return undefined;
    }
    if (customId === undefined) {
      this.fail('invalid_value', `line ${n} is ${bytes} bytes, over the ${MAX_BATCH_LINE_BYTES} bytes (8 MiB) a request line may hold, and no custom_id was found in its first or last ${LINE_EDGE_BYTES} bytes (the request object's own: a top-level string member, not one in its body) to answer it by; send a smaller request`, n, null);
      return undefined;
    }
    const first = this.seen.get(customId);
    if (first !== undefined) {
      this.fail('duplicate_custom_id', `line ${n}: custom_id ${JSON.stringify(customId.slice(0, 200))} is also the custom_id of line ${first}; each request's custom_id must be unique in the batch`, n, 'custom_id');
      return undefined;
    }
    this.seen.set(customId, n);
    return { line: n, customId, url: '', body: {}, tooLarge: bytes };
  }

  /** @returns the one `model` the lines name (undefined for moderations' default) and the errors (at most MAX_LISTED_ERRORS, the last naming how many more) */
  end(): { model: string | undefined; errors: BatchLineError[] } {
    const { errors } = this;
    if (!this.requests && !errors.length) this.fail('empty_file', 'the input file holds no request', null, 'input_file_id');
    if (this.more) errors[errors.length - 1] = { ...errors[errors.length - 1]!, message: `${errors[errors.length - 1]!.message} (and ${this.more} more errors not listed)` };
    return { model: this.model?.name === DEFAULT_MODERATION ? undefined : this.model?.name, errors };
  }
}

/**
 * How many embedding inputs a request's `input` holds (openai EmbeddingCreateParams.input): a string or a token array
 * (numbers) is 1, an array of strings or of token arrays its length; anything else 1 (the endpoint refuses it).
 */
function embeddingInputCount(input: unknown): number {
  if (!Array.isArray(input) || input.length === 0) return 1;
  return input.every((x) => typeof x === 'number') ? 1 : input.length;
}
