import type { GatewayResponder } from '../gateway.js';
import { notFound } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import type { ResponseStore } from '../stores/response-store.js';

/** What the responses endpoint reads of the HTTP request. */
export interface ResponsesHttpRequest {
  method: string;
  /** `/v1/responses`, `/v1/responses/{id}` or `/v1/responses/{id}/input_items` (no trailing slash). */
  path: string;
  body?: string;
  query: Record<string, string | undefined>;
}

/** OpenAI's Responses API (`/v1/responses...`). Not served yet (issue 14 in progress). */
export async function responses(_pipeline: RequestPipeline, _r: PipelineRequest, req: ResponsesHttpRequest, _res: GatewayResponder, _store: ResponseStore | undefined): Promise<void> {
  throw notFound(`${req.method} ${req.path} is not served yet`, null, 'route_not_found');
}
