import { ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { describe, expect, it } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../../lib/fine-tuning.js';
import { checkFineTuningFile, FineTuningFileCheck } from '../../../lambdas/fine-tuning/training-file-format.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { S3FileStore } from '../../../lambdas/fine-tuning/stores/s3-file-store.js';
import { fileKey, UploadChanged } from '../../../lambdas/fine-tuning/stores/file-store.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const refusal = (text: string | Uint8Array) => {
  try {
    checkFineTuningFile('t.jsonl', typeof text === 'string' ? bytes(text) : text);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return (e as GatewayError).message;
  }
  throw new Error('accepted');
};

describe('FineTuningFileCheck: the same check on a file in pieces (an upload\'s parts)', () => {
  const piecewise = (data: Uint8Array, at: number[]) => {
    const check = new FineTuningFileCheck('t.jsonl');
    let from = 0;
    for (const to of [...at, data.length]) {
      check.push(data.subarray(from, to));
      from = to;
    }
    return check.end();
  };
  const chat = (a: string) => JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: a }] });

  it('cut anywhere, inside a line or a character (é, ☕: two and three bytes), counts what the whole file counts', () => {
    const data = bytes(`${chat('é ☕')}\r\n\n${chat('b')}\n${chat('c')}`);
    for (let cut = 1; cut < data.length; cut++) expect(piecewise(data, [cut]), `cut at ${cut}`).toBe(3);
    expect(piecewise(data, Array.from({ length: data.length - 1 }, (_, i) => i + 1))).toBe(3);
  });

  it('names the line of a bad line that spans pieces, counted over the whole file; a cut BOM and bad UTF-8 as the whole file does', () => {
    const data = bytes(`${chat('a')}\n${chat('b')}\n{"messages": 1}\n`);
    const at = data.length - 8;
    expect(() => piecewise(data, [at])).toThrow(/line 3 has no messages/);
    expect(() => piecewise(bytes(`\uFEFF${chat('a')}`), [1, 2])).toThrow(/byte order mark/);
    expect(() => piecewise(new Uint8Array([...bytes(`${chat('a')}\n`), 0xc3]), [3])).toThrow(/not UTF-8/);
    expect(() => piecewise(bytes('\n \n'), [1])).toThrow(/no examples/);
  });
});

describe('checkFineTuningFile (OpenAI fine-tuning input formats)', () => {
  it('counts the examples of each format, CRLF lines and blank lines included', () => {
    const chat = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], tools: [] });
    const preference = JSON.stringify({ input: { messages: [{ role: 'user', content: 'q' }] }, preferred_output: [{ role: 'assistant', content: 'a' }], non_preferred_output: [{ role: 'assistant', content: 'b' }] });
    const completion = JSON.stringify({ prompt: 'q', completion: 'a' });
    expect(checkFineTuningFile('t.jsonl', bytes(`${chat}\r\n\n${completion}\r\n${completion}`))).toBe(3);
    // Preference (DPO) examples: only supervised jobs are trained here (method.type dpo is refused too).
    expect(refusal(`${chat}\n${preference}`)).toMatch(/line 2 is a preference \(DPO\) example/);
  });

  it('refuses, naming the file and the line', () => {
    expect(refusal('{"messages": []}')).toMatch(/file "t\.jsonl" is not a fine-tuning file: line 1 has no messages/);
    expect(refusal('{"prompt": "q", "completion": 3}')).toMatch(/line 1 is a completions example whose "prompt" and "completion" are not both strings/);
    expect(refusal('[1, 2]')).toMatch(/line 1 is not a JSON object/);
    expect(refusal('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n{"messages": "hi"}')).toMatch(/line 2 has no messages/);
    expect(refusal(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]))).toMatch(/not UTF-8/);
    expect(refusal(' \n\t\n')).toMatch(/no examples/);
    // A BOM would reach the training job's JSON reader (Python's json.loads refuses it): refused, not removed.
    expect(refusal(`\uFEFF{"prompt": "q", "completion": "a"}`)).toMatch(/byte order mark/);
    expect(refusal('{"messages": [{"role": "user", "content": "q"}]}')).toMatch(/line 1 has no assistant message/);
    expect(refusal('{"messages": [{"role": "bot", "content": "q"}, {"role": "assistant", "content": "a"}]}')).toMatch(/messages\[0\]\.role must be one of system, developer, user, assistant, tool, function/);
  });

  it('refuses a message content that is neither a string nor parts, and a weight other than 0 or 1 (OpenAI\'s chat format)', () => {
    const line = (...messages: unknown[]) => JSON.stringify({ messages });
    const q = { role: 'user', content: 'q' };
    const a = { role: 'assistant', content: 'a' };
    expect(refusal(`${line(q, a)}\n${line({ role: 'user', content: 5 }, a)}`)).toMatch(/line 2 has a message of role "user" whose content is 5 \(messages\[0\]\.content must be a string or an array of content parts\)/);
    expect(refusal(line({ role: 'user', content: null }, a))).toMatch(/line 1 has a message of role "user" whose content is null/);
    expect(refusal(line({ role: 'system' }, q, a))).toMatch(/line 1 has a message of role "system" whose content is missing \(messages\[0\]\.content/);
    expect(refusal(line(q, { role: 'assistant', content: { text: 'a' } }))).toMatch(/line 1 has a message of role "assistant" whose content is \{"text":"a"\} \(messages\[1\]\.content must be a string or an array of content parts, or absent with tool_calls\)/);
    expect(refusal(line(q, { role: 'assistant' }))).toMatch(/messages\[1\]\.content/);
    expect(refusal(line(q, { ...a, weight: 2 }))).toMatch(/line 1 has a message of weight 2 \(messages\[1\]\.weight must be 0 or 1/);
    expect(refusal(line(q, { ...a, weight: 0.5 }))).toMatch(/weight 0\.5/);
    // What the format allows: weights 0 and 1, an assistant turn that only calls a tool (content null or absent), a function result without content, parts.
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }] };
    expect(checkFineTuningFile('t.jsonl', bytes([
      line(q, { ...a, weight: 0 }, q, { ...a, weight: 1 }),
      line(q, call, { role: 'tool', tool_call_id: 'c1', content: 'sun' }, a),
      line(q, { role: 'assistant', function_call: { name: 'w', arguments: '{}' } }, { role: 'function', name: 'w', content: null }, a),
      line({ role: 'user', content: [{ type: 'text', text: 'q' }] }, a),
    ].join('\n')))).toBe(4);
  });

  it('takes what OpenAI\'s chat fine-tuning format allows around tool calls and parts, and refuses parts a role does not take', () => {
    const line = (example: object) => JSON.stringify(example);
    const q = { role: 'user', content: 'q' };
    const a = { role: 'assistant', content: 'a' };
    const tools = [{ type: 'function', function: { name: 'w', description: 'weather', parameters: { type: 'object', properties: {} } } }];
    expect(checkFineTuningFile('t.jsonl', bytes([
      // exported chat messages carry null tool fields on every role; an assistant may refuse in a part
      line({ messages: [{ ...q, tool_calls: null, function_call: null }, { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] }] }),
      line({ messages: [{ role: 'system', content: [{ type: 'text', text: 's' }] }, q, { role: 'assistant', content: null, tool_calls: [] }, a], tools, parallel_tool_calls: true }),
      line({ messages: [q, a], functions: [{ name: 'w' }], tools: null }),
    ].join('\n')))).toBe(3);
    expect(refusal(line({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }, q, a] })))
      .toMatch(/line 1 has a content part of type "image_url" in a message of role "system" \(messages\[0\]\.content\[0\]\.type must be "text"\)/);
    expect(refusal(line({ messages: [q, { role: 'assistant', content: [{ type: 'refusal' }] }] }))).toMatch(/messages\[1\]\.content\[0\]\.refusal = missing/);
    expect(refusal(line({ messages: [{ ...q, tool_calls: [] }, a] }))).toMatch(/line 1 has a message of role "user" with tool_calls \(messages\[0\]\.tool_calls: only an assistant message takes tool_calls\)/);
  });

  it('refuses an image given by URL (training runs without network access), and takes one inline as a data: URL', () => {
    const example = (url: unknown) => JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url } }] }, { role: 'assistant', content: 'a cat' }] });
    const text = JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }, { role: 'assistant', content: 'a' }] });
    expect(refusal(`${text}\n${example('https://example.com/cat.png')}`)).toMatch(/line 2 has an image by URL \(messages\[0\]\.content\[1\]\.image_url\.url = "https:\/\/example\.com\/cat\.png"\): training runs without network access/);
    expect(refusal(example(undefined))).toMatch(/line 1 has an image by URL \(messages\[0\]\.content\[1\]\.image_url\.url = null\)/);
    expect(checkFineTuningFile('t.jsonl', bytes(`${text}\n${example('data:image/png;base64,iVBORw0KGgo=')}\n`))).toBe(2);
  });
});

describe('S3FileStore', () => {
  const at = { tenantId: 'acme', accountId: '111122223333', bucket: 'tessera-acme-data-111122223333' };

  it('lists every page of the prefix, as the bucket owner expects, oldest id first', async () => {
    const s3 = mockStrict(S3Client, 's3', S3ServiceException);
    const key = (id: string, name: string) => fileKey(TRAINING_FILES_PREFIX, id, name);
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ IsTruncated: true, NextContinuationToken: 'p2', Contents: [{ Key: key('file-000000000002aaaaaaaaaaaa', 'b c.jsonl'), Size: 5 }, { Key: 'training-data/files/x/y', Size: 1 }] })
      .on(ListObjectsV2Command, { ContinuationToken: 'p2' }).resolves({ IsTruncated: false, Contents: [{ Key: key('file-000000000001aaaaaaaaaaaa', 'a%.jsonl'), Size: 7 }, { Key: 'training-data/files/file-000000000003aaaaaaaaaaaa/%E0%A4.jsonl', Size: 1 }] });
    const store = new S3FileStore(TRAINING_FILES_PREFIX, async () => new S3Client({ region: 'us-east-1' }));
    const files = await store.list(at);
    expect(files.map((f) => [f.id, f.filename, f.bytes])).toEqual([['file-000000000001aaaaaaaaaaaa', 'a%.jsonl', 7], ['file-000000000002aaaaaaaaaaaa', 'b c.jsonl', 5]]);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.Prefix, c.args[0].input.ExpectedBucketOwner])).toEqual([[TRAINING_FILES_PREFIX, at.accountId], [TRAINING_FILES_PREFIX, at.accountId]]);
    s3.restore();
  });

  it('writes an upload\'s record conditionally (IfMatch / IfNoneMatch: *); S3\'s 412, 409 ConditionalRequestConflict and 404 are UploadChanged', async () => {
    const s3 = mockStrict(S3Client, 's3', S3ServiceException);
    const store = new S3FileStore(TRAINING_FILES_PREFIX, async () => new S3Client({ region: 'us-east-1' }));
    const upload = { id: 'upload_0000000000000000000000aa', bytes: 1, filename: 'a.jsonl', mimeType: 'text/jsonl', purpose: 'fine-tune', createdAt: 1, expiresAt: 3601, status: 'pending' as const };
    s3.on(PutObjectCommand).resolves({ ETag: '"e2"' });
    expect(await store.putUpload(at, upload, null)).toBe('"e2"');
    expect(await store.putUpload(at, upload, '"e1"')).toBe('"e2"');
    expect(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.IfNoneMatch, c.args[0].input.IfMatch])).toEqual([['*', undefined], [undefined, '"e1"']]);
    // AWS's answers to a condition that fails (Amazon S3 User Guide, "Conditional write behavior"); moto never sends the 409.
    for (const [name, httpStatusCode] of [['PreconditionFailed', 412], ['ConditionalRequestConflict', 409], ['NoSuchKey', 404]] as const) {
      s3.reset();
      s3.on(PutObjectCommand).rejects(new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: name }));
      await expect(store.putUpload(at, upload, '"e1"')).rejects.toBeInstanceOf(UploadChanged);
    }
    s3.reset();
    s3.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'no' }));
    await expect(store.putUpload(at, upload, '"e1"')).rejects.toMatchObject({ name: 'AccessDenied' });
    s3.restore();
  });
});
