import type { ModelEntry } from '../../../lib/config/schema.js';
import type { ChatMessage } from '../chat-schema.js';

export interface ProviderRequest {
  model: ModelEntry;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string | string[];
  tenantId: string;
  signal: AbortSignal;
}

export interface ProviderUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ProviderResult {
  content: string;
  finishReason: string;
  usage?: ProviderUsage;
}

export interface ProviderChunk {
  delta?: string;
  finishReason?: string;
  usage?: ProviderUsage;
}

/** An upstream model API. Errors it throws carry `status` when the upstream answered with one. */
export interface Provider {
  complete(request: ProviderRequest): Promise<ProviderResult>;
  stream(request: ProviderRequest): AsyncIterable<ProviderChunk>;
}

export class ProviderError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryable: boolean) {
    super(message);
  }
}
