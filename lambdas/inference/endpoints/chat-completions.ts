import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { completeChat, runChat, streamChat } from '../chat/chat-exchange.js';
import { ChatCompletionRequest, type ChatRequestBody } from '../chat/request-schema.js';
import type { GatewayResponder } from '../gateway.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { resolveChatFileIds } from '../input-files.js';
import { invalid } from '../openai-errors.js';
import { auditEndUser } from '../end-user.js';
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
  refuseUnserved(body);
  const model = pipeline.model(r, body.model);
  const stream = body.stream === true;
  r.audit.stream = stream;
  auditEndUser(r.audit, body as { user?: unknown; safety_identifier?: unknown });
  // A limit over the tenant's cap or the model's maximum is refused before it counts against the rate limits (runChat reserves by it).
  const limit = pipeline.completionLimit(r, model, body);
  await pipeline.admit(r);
  // `file.file_id`s become the stored files' bytes inline: the guardrails read them, the providers map them (input-files.ts).
  body.messages = await resolveChatFileIds(body.messages, r.caller.tenantId, r.files);
  const id = r.audit.requestId;
  await runChat(pipeline, r, model, body, body.n ?? 1, async (x) => {
    if (!stream) return void (await res.json(200, JSON.stringify(await completeChat(x, id)), { 'x-request-id': id, ...pipeline.servedRateHeaders(r) }));
    const includeUsage = body.stream_options?.include_usage === true;
    let out: ReturnType<GatewayResponder['stream']> | undefined;
    let usageSent = false; // a usage chunk (`choices: []`) relayed from the upstream
    const end = await streamChat(x, id, {
      open() {
        out = res.stream({ 'x-request-id': id, ...pipeline.servedRateHeaders(r) });
      },
      chunk(chunk) {
        if (chunk.choices.length === 0 && chunk.usage) usageSent = true;
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
    // The usage chunk OpenAI ends with when the caller asked for it: the upstream's when it sent one,
    // else this one (the gateway's count, or the usage an upstream put on its content chunks).
    if (!usageSent && includeUsage) {
      const usageChunk: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created: end.created, model: end.model.id, choices: [], usage: end.usage };
      await out!.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
    }
    await out!.write('data: [DONE]\n\n');
    await out!.end();
  }, limit);
}

/**
 * What the gateway refuses on chat completions, whatever the provider (one answer, so a client
 * learns it once):
 * - `store: true`: OpenAI would store the prompt and answer in the platform's OpenAI organisation,
 *   shared by every tenant, and the gateway serves none of the stored chat completions routes, so the
 *   tenant could neither read nor delete them (and a tenant with `storeResponses: false` would be
 *   stored anyway); other providers have no such store. 400 naming `store`.
 * (A `file` part's `file.file_id` is resolved after the rate limits: ../input-files.ts resolveChatFileIds.)
 * @throws GatewayError 400 `unsupported_parameter`
 */
function refuseUnserved(body: ChatRequestBody): void {
  if (body.store === true) {
    throw invalid('store: true is not served on /v1/chat/completions: this gateway serves no stored chat completions (it would leave your prompt and answer stored at the provider, where you can neither read nor delete them); leave store out or false, or use /v1/responses, whose store the gateway serves', 'store', 'unsupported_parameter');
  }
}
