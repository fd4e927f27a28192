import { describe, expect, it } from 'vitest';
import { customIdOfEdges, LINE_EDGE_BYTES, MAX_BATCH_EMBEDDING_INPUTS, MAX_BATCH_LINE_BYTES, readBatchFile } from '../../../lambdas/inference/batches/input-file.js';
import { rawLines, scanBatchFile } from '../../../lambdas/inference/batches/batch-file-ranges.js';

const model = 'openai-compatible/default';
const chat = (id: string) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: id }] } });
const embed = (id: string, input: unknown) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/embeddings', body: { model, input } });
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe('a batch input file as readBatchFile reads it at create', () => {
  it('a file saved with a UTF-8 byte order mark: the upload took it, so its first line is a request, not invalid_json_line', () => {
    const read = readBatchFile(bytes(`\uFEFF${chat('a')}\r\n${chat('b')}\r\n`), '/v1/chat/completions');
    expect(read.errors).toEqual([]);
    expect(read.lines.map((l) => [l.line, l.customId])).toEqual([[1, 'a'], [2, 'b']]);
  });

  it("an /v1/embeddings batch of more than 50,000 embedding inputs across its requests fails naming the line and body.input (openai BatchCreateParams.endpoint)", () => {
    // Two requests of 25,000 inputs each are the limit; a third input passes it.
    const half = Array.from({ length: MAX_BATCH_EMBEDDING_INPUTS / 2 }, () => 'x');
    const atLimit = `${embed('a', half)}\n${embed('b', half)}\n`;
    expect(readBatchFile(bytes(atLimit), '/v1/embeddings').errors).toEqual([]);
    const read = readBatchFile(bytes(`${atLimit}${embed('c', 'one more')}\n`), '/v1/embeddings');
    expect(read.errors).toEqual([{ code: 'too_many_tasks', line: 3, param: 'body.input', message: expect.stringContaining('50001 embedding inputs') }]);
  });

  it('a token array is one embedding input, an array of token arrays one per element', () => {
    const tokens = Array.from({ length: MAX_BATCH_EMBEDDING_INPUTS }, () => 1);
    expect(readBatchFile(bytes(`${embed('a', tokens)}\n${embed('b', [[1, 2], [3]])}\n`), '/v1/embeddings').errors).toEqual([]);
    expect(readBatchFile(bytes(`${embed('a', Array.from({ length: MAX_BATCH_EMBEDDING_INPUTS }, () => [1]))}\n${embed('b', [[1, 2]])}\n`), '/v1/embeddings').errors)
      .toMatchObject([{ code: 'too_many_tasks', line: 2, param: 'body.input' }]);
  });
});

describe('a moderations batch line without body.model (OpenAI\'s moderations take none: the default moderation model)', () => {
  const moderate = (id: string, m?: string) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/moderations', body: { input: id, ...(m === undefined ? {} : { model: m }) } });

  it('is a request, and a file of them names no model', () => {
    const read = readBatchFile(bytes(`${moderate('a')}\n${moderate('b')}\n`), '/v1/moderations');
    expect(read.errors).toEqual([]);
    expect(read.lines.map((l) => l.customId)).toEqual(['a', 'b']);
    expect(read.model).toBeUndefined();
  });

  it('beside a line naming a model is a model_mismatch saying which is absent', () => {
    const read = readBatchFile(bytes(`${moderate('a', 'openai/omni-moderation-latest')}\n${moderate('b')}\n`), '/v1/moderations');
    expect(read.errors).toEqual([{ code: 'model_mismatch', line: 2, param: 'body.model', message: expect.stringContaining('body.model absent (the default moderation model) is not "openai/omni-moderation-latest" as on line 1') }]);
  });

  it('is still required on the other endpoints, and an empty or non-string model is invalid_value', () => {
    const noModel = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'a' }] } });
    expect(readBatchFile(bytes(`${noModel}\n`), '/v1/chat/completions').errors).toMatchObject([{ code: 'missing_required_parameter', param: 'body.model' }]);
    expect(readBatchFile(bytes(`${moderate('a', '')}\n`), '/v1/moderations').errors).toMatchObject([{ code: 'invalid_value', param: 'body.model' }]);
  });
});

describe('customIdOfEdges: the custom_id of a line too long to read, from its ends', () => {
  it('the last key when the line ends with it, else the last in its head, else in its tail; escapes decoded; none when absent or too long', () => {
    // A tool schema in the body names a custom_id property near the start; the request's own is the line's last key.
    const head = '{"method":"POST","url":"/v1/chat/completions","body":{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"custom_id":"not-this"';
    expect(customIdOfEdges(head, 'xxxxx"}]}, "custom_id": "req \\"1\\""}\r')).toBe('req "1"');
    expect(customIdOfEdges('{"custom_id":"first","method":"POST","body":{"x":"', 'yyyy"}}')).toBe('first');
    expect(customIdOfEdges('{"body":{"x":"', 'yyyy"},"custom_id":"middle","url":"/v1/embeddings"}')).toBe('middle');
    expect(customIdOfEdges('{"body":{"x":"', 'yyyy"}}')).toBeUndefined();
    expect(customIdOfEdges(`{"custom_id":"${'a'.repeat(513)}","body":`, '}')).toBeUndefined();
  });
});

describe('customIdOfEdges reads only the request object\'s own custom_id (depth 1), never one in its body', () => {
  const pad = 'x'.repeat(64);
  it('a body holding "custom_id" near the start (a tool schema, a message\'s JSON) is not taken: the top-level one at the tail is', () => {
    const head = `{"body":{"model":"m","messages":[{"role":"user","content":"{\\"custom_id\\": \\"quoted\\"}"}],"metadata":{"custom_id":"body-id"},"x":"${pad}`;
    expect(customIdOfEdges(head, `${pad}"},"custom_id":"line-id","method":"POST","url":"/v1/chat/completions"}`)).toBe('line-id');
    expect(customIdOfEdges(head, `${pad}"}, "method":"POST", "custom_id" : "line-id", "url":"/v1/chat/completions"}\r`)).toBe('line-id');
  });

  it('undefined when the top-level custom_id lies in the middle (past both edges), even with one in the body at either edge', () => {
    const head = `{"body":{"model":"m","metadata":{"custom_id":"body-id"},"x":"${pad}`;
    expect(customIdOfEdges(head, `${pad}","tools":[{"custom_id":"tail-body-id"}]},"method":"POST"}`)).toBeUndefined();
    expect(customIdOfEdges('{"body":{"a":[{"custom_id":"in-array"}],"x":"', 'yy"}}')).toBeUndefined();
  });

  it('escapes: a quote escaped by an odd run of backslashes stays in its string; an even run ends it; a key written with escapes is decoded', () => {
    expect(customIdOfEdges('{"body":{"x":"', `a\\\\"}, "custom_id":"after-even-run"}`)).toBe('after-even-run');
    expect(customIdOfEdges('{"body":{"x":"', `a\\", \\"custom_id\\":\\"fake\\"}"}}`)).toBeUndefined();
    expect(customIdOfEdges('{"custom\\u005fid":"escaped-key","body":{"x":"', 'y"}}')).toBe('escaped-key');
  });

  it('undefined when the value is cut at an edge, is not a string, or starts the tail in a backslash run (its parity unknown)', () => {
    expect(customIdOfEdges('{"method":"POST","custom_id":"cut-', '"}}')).toBeUndefined();
    expect(customIdOfEdges('{"custom_id":42,"body":{"x":"', 'y"}}')).toBeUndefined();
    // the key's opening quote has a backslash before it at the tail's first byte: escaped or not depends on the bytes before
    expect(customIdOfEdges('{"body":{"x":"', '\\"custom_id":"q"}')).toBeUndefined();
    expect(customIdOfEdges('{"body":{"x":"', 'a\\\\"custom_id":"q"}')).toBeUndefined();
  });
});

describe('customIdOfEdges agrees with JSON.parse of the whole line: a repeated custom_id is its last one, whatever its value', () => {
  const pad = 'x'.repeat(64);
  it('a custom_id repeated in the head: the last one the head holds whole (JSON.parse keeps the last), none when that one is cut or not a valid id', () => {
    expect(customIdOfEdges(`{"custom_id":"first","custom\\u005fid":"second","body":{"x":"${pad}`, `${pad}"}}`)).toBe('second');
    expect(customIdOfEdges(`{"custom_id":"first","method":"POST","custom_id":"second-cu`, `${pad}"}}`)).toBeUndefined();
    expect(customIdOfEdges(`{"custom_id":"first","custom_id":{"nested":"x"},"body":{"x":"${pad}`, `${pad}"}}`)).toBeUndefined();
    expect(customIdOfEdges(`{"custom_id":"first","custom_id":null,"body":{"x":"${pad}`, `${pad}"}}`)).toBeUndefined();
    expect(customIdOfEdges(`{"custom_id":"first","custom_id":"","body":{"x":"${pad}`, `${pad}"}}`)).toBeUndefined();
    expect(customIdOfEdges(`{"custom_id":{"custom_id":"in-value"},"custom_id":"own","body":{"x":"${pad}`, `${pad}"}}`)).toBe('own');
  });

  it('the tail\'s last custom_id decides even when it is not a valid id (a number, false, null, an object, "", over 512 characters): the head\'s string is not taken', () => {
    const head = `{"custom_id":"head-id","body":{"x":"${pad}`;
    for (const last of ['42', 'false', 'null', '{"custom_id":"x"}', '["a"]', '""', JSON.stringify('a'.repeat(513))]) {
      expect(customIdOfEdges(head, `${pad}"}, "custom_id" :${last} }`), last).toBeUndefined();
      expect(customIdOfEdges(head, `${pad}"},"custom_id":${last},"url":"/v1/chat/completions"}`), last).toBeUndefined();
    }
    expect(customIdOfEdges(head, `${pad}"},"custom_id":"tail-id","custom_id":"last-id"}`)).toBe('last-id');
    expect(customIdOfEdges(head, `${pad}"},"custom_id":7,"custom_id":"last-id"}`)).toBe('last-id');
  });

  it('random lines past both edges (escapes, braces in strings, keys written with \\u escapes, repeats, whitespace, multi-byte text at the edges): never an id JSON.parse would not give', () => {
    let seed = 43;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T,>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
    const ws = () => pick(['', ' ', '\n', '\t', ' \r\n ']);
    const key = (k: string) => (k === 'custom_id' ? pick(['"custom_id"', '"custom\\u005fid"', '"\\u0063ustom_id"']) : JSON.stringify(k));
    const text = () => Array.from({ length: Math.floor(rnd() * 6) }, () => pick(['{', '}', '[', ']', '"', '\\', '","custom_id":"fake"', 'é', '😀', 'x'])).join('');
    const value = (d: number): string => {
      const r = rnd();
      if (d > 3 || r < 0.3) return JSON.stringify(text());
      if (r < 0.4) return pick(['1', '-2.5e3', 'true', 'null']);
      const items = Array.from({ length: Math.floor(rnd() * 4) }, () => (r < 0.7 ? `${ws()}${key(pick(['custom_id', 'a']))}${ws()}:` : '') + ws() + value(d + 1) + ws());
      return r < 0.7 ? `{${items.join(',')}}` : `[${items.join(',')}]`;
    };
    const edges = (line: string): [string, string] => {
      const bytes = Buffer.from(line);
      return [bytes.subarray(0, LINE_EDGE_BYTES).toString('utf8'), bytes.subarray(bytes.byteLength - LINE_EDGE_BYTES).toString('utf8')];
    };
    let answered = 0;
    for (let n = 0; n < 1000; n++) {
      const members = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => {
        const k = pick(['custom_id', 'custom_id', 'method', 'body']);
        return `${ws()}${key(k)}${ws()}:${ws()}${k === 'custom_id' && rnd() < 0.7 ? JSON.stringify(pick(['id-1', 'id-2', 'a"b', '}', '😀'])) : value(1)}${ws()}`;
      });
      let long = '';
      while (long.length < 7000 + rnd() * 4000) long += text();
      members.splice(Math.floor(rnd() * (members.length + 1)), 0, `"pad":{"a":${JSON.stringify(long)},"b":[${value(2)},${JSON.stringify(`é${long}`)}]}`);
      const line = `${ws()}{${members.join(',')}}${ws()}`;
      const own = (JSON.parse(line) as { custom_id?: unknown }).custom_id;
      const id = customIdOfEdges(...edges(line));
      if (id !== undefined) {
        answered++;
        expect(id, line.slice(0, 300)).toBe(own);
      }
    }
    expect(answered).toBeGreaterThan(300);
  });
});

describe('a line past 8 MiB: its custom_id looked for in the same bytes at create on AWS (scanBatchFile) and in tessera serve (readBatchFile)', () => {
  const chunksOf = (bytes: Buffer) => async function* () { for (let at = 0; at < bytes.byteLength; at += 65536) yield bytes.subarray(at, at + 65536); };
  const scan = (bytes: Buffer) => scanBatchFile(async () => chunksOf(bytes)(), bytes.byteLength, '/v1/chat/completions');

  it('a custom_id past the first 8 KiB (8,192 bytes) but within the first 8,192 characters (multi-byte text before it): not found by either; found within the bytes by both', async () => {
    // 3,000 euro signs (3 bytes each): the custom_id starts at byte ~9,060, character ~3,060
    const euros = '€'.repeat(3000);
    const line = (head: string) => `{"body":{"model":"m","messages":[{"role":"user","content":"${head}"}]},"custom_id":"req-1","method":"POST","url":"/v1/chat/completions","pad":"${'x'.repeat(MAX_BATCH_LINE_BYTES)}"}\n`;
    const past = Buffer.from(line(euros));
    const whole = readBatchFile(past, '/v1/chat/completions');
    const streamed = (await scan(past))!;
    expect(streamed.errors).toEqual([expect.objectContaining({ code: 'invalid_value', line: 1 })]);
    expect(whole.errors).toEqual(streamed.errors);
    expect(whole.lines).toEqual([]);
    // within the first 8 KiB (1,000 euro signs, ~3,060 bytes): both answer it by req-1
    const within = Buffer.from(line('€'.repeat(1000)));
    expect(readBatchFile(within, '/v1/chat/completions')).toMatchObject({ errors: [], lines: [{ line: 1, customId: 'req-1', tooLarge: within.byteLength - 1 }] });
    expect(await scan(within)).toMatchObject({ errors: [], total: 1 });
  });

  it('a body holding a custom_id in the first 8 KiB: the line is answered by its own top-level custom_id from the tail, or, that one in the middle, fails the batch at create naming the line (both readers)', async () => {
    const line = (after: string) => `{"body":{"model":"m","metadata":{"custom_id":"body-id"},"messages":[{"role":"user","content":"${'x'.repeat(MAX_BATCH_LINE_BYTES)}"}]},${after}}\n`;
    const atTail = Buffer.from(line('"custom_id":"line-id","method":"POST","url":"/v1/chat/completions"'));
    expect(readBatchFile(atTail, '/v1/chat/completions')).toMatchObject({ errors: [], lines: [{ line: 1, customId: 'line-id' }] });
    expect(await scan(atTail)).toMatchObject({ errors: [], total: 1 });
    const inMiddle = Buffer.from(`{"body":{"model":"m","metadata":{"custom_id":"body-id"},"x":"${'x'.repeat(16384)}"},"custom_id":"line-id","method":"POST","url":"/v1/chat/completions","pad":"${'x'.repeat(MAX_BATCH_LINE_BYTES)}"}\n`);
    const whole = readBatchFile(inMiddle, '/v1/chat/completions');
    expect(whole).toMatchObject({ lines: [], errors: [{ code: 'invalid_value', line: 1, message: expect.stringContaining("no custom_id was found in its first or last 8192 bytes (the request object's own") }] });
    expect((await scan(inMiddle))!.errors).toEqual(whole.errors);
  });

  it('a first line of exactly 8 MiB after a UTF-8 byte order mark (not part of the line, as both skip it) is read and run by both; one byte more is too large for both, its length without the mark', async () => {
    const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
    const request = (bytes: number) => {
      const open = '{"custom_id":"req-1","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"';
      const close = '"}]}}';
      return open + 'x'.repeat(bytes - open.length - close.length) + close;
    };
    const exact = Buffer.concat([BOM, Buffer.from(`${request(MAX_BATCH_LINE_BYTES)}\n`)]);
    expect(readBatchFile(exact, '/v1/chat/completions')).toMatchObject({ errors: [], lines: [{ line: 1, customId: 'req-1', url: '/v1/chat/completions' }] });
    expect(readBatchFile(exact, '/v1/chat/completions').lines[0]!.tooLarge).toBeUndefined();
    expect(await scan(exact)).toMatchObject({ errors: [], total: 1 });
    const rawOf = async (bytes: Buffer) => { const out = []; for await (const r of rawLines(chunksOf(bytes)(), { offset: 0, line: 1 })) out.push({ edges: r.edges?.bytes, bytes: r.bytes, offset: r.offset }); return out; };
    expect((await rawOf(exact))[0]).toEqual({ edges: undefined, bytes: MAX_BATCH_LINE_BYTES + 4, offset: 0 });
    const over = Buffer.concat([BOM, Buffer.from(`${request(MAX_BATCH_LINE_BYTES + 1)}\n{"custom_id":"req-2","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}`)]);
    expect(readBatchFile(over, '/v1/chat/completions').lines.map((l) => [l.customId, l.tooLarge])).toEqual([['req-1', MAX_BATCH_LINE_BYTES + 1], ['req-2', undefined]]);
    // its custom_id, in the line's first bytes after the mark, is found by both (on AWS the head kept the mark, which no object opens with: the batch failed at create)
    expect(await scan(over)).toMatchObject({ errors: [], total: 2 });
    // the length a request_too_large names is the line's, without the mark; the next line's offset counts the mark
    expect(await rawOf(over)).toEqual([{ edges: MAX_BATCH_LINE_BYTES + 1, bytes: MAX_BATCH_LINE_BYTES + 5, offset: 0 }, { edges: undefined, bytes: expect.any(Number), offset: MAX_BATCH_LINE_BYTES + 5 }]);
  });
});
