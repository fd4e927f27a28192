import type { Pool } from 'undici';
import { createPool, poolRequest } from './undici-pool.js';
import { textOf } from '../chat-schema.js';
import { ProviderError, type Provider, type ProviderChunk, type ProviderRequest } from './provider.js';

/**
 * A self-hosted OpenAI-compatible server (vLLM, TGI on a tenant's cluster, a local dev model)
 * over a keep-alive undici connection pool. The `openai` SDK (kept for OpenAI and HuggingFace)
 * costs about as much per call as the rest of the gateway together; on a hop inside the VPC that
 * overhead is the gateway's latency, so this provider speaks the wire format directly.
 */
export class HttpOpenAiCompatibleProvider implements Provider {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(baseUrl: string, private readonly apiKey: string, timeoutMs: number) {
    const url = new URL(baseUrl);
    this.pool = createPool(url.origin, { connections: 256, keepAliveTimeout: 60_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    this.basePath = url.pathname.replace(/\/$/, '');
  }

  private body(r: ProviderRequest, stream: boolean): string {
    return JSON.stringify({
      model: r.model.upstream,
      messages: r.messages.map((m) => ({ role: m.role, content: textOf(m.content) })),
      max_tokens: r.maxTokens, temperature: r.temperature, top_p: r.topP, stop: r.stop,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
  }

  private async post(r: ProviderRequest, stream: boolean) {
    try {
      const res = await poolRequest(this.pool, {
        method: 'POST', path: `${this.basePath}/chat/completions`, signal: r.signal,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body: this.body(r, stream),
      });
      if (res.statusCode >= 400) {
        await res.body.dump();
        throw new ProviderError(`upstream answered ${res.statusCode}`, res.statusCode, res.statusCode === 429 || res.statusCode >= 500);
      }
      return res;
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError' || /Timeout/.test((e as Error).name);
      throw new ProviderError(timedOut ? 'upstream timed out' : `upstream unreachable: ${(e as Error).message}`, undefined, true);
    }
  }

  async complete(r: ProviderRequest) {
    const res = await this.post(r, false);
    const out = (await res.body.json()) as { choices?: Array<{ message?: { content?: string }; finish_reason?: string }>; usage?: { prompt_tokens: number; completion_tokens: number } };
    return {
      content: out.choices?.[0]?.message?.content ?? '',
      finishReason: out.choices?.[0]?.finish_reason ?? 'stop',
      usage: out.usage ? { promptTokens: out.usage.prompt_tokens, completionTokens: out.usage.completion_tokens } : undefined,
    };
  }

  async *stream(r: ProviderRequest): AsyncIterable<ProviderChunk> {
    const res = await this.post(r, true);
    let buffer = '';
    for await (const part of res.body) {
      buffer += part.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        if (!data || data === '[DONE]') continue;
        const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>; usage?: { prompt_tokens: number; completion_tokens: number } };
        const choice = chunk.choices?.[0];
        yield {
          delta: choice?.delta?.content ?? undefined,
          finishReason: choice?.finish_reason ?? undefined,
          usage: chunk.usage ? { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } : undefined,
        };
      }
    }
  }
}
