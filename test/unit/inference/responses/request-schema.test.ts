import type { ReasoningEffort } from 'openai/resources/shared';
import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { parseWith } from '../../../../lambdas/inference/request-body.js';
import { ChatCompletionRequest } from '../../../../lambdas/inference/chat/request-schema.js';
import { ResponsesRequest } from '../../../../lambdas/inference/responses/request-schema.js';
import { thrown } from './thrown.js';

/**
 * The enumerated fields of a Responses request (and chat's same fields) take OpenAI's values only,
 * as the `openai` package's types list them: any other is a 400 naming the field and the values,
 * before anything goes upstream (s23resp2 item 1: `reasoning.effort: "bogus"` was forwarded).
 */
const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const satisfies ReadonlyArray<NonNullable<ReasoningEffort>>;
const responses = (body: Record<string, unknown>) => parseWith(ResponsesRequest, { model: 'm', input: 'Hi', ...body });
const chat = (body: Record<string, unknown>) => parseWith(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...body });

describe("OpenAI's enumerated values", () => {
  it.each(EFFORTS)('reasoning.effort and reasoning_effort %s pass', (effort) => {
    expect(responses({ reasoning: { effort } }).reasoning?.effort).toBe(effort);
    expect(chat({ reasoning_effort: effort })).toMatchObject({ reasoning_effort: effort });
  });

  it.each([
    ['reasoning.effort', () => responses({ reasoning: { effort: 'bogus' } }), 'none, minimal, low, medium, high, xhigh, max'],
    ['reasoning_effort', () => chat({ reasoning_effort: 'bogus' }), 'none, minimal, low, medium, high, xhigh, max'],
    ['reasoning.context', () => responses({ reasoning: { context: 'bogus' } }), 'auto, current_turn, all_turns'],
    ['reasoning.summary', () => responses({ reasoning: { summary: 'bogus' } }), 'auto, concise, detailed'],
    ['reasoning.generate_summary', () => responses({ reasoning: { generate_summary: 'bogus' } }), 'auto, concise, detailed'],
    ['text.verbosity', () => responses({ text: { verbosity: 'bogus' } }), 'low, medium, high'],
    ['verbosity', () => chat({ verbosity: 'bogus' }), 'low, medium, high'],
    ['service_tier', () => chat({ service_tier: 'bogus' }), 'auto, default, flex, scale, priority, fast'],
    ['service_tier', () => responses({ service_tier: 'bogus' }), 'auto, default, flex, scale, priority, fast, ultrafast'],
  ] as const)('%s "bogus" is a 400 invalid_value naming it and listing the allowed values (OpenAI\'s code for a value outside an enum)', (param, parse, values) => {
    const e: GatewayError = thrown(parse);
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param, code: 'invalid_value' });
    // OpenAI's words: "Invalid value: 'bogus'. Supported values are: 'low', 'medium', and 'high'."
    const listed = values.split(', ').map((v) => `'${v}'`);
    expect(e.message).toBe(`Invalid value: 'bogus'. Supported values are: ${listed.slice(0, -1).join(', ')}, and ${listed.at(-1)}.`);
  });

  it('null is absent, as OpenAI reads it', () => {
    expect(() => responses({ reasoning: { effort: null, summary: null }, text: { verbosity: null } })).not.toThrow();
    expect(() => chat({ reasoning_effort: null, verbosity: null, service_tier: null })).not.toThrow();
    expect(() => responses({ service_tier: null })).not.toThrow();
  });
});
