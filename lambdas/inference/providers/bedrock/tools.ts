import type { Tool, ToolChoice, ToolConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { DocumentType } from '@smithy/types';
import type { ChatCompletionCreateParams, ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { given, invalidField, unsupported } from './refuse.js';
import { checkFunctionName } from './tool-calls.js';

/**
 * OpenAI `tools`, `tool_choice`, `parallel_tool_calls` → Converse `toolConfig`.
 *
 *   tools[i] {type:'function', function:{name, description?, parameters?, strict?}}
 *     → toolConfig.tools[i].toolSpec {name, description?, inputSchema:{json: parameters}, strict?}
 *   (no `parameters`: OpenAI's "empty parameter list", `{type:'object', properties:{}}`;
 *    an empty description is left out, Converse wants a non-empty one or none)
 *   tools[i] of another type (`custom`)                  → 400 `tools[i].type`
 *   a name outside Converse's tool names (`server.tool`)  → 400 `tools[i].function.name` (tool-calls.ts, checkFunctionName)
 *
 *   tool_choice 'auto' (or absent)                       → no toolChoice (Converse's default is auto)
 *   tool_choice 'required'                               → toolChoice {any:{}}
 *   tool_choice {type:'function', function:{name}}       → toolChoice {tool:{name}}
 *   tool_choice {type:'allowed_tools', allowed_tools:{mode, tools}}
 *     → only the allowed tools are sent; mode 'auto' → no toolChoice, 'required' → {any:{}}
 *   tool_choice 'none'   Converse has no "none". The faithful equivalent is to send no tools at
 *     all, so the model cannot call one: done when the conversation holds no tool call or tool
 *     result. Converse refuses toolUse/toolResult blocks without a toolConfig, so with tool blocks
 *     in the conversation 'none' is a 400 (`tool_choice`) rather than an unfaithful rewrite.
 *   tool_choice {type:'custom'}                          → 400 `tool_choice.type` (an allowed tool's: `tool_choice.allowed_tools.tools[i].type`)
 *   no `tools`, the conversation holding tool blocks      → 400 `tools` (an agent's history passed on
 *     to a step without tools, a summarizing call): Converse refuses toolUse/toolResult blocks without
 *     a toolConfig ("The toolConfig field must be defined when using toolUse and toolResult content
 *     blocks"), which came back as Bedrock's ValidationException naming no field
 *
 *   parallel_tool_calls true (or absent)                 → nothing (Converse models may call several tools)
 *   parallel_tool_calls false                            → nothing sent either (Converse has no switch for
 *     one call per turn); the answer is held to OpenAI's "at most one tool call": one-tool-call.ts.
 *
 * `hasToolBlocks`: whether the converted conversation holds toolUse or toolResult blocks.
 * Returns `undefined` when no tools are sent.
 *
 * AWS references: ToolConfiguration, ToolSpecification (`strict`: structured outputs for tool
 * inputs), ToolChoice ("any: the model must request at least one tool", "tool: the model must
 * request the specified tool"), https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html
 * and the tool-use guide https://docs.aws.amazon.com/bedrock/latest/userguide/tool-use.html.
 */
export function toolConfig(body: ChatCompletionCreateParams, hasToolBlocks: boolean): ToolConfiguration | undefined {
  const tools = (body.tools ?? []).map((tool, i) => {
    if (tool.type !== 'function') throw unsupported(`tools[${i}].type`, `is ${tool.type}: Converse takes function tools only (a custom tool's free-form input has no Converse equivalent)`);
    checkFunctionName(tool.function.name, `tools[${i}].function.name`);
    return tool;
  });
  const choice = body.tool_choice;
  if (!tools.length) {
    if (given(choice) && choice !== 'none' && choice !== 'auto') throw invalidField('tool_choice', 'asks for a tool call, but no tools are sent');
    if (hasToolBlocks) throw unsupported('tools', 'the conversation holds tool calls and tool results, and Converse takes them only with the tools declared (toolConfig), which this request leaves out: send the tools the conversation called (with tool_choice auto, the model may call them again)');
    return undefined;
  }
  if (choice === 'none') {
    if (hasToolBlocks) throw unsupported('tool_choice', '"none" has no Converse equivalent when the conversation holds tool calls (Converse needs the tools then, and would let the model call them)');
    return undefined;
  }

  const names = new Set(tools.map((t) => t.function.name));
  if (!given(choice) || choice === 'auto') return { tools: tools.map(toolSpec) };
  if (choice === 'required') return { tools: tools.map(toolSpec), toolChoice: { any: {} } };
  if (choice.type === 'function') {
    if (!names.has(choice.function.name)) throw invalidField('tool_choice.function.name', `names ${choice.function.name}, which is not among the tools`);
    return { tools: tools.map(toolSpec), toolChoice: { tool: { name: choice.function.name } } };
  }
  if (choice.type === 'allowed_tools') {
    const allowed = new Set(choice.allowed_tools.tools.map((t, i) => {
      const name = (t as { type?: unknown; function?: { name?: unknown } }).function?.name;
      if (t.type !== 'function') throw unsupported(`tool_choice.allowed_tools.tools[${i}].type`, `is ${String(t.type)}: Converse takes function tools only`);
      if (typeof name !== 'string') throw invalidField(`tool_choice.allowed_tools.tools[${i}].function.name`, 'is missing: an allowed function tool is {type: "function", function: {name}}');
      if (!names.has(name)) throw invalidField(`tool_choice.allowed_tools.tools[${i}]`, `names ${name}, which is not among the tools`);
      return name;
    }));
    const toolChoice: ToolChoice | undefined = choice.allowed_tools.mode === 'required' ? { any: {} } : undefined;
    return { tools: tools.filter((t) => allowed.has(t.function.name)).map(toolSpec), ...(toolChoice ? { toolChoice } : {}) };
  }
  throw unsupported('tool_choice.type', `is ${(choice as { type: string }).type}: Converse takes function tools only`);
}

function toolSpec({ function: f }: ChatCompletionFunctionTool): Tool {
  return {
    toolSpec: {
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      inputSchema: { json: (f.parameters ?? { type: 'object', properties: {} }) as DocumentType },
      ...(given(f.strict) ? { strict: f.strict } : {}),
    },
  };
}
