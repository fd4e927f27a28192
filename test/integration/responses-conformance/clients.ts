import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import type { ClientName } from '../gateway-conformance/clients.js';
import { PythonDriver, nodeClient, nodeError, plain, type ClientError } from '../gateway-conformance/official-clients.js';

/**
 * The official clients against the gateway's Responses API, behind one call: the `openai` npm
 * package in this process, and the `openai` Python package (and the Agents SDK) through
 * test/conformance/python/responses_driver.py. Both answer with a `ResponsesOutcome` of one shape.
 */
export interface ResponsesCall {
  op: 'create' | 'stream' | 'parse' | 'retrieve' | 'delete' | 'input_items' | 'agent';
  params?: Record<string, unknown>;
  /** retrieve, delete, input_items: the response (retrieve's and input_items' query in `params`: `include`). */
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

/** A call through the official Node client (`maxRetries: 0`). */
export async function nodeResponsesCall(baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
  const client = nodeClient(baseURL, apiKey);
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
        const out = await client.responses.retrieve(call.responseId!, params);
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

/** The Python driver (responses_driver.py): one process, JSON lines in and out. */
export class PythonResponsesClient {
  private constructor(private readonly driver: PythonDriver<ResponsesOutcome>) {}

  static async start(): Promise<PythonResponsesClient> {
    return new PythonResponsesClient(await PythonDriver.start<ResponsesOutcome>('responses_driver.py', 'the Python responses driver'));
  }

  call(baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
    return this.driver.send({ op: call.op, base_url: baseURL, api_key: apiKey, params: call.params ?? {}, ...(call.schema ? { schema: call.schema } : {}), ...(call.responseId ? { response_id: call.responseId } : {}) });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}

/** Runs `call` with the named client. */
export function runResponses(client: ClientName, python: PythonResponsesClient | undefined, baseURL: string, apiKey: string, call: ResponsesCall): Promise<ResponsesOutcome> {
  if (client === 'node') return nodeResponsesCall(baseURL, apiKey, call);
  if (!python) throw new Error('the Python responses driver is not running');
  return python.call(baseURL, apiKey, call);
}
