import type { ChatCompletionCreateParams, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { InputTokenCountResponse } from 'openai/resources/responses/input-tokens';
import { guardChat } from '../chat/chat-exchange.js';
import type { ModelEntry } from '../../../lib/config/schema.js';
import type { GatewayResponder } from '../gateway.js';
import { invalid } from '../openai-errors.js';
import { missingParameter } from '../openai-issues.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { catalogIdOf, providerOf } from '../policy.js';
import { parseJson, parseWith } from '../request-body.js';
import { checkMappable, inRequestTerms } from '../responses/chat-request.js';
import { checkCountFields, messagesToItems } from '../responses/count-input.js';
import { inputItemsOf } from '../responses/input-items.js';
import { normalizeItemReferences, withReferenceStandIns } from '../responses/item-references.js';
import { checkToolChoiceNames, checkUniqueItemIds } from '../responses/references.js';
import { checkReasoningContext, checkRequestFields } from '../responses/request-fields.js';
import { ResponsesRequest, type ResponsesRequestBody } from '../responses/request-schema.js';
import { withFileStandIns } from '../input-files.js';
import type { ConversationStore } from '../stores/conversation-store.js';
import type { ResponseStore } from '../stores/response-store.js';
import { countPromptTokens, loadTokenizer } from '../token-count.js';
import { checkConversationsAllowed } from './conversations.js';
import { checkSentReasoning } from '../responses/encrypted-reasoning.js';
import { checkTruncation, resolveTurn, truncated } from './responses-create.js';

/** Who counted: the upstream itself (OpenAI's `/responses/input_tokens`, Bedrock's CountTokens), or the gateway's o200k estimate. */
export type InputTokensCounter = 'openai' | 'bedrock' | 'estimate';

/**
 * `POST /v1/responses/input_tokens` (OpenAI's `client.responses.inputTokens.count`): the input tokens a
 * `POST /v1/responses` with the same input fields would send, answered `{object: "response.input_tokens", input_tokens}`.
 *
 * The body is `InputTokenCountParams` (checkCountFields: another field is a 400 naming it) read by the create's rules
 * (request-schema.ts, request-fields.ts: a field or value the create refuses is refused here, naming it); `model`
 * absent is the tenant's `default` model (a tenant without one: a 400 naming `model`, as a create without `model` is). The model is resolved as a create resolves it (404 `model_not_found`);
 * `previous_response_id` and `conversation` are read from the caller's tenant's stores as a create reads them (another
 * tenant's or an unknown id: the create's 400 `previous_response_not_found`, 404 for a conversation), item references
 * and `file_id`s resolved; the translated chat request goes through the tenant's input guardrails and gets its system
 * prompt (guardChat), as the provider would get it. Counted by the upstream where it counts (provider `openai`: its
 * own `/responses/input_tokens`, the history inline; Bedrock: CountTokens for a model that supports it), else by the
 * gateway's o200k count of the chat request (token-count.ts countPromptTokens: an estimate for that provider's tokenizer).
 *
 * Nothing is generated: no budget is reserved or charged. The request counts against the tenant's (and the caller's
 * user's or key's) request rate windows, as any request does (RequestPipeline.admit; no token window). Audited as
 * `action: response.input_tokens`, `detail: {inputTokens, counter, previousResponseId?, conversationId?}`.
 * @throws GatewayError 400 naming the field (`model` absent for a tenant with no default model), 404 `model_not_found`, 429 from the rate limits, the upstream's errors
 */
export async function countResponseInputTokens(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder, store: ResponseStore | undefined, conversations?: ConversationStore): Promise<void> {
  // The Node client's `count()` without a body sends none: an empty count request.
  const raw = rawBody === undefined || rawBody.trim() === '' ? {} : parseJson(rawBody);
  checkCountFields(raw);
  const unnamed = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && (raw as { model?: unknown }).model == null;
  const body = parseWith(ResponsesRequest, unnamed ? { ...raw, model: 'default' } : raw) as ResponsesRequestBody;
  checkRequestFields(body);
  // Without a default the create's answer to a missing model (OpenAI's 400 `missing_required_parameter` naming it), not a
  // 404 for a name nobody sent.
  if (unnamed && catalogIdOf(r.policy, 'default') === 'default' && !r.policy.models.has('default')) {
    throw invalid(`${missingParameter('model').message} The request names no model and tenant ${r.caller.tenantId} has no default model (gateway.defaultModel or the platform's alias default); send model (GET /v1/models lists yours)`, 'model', 'missing_required_parameter');
  }
  const model = pipeline.model(r, body.model, 'chat');
  // After the model's 404: OpenAI's answers to reasoning.context are the model's (request-fields.ts).
  checkReasoningContext(body.reasoning, model);
  checkTruncation(body, model);
  const conversationId = typeof body.conversation === 'string' ? body.conversation : (body.conversation?.id ?? undefined);
  const detail: Record<string, string | number> = {
    ...(body.previous_response_id ? { previousResponseId: body.previous_response_id } : {}), ...(conversationId ? { conversationId: conversationId.slice(0, 256) } : {}),
  };
  Object.assign(r.audit, { action: 'response.input_tokens', detail });
  if (conversationId !== undefined) {
    if (body.previous_response_id) throw invalid("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", 'conversation', 'mutually_exclusive_parameters');
    checkConversationsAllowed(r, 'conversation');
  }
  const sent = inputItemsOf(normalizeItemReferences(body.input as string | Array<Record<string, unknown>> | null | undefined));
  checkMappable(body, withFileStandIns(withReferenceStandIns(sent)));
  checkUniqueItemIds(sent);
  // A reasoning item sent back with encrypted_content: the caller's tenant's own, as create checks it.
  await checkSentReasoning(body.input, r.caller.tenantId, r.reasoningSeal);
  checkToolChoiceNames(body.tools as Array<Record<string, unknown>> | null | undefined, body.tool_choice as string | Record<string, unknown> | null | undefined);
  await pipeline.admit(r);

  // truncation "auto": counted as the create would send it, fitted to the model's context window.
  const translated = await truncated(r, body, model, (await resolveTurn(r, body, sent, conversationId, store, conversations, detail)).translated, detail);

  const { n, counter } = await counted(pipeline, r, model, body, translated.body as unknown as ChatCompletionCreateParams, translated.leading).catch((e: unknown) => {
    throw inRequestTerms(e, translated);
  });
  Object.assign(detail, { inputTokens: n, counter });
  const answer: InputTokenCountResponse = { object: 'response.input_tokens', input_tokens: n };
  await res.json(200, JSON.stringify(answer), { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r) });
}

/**
 * The count of the translated request once guarded (the tenant's system prompt first): the upstream's own where the
 * model's provider counts (`openai`, `bedrock`; a Bedrock model without token counting answers undefined), else the
 * gateway's o200k count (the ranks loaded first, so the count is exact for OpenAI's text, not the byte bound).
 */
async function counted(pipeline: RequestPipeline, r: PipelineRequest, asked: ModelEntry, body: ResponsesRequestBody, chat: ChatCompletionCreateParams, leading: number): Promise<{ n: number; counter: InputTokensCounter }> {
  const guarded = (await guardChat(pipeline, r, chat as never)) as unknown as ChatCompletionCreateParams;
  const [model] = pipeline.chain(r, asked); // the tenant's Bedrock inference profile, where it has one
  const provider = providerOf(model);
  if (provider === 'openai' || provider === 'bedrock') {
    const { result } = await pipeline.upstream.countInputTokens([model], { body: guarded, responses: responsesBody(body, guarded.messages, r.policy.gateway.systemPrompt ? 1 : 0, leading), tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
    if (result !== undefined) return { n: result, counter: provider };
  }
  await loadTokenizer().catch(() => undefined); // without the ranks the count is the byte bound, still an upper estimate
  return { n: countPromptTokens(guarded), counter: 'estimate' };
}

/**
 * The count request for an upstream that counts Responses requests (OpenAI): the guarded messages after the
 * instructions as input items (the tenant's system prompt first, as a system message), the guarded instructions as
 * `instructions`, and the caller's tools, tool_choice, parallel_tool_calls, text, reasoning and truncation as sent.
 */
function responsesBody(body: ResponsesRequestBody, messages: readonly ChatCompletionMessageParam[], system: number, leading: number): Record<string, unknown> {
  const instructions = leading ? messages[system]?.content : undefined;
  const out: Record<string, unknown> = {
    input: messagesToItems([...messages.slice(0, system), ...messages.slice(system + leading)]),
    ...(typeof instructions === 'string' ? { instructions } : {}),
  };
  for (const field of ['tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'truncation'] as const) {
    if (body[field] != null) out[field] = body[field];
  }
  return out;
}
