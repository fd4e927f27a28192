import {
  ApplyGuardrailCommand, BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, CountTokensCommand, InvokeModelCommand, ValidationException,
  type ApplyGuardrailRequest, type ContentBlock, type ConverseRequest, type ConverseStreamRequest, type Message, type ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { strictMock } from './strict-mock.js';

/**
 * The Bedrock Runtime mock's strict mode: the checks Bedrock itself applies to a Converse / ConverseStream
 * request (and the few model-independent ones of InvokeModel), so that a request the gateway sends and Bedrock
 * would refuse is refused in the tests too, with Bedrock's `ValidationException` (HTTP 400) instead of the
 * scripted answer. Only rules with a source are here; each names its source:
 *
 * - the Bedrock API Reference (docs.aws.amazon.com/bedrock/latest/APIReference/), data types of the runtime:
 *   `API_runtime_<Type>.html` (Message, ContentBlock, ToolUseBlock, ToolResultBlock, ToolSpecification,
 *   SpecificToolChoice, DocumentBlock, ImageBlock, InferenceConfiguration, GuardrailConfiguration);
 * - Bedrock's own ValidationException messages, as quoted in public issue threads (owner/repo#number) for the
 *   rules the reference states only in prose or not at all (the conversation's shape, blank text).
 *
 * Left out (model-specific or not documented): image size and count limits (per model, in the user guide's
 * model pages), document size and count, which blocks a model takes (documents, images, `status` on a toolResult
 * "only supported by Amazon Nova and Anthropic Claude 3 and 4 models"), whether text may follow toolResult blocks in
 * one turn (a ValidationException quoted for some models, langchain-ai/langchain-aws#141), tool input schema
 * contents, `additionalModelRequestFields` contents, the embedding models' InvokeModel body fields, and the
 * exact `modelId` pattern (not found in a stored copy of the reference; only its presence is checked).
 */

/** A request Bedrock would refuse: its ValidationException message. */
export type BedrockRefusal = string;

/** Converse's ToolUseBlock.toolUseId and ToolResultBlock.toolUseId: "Length Constraints: Minimum length of 1. Maximum length of 64. Pattern: [a-zA-Z0-9_-]+" (API_runtime_ToolUseBlock, API_runtime_ToolResultBlock). */
const TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/**
 * ToolSpecification.name, ToolUseBlock.name and SpecificToolChoice.name: "Minimum length of 1. Maximum length of 64.
 * Pattern: [a-zA-Z0-9_-]+" (API_runtime_ToolSpecification, current English page; an older translated copy shows
 * `^[a-zA-Z][a-zA-Z0-9_]*$`, which is the Bedrock *Agents* ToolSpecification's pattern, API_agent_ToolSpecification).
 */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/**
 * DocumentBlock.name: "The name can only contain the following characters: Alphanumeric characters, Whitespace
 * characters (no more than one in a row), Hyphens, Parentheses, Square brackets ... Length Constraints: Minimum
 * length of 1. Maximum length of 200." (API_runtime_DocumentBlock).
 */
const DOCUMENT_NAME = /^[A-Za-z0-9\-()[\]\s]{1,200}$/;
/** DocumentBlock.format: "Valid Values: pdf | csv | doc | docx | xls | xlsx | html | txt | md" (API_runtime_DocumentBlock). */
const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];
/** ImageBlock.format: "Valid Values: png | jpeg | gif | webp" (API_runtime_ImageBlock). */
const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp'];
/** GuardrailConfiguration (API_runtime_GuardrailConfiguration): identifier, version patterns and trace values. */
const GUARDRAIL_ID = /^(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]+))$/;
const GUARDRAIL_VERSION = /^(([1-9][0-9]{0,7})|(DRAFT))$/;
const GUARDRAIL_TRACE = ['enabled', 'disabled', 'enabled_full'];
/**
 * Converse `requestMetadata`: 1-16 entries, keys 1-256 and values 0-256 characters of `[a-zA-Z0-9\s:_@$#=/+,-.]`
 * (RequestMetadata in the Bedrock runtime API model, as lambdas/inference/providers/bedrock/request-metadata.ts
 * cites it; the invocation-log filter's documented key pattern, API_RequestMetadataFilters, is of the same family).
 */
const METADATA_KEY = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}$/;
const METADATA_VALUE = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const blank = (text: unknown) => typeof text !== 'string' || !text.trim();

/**
 * The first rule of Converse / ConverseStream `input` that Bedrock would refuse, as Bedrock's ValidationException
 * message (quoted where a public report quotes it, else the reference's constraint naming the field), or
 * `undefined` when the request passes every check here.
 */
export function converseRefusal(input: ConverseRequest | ConverseStreamRequest): BedrockRefusal | undefined {
  // Converse: modelId is a required URI parameter (API_runtime_Converse).
  if (typeof input.modelId !== 'string' || !input.modelId) return 'modelId: Member must not be null and have length greater than or equal to 1';
  const messages = input.messages ?? [];
  if (!Array.isArray(messages)) return 'messages: must be an array of Message';
  // Bedrock's messages, langchain-ai/langchain-aws#192: "A conversation must alternate between user and assistant roles."
  // and the reference's Message.role "Valid Values: user | assistant".
  const alternate = 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
  let toolBlocks = false;
  for (const [i, message] of messages.entries()) {
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${i}.role: Value '${String(message.role)}' must satisfy enum value set: [user, assistant]`;
    // "A conversation must start with a user message. Try again with a conversation that starts with a user message." (aws-samples/bedrock-chat and many others; the gateway quotes it in messages.ts)
    if (i === 0 && message.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    if (i > 0 && messages[i - 1].role === message.role) return alternate;
    // "The content field in the Message object at messages.3 is empty. Add a ContentBlock object to the content field and try again." (langchain-ai/langchain#26968)
    if (!message.content?.length) return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`;
    for (const [k, block] of message.content.entries()) {
      const refusal = blockRefusal(block, `messages.${i}.content.${k}`, message.role);
      if (refusal) return refusal;
      if (block.toolUse || block.toolResult) toolBlocks = true;
    }
    const refusal = toolResultsRefusal(message, messages[i - 1], i);
    if (refusal) return refusal;
  }
  for (const [k, block] of (input.system ?? []).entries()) {
    // SystemContentBlock (API_runtime_SystemContentBlock) is a union: text, guardContent, cachePoint.
    if ('text' in block && blank(block.text)) return `The text field in the SystemContentBlock object at system.${k} is blank. Add text to the text field, and try again.`;
  }
  const tools = input.toolConfig?.tools ?? [];
  if (input.toolConfig) {
    // ToolConfiguration.tools: "Array Members: Minimum number of 1 item." (API_runtime_ToolConfiguration)
    if (!tools.length) return 'toolConfig.tools: Member must have length greater than or equal to 1';
    const names = new Set<string>();
    for (const [k, tool] of tools.entries()) {
      const spec = tool.toolSpec;
      if (!spec) continue;
      if (!TOOL_NAME.test(spec.name ?? '')) return `toolConfig.tools.${k}.toolSpec.name: Value '${spec.name}' must satisfy regular expression pattern: [a-zA-Z0-9_-]+ and length 1-64`;
      // ToolSpecification.description: "Length Constraints: Minimum length of 1."
      if (spec.description !== undefined && !spec.description.length) return `toolConfig.tools.${k}.toolSpec.description: Member must have length greater than or equal to 1`;
      if (!spec.inputSchema || !('json' in spec.inputSchema) || !isObject(spec.inputSchema.json)) return `toolConfig.tools.${k}.toolSpec.inputSchema: The json field must be a JSON object`;
      names.add(spec.name!);
    }
    const chosen = input.toolConfig.toolChoice && 'tool' in input.toolConfig.toolChoice ? input.toolConfig.toolChoice.tool?.name : undefined;
    if (chosen !== undefined && !TOOL_NAME.test(chosen)) return `toolConfig.toolChoice.tool.name: Value '${chosen}' must satisfy regular expression pattern: [a-zA-Z0-9_-]+`;
  } else if (toolBlocks) {
    // "The toolConfig field must be defined when using toolUse and toolResult content blocks." (nearai/ironclaw#1629)
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  }
  const config = input.inferenceConfig;
  if (config) {
    // InferenceConfiguration (API_runtime_InferenceConfiguration): maxTokens "Minimum value of 1"; temperature and
    // topP "Minimum value of 0. Maximum value of 1"; stopSequences "Maximum number of 2500 items", each "Minimum length of 1".
    if (config.maxTokens !== undefined && !(Number.isInteger(config.maxTokens) && config.maxTokens >= 1)) return `inferenceConfig.maxTokens: Value '${config.maxTokens}' must be an integer greater than or equal to 1`;
    for (const field of ['temperature', 'topP'] as const) {
      const v = config[field];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) return `inferenceConfig.${field}: Value '${v}' must be between 0 and 1`;
    }
    if (config.stopSequences) {
      if (config.stopSequences.length > 2500) return `inferenceConfig.stopSequences: Member must have length less than or equal to 2500`;
      const k = config.stopSequences.findIndex((s) => typeof s !== 'string' || !s.length);
      if (k >= 0) return `inferenceConfig.stopSequences.${k}: Member must have length greater than or equal to 1`;
    }
  }
  const guardrail = input.guardrailConfig;
  if (guardrail) {
    if (!GUARDRAIL_ID.test(guardrail.guardrailIdentifier ?? '')) return `guardrailConfig.guardrailIdentifier: Value '${guardrail.guardrailIdentifier}' must satisfy regular expression pattern`;
    if (!GUARDRAIL_VERSION.test(guardrail.guardrailVersion ?? '')) return `guardrailConfig.guardrailVersion: Value '${guardrail.guardrailVersion}' must satisfy regular expression pattern: ([1-9][0-9]{0,7})|(DRAFT)`;
    if (guardrail.trace !== undefined && !GUARDRAIL_TRACE.includes(guardrail.trace)) return `guardrailConfig.trace: Value '${guardrail.trace}' must satisfy enum value set: [${GUARDRAIL_TRACE.join(', ')}]`;
  }
  if (input.requestMetadata) {
    const entries = Object.entries(input.requestMetadata);
    if (!entries.length || entries.length > 16) return `requestMetadata: Member must have between 1 and 16 entries, not ${entries.length}`;
    for (const [key, value] of entries) {
      if (!METADATA_KEY.test(key)) return `requestMetadata: key '${key}' must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}`;
      if (typeof value !== 'string' || !METADATA_VALUE.test(value)) return `requestMetadata.${key}: value must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}`;
    }
  }
  // additionalModelRequestFields: "Type: JSON value" sent as the request body's object member; Bedrock reads it as the model's extra fields.
  if (input.additionalModelRequestFields !== undefined && !isObject(input.additionalModelRequestFields)) return 'additionalModelRequestFields: must be a JSON object';
  return undefined;
}

/** One content block of a message at `at` (`messages.i.content.k`): the rule it breaks, if any. */
function blockRefusal(block: ContentBlock | ToolResultContentBlock, at: string, role: string): BedrockRefusal | undefined {
  // ContentBlock is a union: "Only one member of this object can be specified" (API_runtime_Message, content).
  const members = Object.entries(block).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (members.length !== 1) return `${at}: a ContentBlock must set exactly one member, not ${members.length} (${members.join(', ')})`;
  // "The text field in the ContentBlock object at messages.15.content.0 is blank. Add text to the text field, and try again." (aws-samples/bedrock-engineer#8)
  if ('text' in block && block.text !== undefined && blank(block.text)) return `The text field in the ContentBlock object at ${at} is blank. Add text to the text field, and try again.`;
  if ('image' in block && block.image) {
    if (!IMAGE_FORMATS.includes(block.image.format as string)) return `${at}.image.format: Value '${block.image.format}' must satisfy enum value set: [${IMAGE_FORMATS.join(', ')}]`;
    const source = block.image.source as { bytes?: Uint8Array } | undefined;
    if (!source || (source.bytes !== undefined && !source.bytes.length)) return `${at}.image.source: The bytes of the image are empty`;
  }
  if ('document' in block && block.document) {
    const { name, format } = block.document;
    if (typeof name !== 'string' || !DOCUMENT_NAME.test(name) || /\s\s/.test(name)) return `${at}.document.name: Value '${name}' must be 1-200 characters: alphanumerics, single whitespace characters, hyphens, parentheses and square brackets`;
    if (format !== undefined && !DOCUMENT_FORMATS.includes(format)) return `${at}.document.format: Value '${format}' must satisfy enum value set: [${DOCUMENT_FORMATS.join(', ')}]`;
  }
  if ('toolUse' in block && block.toolUse) {
    if (role !== 'assistant') return `${at}.toolUse: toolUse blocks are the assistant's (a user turn holds toolResult blocks)`;
    if (!TOOL_USE_ID.test(block.toolUse.toolUseId ?? '')) return `${at}.toolUse.toolUseId: Value '${block.toolUse.toolUseId}' must satisfy regular expression pattern: [a-zA-Z0-9_-]+ and length 1-64`;
    if (!TOOL_NAME.test(block.toolUse.name ?? '')) return `${at}.toolUse.name: Value '${block.toolUse.name}' must satisfy regular expression pattern: [a-zA-Z0-9_-]+ and length 1-64`;
    // ToolUseBlock.input: "Type: JSON value. Required: Yes"; Anthropic models take an object, and every model's tool input schema is an object schema.
    if (block.toolUse.input === undefined) return `${at}.toolUse.input: Member must not be null`;
  }
  if ('toolResult' in block && block.toolResult) {
    const result = block.toolResult;
    if (role !== 'user') return `${at}.toolResult: toolResult blocks answer the assistant in a user turn`;
    if (!TOOL_USE_ID.test(result.toolUseId ?? '')) return `${at}.toolResult.toolUseId: Value '${result.toolUseId}' must satisfy regular expression pattern: [a-zA-Z0-9_-]+ and length 1-64`;
    // ToolResultBlock.status: "Valid Values: success | error".
    if (result.status !== undefined && !['success', 'error'].includes(result.status)) return `${at}.toolResult.status: Value '${result.status}' must satisfy enum value set: [success, error]`;
    // "The content field at messages.<n>.content.0.toolResult cannot be empty when status value is error." (aws-samples/sample-multi-agent-orchestration-chat-on-agentcore#15)
    if (result.status === 'error' && !result.content?.length) return `The content field at ${at}.toolResult cannot be empty when status value is error.`;
    for (const [j, inner] of (result.content ?? []).entries()) {
      const refusal = blockRefusal(inner, `${at}.toolResult.content.${j}`, 'tool');
      if (refusal) return refusal;
    }
  }
  return undefined;
}

/**
 * A turn's toolUse blocks have distinct ids, as have its toolResult blocks (Bedrock's ValidationException quoted below).
 * A user turn's toolResult blocks answer the toolUse blocks of the assistant turn right before, by id:
 * "The number of toolResult blocks at messages.2.content exceeds the number of toolUse blocks of previous turn."
 * (Just-Curieous/Curie#16, pydantic/pydantic-ai#2327), and the id must be one of that turn's (ToolResultBlock.toolUseId:
 * "The ID of the tool request that this is the result for").
 */
function toolResultsRefusal(message: Message, previous: Message | undefined, i: number): BedrockRefusal | undefined {
  // "The toolUse blocks at messages.2.content contain duplicate Ids: http_request" (double16/Cyber-AutoAgent-ng#27),
  // "The toolResult blocks at messages.X.content contain duplicate Ids: tooluse_..." (BerriAI/litellm#20047).
  for (const kind of ['toolUse', 'toolResult'] as const) {
    const ids = (message.content ?? []).flatMap((b) => (b[kind] ? [b[kind]!.toolUseId!] : []));
    const repeated = ids.find((id, k) => ids.indexOf(id) !== k);
    if (repeated !== undefined) return `The ${kind} blocks at messages.${i}.content contain duplicate Ids: ${repeated}`;
  }
  const results = (message.content ?? []).filter((b) => b.toolResult).map((b) => b.toolResult!.toolUseId!);
  if (!results.length) return undefined;
  const uses = new Set((previous?.content ?? []).filter((b) => b.toolUse).map((b) => b.toolUse!.toolUseId!));
  if (results.length > uses.size) return `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`;
  const stray = results.find((id) => !uses.has(id));
  if (stray !== undefined) return `messages.${i}.content: the toolResult with toolUseId '${stray}' answers no toolUse block of the previous turn`;
  return undefined;
}

/**
 * InvokeModel's model-independent rules (API_runtime_InvokeModel): modelId present; a body declared
 * `application/json` (the embedding models' content type) is one JSON object. Model-specific body fields are not checked.
 */
export function invokeModelRefusal(input: { modelId?: string; contentType?: string; body?: unknown }): BedrockRefusal | undefined {
  if (typeof input.modelId !== 'string' || !input.modelId) return 'modelId: Member must not be null and have length greater than or equal to 1';
  if (input.contentType === undefined || input.contentType === 'application/json') {
    const raw = input.body instanceof Uint8Array ? new TextDecoder().decode(input.body) : typeof input.body === 'string' ? input.body : undefined;
    if (raw === undefined) return 'body: Member must not be null';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return 'Malformed input request, please reformat your input and try again.';
    }
    if (!isObject(body)) return 'Malformed input request: the body must be a JSON object';
    const family = /amazon\.nova-canvas-v1/.test(input.modelId) ? 'nova-canvas' : /amazon\.titan-image-generator-v2/.test(input.modelId) ? 'titan-image-v2' : undefined;
    if (family) return imageBodyRefusal(family, body);
  }
  return undefined;
}

/** Titan Image Generator v2's width x height pairs (Bedrock user guide, "Amazon Titan Image Generator G1 models", supported sizes). */
const TITAN_IMAGE_SIZES = new Set([
  '1024x1024', '768x768', '512x512', '768x1152', '384x576', '1152x768', '576x384', '768x1280', '384x640', '1280x768', '640x384',
  '896x1152', '448x576', '1152x896', '576x448', '768x1408', '384x704', '1408x768', '704x384', '640x1408', '320x704', '1408x640', '704x320',
  '1152x640', '1173x640',
]);

/**
 * The TEXT_IMAGE body rules of Amazon Nova Canvas (Nova user guide, "Image generation request and response structure") and
 * Titan Image Generator v2 (Bedrock user guide, "Amazon Titan Image Generator G1 models"), as Bedrock's
 * ValidationException states them: `taskType` required (TEXT_IMAGE; IMAGE_VARIATION with `imageVariationParams`, INPAINTING
 * with `inPaintingParams`, as checked below);
 * `textToImageParams.text` required, 1-1,024 characters (Nova) or 1-512 (Titan), `negativeText` likewise;
 * `imageGenerationConfig.numberOfImages` 1-5; `quality` standard | premium; `cfgScale` 1.1-10; `seed` 0-2,147,483,646;
 * `width` and `height` together: Nova 320-4,096 each, divisible by 16, aspect ratio 1:4 to 4:1, at most 4,194,304 pixels;
 * Titan one of its listed sizes. Fields outside these objects are refused (the schemas are closed).
 */
export function imageBodyRefusal(family: 'nova-canvas' | 'titan-image-v2', body: Record<string, unknown>): BedrockRefusal | undefined {
  const max = family === 'nova-canvas' ? 1024 : 512;
  const paramsKey = ({ TEXT_IMAGE: 'textToImageParams', IMAGE_VARIATION: 'imageVariationParams', INPAINTING: 'inPaintingParams' } as Record<string, string>)[String(body.taskType)];
  if (!paramsKey) return `Malformed input request: #/taskType: ${JSON.stringify(body.taskType)} is not a valid enum value (the gateway sends TEXT_IMAGE, IMAGE_VARIATION or INPAINTING)`;
  const extra = Object.keys(body).find((k) => !['taskType', paramsKey, 'imageGenerationConfig'].includes(k));
  if (extra) return `Malformed input request: extraneous key [${extra}] is not permitted, please reformat your input and try again.`;
  const text = (t: Record<string, unknown>, key: 'text' | 'negativeText', path: string) => {
    const v = t[key];
    if (v !== undefined && (typeof v !== 'string' || v.length < 1 || v.length > max)) return `Malformed input request: #/${path}/${key}: expected a string of length 1 to ${max}, please reformat your input and try again.`;
    return undefined;
  };
  const base64Image = (v: unknown) => typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v);
  if (paramsKey === 'imageVariationParams' || paramsKey === 'inPaintingParams') {
    // IMAGE_VARIATION: images (required, 1-5 base64 PNG or JPEG), text and negativeText optional, similarityStrength 0.2-1.0.
    // INPAINTING: image (required), exactly one of maskPrompt and maskImage, text and negativeText optional.
    const v = body[paramsKey];
    if (!isObject(v)) return `Malformed input request: #: required key [${paramsKey}] not found, please reformat your input and try again.`;
    const allowed = paramsKey === 'imageVariationParams' ? ['images', 'text', 'negativeText', 'similarityStrength'] : ['image', 'text', 'negativeText', 'maskPrompt', 'maskImage'];
    const vExtra = Object.keys(v).find((k) => !allowed.includes(k));
    if (vExtra) return `Malformed input request: #/${paramsKey}: extraneous key [${vExtra}] is not permitted, please reformat your input and try again.`;
    for (const key of ['text', 'negativeText'] as const) {
      const refused = text(v, key, paramsKey);
      if (refused) return refused;
    }
    if (paramsKey === 'imageVariationParams') {
      if (!Array.isArray(v.images)) return 'Malformed input request: #/imageVariationParams: required key [images] not found, please reformat your input and try again.';
      if (v.images.length < 1 || v.images.length > 5) return `Malformed input request: #/imageVariationParams/images: expected minimum item count: 1, maximum 5, found: ${v.images.length}`;
      if (!v.images.every(base64Image)) return 'Malformed input request: #/imageVariationParams/images: each image must be a base64-encoded PNG or JPEG';
      if (v.similarityStrength !== undefined && !(typeof v.similarityStrength === 'number' && v.similarityStrength >= 0.2 && v.similarityStrength <= 1)) return `Malformed input request: #/imageVariationParams/similarityStrength: ${JSON.stringify(v.similarityStrength)} is not between 0.2 and 1.0`;
    } else {
      if (!base64Image(v.image)) return 'Malformed input request: #/inPaintingParams: required key [image] not found (a base64-encoded PNG or JPEG), please reformat your input and try again.';
      if ((v.maskPrompt === undefined) === (v.maskImage === undefined)) return 'Malformed input request: #/inPaintingParams: exactly one of maskPrompt and maskImage is required';
    }
  } else {
    const t = body.textToImageParams;
    if (!isObject(t)) return 'Malformed input request: #: required key [textToImageParams] not found, please reformat your input and try again.';
    const tExtra = Object.keys(t).find((k) => !['text', 'negativeText', ...(family === 'nova-canvas' ? ['style', 'conditionImage', 'controlMode', 'controlStrength'] : ['conditionImage', 'controlMode', 'controlStrength'])].includes(k));
    if (tExtra) return `Malformed input request: #/textToImageParams: extraneous key [${tExtra}] is not permitted, please reformat your input and try again.`;
    if (t.text === undefined) return 'Malformed input request: #/textToImageParams: required key [text] not found, please reformat your input and try again.';
    for (const key of ['text', 'negativeText'] as const) {
      const refused = text(t, key, 'textToImageParams');
      if (refused) return refused;
    }
  }
  const c = body.imageGenerationConfig;
  if (c === undefined) return undefined;
  if (!isObject(c)) return 'Malformed input request: #/imageGenerationConfig: expected type: JSONObject';
  const cExtra = Object.keys(c).find((k) => !['numberOfImages', 'height', 'width', 'quality', 'cfgScale', 'seed'].includes(k));
  if (cExtra) return `Malformed input request: #/imageGenerationConfig: extraneous key [${cExtra}] is not permitted, please reformat your input and try again.`;
  const int = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (c.numberOfImages !== undefined && !int(c.numberOfImages, 1, 5)) return `Malformed input request: #/imageGenerationConfig/numberOfImages: ${JSON.stringify(c.numberOfImages)} is not between 1 and 5`;
  if (c.quality !== undefined && c.quality !== 'standard' && c.quality !== 'premium') return `Malformed input request: #/imageGenerationConfig/quality: ${JSON.stringify(c.quality)} is not a valid enum value [standard, premium]`;
  if (c.cfgScale !== undefined && !(typeof c.cfgScale === 'number' && c.cfgScale >= 1.1 && c.cfgScale <= 10)) return `Malformed input request: #/imageGenerationConfig/cfgScale: ${JSON.stringify(c.cfgScale)} is not between 1.1 and 10`;
  if (c.seed !== undefined && !int(c.seed, 0, 2_147_483_646)) return `Malformed input request: #/imageGenerationConfig/seed: ${JSON.stringify(c.seed)} is not between 0 and 2147483646`;
  if ((c.width === undefined) !== (c.height === undefined)) return 'Malformed input request: #/imageGenerationConfig: width and height must be given together';
  if (c.width !== undefined) {
    const [w, h] = [c.width, c.height] as [number, number];
    const ok = family === 'titan-image-v2'
      ? TITAN_IMAGE_SIZES.has(`${w}x${h}`)
      : int(w, 320, 4096) && int(h, 320, 4096) && w % 16 === 0 && h % 16 === 0 && w / h <= 4 && h / w <= 4 && w * h <= 4_194_304;
    if (!ok) return `Malformed input request: #/imageGenerationConfig: ${w}x${h} is not a supported size for ${family === 'nova-canvas' ? 'amazon.nova-canvas-v1:0' : 'amazon.titan-image-generator-v2:0'}`;
  }
  return undefined;
}

/** ApplyGuardrail `source`: "Valid Values: INPUT | OUTPUT" (API_runtime_ApplyGuardrail). */
const GUARDRAIL_SOURCES = ['INPUT', 'OUTPUT'];
/** ApplyGuardrail `outputScope`: "INTERVENTIONS | FULL" (API_runtime_ApplyGuardrail; the SDK's GuardrailOutputScope). */
const GUARDRAIL_OUTPUT_SCOPES = ['INTERVENTIONS', 'FULL'];
/** GuardrailTextBlock.qualifiers: "Valid Values: grounding_source | query | guard_content" (API_runtime_GuardrailTextBlock). */
const GUARDRAIL_QUALIFIERS = ['grounding_source', 'query', 'guard_content'];
/** GuardrailImageBlock.format: png | jpeg (the SDK's GuardrailImageFormat, API_runtime_GuardrailImageBlock). */
const GUARDRAIL_IMAGE_FORMATS = ['png', 'jpeg'];

/**
 * ApplyGuardrail's rules (API_runtime_ApplyGuardrail): `guardrailIdentifier` "Maximum length of 2048. Pattern:
 * (|([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))", required (so not empty);
 * `guardrailVersion` "(|([1-9][0-9]{0,7})|(DRAFT))", required; `source` INPUT | OUTPUT; `content` "Required: Yes", each a
 * GuardrailContentBlock union (text or image, one member) whose text block has a `text` ("Required: Yes") and qualifiers
 * of the valid values, and whose image block a png or jpeg format. Not checked (not found documented for this call): a
 * text size or text-unit limit per request, the number of content blocks, image sizes.
 */
export function applyGuardrailRefusal(input: ApplyGuardrailRequest): BedrockRefusal | undefined {
  const id = input.guardrailIdentifier;
  if (typeof id !== 'string' || !id || id.length > 2048 || !GUARDRAIL_ID.test(id)) return `guardrailIdentifier: Value '${id}' must satisfy regular expression pattern: ([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+)`;
  if (typeof input.guardrailVersion !== 'string' || !GUARDRAIL_VERSION.test(input.guardrailVersion)) return `guardrailVersion: Value '${input.guardrailVersion}' must satisfy regular expression pattern: ([1-9][0-9]{0,7})|(DRAFT)`;
  if (!GUARDRAIL_SOURCES.includes(input.source as string)) return `source: Value '${input.source}' must satisfy enum value set: [INPUT, OUTPUT]`;
  if (input.outputScope !== undefined && !GUARDRAIL_OUTPUT_SCOPES.includes(input.outputScope)) return `outputScope: Value '${input.outputScope}' must satisfy enum value set: [INTERVENTIONS, FULL]`;
  if (!Array.isArray(input.content)) return 'content: Member must not be null';
  for (const [k, block] of input.content.entries()) {
    const members = Object.entries(block ?? {}).filter(([, v]) => v !== undefined).map(([m]) => m);
    if (members.length !== 1 || !['text', 'image'].includes(members[0])) return `content.${k}: a GuardrailContentBlock must set exactly one of text, image, not ${members.join(', ') || 'none'}`;
    if ('text' in block && block.text) {
      if (typeof block.text.text !== 'string') return `content.${k}.text.text: Member must not be null`;
      const q = (block.text.qualifiers ?? []).find((x) => !GUARDRAIL_QUALIFIERS.includes(x));
      if (q !== undefined) return `content.${k}.text.qualifiers: Value '${q}' must satisfy enum value set: [${GUARDRAIL_QUALIFIERS.join(', ')}]`;
    }
    if ('image' in block && block.image && !GUARDRAIL_IMAGE_FORMATS.includes(block.image.format as string)) return `content.${k}.image.format: Value '${block.image.format}' must satisfy enum value set: [png, jpeg]`;
  }
  return undefined;
}

/** Bedrock's refusal as the SDK raises it: a `ValidationException` with `$metadata.httpStatusCode` 400. */
export function validationException(message: BedrockRefusal): ValidationException {
  return new ValidationException({ message, $metadata: { httpStatusCode: 400, requestId: 'strict-bedrock-refusal' } });
}

/**
 * The refusal of one command sent to Bedrock Runtime by these rules, or `undefined` (also for a command
 * not checked here).
 */
export function bedrockRefusal(command: unknown): BedrockRefusal | undefined {
  if (command instanceof ConverseCommand || command instanceof ConverseStreamCommand) return converseRefusal(command.input);
  if (command instanceof InvokeModelCommand) return invokeModelRefusal(command.input);
  if (command instanceof ApplyGuardrailCommand) return applyGuardrailRefusal(command.input);
  if (command instanceof CountTokensCommand) {
    // CountTokens' ConverseTokensRequest holds Converse's messages, system and toolConfig, under Converse's rules (API_runtime_ConverseTokensRequest).
    const converse = command.input.input?.converse;
    if (!command.input.modelId) return "1 validation error detected: Value null at 'modelId' failed to satisfy constraint: Member must not be null";
    if (!converse) return command.input.input?.invokeModel ? undefined : "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null";
    return converseRefusal({ modelId: command.input.modelId, messages: converse.messages, system: converse.system, toolConfig: converse.toolConfig });
  }
  return undefined;
}

/** Requests the strict mock refused in this process, newest last: what a test can assert on. */
export const refusedBedrockRequests: Array<{ command: string; message: BedrockRefusal }> = [];

/**
 * `mockClient(BedrockRuntimeClient)` (aws-sdk-client-mock) with Bedrock's checks in front: every command sent is
 * checked first (`bedrockRefusal`), and a request Bedrock would refuse is answered with its `ValidationException`
 * (`validationException`) instead of the scripted answer (it is not recorded among the stub's calls). Script answers
 * on the returned stub as usual (`.on(ConverseCommand).resolves(...)`, `.rejects(...)`); `reset()` keeps the checks,
 * `restore()` removes the stub and the checks. Every Bedrock mock in the tests is made here.
 * @param options.strict - false for a test that must send what Bedrock refuses (none today). @default true
 */
export function mockBedrockRuntime(options: { strict?: boolean } = {}) {
  if (options.strict === false) return mockClient(BedrockRuntimeClient);
  return strictMock(mockClient(BedrockRuntimeClient), BedrockRuntimeClient, bedrockRefusal, validationException, refusedBedrockRequests);
}
