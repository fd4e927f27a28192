import type {
  ChatCompletionAssistantMessageParam, ChatCompletionContentPart, ChatCompletionContentPartText, ChatCompletionMessageParam, ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { fileIdNotServed } from '../file-ids.js';
import { invalid, quoted } from '../openai-errors.js';
import { fileSearchCallMessages } from './file-search.js';
import type { InputItem } from './input-items.js';

type Item = Record<string, any>;

const str = (v: unknown, path: string): string => {
  if (typeof v !== 'string') throw invalid(`${path} must be a string`, path);
  return v;
};

/**
 * The part types each role's message takes, as OpenAI's API refuses the others with a 400
 * (`Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.` for an
 * assistant's `input_text`, although the `openai` package's `EasyInputMessage` types it): a user,
 * system or developer message holds `ResponseInputMessageContentList` parts (input_text,
 * input_image, input_file; system and developer text only, as chat allows); an assistant message
 * (an earlier answer sent back, `ResponseOutputMessage`) holds output_text and refusal parts.
 */
const INPUT_PART_TYPES = ['input_text', 'input_image', 'input_file'];
const ASSISTANT_PART_TYPES = ['output_text', 'refusal'];

/** The 400 for a part of a type the message's role does not take, naming `<path>.type`, the type and the role's types. */
function partNotOfRole(part: Item, path: string, role: string, allowed: readonly string[]): never {
  const type = typeof part?.type === 'string' ? part.type.slice(0, 60) : String(part?.type);
  const hint = role === 'assistant' && INPUT_PART_TYPES.includes(type) ? `; ${type} is a part of a user, system or developer message (send the assistant's text as output_text)`
    : role !== 'assistant' && ASSISTANT_PART_TYPES.includes(type) ? `; ${type} is a part of an assistant message (send the text as input_text, or the message with role assistant)` : '';
  throw invalid(`${path}.type '${quoted(type)}' is not a part of ${role === 'assistant' ? 'an' : 'a'} ${role} message: supported values are ${allowed.join(', ')}${hint}`, `${path}.type`, 'invalid_value');
}

/**
 * One content part of a user, system or developer message as a chat content part:
 * `input_text` → `text`; `input_image` with `image_url` (a data URL or https URL) → `image_url`
 * with its `detail` (auto, low, high or original: chat has the four since openai 7.x); `input_file` with
 * `file_data` → `file` (`file_data`, `filename`). A `file_id` is resolved to inline data before
 * (../input-files.ts resolveItemFileIds, from the tenant's `user_data` / `vision` files); one left here is
 * refused (file-ids.ts). A `file_url` cannot be served: the gateway fetches no URLs for the upstream.
 * @throws GatewayError 400 naming the part's path
 */
export function inputPartToChat(part: Item, path: string): ChatCompletionContentPart {
  switch (part?.type) {
    case 'input_text':
      return { type: 'text', text: str(part.text, `${path}.text`) };
    case 'input_image': {
      if (part.file_id != null) throw fileIdNotServed(`${path}.file_id`, 'send the image as image_url (a data URL or an https URL)');
      const url = str(part.image_url, `${path}.image_url`);
      if (!/^(data:|https:\/\/)/i.test(url)) throw invalid(`${path}.image_url must be a data URL (data:image/png;base64,...) or an https URL`, `${path}.image_url`);
      return { type: 'image_url', image_url: { url, ...(part.detail != null ? { detail: part.detail } : {}) } };
    }
    case 'input_file': {
      if (part.file_id != null) throw fileIdNotServed(`${path}.file_id`, 'send the file inline as file_data (base64) with a filename');
      if (part.file_url != null) throw invalid(`${path}.file_url: files are only served inline here (the gateway fetches no URLs for the upstream); send the file as file_data (base64) with a filename`, `${path}.file_url`, 'unsupported_parameter');
      return { type: 'file', file: { file_data: str(part.file_data, `${path}.file_data`), ...(part.filename != null ? { filename: part.filename } : {}) } };
    }
    default:
      return partNotOfRole(part, path, 'user', INPUT_PART_TYPES);
  }
}

/** A system or developer message's parts: text only, as chat allows. */
function textParts(content: Item[], path: string, role: string): ChatCompletionContentPartText[] {
  return content.map((p, j) => {
    if (!INPUT_PART_TYPES.includes(p?.type)) partNotOfRole(p, `${path}[${j}]`, role, INPUT_PART_TYPES);
    const part = inputPartToChat(p, `${path}[${j}]`);
    if (part.type !== 'text') throw invalid(`${path}[${j}].type '${quoted(p.type)}': system and developer messages carry text only`, `${path}[${j}].type`);
    return part;
  });
}

/**
 * An assistant message (an earlier answer sent back): its `output_text` parts as the content, its
 * `refusal` parts as the refusal; any other part (`input_text` too) is a 400, as at OpenAI.
 */
function assistantMessage(content: Item[], path: string): ChatCompletionAssistantMessageParam {
  const texts: string[] = [];
  const refusals: string[] = [];
  content.forEach((p, j) => {
    if (p?.type === 'output_text') texts.push(str(p.text, `${path}[${j}].text`));
    else if (p?.type === 'refusal') refusals.push(str(p.refusal, `${path}[${j}].refusal`));
    else partNotOfRole(p, `${path}[${j}]`, 'assistant', ASSISTANT_PART_TYPES);
  });
  return { role: 'assistant', content: texts.length ? texts.join('') : null, ...(refusals.length ? { refusal: refusals.join('') } : {}) };
}

/** The parts a function call's output may hold (OpenAI's `ResponseFunctionCallOutputItem`). */
const OUTPUT_PART_TYPES = ['input_text', 'input_image', 'input_file'];

/**
 * A function call's output (or a custom tool call's: `ResponseCustomToolCallOutput.output`, the same shapes) as a tool
 * message: a string, or a list of `input_text`, `input_image`
 * and `input_file` parts (OpenAI's `ResponseFunctionCallOutputItem`), mapped as a user message's
 * parts are (`inputPartToChat`: text, `image_url`, `file`). A chat tool message carries text only,
 * so a message holding an image or a file goes only where the provider can take it: Bedrock maps
 * it to a toolResult with image and document blocks; the OpenAI-compatible relay and SageMaker
 * refuse it with a 400 naming `input[i].output[j]` (providers/tool-message-parts.ts). Never dropped.
 */
function toolMessage(item: Item, path: string): ChatCompletionMessageParam {
  const callId = str(item.call_id, `${path}.call_id`);
  if (typeof item.output === 'string') return { role: 'tool', tool_call_id: callId, content: item.output };
  if (!Array.isArray(item.output)) throw invalid(`${path}.output must be a string or a list of input_text, input_image and input_file parts`, `${path}.output`);
  return {
    role: 'tool', tool_call_id: callId,
    content: item.output.map((p: Item, j: number) => {
      if (!OUTPUT_PART_TYPES.includes(p?.type)) throw invalid(`${path}.output[${j}].type '${quoted(p?.type)}' is not a part of a ${item.type === 'custom_tool_call_output' ? 'custom tool' : 'function'} call's output (input_text, input_image, input_file)`, `${path}.output[${j}].type`);
      return inputPartToChat(p, `${path}.output[${j}]`);
    }),
  } as ChatCompletionMessageParam; // image and file parts: see above
}

/**
 * Where a chat message made from a Responses request comes from, to name the request's own field
 * in an error about the message (chatParamToRequest):
 * - `instructions`: the leading system message; `history`: a message of the previous response's
 *   conversation (`previous_response_id`); `input`: the one user message of a string `input`;
 * - `message`: a user, system or developer message item at `path` (the same content shape);
 * - `tool`: a `function_call_output` or `custom_tool_call_output` item at `path` (its `output` is the message's `content`);
 * - `turn`: an assistant turn: the assistant message item at `path` (absent when the turn is
 *   tool calls only) and the `function_call` / `custom_tool_call` items at `calls`, one per `tool_calls` entry.
 */
export interface MessageSource {
  kind: 'instructions' | 'history' | 'input' | 'message' | 'tool' | 'turn';
  path?: string;
  calls?: string[];
}

/**
 * A path inside a chat content part as the Responses part's field: chat nests an image's and a
 * file's fields (`image_url.url`, `image_url.detail`, `file.file_data`, `file.filename`, `file.file_id`),
 * the Responses `input_image` / `input_file` part has them flat (`image_url`, `detail`, `file_data`, …);
 * `…[j].file` (the file as a whole) is the part itself. Other paths are returned as they are.
 */
function partField(rest: string): string {
  return rest
    .replace(/^(\.content\[\d+\])\.image_url\.url$/, '$1.image_url')
    .replace(/^(\.content\[\d+\])\.image_url\.detail$/, '$1.detail')
    .replace(/^(\.content\[\d+\])\.file\.(file_data|filename|file_id)$/, '$1.$2')
    .replace(/^(\.content\[\d+\])\.file$/, '$1');
}

/**
 * A chat request's field path (`messages[2].content[0].text`, as the guardrails and the upstreams
 * name them) as the path of the Responses request's field it was made from
 * (`input[1].content[0].text`, `input[3].output`, `input[2].arguments`, `input[2].input` for a custom tool call, `instructions`), by the
 * messages' `sources`; `messages` alone is `input`. OpenAI's dotted form (`messages.[2].content`,
 * which it uses for some errors) is read the same. A tool message's `tool_call_id` is its item's
 * `call_id`; an assistant turn's `tool_calls` as a whole (Bedrock's "calls no tool message answers")
 * is the turn's first `function_call` item; a call's `type` (Bedrock's refusal of a custom call) is the item's `type`.
 * Any other path is returned as it is.
 */
export function chatParamToRequest(param: string, sources: readonly MessageSource[]): string {
  if (param === 'messages') return 'input';
  const m = /^messages\.?\[(\d+)\](.*)$/.exec(param);
  const source = m ? sources[Number(m[1])] : undefined;
  if (!m || !source) return param;
  const rest = m[2].replace(/\.\[/g, '['); // OpenAI's dotted form (`messages.[1].content.[0].text`) as the usual one
  switch (source.kind) {
    case 'instructions':
      return 'instructions';
    case 'history':
      return 'previous_response_id';
    case 'input':
      return 'input';
    case 'message':
      return `${source.path}${partField(rest)}`;
    case 'tool':
      return `${source.path}${partField(rest).replace(/^\.content/, '.output').replace(/^\.tool_call_id$/, '.call_id')}`;
    case 'turn': {
      const call = /^\.tool_calls\[(\d+)\]/.exec(rest);
      if (call && source.calls![Number(call[1])]) {
        const field = /\.function\.arguments/.test(rest) ? '.arguments' : /\.custom\.input/.test(rest) ? '.input' : /^\.tool_calls\[\d+\]\.type$/.test(rest) ? '.type' : '';
        return `${source.calls![Number(call[1])]}${field}`;
      }
      if (rest === '.tool_calls' && source.calls!.length) return source.calls![0];
      return source.path ? `${source.path}.content` : source.calls![0] ?? param;
    }
  }
}

/**
 * The input items as chat messages, in order:
 * - `message` user/system/developer → the same role (parts mapped by `inputPartToChat`);
 *   assistant → an assistant message (`output_text` → content, `refusal` → refusal);
 * - `function_call` → an assistant `tool_calls` entry (id = `call_id`); consecutive calls, and the
 *   assistant message right before them, form one assistant turn, as chat completions answered it;
 * - `custom_tool_call` → an assistant `tool_calls` entry of type `custom` (`{type:'custom', id: call_id, custom:{name,
 *   input}}`, chat's `ChatCompletionMessageCustomToolCall`), joining the turn as a function call does;
 * - `function_call_output`, `custom_tool_call_output` → a `tool` message for its `call_id` (text, image and file parts: `toolMessage`);
 * - `reasoning` (the gateway's own reasoning items, replayed) → no message (see below);
 * - `file_search_call` (the gateway's file_search tool's call, replayed) → an assistant turn calling the search
 *   function and the tool message with its results, or a note that they were not sent back (fileSearchCallMessages);
 * - anything else (hosted-tool calls) → 400 naming `input[i].type` (an `item_reference` is
 *   resolved to its item before: ./item-references.ts).
 * @param base the path of the items in the request (`input`)
 * @param plain the indexes of the items whose content the caller sent as a string (`inputItemsOf`
 *   keeps OpenAI's list form): a user, system or developer message among them gets its text as a
 *   string `content`, as sent (text-only chat templates expect one)
 * @param sources when given, gets where each message comes from, one per message (MessageSource)
 * @throws GatewayError 400 naming the item's path
 */
export function itemsToMessages(items: InputItem[], base = 'input', plain: ReadonlySet<number> = new Set(), sources?: MessageSource[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  // The assistant turn that function calls join: the last message, while only function calls followed it.
  let turn: ChatCompletionAssistantMessageParam | undefined;
  let turnSource: MessageSource | undefined;
  // Where each message comes from, beside `out` (when asked for).
  const from = (source: MessageSource) => void sources?.push(source);
  items.forEach((item: Item, i) => {
    const path = `${base}[${i}]`;
    if (item.type === 'message') {
      const content = item.content as Item[];
      if (!Array.isArray(content)) throw invalid(`${path}.content must be a string or a list of content parts`, `${path}.content`);
      const where = `${path}.content`;
      switch (item.role) {
        case 'user': {
          const parts = content.map((p, j) => inputPartToChat(p, `${where}[${j}]`));
          out.push({ role: 'user', content: plain.has(i) && parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts });
          from({ kind: 'message', path });
          turn = undefined;
          return;
        }
        case 'system':
        case 'developer': {
          const parts = textParts(content, where, item.role);
          out.push({ role: item.role, content: plain.has(i) && parts.length === 1 ? parts[0].text : parts });
          from({ kind: 'message', path });
          turn = undefined;
          return;
        }
        case 'assistant':
          out.push((turn = assistantMessage(content, where)));
          from((turnSource = { kind: 'turn', path, calls: [] }));
          return;
        default:
          throw invalid(`${path}.role '${quoted(item.role)}' is not a message role (user, system, developer, assistant)`, `${path}.role`);
      }
    }
    if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const id = str(item.call_id, `${path}.call_id`);
      const name = str(item.name, `${path}.name`);
      const call: ChatCompletionMessageToolCall = item.type === 'function_call'
        ? { id, type: 'function', function: { name, arguments: str(item.arguments, `${path}.arguments`) } }
        : { id, type: 'custom', custom: { name, input: str(item.input, `${path}.input`) } };
      if (!turn) {
        out.push((turn = { role: 'assistant', content: null }));
        from((turnSource = { kind: 'turn', calls: [] }));
      }
      turn.tool_calls = [...(turn.tool_calls ?? []), call];
      turnSource?.calls!.push(path);
      return;
    }
    // The model's earlier reasoning, sent back as the SDKs replay output: not a chat message (chat upstreams take none back:
    // DeepSeek refuses reasoning_content in input, vLLM's templates drop it), so it is left out, as OpenAI leaves earlier
    // turns' reasoning out of the model's context; it stays among the request's input items. It does not end an assistant turn.
    if (item.type === 'reasoning') return;
    // The gateway's file_search tool ran it (file-search.ts): the call and its results (when sent back) are context.
    if (item.type === 'file_search_call') {
      const [call, results] = fileSearchCallMessages(item, path);
      out.push(call, results);
      from({ kind: 'turn', calls: [path] });
      from({ kind: 'tool', path });
      turn = undefined;
      return;
    }
    if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
      out.push(toolMessage(item, path));
      from({ kind: 'tool', path });
      turn = undefined;
      return;
    }
    const hosted = /_call(_output)?$/.test(String(item.type)) || String(item.type).startsWith('mcp_');
    const why = hosted ? `'${quoted(item.type)}' items belong to OpenAI's hosted tools, which chat-completions upstreams do not run; send messages, function_call, function_call_output, custom_tool_call, custom_tool_call_output and file_search_call items`
      : `'${String(item.type).slice(0, 60)}' is not an input item type this gateway serves (message, function_call, function_call_output, custom_tool_call, custom_tool_call_output)`;
    throw invalid(`${path}.type '${quoted(item.type)}': ${why}`, `${path}.type`, 'unsupported_parameter');
  });
  return out;
}
