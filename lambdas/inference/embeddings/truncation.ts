import type { EmbeddingRequestBody } from './request-schema.js';

/**
 * Whether the caller asked the model to cut an input longer than it takes instead of refusing it:
 * Cohere Embed's `truncate: "START"` or `"END"` (the Bedrock user guide, "Cohere Embed models":
 * `NONE`, the default, returns an error when an input exceeds the maximum token length; `START`
 * and `END` discard the start or the end of it). The gateway then leaves the length to the model
 * rather than refusing the input with its own count (`maxInputTokens`, endpoints/embeddings.ts);
 * a provider that has no such field refuses it with a 400 naming `truncate` (Titan on Bedrock),
 * or the upstream does (OpenAI).
 * @returns true for `truncate` START or END; false when absent, null, NONE or anything else
 */
export function asksTruncation(body: EmbeddingRequestBody): boolean {
  return body.truncate === 'START' || body.truncate === 'END';
}
