import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { completeChat, runChat, streamChat } from '../chat/chat-exchange.js';
import { ChatCompletionRequest, type ChatRequestBody } from '../chat/request-schema.js';
import type { GatewayResponder } from '../gateway.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { parseJson, parseWith } from '../request-body.js';

/**
 * `POST /v1/chat/completions`, OpenAI's contract (`ChatCompletionCreateParams` in,
 * `ChatCompletion` or `ChatCompletionChunk`s out) on the shared pipeline and the shared chat
 * machinery (../chat/chat-exchange.ts). The body goes to the provider whole, after the tenant's
 * guardrails; the answer comes back whole, with the gateway's id and the catalog model id. A
 * stream's usage is metered whether or not the caller asked for it.
 */
export async function chatCompletions(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const body = parseWith(ChatCompletionRequest, parseJson(rawBody)) as unknown as ChatRequestBody;
  const model = pipeline.model(r, body.model);
  const stream = body.stream === true;
  r.audit.stream = stream;
  await pipeline.admit(r);
  const id = r.audit.requestId;
  await runChat(pipeline, r, model, body, body.n ?? 1, async (x) => {
    if (!stream) return void (await res.json(200, JSON.stringify(await completeChat(x, id)), { 'x-request-id': id }));
    const includeUsage = body.stream_options?.include_usage === true;
    let out: ReturnType<GatewayResponder['stream']> | undefined;
    const end = await streamChat(x, id, {
      open() {
        out = res.stream({ 'x-request-id': id });
      },
      chunk(chunk) {
        return out!.write(`data: ${JSON.stringify(chunk)}\n\n`);
      },
    }, includeUsage);
    if (end.cancelled) return void (await out?.end()); // not opened when the caller was gone before the first chunk
    if (end.failure) {
      r.audit.status = end.failure.status;
      // OpenAI's mid-stream error event: the SDKs raise it; no made-up finish follows.
      await out!.write(`data: ${end.failure.body()}\n\n`);
      return void (await out!.end());
    }
    if (!end.reported && includeUsage) {
      const usageChunk: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: end.model.id, choices: [], usage: end.usage };
      await out!.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
    }
    await out!.write('data: [DONE]\n\n');
    await out!.end();
  });
}
