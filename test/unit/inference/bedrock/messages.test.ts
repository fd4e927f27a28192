import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { converseMessages } from '../../../../lambdas/inference/providers/bedrock/messages.js';
import { expectInvalid, expectUnsupported } from './refusal.js';

const msgs = (m: unknown[]) => m as ChatCompletionMessageParam[];

describe('converseMessages', () => {
  it('maps a multi-turn tool conversation, merging tool results and the next user message into one turn', () => {
    const out = converseMessages(msgs([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo and Rome?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
        { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_a', content: '3°C' },
      { role: 'tool', tool_call_id: 'call_b', content: '18°C' },
      { role: 'user', content: 'And tomorrow?' },
    ]));
    expect(out).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'Weather in Oslo and Rome?' }] },
        { role: 'assistant', content: [
          { toolUse: { toolUseId: 'call_a', name: 'weather', input: { city: 'Oslo' } } },
          { toolUse: { toolUseId: 'call_b', name: 'weather', input: { city: 'Rome' } } },
        ] },
        { role: 'user', content: [
          { toolResult: { toolUseId: 'call_a', content: [{ text: '3°C' }] } },
          { toolResult: { toolUseId: 'call_b', content: [{ text: '18°C' }] } },
          { text: 'And tomorrow?' },
        ] },
      ],
      hasToolBlocks: true,
    });
  });

  it('puts system and developer messages, wherever they are, in system; merges consecutive same-role turns', () => {
    expect(converseMessages(msgs([
      { role: 'developer', content: [{ type: 'text', text: 'Rule 1' }] },
      { role: 'user', content: 'a' },
      { role: 'system', content: 'Rule 2' },
      { role: 'user', content: [{ type: 'text', text: 'b' }] },
      { role: 'assistant', content: 'c' },
      { role: 'assistant', content: [{ type: 'text', text: 'd' }] },
    ]))).toEqual({
      system: [{ text: 'Rule 1' }, { text: 'Rule 2' }],
      messages: [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }, { role: 'assistant', content: [{ text: 'c' }, { text: 'd' }] }],
      hasToolBlocks: false,
    });
  });

  it('keeps an assistant’s text before its tool calls, its refusal as text, and drops turns with nothing in them', () => {
    expect(converseMessages(msgs([
      { role: 'user', content: 'x' },
      { role: 'assistant', content: '', refusal: null, annotations: [], audio: null, function_call: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't', content: 'done' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'y' },
      { role: 'assistant', content: 'Let me see.', refusal: 'No.' },
    ])).messages).toEqual([
      { role: 'user', content: [{ text: 'x' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't', content: [{ text: 'done' }] } }, { text: 'y' }] },
      { role: 'assistant', content: [{ text: 'Let me see.' }, { text: 'No.' }] },
    ]);
  });

  it('leaves out whitespace-only text as it leaves out empty text (Converse refuses it: "text content blocks must contain non-whitespace text"), keeping other text as sent', () => {
    // What frameworks replay: an assistant turn that opened with "\n\n" before its tool call (as vLLM's
    // hermes tool parser answers; LangChain and the AI SDK send it back as the message's content), a
    // shell tool's empty stdout with its newline, a blank system prompt and a text part of one space.
    const out = converseMessages(msgs([
      { role: 'system', content: ' \n' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'create the file' }, { type: 'text', text: ' ' }] },
      { role: 'assistant', content: '\n\n', tool_calls: [{ id: 't', type: 'function', function: { name: 'sh', arguments: '{"cmd":"touch f"}' } }] },
      { role: 'tool', tool_call_id: 't', content: '\n' },
      { role: 'assistant', content: [{ type: 'text', text: '\t' }] },
      { role: 'user', content: '  done?\n' },
    ]));
    expect(out.system).toEqual([{ text: 'Be brief.' }]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'create the file' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'sh', input: { cmd: 'touch f' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't', content: [] } }, { text: '  done?\n' }] },
    ]);
  });

  it('refuses, naming the message, a conversation Converse cannot take: one that opens with an assistant turn, or has no turn at all', () => {
    // A chat UI's greeting sent as the first message (useChat's initial messages), a history trimmed to its
    // last turns (LangChain's trim_messages without start_on="human"), a prompt sent as system only: OpenAI
    // takes them; Converse answers "A conversation must start with a user message" (or needs a message).
    const greeting = expectUnsupported(() => converseMessages(msgs([
      { role: 'system', content: 'Be brief.' },
      { role: 'assistant', content: 'Hi! How can I help?' },
      { role: 'user', content: 'hello' },
    ])), 'messages[1]');
    expect(greeting.message).toMatch(/start with a user message/);
    expect(greeting.message).toMatch(/leave it out, or send it as a system message/);
    // The first turn is what counts: an empty assistant message before the user's adds no turn.
    expect(converseMessages(msgs([{ role: 'assistant', content: ' ' }, { role: 'user', content: 'hello' }])).messages).toEqual([{ role: 'user', content: [{ text: 'hello' }] }]);
    const onlySystem = expectUnsupported(() => converseMessages(msgs([{ role: 'system', content: 'Summarize the news.' }])), 'messages');
    expect(onlySystem.message).toMatch(/no user message/);
  });

  it('pairs a legacy function_call with the function message answering it', () => {
    expect(converseMessages(msgs([
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: null, function_call: { name: 'time', arguments: '{"tz":"UTC"}' } },
      { role: 'function', name: 'time', content: '12:00' },
    ])).messages).toEqual([
      { role: 'user', content: [{ text: 'time?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'function_call_1', name: 'time', input: { tz: 'UTC' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'function_call_1', content: [{ text: '12:00' }] } }] },
    ]);
    expectInvalid(() => converseMessages(msgs([{ role: 'function', name: 'time', content: 'x' }])), 'messages[0].name');
  });

  it('accepts a tool message\'s name when it is the function name of the call it answers (@langchain/openai sends it on every tool message)', () => {
    // Both calls answered (a call left unanswered is refused: see the pairing test); the named tool message first.
    const turn = (name: unknown, id = 'call_a') => msgs([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }, { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: id, content: '3°C', name },
      { role: 'tool', tool_call_id: id === 'call_a' ? 'call_b' : 'call_a', content: 'x' },
    ]);
    expect(converseMessages(turn('weather')).messages.at(-1)!.content![0]).toEqual({ toolResult: { toolUseId: 'call_a', content: [{ text: '3°C' }] } });
    expect(converseMessages(turn('time', 'call_b')).messages.at(-1)!.content![0]).toEqual({ toolResult: { toolUseId: 'call_b', content: [{ text: '3°C' }] } });
    expect(converseMessages(turn(null)).messages).toEqual(converseMessages(turn('weather')).messages);
    const other = expectInvalid(() => converseMessages(turn('time')), 'messages[2].name');
    expect(other.message).toContain('"time"');
    expect(other.message).toContain('"weather"');
    const unknown = expectInvalid(() => converseMessages(turn('weather', 'call_z')), 'messages[2].name');
    expect(unknown.message).toContain('call_z');
  });

  it('refuses, naming it, a tool message that answers no call of the assistant message before it, and tool calls left unanswered (OpenAI refuses both; Converse too, without a param)', () => {
    const call = (id: string) => ({ id, type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } });
    const asked = { role: 'assistant', content: null, tool_calls: [call('call_a'), call('call_b')] };
    // An id the conversation lacks (a history trimmed past its assistant message, an agent that made the id up)
    const orphan = expectInvalid(() => converseMessages(msgs([{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_zzz', content: 'r' }])), 'messages[1].tool_call_id');
    expect(orphan.message).toContain('"call_zzz"');
    expect(orphan.message).toMatch(/no assistant turn with tool calls comes before it/);
    const unknown = expectInvalid(() => converseMessages(msgs([
      { role: 'user', content: 'hi' }, asked, { role: 'tool', tool_call_id: 'call_a', content: 'r' }, { role: 'tool', tool_call_id: 'call_x', content: 'r' },
    ])), 'messages[3].tool_call_id');
    expect(unknown.message).toContain('"call_x", no call of this conversation');
    expect(unknown.message).toContain('(that turn left "call_b" to answer)');
    // A call of an earlier turn, answered again after the conversation moved on
    expectInvalid(() => converseMessages(msgs([
      { role: 'user', content: 'hi' }, { ...asked, tool_calls: [call('call_a')] }, { role: 'tool', tool_call_id: 'call_a', content: 'r' },
      { role: 'assistant', content: 'It is 3°C.' }, { role: 'user', content: 'again' }, { role: 'tool', tool_call_id: 'call_a', content: 'r' },
    ])), 'messages[5].tool_call_id');
    // A call no tool message answers, before the next user message or at the end
    const unanswered = expectInvalid(() => converseMessages(msgs([
      { role: 'user', content: 'hi' }, asked, { role: 'tool', tool_call_id: 'call_b', content: 'r' }, { role: 'user', content: 'and?' },
    ])), 'messages[1].tool_calls');
    expect(unanswered.message).toContain('"call_a"');
    expectInvalid(() => converseMessages(msgs([{ role: 'user', content: 'hi' }, asked])), 'messages[1].tool_calls');
    // Answered in any order, a system message between: accepted
    expect(converseMessages(msgs([
      { role: 'user', content: 'hi' }, asked, { role: 'tool', tool_call_id: 'call_b', content: 'r' }, { role: 'system', content: 'Be brief.' },
      { role: 'tool', tool_call_id: 'call_a', content: 'r' }, { role: 'user', content: 'and?' },
    ])).messages.at(-1)!.content!.map((b) => b.toolResult?.toolUseId ?? b.text)).toEqual(['call_b', 'call_a', 'and?']);
  });

  it('refuses names, assistant audio and unknown message fields, naming them', () => {
    const participant = expectUnsupported(() => converseMessages(msgs([{ role: 'user', content: 'hi', name: 'jane' }])), 'messages[0].name');
    expect(participant.message).toMatch(/leave `name` out, or put the speaker in the content/);
    expectUnsupported(() => converseMessages(msgs([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'ok', name: 'researcher' }])), 'messages[1].name');
    expectUnsupported(() => converseMessages(msgs([{ role: 'system', content: 'Be brief', name: 'ops' }])), 'messages[0].name');
    expectUnsupported(() => converseMessages(msgs([{ role: 'user', content: 'hi' }, { role: 'assistant', audio: { id: 'audio_1' } }])), 'messages[1].audio');
    expectUnsupported(() => converseMessages(msgs([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'x', reasoning_content: 'y' }])), 'messages[1].reasoning_content');
    expectUnsupported(() => converseMessages(msgs([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }])), 'messages[0].content[0].image_url');
    expectInvalid(() => converseMessages(msgs([{ role: 'critic', content: 'x' }])), 'messages[0].role');
  });
});
