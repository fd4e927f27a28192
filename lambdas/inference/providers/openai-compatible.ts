import OpenAI from 'openai';
import { textOf } from '../chat-schema.js';
import { ProviderError, type Provider, type ProviderRequest } from './provider.js';

/**
 * Any OpenAI-compatible upstream (OpenAI itself, HuggingFace's router, vLLM or TGI on a tenant's
 * cluster) through the official `openai` SDK. The SDK's own retries are off: the gateway retries
 * and falls back itself, with its per-attempt timeout.
 */
export class OpenAiCompatibleProvider implements Provider {
  private readonly client: OpenAI;

  constructor(baseURL: string, apiKey: string, timeoutMs: number) {
    this.client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: timeoutMs });
  }

  private params(r: ProviderRequest) {
    return {
      model: r.model.upstream,
      messages: r.messages.map((m) => ({ role: m.role, content: textOf(m.content) })) as OpenAI.ChatCompletionMessageParam[],
      max_tokens: r.maxTokens,
      temperature: r.temperature,
      top_p: r.topP,
      stop: r.stop,
    };
  }

  async complete(r: ProviderRequest) {
    try {
      const out = await this.client.chat.completions.create(this.params(r), { signal: r.signal });
      const choice = out.choices[0];
      return {
        content: choice?.message?.content ?? '',
        finishReason: choice?.finish_reason ?? 'stop',
        usage: out.usage ? { promptTokens: out.usage.prompt_tokens, completionTokens: out.usage.completion_tokens } : undefined,
      };
    } catch (e) {
      throw toProviderError(e);
    }
  }

  async *stream(r: ProviderRequest) {
    let stream;
    try {
      stream = await this.client.chat.completions.create({ ...this.params(r), stream: true, stream_options: { include_usage: true } }, { signal: r.signal });
    } catch (e) {
      throw toProviderError(e);
    }
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      yield {
        delta: choice?.delta?.content ?? undefined,
        finishReason: choice?.finish_reason ?? undefined,
        usage: chunk.usage ? { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } : undefined,
      };
    }
  }
}

export function toProviderError(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  if (e instanceof OpenAI.APIError && e.status) {
    return new ProviderError(`upstream answered ${e.status}`, e.status, e.status === 429 || e.status >= 500);
  }
  if (e instanceof OpenAI.APIConnectionTimeoutError || (e as Error).name === 'AbortError') return new ProviderError('upstream timed out', undefined, true);
  return new ProviderError(`upstream unreachable: ${(e as Error).message}`, undefined, true);
}
