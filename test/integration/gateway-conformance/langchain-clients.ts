import type { Outcome } from './clients.js';
import type { ClientError } from './official-clients.js';
import { PythonDriver } from './official-clients.js';

/** A message in LangChain's tuple form: `['system' | 'human' | 'ai', content]`. */
export type LcMessage = [string, string];

/**
 * One request to test/conformance/python/langchain_driver.py (see its docstring for what each op
 * does): `options` are ChatOpenAI's / OpenAIEmbeddings' keyword arguments (`max_retries` 0 and
 * `timeout` 20 s unless given), `kwargs` the call's own (`stream_usage`, `stop`...).
 */
export type LangChainCall =
  | { op: 'invoke' | 'stream'; model: string; messages: LcMessage[] | string; options?: Record<string, unknown>; kwargs?: Record<string, unknown>; bind?: Record<string, unknown> }
  | { op: 'batch'; model: string; inputs: LcMessage[][]; options?: Record<string, unknown> }
  | { op: 'tools'; model: string; messages: LcMessage[]; bind?: Record<string, unknown>; toolResult?: string; options?: Record<string, unknown> }
  | { op: 'structured'; model: string; messages: LcMessage[]; method: 'json_schema' | 'function_calling' | 'json_mode'; strict?: boolean; includeRaw?: boolean; stream?: boolean; options?: Record<string, unknown> }
  | { op: 'turns'; model: string; turns: string[]; options?: Record<string, unknown> }
  | { op: 'embed_documents'; model: string; texts: string[]; options?: Record<string, unknown> }
  | { op: 'embed_query'; model: string; text: string; options?: Record<string, unknown> };

/** The driver's answer: `result` (and `chunks` for a stream), or the error, whose `openai_type` is the openai class LangChain's error extends. */
export type LangChainOutcome = Omit<Outcome, 'error'> & { error?: ClientError & { openai_type: string | null } };

/** langchain_driver.py: one process, JSON lines in and out, calls answered in order. */
export class PythonLangChainClient {
  private constructor(private readonly driver: PythonDriver<LangChainOutcome>) {}

  static async start(): Promise<PythonLangChainClient> {
    return new PythonLangChainClient(await PythonDriver.start<LangChainOutcome>('langchain_driver.py', 'the LangChain driver'));
  }

  call(baseURL: string, apiKey: string, call: LangChainCall): Promise<LangChainOutcome> {
    const { toolResult, includeRaw, ...rest } = call as LangChainCall & { toolResult?: string; includeRaw?: boolean };
    return this.driver.send({
      ...rest, base_url: baseURL, api_key: apiKey,
      ...(toolResult !== undefined ? { tool_result: toolResult } : {}), ...(includeRaw ? { include_raw: true } : {}),
    });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}
