import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';

/**
 * The two official clients the conformance suite drives `tessera serve` with, behind one call:
 * the `openai` npm package in this process, and the `openai` Python package through
 * test/conformance/python/driver.py (one long-lived process per test file). Both answer with an
 * `Outcome` of the same shape, so a cell is written once and run by each.
 */
export type ClientName = 'node' | 'python';
export const CLIENTS: ClientName[] = ['node', 'python'];

export interface ClientCall {
  /** `create`: a whole answer; `stream`: every chunk; `parse`: structured output (`schema`), whole or streamed (`params.stream`). */
  op: 'create' | 'stream' | 'parse';
  params: Record<string, unknown>;
  /**
   * For `parse`: the answer's type. Node sends `nodeFormat` (from `zodResponseFormat`, so its
   * stream helper parses too); Python builds a pydantic model from `schema` and sends what
   * the client makes of it.
   */
  schema?: { name: string; schema: Record<string, unknown> };
  nodeFormat?: Record<string, unknown>;
  /** Close the stream after this many chunks: the client going away. */
  closeAfter?: number;
  /** Read `chunk.choices[0].delta` in the loop, as most applications do. */
  firstChoiceLoop?: boolean;
}

export interface ClientError {
  /** HTTP status (null for an error event in a stream). */
  status: number | null;
  /** The `error` object of the answer or event. */
  body: any;
  headers: Record<string, string>;
  type: string;
  message: string;
}

/** What the application saw: the answer, the chunks, the parsed object, or the error (after any chunks). */
export interface Outcome {
  ok: boolean;
  result?: any;
  chunks?: any[];
  parsed?: any;
  /** Text read through `chunk.choices[0].delta.content` with `firstChoiceLoop`. */
  text?: string;
  error?: ClientError;
}

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function nodeError(e: unknown): ClientError {
  if (e instanceof OpenAI.APIError) {
    const headers: Record<string, string> = {};
    const h = e.headers as unknown;
    if (h instanceof Headers) h.forEach((v, k) => (headers[k.toLowerCase()] = v));
    else if (h && typeof h === 'object') for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = String(v);
    return { status: e.status ?? null, body: e.error ?? null, headers, type: e.constructor.name, message: e.message };
  }
  const err = e as Error;
  return { status: null, body: null, headers: {}, type: err?.constructor?.name ?? 'Error', message: err?.message ?? String(e) };
}

/** A call through the official Node client (`maxRetries: 0`: every upstream call the gateway makes is its own). */
export async function nodeCall(baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
  const params = call.params as any;
  const chunks: any[] = [];
  let text = '';
  try {
    if (call.op === 'create') return { ok: true, result: plain(await client.chat.completions.create({ ...params, stream: undefined })) };
    if (call.op === 'parse') {
      const body = { ...params, response_format: call.nodeFormat };
      if (!params.stream) {
        const out = await client.chat.completions.parse({ ...body, stream: undefined });
        return { ok: true, result: plain(out), parsed: plain(out.choices[0]?.message.parsed ?? null) };
      }
      const stream = client.chat.completions.stream({ ...body, stream: undefined });
      for await (const chunk of stream) chunks.push(plain(chunk));
      const final = await stream.finalChatCompletion();
      return { ok: true, result: plain(final), parsed: plain(final.choices[0]?.message.parsed ?? null), chunks };
    }
    const streaming: OpenAI.Chat.ChatCompletionCreateParamsStreaming = { ...params, stream: true };
    const stream = await client.chat.completions.create(streaming);
    for await (const chunk of stream) {
      chunks.push(plain(chunk));
      if (call.firstChoiceLoop) text += chunk.choices[0].delta.content ?? '';
      if (call.closeAfter !== undefined && chunks.length >= call.closeAfter) {
        stream.controller.abort();
        break;
      }
    }
    return { ok: true, chunks, text };
  } catch (e) {
    return { ok: false, error: nodeError(e), ...(call.op === 'create' ? {} : { chunks, text }) };
  }
}

/** The Python driver: one process, JSON lines in and out, calls answered in order. */
export class PythonClient {
  private child!: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (out: Outcome) => void>();
  private next = 1;
  private stderr = '';

  static async start(): Promise<PythonClient> {
    const c = new PythonClient();
    const root = join(import.meta.dirname, '..', '..', '..');
    c.child = spawn(join(root, '.venv', 'bin', 'python'), [join(root, 'test', 'conformance', 'python', 'driver.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.child.stderr.on('data', (d) => (c.stderr += String(d)));
    const lines = createInterface({ input: c.child.stdout });
    const ready = new Promise<void>((resolve, reject) => {
      c.child.once('exit', (code) => reject(new Error(`the Python driver exited (${code}) before it was ready: ${c.stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Outcome & { id?: number; ready?: boolean };
        if (msg.ready) return resolve();
        const done = c.waiting.get(msg.id!);
        c.waiting.delete(msg.id!);
        done?.(msg);
      });
    });
    await ready;
    return c;
  }

  call(baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
    const id = this.next++;
    const { params, schema, closeAfter, firstChoiceLoop } = call;
    const { response_format: _ignored, ...rest } = params;
    const request = {
      id, op: call.op, base_url: baseURL, api_key: apiKey, params: call.op === 'parse' ? rest : params,
      ...(schema ? { schema } : {}), ...(closeAfter !== undefined ? { close_after: closeAfter } : {}), ...(firstChoiceLoop ? { first_choice_loop: true } : {}),
    };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify(request)}\n`, (e) => e && reject(e));
    });
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** Runs `call` with the named client. */
export function runClient(client: ClientName, python: PythonClient | undefined, baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
  if (client === 'node') return nodeCall(baseURL, apiKey, call);
  if (!python) throw new Error('the Python driver is not running');
  return python.call(baseURL, apiKey, call);
}
