import { describe, expect, it } from 'vitest';
import { gatewayFileCheck } from '../../../lambdas/inference/batches/batch-service.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';

/**
 * The gateway purposes' check of a file read in pieces (an upload's parts streamed at complete, batch-service.ts
 * gatewayFileCheck): whatever the cut, the answer is the one POST /v1/files gives the whole file, a 400 naming
 * `file` with the same message, or the number of requests of a batch file.
 */
const cut = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
/** `check`'s outcome on `bytes` pushed in pieces of `size`: the number of requests, or the refusal. */
function run(purpose: 'batch' | 'user_data' | 'vision' | 'assistants', name: string, bytes: Buffer, size: number): number | undefined | GatewayError {
  try {
    const check = gatewayFileCheck(purpose, name, 'file');
    for (const piece of cut(bytes, size)) check.push(piece);
    return check.end();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
}
const SIZES = [1, 2, 3, 7, 64, 1 << 20];
const line = (i: number) => `{"custom_id": "r-${i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": [{"role": "user", "content": "café ☕ 日本 ${i}"}]}}\n`;

describe('gatewayFileCheck on a file in pieces: the same answer at every cut', () => {
  it('a batch file, characters of 2 and 3 bytes cut anywhere, CRLF and blank lines: its number of requests', () => {
    const bytes = Buffer.from(`${line(0)}\r\n${line(1).replace('\n', '\r\n')}\n${line(2).trimEnd()}`);
    for (const size of SIZES) expect(run('batch', 'b.jsonl', bytes, size), `pieces of ${size}`).toBe(3);
  });

  it('a batch file\'s bad line, a non-object, bad UTF-8, no request: the 400 naming file and the line of the whole file', () => {
    const cases: Array<[Buffer, string, string]> = [
      [Buffer.from(`${line(0)}\n${line(1)}{"custom_id": oops}\n${line(3)}`), 'file "b.jsonl": line 4 is not valid JSON; a batch input file holds one request object per line', 'invalid_file_format'],
      [Buffer.from(`${line(0)}[1, 2]\n`), 'file "b.jsonl": line 2 is not a JSON object', 'invalid_file_format'],
      [Buffer.concat([Buffer.from(line(0)), Buffer.from([0xe2, 0x98]), Buffer.from('\n')]), 'file "b.jsonl" is not UTF-8 text', 'invalid_file_format'],
      [Buffer.from('\n  \n'), 'file "b.jsonl" holds no request', 'invalid_file_format'],
    ];
    for (const [bytes, message, code] of cases) {
      for (const size of SIZES) expect(run('batch', 'b.jsonl', bytes, size), `${message}, pieces of ${size}`).toMatchObject({ status: 400, param: 'file', code, message });
    }
  });

  it('an input file: an image\'s magic cut across pieces, UTF-8 text cut inside a character; wrong bytes, bad UTF-8, empty: the 400 naming file', () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]);
    const text = Buffer.from('Notes ☕ 日本語 café\n'.repeat(20));
    for (const size of SIZES) {
      expect(run('vision', 'p.png', png, size)).toBeUndefined();
      expect(run('assistants', 'n.md', text, size)).toBeUndefined();
      expect(run('vision', 'p.png', Buffer.from('GIF89a not a png at all'), size)).toMatchObject({ status: 400, param: 'file', message: 'file "p.png": its bytes are not image/png (the type its name\'s extension says)' });
      expect(run('user_data', 'n.txt', Buffer.concat([text, Buffer.from([0xe6, 0x97])]), size)).toMatchObject({ status: 400, param: 'file', message: 'file "n.txt": a text/plain file is UTF-8 text (the type its name\'s extension says)' });
      expect(run('user_data', 'p.png', png.subarray(0, 5), size)).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format' });
    }
    expect(run('user_data', 'e.pdf', Buffer.alloc(0), 1)).toMatchObject({ status: 400, param: 'file', message: 'file "e.pdf" is empty' });
  });
});
