import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import type { ResponsesRequestBody } from '../../../../lambdas/inference/responses/request-schema.js';
import { responseShell } from '../../../../lambdas/inference/responses/response-object.js';
import { ResponseEventStream } from '../../../../lambdas/inference/responses/stream-events.js';

const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const chunk = (delta: Record<string, unknown>, finish: string | null = null): ChatCompletionChunk =>
  ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }) as unknown as ChatCompletionChunk;

async function eventsOf(chunks: ChatCompletionChunk[], end: 'finish' | 'fail' = 'finish') {
  const events: any[] = [];
  const s = new ResponseEventStream(responseShell('resp_1', 1, 'm', { model: 'm', input: 'Hi' } as unknown as ResponsesRequestBody, true), (e) => void events.push(e));
  await s.start();
  for (const c of chunks) await s.chunk(c);
  if (end === 'finish') await s.finish(usage);
  else await s.fail(new GatewayError(504, 'idle timeout', 'timeout_error', 'upstream_timeout'));
  return events;
}

/** The events of each item in turn: [output_index, event type] without the response's own events. */
const perItem = (events: any[]) => events.filter((e) => e.output_index !== undefined).map((e) => [e.output_index, e.type.replace('response.', '')]);

describe('chat chunks → Responses stream events', () => {
  it('text: created, in_progress, item added, part added, deltas, text done, part done, item done, completed; sequence numbers 0…n', async () => {
    const events = await eventsOf([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hei' }), chunk({ content: ' du' }), chunk({}, 'stop')]);
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0].response).toMatchObject({ id: 'resp_1', status: 'in_progress', output: [] });
    expect(events[2].item).toMatchObject({ type: 'message', status: 'in_progress', content: [] });
    expect(events[4]).toMatchObject({ output_index: 0, content_index: 0, delta: 'Hei', item_id: events[2].item.id, logprobs: [] });
    expect(events[6]).toMatchObject({ text: 'Hei du' });
    expect(events[8].item).toMatchObject({ status: 'completed', content: [{ type: 'output_text', text: 'Hei du', annotations: [] }] });
    expect(events[9].response).toMatchObject({ status: 'completed', output: [events[8].item], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } });
  });

  it('tool calls: each its function_call item with argument deltas, done events, and the call id of the chunk', async () => {
    const events = await eventsOf([
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
    expect(events[2].item).toMatchObject({ type: 'function_call', call_id: 'call_a', name: 'f', arguments: '', status: 'in_progress' });
    expect(events[5]).toMatchObject({ type: 'response.function_call_arguments.done', name: 'f', arguments: '{"x":1}', output_index: 0 });
    expect(events.at(-1).response.output.map((o: any) => [o.call_id, o.arguments, o.status])).toEqual([['call_a', '{"x":1}', 'completed'], ['call_b', '{}', 'completed']]);
  });

  it('a custom tool call: a custom_tool_call item (ctc_), its input deltas, input done, item done, as OpenAI streams one; beside a function call', async () => {
    const events = await eventsOf([
      chunk({ content: 'Patching.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_p', type: 'custom', custom: { name: 'apply_patch', input: '' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: '*** Begin Patch\n' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: '*** End Patch' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_f', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(perItem(events).filter(([i]) => i === 1)).toEqual([
      [1, 'output_item.added'], [1, 'custom_tool_call_input.delta'], [1, 'custom_tool_call_input.delta'], [1, 'custom_tool_call_input.done'], [1, 'output_item.done'],
    ]);
    const added = events.find((e) => e.type === 'response.output_item.added' && e.output_index === 1);
    expect(added.item).toEqual({ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', status: 'in_progress', call_id: 'call_p', name: 'apply_patch', input: '' });
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.delta')).toEqual({ type: 'response.custom_tool_call_input.delta', item_id: added.item.id, output_index: 1, delta: '*** Begin Patch\n', sequence_number: expect.any(Number) });
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')).toEqual({ type: 'response.custom_tool_call_input.done', item_id: added.item.id, output_index: 1, input: '*** Begin Patch\n*** End Patch', sequence_number: expect.any(Number) });
    const output = events.at(-1).response.output;
    expect(output.map((o: any) => o.type)).toEqual(['message', 'custom_tool_call', 'function_call']);
    expect(output[1]).toEqual({ id: added.item.id, type: 'custom_tool_call', status: 'completed', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' });
    expect(events.find((e) => e.type === 'response.output_item.done' && e.output_index === 1).item).toEqual(output[1]);
  });

  it("a streamed call the upstream gave no id gets call_id call_… (OpenAI's shape, as a whole answer's), item id fc_…, the same in every event (s23resp2 item 4)", async () => {
    const events = await eventsOf([
      chunk({ tool_calls: [{ index: 0, type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const added = events.find((e) => e.type === 'response.output_item.added').item;
    expect(added).toMatchObject({ id: expect.stringMatching(/^fc_/), call_id: expect.stringMatching(/^call_[0-9a-f]{24}$/) });
    expect(events.find((e) => e.type === 'response.output_item.done').item).toMatchObject({ id: added.id, call_id: added.call_id, arguments: '{}' });
    expect(events.at(-1).response.output[0]).toMatchObject({ id: added.id, call_id: added.call_id });
  });

  it('text then a tool call: the message is closed before the call opens', async () => {
    const events = await eventsOf([chunk({ content: 'Checking.' }), chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] }), chunk({}, 'tool_calls')]);
    const types = events.map((e) => e.type);
    expect(types.indexOf('response.output_item.done')).toBeLessThan(types.lastIndexOf('response.output_item.added'));
    expect(events.at(-1).response.output.map((o: any) => o.type)).toEqual(['message', 'function_call']);
  });

  it('one item at a time, as OpenAI streams them: a call is done before the next call or the text after it is added; the completed output is the items as done (hostile fxresp item 3)', async () => {
    const events = await eventsOf([
      chunk({ content: 'Checking.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }),
      chunk({ content: 'Done' }),
      chunk({}, 'stop'),
    ]);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'content_part.added'], [0, 'output_text.delta'], [0, 'output_text.done'], [0, 'content_part.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.done'], [1, 'output_item.done'],
      [2, 'output_item.added'], [2, 'function_call_arguments.delta'], [2, 'function_call_arguments.done'], [2, 'output_item.done'],
      [3, 'output_item.added'], [3, 'content_part.added'], [3, 'output_text.delta'], [3, 'output_text.done'], [3, 'content_part.done'], [3, 'output_item.done'],
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
    expect(events.at(-1).response.output).toEqual(done);
    expect(done.map((o: any) => [o.type, o.status])).toEqual([['message', 'completed'], ['function_call', 'completed'], ['function_call', 'completed'], ['message', 'completed']]);
  });

  it('a failure after a call closes only the item still open, as incomplete', async () => {
    const events = await eventsOf([chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{}' } }] }), chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{"y"' } }] })], 'fail');
    expect(events.filter((e) => e.type === 'response.output_item.done').map((e) => [e.output_index, e.item.status])).toEqual([[0, 'completed'], [1, 'incomplete']]);
    expect(events.at(-1).response.output.map((o: any) => o.status)).toEqual(['completed', 'incomplete']);
  });

  it('a delta\'s url citations: response.output_text.annotation.added each (after the text), and the done part, item and response carry them', async () => {
    const cite = (n: number) => ({ type: 'url_citation', url_citation: { start_index: n, end_index: n + 2, title: `T${n}`, url: `https://e.org/${n}` } });
    const flat = (n: number) => ({ type: 'url_citation', start_index: n, end_index: n + 2, title: `T${n}`, url: `https://e.org/${n}` });
    const events = await eventsOf([chunk({ content: 'Hei du' }), chunk({ content: '', annotations: [cite(0), cite(4)] }), chunk({}, 'stop')]);
    expect(events.map((e) => e.type).slice(4, 8)).toEqual(['response.output_text.delta', 'response.output_text.annotation.added', 'response.output_text.annotation.added', 'response.output_text.done']);
    expect(events[5]).toEqual({ type: 'response.output_text.annotation.added', item_id: events[2].item.id, output_index: 0, content_index: 0, annotation_index: 0, annotation: flat(0), sequence_number: 5 });
    expect(events[6]).toMatchObject({ annotation_index: 1, annotation: flat(4) });
    expect(events.find((e) => e.type === 'response.content_part.done').part.annotations).toEqual([flat(0), flat(4)]);
    expect(events.find((e) => e.type === 'response.output_item.done').item.content[0].annotations).toEqual([flat(0), flat(4)]);
    expect(events.at(-1).response.output[0].content[0].annotations).toEqual([flat(0), flat(4)]);
  });

  it('an annotation a later delta repeats exactly is added once; a new one is added', async () => {
    const cite = (n: number) => ({ type: 'url_citation', url_citation: { start_index: n, end_index: n + 2, title: 'T', url: 'https://e.org' } });
    const events = await eventsOf([chunk({ content: 'Hei du', annotations: [cite(0)] }), chunk({ annotations: [cite(0), cite(4)] }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.type === 'response.output_text.annotation.added').map((e) => [e.annotation_index, e.annotation.start_index])).toEqual([[0, 0], [1, 4]]);
    expect(events.at(-1).response.output[0].content[0].annotations.map((a: any) => a.start_index)).toEqual([0, 4]);
  });

  it('a refusal gets a refusal part with refusal deltas', async () => {
    const events = await eventsOf([chunk({ refusal: 'No' }), chunk({ refusal: '.' }), chunk({}, 'stop')]);
    expect(events.map((e) => e.type)).toContain('response.refusal.delta');
    expect(events.find((e) => e.type === 'response.refusal.done')).toMatchObject({ refusal: 'No.' });
  });

  it('finish reason length ends with response.incomplete (max_output_tokens)', async () => {
    const events = await eventsOf([chunk({ content: 'Cut' }), chunk({}, 'length')]);
    expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
  });

  it('a failure closes open items as incomplete, then the error event and response.failed (OpenAI\'s order)', async () => {
    const events = await eventsOf([chunk({ content: 'Hal' })], 'fail');
    expect(events.slice(-4).map((e) => e.type)).toEqual(['response.content_part.done', 'response.output_item.done', 'error', 'response.failed']);
    expect(events.at(-3).item.status).toBe('incomplete');
    expect(events.at(-2)).toMatchObject({ type: 'error', code: 'upstream_timeout', message: 'idle timeout', param: null });
    expect(events.at(-1).response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'idle timeout' } });
  });
});

/**
 * What every client may rely on, whatever the upstream's order: one item at a time (an item's events
 * together, `output_item.added` first and `output_item.done` last, items in output order), and each
 * item's done events whole: a call's deltas, its `function_call_arguments.done`, its
 * `output_item.done` and the final response all carry the same arguments (a message's text likewise).
 */
function expectItemsWhole(events: any[]) {
  const itemEvents = events.filter((e) => e.output_index !== undefined);
  expect(itemEvents.map((e) => e.output_index)).toEqual([...itemEvents.map((e) => e.output_index)].sort((a, b) => a - b));
  const final = events.at(-1).response.output;
  final.forEach((item: any, i: number) => {
    const own = itemEvents.filter((e) => e.output_index === i);
    expect(own[0].type).toBe('response.output_item.added');
    expect(own.at(-1)).toMatchObject({ type: 'response.output_item.done', item });
    if (item.type === 'function_call') {
      expect(own.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('')).toBe(item.arguments);
      expect(own.find((e) => e.type === 'response.function_call_arguments.done').arguments).toBe(item.arguments);
    } else {
      expect(own.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toBe(item.content[0].text);
      expect(own.find((e) => e.type === 'response.output_text.done').text).toBe(item.content[0].text);
    }
  });
}

describe('a call\'s done events carry its whole arguments, whatever order the upstream sends fragments in (gw5 item 4)', () => {
  it('interleaved fragments of two calls: call 0 streams live, call 1 is held; call 0 is done at the finish with its whole arguments, then call 1 follows', async () => {
    const chunks = [
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"tz":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"CET"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    // Live: what has been sent after each chunk (call 1 nothing until the finish, call 0's late fragment as it comes).
    const events: any[] = [];
    const s = new ResponseEventStream(responseShell('resp_1', 1, 'm', { model: 'm', input: 'Hi' } as unknown as ResponsesRequestBody, true), (e) => void events.push(e));
    await s.start();
    const sentAfter: string[][] = [];
    for (const c of chunks.slice(0, 4)) {
      await s.chunk(c);
      sentAfter.push(perItem(events).map(([i, t]) => `${i} ${t}`));
    }
    expect(sentAfter[1]).toEqual(['0 output_item.added', '0 function_call_arguments.delta']);
    expect(sentAfter[2]).toEqual(['0 output_item.added', '0 function_call_arguments.delta', '0 function_call_arguments.delta']);
    expect(sentAfter[3]).toEqual(sentAfter[2]);
    await s.chunk(chunks[4]);
    await s.finish(usage);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'function_call_arguments.delta'], [0, 'function_call_arguments.delta'], [0, 'function_call_arguments.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.done'], [1, 'output_item.done'],
    ]);
    expect(events.filter((e) => e.type === 'response.function_call_arguments.done').map((e) => [e.name, e.arguments])).toEqual([['weather', '{"city":"Paris"}'], ['time', '{"tz":"CET"}']]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expectItemsWhole(events);
  });

  it('text → call → text with a fragment of the call after the text resumed: the call is done whole at the finish, the second message after it', async () => {
    const events = await eventsOf([
      chunk({ content: 'Checking.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"x":' } }] }),
      chunk({ content: 'Still ' }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ content: 'here.' }),
      chunk({}, 'tool_calls'),
    ]);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'content_part.added'], [0, 'output_text.delta'], [0, 'output_text.done'], [0, 'content_part.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.done'], [1, 'output_item.done'],
      [2, 'output_item.added'], [2, 'content_part.added'], [2, 'output_text.delta'], [2, 'output_text.delta'], [2, 'output_text.done'], [2, 'content_part.done'], [2, 'output_item.done'],
    ]);
    expect(events.find((e) => e.type === 'response.function_call_arguments.done').arguments).toBe('{"x":1}');
    expect(events.at(-1).response.output.map((o: any) => o.type)).toEqual(['message', 'function_call', 'message']);
    expectItemsWhole(events);
  });

  it('parallel calls not interleaved (as chat upstreams send them): the same events in the same order as before, each done whole', async () => {
    const events = await eventsOf([
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"y":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '2}' } }] }),
      chunk({ tool_calls: [{ index: 2, id: 'call_c', function: { name: 'h', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'function_call_arguments.delta'], [0, 'function_call_arguments.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.done'], [1, 'output_item.done'],
      [2, 'output_item.added'], [2, 'function_call_arguments.delta'], [2, 'function_call_arguments.done'], [2, 'output_item.done'],
    ]);
    expect(events.at(-1).response.output.map((o: any) => [o.call_id, o.arguments, o.status])).toEqual([['call_a', '{"x":1}', 'completed'], ['call_b', '{"y":2}', 'completed'], ['call_c', '{}', 'completed']]);
    expectItemsWhole(events);
  });

  it('calls without an index (whole, several in one delta, as Gemini sends them) are each done in turn', async () => {
    const events = await eventsOf([
      chunk({ tool_calls: [{ id: 'g1', function: { name: 'f', arguments: '{"a":1}' } }, { id: 'g2', function: { name: 'f', arguments: '{"a":2}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(events.filter((e) => e.type === 'response.function_call_arguments.done').map((e) => [e.output_index, e.arguments])).toEqual([[0, '{"a":1}'], [1, '{"a":2}']]);
    expectItemsWhole(events);
  });

  it('a failure while a call streams and another is held: the held call follows, the last one incomplete', async () => {
    const events = await eventsOf([
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
    ], 'fail');
    expect(perItem(events).map(([i]) => i)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(events.filter((e) => e.type === 'response.output_item.done').map((e) => [e.item.arguments, e.item.status])).toEqual([['{"x":1}', 'completed'], ['{}', 'incomplete']]);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['error', 'response.failed']);
  });
});

describe('the upstream\'s reasoning (reasoning_content / reasoning) as a reasoning item', () => {
  it('streamed: a reasoning item with a reasoning_text part and its deltas, done before the text and the calls', async () => {
    const events = await eventsOf([
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'The user wants ' }),
      chunk({ reasoning_content: 'the weather.' }),
      chunk({ content: 'Checking.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'content_part.added'], [0, 'reasoning_text.delta'], [0, 'reasoning_text.delta'], [0, 'reasoning_text.done'], [0, 'content_part.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'content_part.added'], [1, 'output_text.delta'], [1, 'output_text.done'], [1, 'content_part.done'], [1, 'output_item.done'],
      [2, 'output_item.added'], [2, 'function_call_arguments.delta'], [2, 'function_call_arguments.done'], [2, 'output_item.done'],
    ]);
    const added = events.find((e) => e.type === 'response.output_item.added');
    expect(added.item).toEqual({ id: expect.stringMatching(/^rs_/), type: 'reasoning', summary: [], content: [] });
    expect(events.find((e) => e.type === 'response.content_part.added')).toMatchObject({ item_id: added.item.id, output_index: 0, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    expect(events.find((e) => e.type === 'response.reasoning_text.delta')).toMatchObject({ item_id: added.item.id, output_index: 0, content_index: 0, delta: 'The user wants ' });
    expect(events.find((e) => e.type === 'response.reasoning_text.done')).toMatchObject({ item_id: added.item.id, text: 'The user wants the weather.' });
    const reasoning = { id: added.item.id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'The user wants the weather.' }] };
    expect(events.filter((e) => e.type === 'response.output_item.done')[0].item).toEqual(reasoning);
    expect(events.at(-1).response.output.map((o: any) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(events.at(-1).response.output[0]).toEqual(reasoning);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('streamed: OpenRouter\'s `reasoning` field too; a stream cut while thinking closes the reasoning item before response.failed', async () => {
    const events = await eventsOf([chunk({ reasoning: 'Hmm' })], 'fail');
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta',
      'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done', 'error', 'response.failed',
    ]);
    expect(events.at(-1).response.output).toEqual([{ id: expect.stringMatching(/^rs_/), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Hmm' }] }]);
  });
});

describe('reasoning between calls (interleaved thinking: a model that thinks again after each call)', () => {
  it('a reasoning item started while a call streams is held, then sent whole after the call, each item done before the next', async () => {
    const events = await eventsOf([
      chunk({ reasoning_content: 'First Oslo.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"city":"Oslo"}' } }] }),
      chunk({ reasoning_content: 'Then Rome.' }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'f', arguments: '{"city":"Rome"}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(perItem(events)).toEqual([
      [0, 'output_item.added'], [0, 'content_part.added'], [0, 'reasoning_text.delta'], [0, 'reasoning_text.done'], [0, 'content_part.done'], [0, 'output_item.done'],
      [1, 'output_item.added'], [1, 'function_call_arguments.delta'], [1, 'function_call_arguments.done'], [1, 'output_item.done'],
      [2, 'output_item.added'], [2, 'content_part.added'], [2, 'reasoning_text.delta'], [2, 'reasoning_text.done'], [2, 'content_part.done'], [2, 'output_item.done'],
      [3, 'output_item.added'], [3, 'function_call_arguments.delta'], [3, 'function_call_arguments.done'], [3, 'output_item.done'],
    ]);
    expect(events.at(-1).response.output.map((o: any) => o.type === 'reasoning' ? o.content[0].text : o.call_id)).toEqual(['First Oslo.', 'call_a', 'Then Rome.', 'call_b']);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('reasoning after text closes the message and opens a new reasoning item', async () => {
    const events = await eventsOf([chunk({ content: 'Hm.' }), chunk({ reasoning_content: 'Think more.' }), chunk({ content: 'Done.' }), chunk({}, 'stop')]);
    expect(events.at(-1).response.output.map((o: any) => o.type)).toEqual(['message', 'reasoning', 'message']);
    expect(events.at(-1).response.output[2].content[0].text).toBe('Done.');
  });
});

describe('a server that streams its thinking under both names', () => {
  it('is one reasoning text, one delta per chunk', async () => {
    const events = await eventsOf([chunk({ reasoning_content: 'Hm', reasoning: 'Hm' }), chunk({ reasoning_content: 'm.', reasoning: 'm.' }), chunk({ content: 'Hei' }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.type === 'response.reasoning_text.delta').map((e) => e.delta)).toEqual(['Hm', 'm.']);
    expect(events.at(-1).response.output[0].content).toEqual([{ type: 'reasoning_text', text: 'Hmm.' }]);
  });
});
