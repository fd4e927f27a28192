import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import type { ClientError, ClientName } from '../gateway-conformance/clients.js';

/**
 * The official clients against the gateway's Responses API, behind one call: the `openai` npm
 * package in this process, and the `openai` Python package (and the Agents SDK) through
 * test/conformance/python/responses_driver.py. Both answer with a `ResponsesOutcome` of one shape.
 */
export interface ResponsesCall {
  op: 'create' | 'stream' | 'parse' | 'retrieve' | 'delete' | 'input_items' | 'agent';
  params?: Record<string, unknown>;
  /** retrieve, delete, input_items: the response. */
  responseId?: string;
  /** parse: the answer's JSON schema (Node builds it with zod: `nodeSchema`; Python a pydantic model from `schema`). */
  schema?: { name: string; schema: Record<string, unknown> };
  nodeSchema?: z.ZodObject;
}

export interface ResponsesOutcome {
  ok: boolean;
  result?: any;
  events?: any[];
  parsed?: any;
  error?: ClientError;
}

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null));

function nodeError(e: unknown): ClientError {
  if (e instanceof OpenAI.APIError) {
    const headers: Record<string, string> = {};
    const h = e.headers as unknown;
    if (h instanceof Headers) h.forEach((v, k) => (headers[k.toLowerCase()] = v));
    return { status: e.status ?? null, body: e.error ?? null, headers, type: e.constructor.name, message: e.message };
  }
  const err = e as Error;
  return { status: null, body: null, headers: {}, type: err?.constructor?.name ?? 'Error', message: err?.message ?? String(e) };
}

/** A call through the official Node client (`maxRetries: 0`). */
export async function nodeResponsesCall(baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
  const params = (call.params ?? {}) as any;
  const events: any[] = [];
  try {
    switch (call.op) {
      case 'create': {
        const out = await client.responses.create({ ...params, stream: false });
        return { ok: true, result: { ...plain(out), output_text: out.output_text } };
      }
      case 'stream': {
        const stream = client.responses.stream({ ...params, stream: undefined });
        for await (const event of stream) events.push(plain(event));
        const final = await stream.finalResponse();
        return { ok: true, events, result: { ...plain(final), output_text: final.output_text } };
      }
      case 'parse': {
        const out = await client.responses.parse({ ...params, text: { format: zodTextFormat(call.nodeSchema!, call.schema!.name) } });
        return { ok: true, parsed: plain(out.output_parsed), result: { ...plain(out), output_text: out.output_text } };
      }
      case 'retrieve': {
        const out = await client.responses.retrieve(call.responseId!);
        return { ok: true, result: { ...plain(out), output_text: out.output_text } };
      }
      case 'delete':
        return { ok: true, result: plain(await client.responses.delete(call.responseId!)) };
      case 'input_items': {
        const page = await client.responses.inputItems.list(call.responseId!, params);
        return { ok: true, result: { data: plain(page.data), first_id: (page as any).body?.first_id ?? page.data[0]?.id, has_more: page.has_more } };
      }
      default:
        throw new Error(`the Node client has no op ${call.op}`);
    }
  } catch (e) {
    return { ok: false, error: nodeError(e), ...(call.op === 'stream' ? { events } : {}) };
  }
}

/** The Python driver: one process, JSON lines in and out. */
export class PythonResponsesClient {
  private child!: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (out: ResponsesOutcome) => void>();
  private next = 1;
  private stderr = '';

  static async start(): Promise<PythonResponsesClient> {
    const c = new PythonResponsesClient();
    const root = join(import.meta.dirname, '..', '..', '..');
    c.child = spawn(join(root, '.venv', 'bin', 'python'), [join(root, 'test', 'conformance', 'python', 'responses_driver.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.child.stderr.on('data', (d) => (c.stderr += String(d)));
    const lines = createInterface({ input: c.child.stdout });
    await new Promise<void>((resolve, reject) => {
      c.child.once('exit', (code) => reject(new Error(`the Python responses driver exited (${code}) before it was ready: ${c.stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as ResponsesOutcome & { id?: number; ready?: boolean };
        if (msg.ready) return resolve();
        const done = c.waiting.get(msg.id!);
        c.waiting.delete(msg.id!);
        done?.(msg);
      });
    });
    return c;
  }

  call(baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
    const id = this.next++;
    const request = { id, op: call.op, base_url: baseURL, api_key: apiKey, params: call.params ?? {}, ...(call.schema ? { schema: call.schema } : {}), ...(call.responseId ? { response_id: call.responseId } : {}) };
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
export function runResponses(client: ClientName, python: PythonResponsesClient | undefined, baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
  if (client === 'node') return nodeResponsesCall(baseURL, apiKey, call);
  if (!python) throw new Error('the Python responses driver is not running');
  return python.call(baseURL, apiKey, call);
}
