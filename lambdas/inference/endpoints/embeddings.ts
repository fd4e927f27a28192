import type { GatewayResponder } from '../gateway.js';
import { notFound } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';

/** `POST /v1/embeddings` (OpenAI's embeddings API). Not served yet (issue 14 in progress). */
export async function embeddings(_pipeline: RequestPipeline, _r: PipelineRequest, _rawBody: string | undefined, _res: GatewayResponder): Promise<void> {
  throw notFound('POST /v1/embeddings is not served yet', null, 'route_not_found');
}
