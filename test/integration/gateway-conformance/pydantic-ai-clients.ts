import type { Outcome } from './clients.js';
import type { ClientError } from './official-clients.js';
import { PythonDriver } from './official-clients.js';

/**
 * One request to test/conformance/python/pydantic_ai_driver.py (see its docstring): an Agent on
 * `OpenAIChatModel` (`api` 'chat', the default) or `OpenAIResponsesModel` ('responses'), run
 * (`run_sync`) or streamed (`run_stream`); `settings` are its ModelSettings (`max_retries` 0 and
 * `timeout` 20 s unless given); `tools` gives it get_weather (a pydantic argument) and utc_offset;
 * `output` its output_type (str, or the Person model as a tool output, NativeOutput or PromptedOutput).
 */
export interface PydanticAiCall {
  op: 'run' | 'stream';
  model: string;
  prompt: string;
  api?: 'chat' | 'responses';
  instructions?: string;
  tools?: boolean;
  output?: 'text' | 'tool' | 'native' | 'prompted';
  settings?: Record<string, unknown>;
  agentRetries?: number;
}

/** The driver's answer: `result` ({output, usage, messages, deltas?}), or the error (a ModelHTTPError's status_code and body), `cause_type` the exception it was raised from. */
export type PydanticAiOutcome = Omit<Outcome, 'error'> & { error?: ClientError & { cause_type: string | null } };

/** pydantic_ai_driver.py: one process, JSON lines in and out, calls answered in order. */
export class PythonPydanticAiClient {
  private constructor(private readonly driver: PythonDriver<PydanticAiOutcome>) {}

  static async start(): Promise<PythonPydanticAiClient> {
    return new PythonPydanticAiClient(await PythonDriver.start<PydanticAiOutcome>('pydantic_ai_driver.py', 'the Pydantic AI driver'));
  }

  call(baseURL: string, apiKey: string, call: PydanticAiCall): Promise<PydanticAiOutcome> {
    const { agentRetries, ...rest } = call;
    return this.driver.send({ ...rest, base_url: baseURL, api_key: apiKey, ...(agentRetries !== undefined ? { agent_retries: agentRetries } : {}) });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}
