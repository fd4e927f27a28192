import type OpenAI from 'openai';
import { PythonDriver, nodeClient, nodeError, plain, type ClientError } from './official-clients.js';

export type { ClientError };

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
  /** The client's own retries (default 0: every upstream call the gateway makes is its own); set to test what the SDK does with the gateway's errors. */
  maxRetries?: number;
  /** `create` and `stream`: also return the answer's (the stream's head) HTTP headers, as the application reads them (Node `.withResponse()`, Python `with_raw_response`). */
  headers?: boolean;
  /** `create` and `stream`: request headers sent with this call only (Node `{ headers }` request options, Python `extra_headers`). */
  extraHeaders?: Record<string, string>;
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
  /** With `ClientCall.headers`: the answer's HTTP headers, names lower-cased. */
  headers?: Record<string, string>;
}

/** A fetch Response's headers, names lower-cased. */
const headersOf = (response: Response) => Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v]));

/** A call through the official Node client (`maxRetries: 0`: every upstream call the gateway makes is its own). */
export async function nodeCall(baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
  const client = nodeClient(baseURL, apiKey, call.maxRetries);
  const params = call.params as any;
  const options = call.extraHeaders ? { headers: call.extraHeaders } : undefined;
  const chunks: any[] = [];
  let text = '';
  try {
    if (call.op === 'create' && call.headers) {
      const { data, response } = await client.chat.completions.create({ ...params, stream: undefined }, options).withResponse();
      return { ok: true, result: plain(data), headers: headersOf(response) };
    }
    if (call.op === 'create') return { ok: true, result: plain(await client.chat.completions.create({ ...params, stream: undefined }, options)) };
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
    let headers: Record<string, string> | undefined;
    let stream;
    if (call.headers) {
      const { data, response } = await client.chat.completions.create(streaming, options).withResponse();
      [stream, headers] = [data, headersOf(response)];
    } else stream = await client.chat.completions.create(streaming, options);
    for await (const chunk of stream) {
      chunks.push(plain(chunk));
      if (call.firstChoiceLoop) text += chunk.choices[0].delta.content ?? '';
      if (call.closeAfter !== undefined && chunks.length >= call.closeAfter) {
        stream.controller.abort();
        break;
      }
    }
    return { ok: true, chunks, text, ...(headers ? { headers } : {}) };
  } catch (e) {
    return { ok: false, error: nodeError(e), ...(call.op === 'create' ? {} : { chunks, text }) };
  }
}

/** The Python driver (driver.py): one process, JSON lines in and out, calls answered in order. */
export class PythonClient {
  private constructor(private readonly driver: PythonDriver<Outcome>) {}

  static async start(): Promise<PythonClient> {
    return new PythonClient(await PythonDriver.start<Outcome>('driver.py', 'the Python driver'));
  }

  /** driver.py under `.venv-legacy-clients`' Python: the official client's 1.x line (requirements-legacy-clients.txt). */
  static async startLegacy(): Promise<PythonClient> {
    return new PythonClient(await PythonDriver.start<Outcome>('driver.py', 'the Python driver (openai 1.x)', '.venv-legacy-clients'));
  }

  call(baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
    const { params, schema, closeAfter, firstChoiceLoop, maxRetries, headers, extraHeaders } = call;
    const { response_format: _ignored, ...rest } = params;
    return this.driver.send({
      op: call.op, base_url: baseURL, api_key: apiKey, params: call.op === 'parse' ? rest : params,
      ...(schema ? { schema } : {}), ...(closeAfter !== undefined ? { close_after: closeAfter } : {}), ...(firstChoiceLoop ? { first_choice_loop: true } : {}),
      ...(maxRetries !== undefined ? { max_retries: maxRetries } : {}), ...(headers ? { headers: true } : {}),
      ...(extraHeaders ? { extra_headers: extraHeaders } : {}),
    });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}

/** Runs `call` with the named client. */
export function runClient(client: ClientName, python: PythonClient | undefined, baseURL: string, apiKey: string, call: ClientCall): Promise<Outcome> {
  if (client === 'node') return nodeCall(baseURL, apiKey, call);
  if (!python) throw new Error('the Python driver is not running');
  return python.call(baseURL, apiKey, call);
}
