import { describe, expect, it, vi } from 'vitest';
import type { BatchFile } from '../../../lambdas/inference/batches/stores.js';
import { fileDataBytes, MAX_INPUT_FILE_BYTES_PER_REQUEST, MAX_INPUT_IMAGE_BYTES_PER_REQUEST, resolveChatFileIds, resolveItemFileIds, type InputFileReader } from '../../../lambdas/inference/input-files.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';

/**
 * OpenAI's bound on a request's file inputs ("up to 100 pages and 32MB of total content in a single request", read as
 * 32 MiB): file parts named by id count their stored `bytes` (for each part naming it) and are read only when they fit; inline
 * `file_data` counts its decoded bytes. Past it a 400 `file_too_large` names the part that took the total over.
 */
const MiB = 1024 * 1024;
const record = (id: string, bytes: number, filename = 'notes.txt'): BatchFile => ({ id, filename, purpose: 'user_data', bytes, createdAt: 1, expiresAt: null });
/** A reader of records of the given sizes whose `read` is counted (and returns a few bytes, whatever the record says). */
function reader(sizes: Record<string, number>) {
  const read = vi.fn(async () => new Uint8Array([0x61, 0x62]));
  const files: InputFileReader = async (_tenant, id) => (sizes[id] === undefined ? undefined : { file: record(id, sizes[id]!), read });
  return { files, read };
}
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
};
const A = 'file-aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'file-bbbbbbbbbbbbbbbbbbbbbbbb';
const chatFile = (file: Record<string, string>) => ({ role: 'user' as const, content: [{ type: 'text' as const, text: 'read' }, { type: 'file' as const, file }] });

describe('a request\'s file inputs are bounded at 32 MiB (OpenAI\'s file inputs guide)', () => {
  it('a file named by id past the bound is refused naming its file_id and both sizes, without reading its bytes', async () => {
    const { files, read } = reader({ [A]: MAX_INPUT_FILE_BYTES_PER_REQUEST + 1 });
    const e = await refusal(resolveChatFileIds([chatFile({ file_id: A })], 't', files));
    expect(e).toMatchObject({ status: 400, code: 'file_too_large', param: 'messages[0].content[1].file.file_id' });
    expect(e.message).toContain(`is ${MAX_INPUT_FILE_BYTES_PER_REQUEST + 1} bytes`);
    expect(e.message).toContain('over the 33554432 bytes (32 MiB)');
    expect(read).not.toHaveBeenCalled();
  });

  it('a file of exactly 32 MiB is read and sent', async () => {
    const { files, read } = reader({ [A]: MAX_INPUT_FILE_BYTES_PER_REQUEST });
    const out = await resolveChatFileIds([chatFile({ file_id: A })], 't', files);
    expect(read).toHaveBeenCalledTimes(1);
    expect((out[0]!.content as Array<Record<string, any>>)[1]!.file.file_data).toBe('data:text/plain;base64,YWI=');
  });

  it('an id named by several parts counts for each (each is a data URL of its own upstream), and is read once', async () => {
    // 16 MiB named twice fits (32 MiB), read once for both parts.
    const { files, read } = reader({ [A]: 16 * MiB });
    const out = await resolveChatFileIds([chatFile({ file_id: A }), chatFile({ file_id: A })], 't', files);
    expect(read).toHaveBeenCalledTimes(1);
    expect((out[1]!.content as Array<Record<string, any>>)[1]!.file.file_data).toBe('data:text/plain;base64,YWI=');
    // A 32 MiB file named 40 times was 40 data URLs of 43 MiB each (1.7 GB of strings); the second part is refused.
    const big = reader({ [A]: MAX_INPUT_FILE_BYTES_PER_REQUEST });
    const parts = Array.from({ length: 40 }, () => chatFile({ file_id: A }));
    const e = await refusal(resolveChatFileIds(parts, 't', big.files));
    expect(e).toMatchObject({ status: 400, code: 'file_too_large', param: expect.stringMatching(/^messages\[\d+\]\.content\[1\]\.file\.file_id$/) });
    expect(e.message).toContain(`to ${2 * MAX_INPUT_FILE_BYTES_PER_REQUEST} bytes`);
    // Responses input_file: the same
    const twice = [0, 1].map(() => ({ type: 'message', role: 'user', content: [{ type: 'input_file', file_id: A }] }));
    expect(await refusal(resolveItemFileIds(twice as never, 'input', 't', big.files))).toMatchObject({ code: 'file_too_large' });
  });

  it('two files by id that fit apart but not together: the second is refused (Responses input_file)', async () => {
    const { files } = reader({ [A]: 20 * MiB, [B]: 20 * MiB });
    const input = [{ type: 'message' as const, role: 'user' as const, content: [{ type: 'input_file' as const, file_id: A }] }, { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_file' as const, file_id: B }] }];
    const e = await refusal(resolveItemFileIds(input as never, 'input', 't', files));
    expect(e).toMatchObject({ status: 400, code: 'file_too_large', param: expect.stringMatching(/^input\[[01]\]\.content\[0\]\.file_id$/) });
    expect(e.message).toContain(`to ${40 * MiB} bytes`);
  });

  it('inline file_data counts its decoded bytes: past the bound alone, or with a file named by id', async () => {
    const big = `data:text/plain;base64,${'A'.repeat(Math.ceil(((MAX_INPUT_FILE_BYTES_PER_REQUEST + 3) * 4) / 3))}`;
    expect(await refusal(resolveItemFileIds([{ type: 'message', role: 'user', content: [{ type: 'input_file', file_data: big, filename: 'a.txt' }] }] as never, 'input', 't', undefined)))
      .toMatchObject({ status: 400, code: 'file_too_large', param: 'input[0].content[0].file_data' });
    const half = `data:text/plain;base64,${'A'.repeat((17 * MiB * 4) / 3)}`;
    const { files, read } = reader({ [A]: 17 * MiB });
    const e = await refusal(resolveChatFileIds([chatFile({ file_data: half, filename: 'a.txt' }), chatFile({ file_id: A })], 't', files));
    expect(e).toMatchObject({ code: 'file_too_large', param: 'messages[1].content[1].file.file_id' });
    expect(read).not.toHaveBeenCalled();
  });

  it('images named by id (input_image) are bounded apart, at 50 MiB (OpenAI: "Up to 50 MB total payload size per request"), every part counted', async () => {
    const image = (id: string, bytes: number) => ({ file: record(id, bytes, 'photo.png'), read: vi.fn(async () => new Uint8Array([0x89, 0x50])) });
    const sized: Record<string, ReturnType<typeof image>> = { [A]: image(A, 30 * MiB), [B]: image(B, MAX_INPUT_IMAGE_BYTES_PER_REQUEST) };
    const files: InputFileReader = async (_tenant, id) => sized[id];
    const part = (id: string) => ({ type: 'message' as const, role: 'user' as const, content: [{ type: 'input_image' as const, file_id: id, detail: 'auto' as const }] });
    const e = await refusal(resolveItemFileIds([part(A), part(A)] as never, 'input', 't', files));
    expect(e).toMatchObject({ status: 400, code: 'file_too_large', param: expect.stringMatching(/^input\[[01]\]\.content\[0\]\.file_id$/) });
    expect(e.message).toContain(`to ${60 * MiB} bytes, over the ${MAX_INPUT_IMAGE_BYTES_PER_REQUEST} bytes (50 MiB)`);
    const exactly = await resolveItemFileIds([part(B)] as never, 'input', 't', files);
    expect(JSON.stringify(exactly)).toContain('data:image/png;base64,');
    // Images do not spend the 32 MiB of file inputs, nor files the images' 50 MiB.
    const doc = { file: record('file-cccccccccccccccccccccccc', MAX_INPUT_FILE_BYTES_PER_REQUEST), read: vi.fn(async () => new Uint8Array([0x61])) };
    const both: InputFileReader = async (_tenant, id) => (id === doc.file.id ? doc : sized[id]);
    const mixed = [part(A), { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_file' as const, file_id: doc.file.id }] }];
    expect(JSON.stringify(await resolveItemFileIds(mixed as never, 'input', 't', both))).toContain('data:text/plain;base64,');
  });

  it('the advice fits the part: an image past the bound is told to go as an image part, by URL or smaller (a vector store reads no image); a document is told of file_search', async () => {
    const photo: InputFileReader = async (_tenant, id) => ({ file: record(id, MAX_INPUT_FILE_BYTES_PER_REQUEST + 1, 'scan.png'), read: vi.fn() });
    for (const e of [
      await refusal(resolveItemFileIds([{ type: 'message', role: 'user', content: [{ type: 'input_file', file_id: A }] }] as never, 'input', 't', photo)),
      await refusal(resolveChatFileIds([chatFile({ file_id: A })], 't', photo)),
      // Inline: the data URL's type, else the filename's.
      await refusal(resolveItemFileIds([{ type: 'message', role: 'user', content: [{ type: 'input_file', file_data: `data:image/jpeg;base64,${'A'.repeat(((32 * MiB + 3) * 4) / 3)}`, filename: 'x.bin' }] }] as never, 'input', 't', undefined)),
      await refusal(resolveChatFileIds([chatFile({ file_data: 'A'.repeat(((32 * MiB + 3) * 4) / 3), filename: 'photo.webp' })], 't', undefined)),
    ]) {
      expect(e).toMatchObject({ status: 400, code: 'file_too_large' });
      expect(e.message).toContain('send the image as an image part (input_image, or image_url in chat completions) by URL, or resized');
      expect(e.message).not.toContain('vector store (file_search)');
    }
    const { files } = reader({ [A]: MAX_INPUT_FILE_BYTES_PER_REQUEST + 1 });
    const doc = await refusal(resolveChatFileIds([chatFile({ file_id: A })], 't', files));
    expect(doc.message).toContain('search a large file with a vector store (file_search)');
    expect(doc.message).not.toContain('image part');
  });

  it('fileDataBytes: a data URL\'s or bare base64\'s decoded size, less the padding', () => {
    expect(fileDataBytes('data:application/pdf;base64,YWI=')).toBe(2);
    expect(fileDataBytes('YWJj')).toBe(3);
    expect(fileDataBytes('data:text/plain,hello')).toBe(5);
    expect(fileDataBytes(undefined)).toBe(0);
  });
});
