import type { ModelEntry } from '../../../lib/config/schema.js';
import { providerOf } from '../policy.js';
import type { EmbeddingRequestBody } from './request-schema.js';

/**
 * Whether the caller asked the model to cut an input longer than it takes instead of refusing it,
 * on a model where that field means it: Cohere Embed's `truncate: "START"` or `"END"` (the Bedrock
 * user guide, "Cohere Embed models": `NONE`, the default, returns an error when an input exceeds the
 * maximum token length; `START` and `END` discard the start or the end of it). The gateway then
 * leaves the length to the model rather than refusing the input with its own count
 * (`maxInputTokens`, endpoints/embeddings.ts). Only on Bedrock: its families honour `truncate`
 * (Cohere) or refuse it with a 400 naming `truncate` before any call (Titan, providers/bedrock/
 * embedding-models.ts). Any other provider's upstream may ignore the field (an OpenAI-compatible
 * server keeps fields it does not know to itself) and embed the whole input, billed by the
 * gateway's count when it reports no usage: there the gateway's own 400 `input_too_long` stands.
 * @returns true for `truncate` START or END on a Bedrock model; false otherwise (absent, null, NONE, anything else, another provider)
 */
export function asksTruncation(body: EmbeddingRequestBody, model: ModelEntry): boolean {
  return (body.truncate === 'START' || body.truncate === 'END') && providerOf(model) === 'bedrock';
}
