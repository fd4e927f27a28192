import { describe, expect, it } from 'vitest';
import { toolConfig } from '../../../../lambdas/inference/providers/bedrock/tools.js';
import { body, expectInvalid, expectUnsupported } from './refusal.js';

const weather = { type: 'function', function: { name: 'weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true } };
const time = { type: 'function', function: { name: 'time' } };
const weatherSpec = { toolSpec: { name: 'weather', description: 'Weather in a city', inputSchema: { json: weather.function.parameters }, strict: true } };
const timeSpec = { toolSpec: { name: 'time', inputSchema: { json: { type: 'object', properties: {} } } } };

describe('toolConfig', () => {
  it('maps function tools to toolSpecs, strict included, and no parameters to an empty object schema', () => {
    expect(toolConfig(body({ tools: [weather, time] }), false)).toEqual({ tools: [weatherSpec, timeSpec] });
  });

  it('leaves an empty description out and sends nothing without tools', () => {
    expect(toolConfig(body({ tools: [{ type: 'function', function: { name: 'time', description: '', strict: null } }] }), false)).toEqual({ tools: [timeSpec] });
    expect(toolConfig(body(), false)).toBeUndefined();
    expect(toolConfig(body({ tools: [] }), false)).toBeUndefined();
    expect(toolConfig(body({ tool_choice: 'none' }), false)).toBeUndefined();
  });

  it('maps tool_choice auto to Converse’s default, required to any, a named function to tool', () => {
    expect(toolConfig(body({ tools: [weather], tool_choice: 'auto' }), false)).toEqual({ tools: [weatherSpec] });
    expect(toolConfig(body({ tools: [weather], tool_choice: 'required' }), false)).toEqual({ tools: [weatherSpec], toolChoice: { any: {} } });
    expect(toolConfig(body({ tools: [weather, time], tool_choice: { type: 'function', function: { name: 'time' } } }), false))
      .toEqual({ tools: [weatherSpec, timeSpec], toolChoice: { tool: { name: 'time' } } });
  });

  it('sends only the allowed tools for allowed_tools', () => {
    const choice = (mode: string) => ({ type: 'allowed_tools', allowed_tools: { mode, tools: [{ type: 'function', function: { name: 'time' } }] } });
    expect(toolConfig(body({ tools: [weather, time], tool_choice: choice('auto') }), false)).toEqual({ tools: [timeSpec] });
    expect(toolConfig(body({ tools: [weather, time], tool_choice: choice('required') }), false)).toEqual({ tools: [timeSpec], toolChoice: { any: {} } });
  });

  it('maps tool_choice none to no tools when the conversation has no tool blocks, refuses it otherwise', () => {
    expect(toolConfig(body({ tools: [weather], tool_choice: 'none' }), false)).toBeUndefined();
    expectUnsupported(() => toolConfig(body({ tools: [weather], tool_choice: 'none' }), true), 'tool_choice');
  });

  it('refuses, naming tools, a conversation holding tool blocks sent without tools (Converse: "The toolConfig field must be defined when using toolUse and toolResult content blocks")', () => {
    const refused = expectUnsupported(() => toolConfig(body(), true), 'tools');
    expect(refused.message).toMatch(/send the tools the conversation called/);
    expectUnsupported(() => toolConfig(body({ tools: [] }), true), 'tools');
    expectUnsupported(() => toolConfig(body({ tool_choice: 'none' }), true), 'tools');
    expectUnsupported(() => toolConfig(body({ tool_choice: 'auto' }), true), 'tools');
  });

  it('accepts parallel_tool_calls false or true, with tools or without: nothing is sent for it (the answer is held to one call)', () => {
    expect(toolConfig(body({ tools: [weather], parallel_tool_calls: false }), false)).toEqual({ tools: [weatherSpec] });
    expect(toolConfig(body({ tools: [weather], tool_choice: { type: 'function', function: { name: 'weather' } }, parallel_tool_calls: false }), false))
      .toEqual({ tools: [weatherSpec], toolChoice: { tool: { name: 'weather' } } });
    expect(toolConfig(body({ tools: [weather], parallel_tool_calls: true }), false)).toEqual({ tools: [weatherSpec] });
    expect(toolConfig(body({ parallel_tool_calls: false }), false)).toBeUndefined();
  });

  it('refuses custom tools and custom tool choices, naming them', () => {
    expectUnsupported(() => toolConfig(body({ tools: [weather, { type: 'custom', custom: { name: 'grammar' } }] }), false), 'tools[1].type');
    expectUnsupported(() => toolConfig(body({ tools: [weather], tool_choice: { type: 'custom', custom: { name: 'grammar' } } }), false), 'tool_choice.type');
    expectUnsupported(() => toolConfig(body({ tools: [weather], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'grammar' } }] } } }), false), 'tool_choice.allowed_tools.tools[0].type');
  });

  it('refuses a choice naming a tool that is not sent, or asking for a call without tools', () => {
    expectInvalid(() => toolConfig(body({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }), false), 'tool_choice.function.name');
    expectInvalid(() => toolConfig(body({ tool_choice: 'required' }), false), 'tool_choice');
    expectInvalid(() => toolConfig(body({ tools: [weather], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'nope' } }] } } }), false), 'tool_choice.allowed_tools.tools[0]');
  });
});
