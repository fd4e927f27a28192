import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type Message, type SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { platformClient } from '../../shared/aws-clients.js';
import { textOf } from '../chat-schema.js';
import { ProviderError, type Provider, type ProviderRequest } from './provider.js';

const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelTimeoutException']);

function toBedrock(r: ProviderRequest) {
  const system: SystemContentBlock[] = r.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => ({ text: textOf(m.content) }));
  const messages: Message[] = r.messages.filter((m) => m.role === 'user' || m.role === 'assistant').map((m) => ({ role: m.role as 'user' | 'assistant', content: [{ text: textOf(m.content) }] }));
  return {
    modelId: r.model.upstream,
    system: system.length ? system : undefined,
    messages,
    inferenceConfig: { maxTokens: r.maxTokens, temperature: r.temperature, topP: r.topP, stopSequences: r.stop === undefined ? undefined : [r.stop].flat() },
  };
}

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', content_filtered: 'content_filter', guardrail_intervened: 'content_filter' };

function fromError(e: unknown): ProviderError {
  const name = (e as Error).name;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return new ProviderError(`Bedrock ${name}`, status, RETRYABLE.has(name));
}

/** Amazon Bedrock through the Converse API (one shape for every Bedrock model). */
export class BedrockProvider implements Provider {
  private readonly client = platformClient(BedrockRuntimeClient);

  async complete(r: ProviderRequest) {
    try {
      const out = await this.client.send(new ConverseCommand(toBedrock(r)), { abortSignal: r.signal });
      const text = (out.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
      return {
        content: text,
        finishReason: FINISH[out.stopReason ?? 'end_turn'] ?? 'stop',
        usage: out.usage ? { promptTokens: out.usage.inputTokens ?? 0, completionTokens: out.usage.outputTokens ?? 0 } : undefined,
      };
    } catch (e) {
      throw fromError(e);
    }
  }

  async *stream(r: ProviderRequest) {
    let out;
    try {
      out = await this.client.send(new ConverseStreamCommand(toBedrock(r)), { abortSignal: r.signal });
    } catch (e) {
      throw fromError(e);
    }
    for await (const event of out.stream ?? []) {
      if (event.contentBlockDelta?.delta?.text) yield { delta: event.contentBlockDelta.delta.text };
      if (event.messageStop) yield { finishReason: FINISH[event.messageStop.stopReason ?? 'end_turn'] ?? 'stop' };
      if (event.metadata?.usage) yield { usage: { promptTokens: event.metadata.usage.inputTokens ?? 0, completionTokens: event.metadata.usage.outputTokens ?? 0 } };
    }
  }
}
