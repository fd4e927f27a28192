// In a process of its own (test/support/shared-worker-files.ts: vi.resetModules): its tests of a cold module import one afresh.
import { execFileSync } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BytePairEncodingCore } from 'gpt-tokenizer/BytePairEncodingCore';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  IMAGE_UNKNOWN_SIZE_TOKENS,
  MAX_BPE_BYTES_PER_CALL,
  O200K_RANKS_ASSET,
  audioTokens,
  clearTokenCountCaches,
  countCompletionTokens,
  countPromptTokenParts,
  countPromptTokens,
  countTextTokens,
  fileTokens,
  imageTokens,
  loadTokenizer,
  o200kRanksModulePath,
  tokenizerLoaded,
} from '../../../lambdas/inference/token-count.js';
import { tempDir } from '../../support/temp-dirs.js';

// Expected counts were checked against three implementations of o200k_base that agree on each:
// tiktoken's Rust core (npm `tiktoken` 1.0.22, WASM), js-tiktoken 1.0.21 and gpt-tokenizer 4.0.0.
const SAMPLES = {
  english: { text: 'The quick brown fox jumps over the lazy dog.', tokens: 10 },
  chinese: { text: '你好，世界！今天天气很好。我们一起去公园散步吧。', tokens: 18 },
  japanese: { text: '東京は日本の首都です。人工知能の研究が盛んです。', tokens: 18 },
  emoji: { text: '🎉🚀👍🏽❤️‍🔥 great job 😀😀😀', tokens: 15 },
  code: { text: 'function add(a, b) {\n  return a + b;\n}\nconst x = [1, 2, 3].map((n) => n * 2);\n', tokens: 36 },
};
const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The module evaluated afresh (vi.resetModules(); gpt-tokenizer, in node_modules, stays loaded): no
 * tokenizer loaded and empty caches, as in a cold process, whatever the file's other tests did with
 * the copy imported above.
 */
async function freshModule(): Promise<typeof import('../../../lambdas/inference/token-count.js')> {
  vi.resetModules();
  return import('../../../lambdas/inference/token-count.js');
}

// The copy imported above counts with the tokenizer loaded: the tests of the counts need it, in whatever order they run.
beforeAll(async () => {
  await loadTokenizer();
});

describe('before the tokenizer has loaded', () => {
  it('counts the UTF-8 byte length, an upper bound', async () => {
    const cold = await freshModule();
    expect(cold.tokenizerLoaded()).toBe(false);
    expect(cold.countTextTokens('hello world')).toBe(11);
    expect(cold.countTextTokens(SAMPLES.chinese.text)).toBe(utf8(SAMPLES.chinese.text));
    expect(cold.imageTokens(1024, 1024, 'high')).toBe(765); // the image rule needs no tokenizer
  });
});

describe('countTextTokens (o200k_base)', () => {
  it('loads once, from the package in the source tree', async () => {
    const cold = await freshModule();
    expect(cold.tokenizerLoaded()).toBe(false);
    const info = await cold.loadTokenizer();
    expect(info).toMatchObject({ encoding: 'o200k_base', ranksFrom: 'gpt-tokenizer/bpeRanks/o200k_base' });
    expect(await cold.loadTokenizer()).toBe(info);
    expect(cold.tokenizerLoaded()).toBe(true);
    expect(cold.o200kRanksModulePath()).toMatch(/gpt-tokenizer\/esm\/bpeRanks\/o200k_base\.js$/);
    expect(tokenizerLoaded()).toBe(true); // the copy imported above (file-level beforeAll)
  });

  it('gives tiktoken\'s counts for known strings', () => {
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('')).toBe(0);
    for (const { text, tokens } of Object.values(SAMPLES)) expect(countTextTokens(text)).toBe(tokens);
    expect(countCompletionTokens(SAMPLES.code.text)).toBe(36);
  });

  it('counts special-token strings as the plain text they are', () => {
    expect(countTextTokens('<|endoftext|> is plain text here')).toBe(11);
  });

  it('shows that characters ÷ 4 under-counts CJK, emoji and code', () => {
    const quarter = (text: string) => Math.ceil(text.length / 4);
    expect(quarter(SAMPLES.chinese.text)).toBe(6); // 18 real: a third
    expect(quarter(SAMPLES.emoji.text)).toBe(8); // 15 real
    expect(quarter(SAMPLES.code.text)).toBe(20); // 36 real
    for (const s of [SAMPLES.chinese, SAMPLES.japanese, SAMPLES.emoji, SAMPLES.code]) expect(quarter(s.text)).toBeLessThan(countTextTokens(s.text));
  });

  it('matches gpt-tokenizer\'s own count on a mixed 100 KB text, and again from the cache', () => {
    let text = '';
    for (let i = 0; text.length < 100_000; i++) text += `Paragraph ${i}: the gateway reserves ${i * 37} tokens for tenant-${i % 7}. 中文段落${i}，预算。 const y${i} = f(${i}); 🎉\n`;
    expect(countTextTokens(text)).toBe(exact(text));
    expect(countTextTokens(text)).toBe(exact(text));
  });

  it('counts a piece too long to merge as its bytes, never below the real count', () => {
    const run = 'a'.repeat(5_000);
    expect(countTextTokens(run)).toBe(5_000);
    expect(countTextTokens(run)).toBeGreaterThanOrEqual(exact(run));
    const text = `hello ${'x'.repeat(1_000)} world`;
    expect(countTextTokens(text)).toBe(2 + 1_001); // " xxxx…" is one piece of 1001 bytes
  });

  it('bounds the BPE work of a call: past the budget, pieces count as their bytes (≥ the real count)', () => {
    // Novel 2–5 character CJK pieces (none a single token), far more bytes than the budget.
    const chars = [...'的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能过'];
    let seed = 7; // mulberry32
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % chars.length;
    };
    let text = '';
    while (utf8(text) < 4 * MAX_BPE_BYTES_PER_CALL) {
      const k = 2 + (next() % 4);
      for (let i = 0; i < k; i++) text += chars[next()];
      text += '，';
    }
    const real = exact(text);
    // From empty caches: no piece of the text merged by an earlier test, so the budget alone bounds the merges counted below.
    clearTokenCountCaches();
    // The work is counted, not timed (no timing asserts: shared machines): the bytes of the pieces
    // handed to gpt-tokenizer's BPE merge, the step whose cost grows with a piece's length squared.
    const merged: number[] = [];
    const core = BytePairEncodingCore.prototype as unknown as { bytePairEncode(piece: string): number[] };
    const bytePairEncode = core.bytePairEncode;
    const merge = vi.spyOn(core, 'bytePairEncode').mockImplementation(function (this: unknown, piece: string) {
      merged.push(utf8(piece));
      return bytePairEncode.call(this, piece);
    });
    try {
      const counted = countTextTokens(text);
      // At most the budget's bytes were merged, though the text has four times as many.
      expect(merged.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_BPE_BYTES_PER_CALL);
      expect(merged.reduce((a, b) => a + b, 0)).toBeGreaterThan(MAX_BPE_BYTES_PER_CALL * 0.9);
      expect(counted).toBeGreaterThan(real);
      expect(counted).toBeLessThanOrEqual(utf8(text));
      // The first 64 KiB of pieces were merged exactly, so the count is well under the byte bound.
      expect(counted).toBeLessThan(utf8(text) * 0.95);
      // The bound is cached like an exact count: the same text again is a look-up, no merge at all.
      merged.length = 0;
      for (let i = 0; i < 5; i++) expect(countTextTokens(text)).toBe(counted);
      expect(merged).toEqual([]);
    } finally {
      merge.mockRestore();
    }
  });
});

describe('imageTokens (OpenAI vision rule)', () => {
  it('gives OpenAI\'s examples', () => {
    expect(imageTokens(1024, 1024, 'high')).toBe(765);
    expect(imageTokens(2048, 4096, 'high')).toBe(1105);
    expect(imageTokens(4096, 8192, 'low')).toBe(85);
    expect(imageTokens(4096, 2048, 'auto')).toBe(1105);
    expect(imageTokens(512, 512, 'high')).toBe(255); // small images are not scaled up
    expect(imageTokens(undefined, undefined, 'high')).toBe(IMAGE_UNKNOWN_SIZE_TOKENS);
    expect(IMAGE_UNKNOWN_SIZE_TOKENS).toBe(1445);
  });

  it('is never above the unknown-size bound', () => {
    for (const [w, h] of [[768, 2048], [767, 2048], [20000, 769], [1, 100000], [100000, 100000], [1536, 1536]]) {
      expect(imageTokens(w, h, 'high')).toBeLessThanOrEqual(IMAGE_UNKNOWN_SIZE_TOKENS);
    }
  });
});

const png = (w: number, h: number) => {
  const b = Buffer.alloc(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
};
const gif = (w: number, h: number) => {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(w, 6);
  b.writeUInt16LE(h, 8);
  return b;
};
const webp = (w: number, h: number) => {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(22, 4);
  b.write('WEBPVP8X', 8, 'latin1');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(w - 1, 24, 3);
  b.writeUIntLE(h - 1, 27, 3);
  return b;
};
/** A baseline JPEG header, with `padding` bytes of APP1 segments before its SOF0 (as EXIF/ICC data do). */
const jpeg = (w: number, h: number, padding = 0) => {
  const parts = [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00])]; // SOI, APP0 JFIF
  for (let left = padding; left > 0; left -= 60_000) {
    const len = Math.min(left, 60_000);
    const seg = Buffer.alloc(len + 4);
    seg.set([0xff, 0xe1]);
    seg.writeUInt16BE(len + 2, 2);
    parts.push(seg);
  }
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(h, 5);
  sof.writeUInt16BE(w, 7);
  parts.push(sof);
  return Buffer.concat(parts);
};
const dataUrl = (mime: string, bytes: Buffer) => `data:${mime};base64,${bytes.toString('base64')}`;
const withImage = (url: string, detail?: 'auto' | 'low' | 'high'): ChatCompletionCreateParams => ({
  model: 'gpt-4o',
  messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url, ...(detail ? { detail } : {}) } }] }],
});
// Framing of a one-message request: reply priming 3 + message 3 + "user" 1.
const FRAME = 7;

describe('countPromptTokens', () => {
  it('gives the count OpenAI\'s API reported for the cookbook\'s example messages (gpt-4o: 124)', () => {
    const body: ChatCompletionCreateParams = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
        { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
        { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
        { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
        { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
        { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
      ],
    };
    expect(countPromptTokens(body)).toBe(124);
  });

  it('counts tools at or above what OpenAI\'s API reported for the cookbook\'s weather example (101)', () => {
    const body: ChatCompletionCreateParams = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
        { role: 'user', content: "What's the weather like in San Francisco?" },
      ],
      tools: [{
        type: 'function',
        function: {
          name: 'get_current_weather',
          description: 'Get the current weather in a given location',
          parameters: {
            type: 'object',
            properties: {
              location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
              unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
            },
            required: ['location'],
          },
        },
      }],
    };
    const counted = countPromptTokens(body);
    expect(counted).toBeGreaterThanOrEqual(101);
    expect(counted).toBeLessThan(101 * 1.5);
    expect(countPromptTokens({ ...body, tools: undefined, functions: [body.tools![0].type === 'function' ? body.tools![0].function : { name: 'x' }] })).toBe(counted);
  });

  it('counts a tool sent again (a fresh object each request) as its JSON, and one that changed under the same name afresh', () => {
    const fn = (description: string) => ({
      name: 'get_quarterly_figures', description, strict: true,
      parameters: { type: 'object', properties: { year: { type: 'integer' }, quarter: { type: 'string', enum: ['Q1', 'Q2', 'Q3', 'Q4'] } }, required: ['year', 'quarter'], additionalProperties: false },
    });
    const request = (f: object): ChatCompletionCreateParams => ({ model: 'gpt-4o', messages: [], tools: [{ type: 'function', function: f as never }] });
    // The count the module gives: 3 (reply priming) + 7 + the definition's JSON + 12.
    const expected = (f: object) => 3 + 7 + exact(JSON.stringify(f)) + 12;
    const first = fn('Revenue, cost and margin of a quarter, by region.');
    expect(countPromptTokens(request(first))).toBe(expected(first));
    // The same definition parsed again: the same count.
    expect(countPromptTokens(request(JSON.parse(JSON.stringify(first))))).toBe(expected(first));
    // Same name, each a different JSON text: a word, a number's type, an enum item, the keys' order, a key more, a value that is not JSON.
    const changed: object[] = [
      fn('Revenue and cost of a quarter, by region, with a longer description than before.'),
      { ...first, strict: 1 },
      { ...first, parameters: { ...first.parameters, properties: { ...first.parameters.properties, quarter: { type: 'string', enum: ['Q1', 'Q2', 'Q3', 'Q4', 'FY'] } } } },
      { description: first.description, name: first.name, strict: true, parameters: first.parameters },
      { ...first, deprecated: false },
      { ...first, parameters: { ...first.parameters, required: ['year', 'quarter', 'region'] } },
      { ...first, strict: undefined },
    ];
    for (const f of changed) {
      expect(JSON.stringify(f)).not.toBe(JSON.stringify(first));
      expect(countPromptTokens(request(f))).toBe(expected(f));
      expect(countPromptTokens(request(first))).toBe(expected(first));
    }
    // One too large to be remembered (over 32 KB of JSON): serialized and counted each time.
    const large = fn(Array.from({ length: 4_000 }, (_, i) => `word${i}`).join(' '));
    expect(JSON.stringify(large).length).toBeGreaterThan(32 * 1024);
    expect(countPromptTokens(request(large))).toBe(expected(large));
    expect(countPromptTokens(request(JSON.parse(JSON.stringify(large))))).toBe(expected(large));
    expect(countPromptTokens(request(first))).toBe(expected(first));
  });

  it('counts every text of every role: parts, refusals, names, tool results, tool and function calls', () => {
    const body: ChatCompletionCreateParams = {
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: [{ type: 'text', text: SAMPLES.english.text }] },
        { role: 'user', name: 'alice', content: [{ type: 'text', text: SAMPLES.chinese.text }, { type: 'text', text: SAMPLES.emoji.text }] },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'hello world' }], refusal: 'hello world',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }, { id: 'call_2', type: 'custom', custom: { name: 'sh', input: 'hello world' } }],
          function_call: { name: 'add', arguments: '{"a":1,"b":2}' } },
        { role: 'tool', tool_call_id: 'call_1', content: SAMPLES.code.text },
        { role: 'function', name: 'add', content: 'hello world' },
      ],
    };
    const c = (s: string) => exact(s);
    const expected = 3
      + 3 + c('developer') + SAMPLES.english.tokens
      + 3 + c('user') + c('alice') + 1 + SAMPLES.chinese.tokens + SAMPLES.emoji.tokens
      + 3 + c('assistant') + 2 + 2 + (3 + c('add') + c('{"a":1,"b":2}')) + (3 + c('sh') + 2) + (3 + c('add') + c('{"a":1,"b":2}'))
      + 3 + c('tool') + SAMPLES.code.tokens
      + 3 + c('function') + c('add') + 1 + 2;
    expect(countPromptTokens(body)).toBe(expected);
  });

  it('reads image sizes from PNG, GIF, WebP and JPEG data URLs', () => {
    expect(countPromptTokens(withImage(dataUrl('image/png', png(2048, 4096)), 'high'))).toBe(FRAME + 1105);
    expect(countPromptTokens(withImage(dataUrl('image/png', png(1024, 1024))))).toBe(FRAME + 765);
    expect(countPromptTokens(withImage(dataUrl('image/gif', gif(512, 512)), 'auto'))).toBe(FRAME + 255);
    expect(countPromptTokens(withImage(dataUrl('image/webp', webp(1024, 1024)), 'high'))).toBe(FRAME + 765);
    expect(countPromptTokens(withImage(dataUrl('image/jpeg', jpeg(2048, 4096)), 'high'))).toBe(FRAME + 1105);
    // SOF0 past the first 72 KiB (96 KiB of base64): read from the whole image.
    expect(countPromptTokens(withImage(dataUrl('image/jpeg', jpeg(1024, 1024, 150_000)), 'high'))).toBe(FRAME + 765);
  });

  it('uses the bound for URLs and unreadable data, and 85 at low detail', () => {
    expect(countPromptTokens(withImage('https://example.com/cat.png'))).toBe(FRAME + 1445);
    expect(countPromptTokens(withImage('https://example.com/cat.png', 'low'))).toBe(FRAME + 85);
    expect(countPromptTokens(withImage(dataUrl('image/png', Buffer.from('not an image')), 'high'))).toBe(FRAME + 1445);
    expect(countPromptTokens(withImage(dataUrl('image/png', png(4096, 4096)), 'low'))).toBe(FRAME + 85);
  });

  it('estimates audio from WAV headers (else 16 kHz 16-bit mono) and MP3 at 32 kbps, 10 tokens a second', () => {
    const wav = (byteRate: number, dataBytes: number) => {
      const b = Buffer.alloc(44 + dataBytes);
      b.write('RIFF', 0, 'latin1');
      b.writeUInt32LE(36 + dataBytes, 4);
      b.write('WAVEfmt ', 8, 'latin1');
      b.writeUInt32LE(16, 16);
      b.writeUInt16LE(1, 20);
      b.writeUInt16LE(1, 22);
      b.writeUInt32LE(byteRate / 2, 24);
      b.writeUInt32LE(byteRate, 28);
      return b;
    };
    expect(audioTokens(wav(48_000, 48_000).toString('base64'), 'wav')).toBe(11); // 1 s + header
    expect(audioTokens(Buffer.alloc(32_000).toString('base64'), 'wav')).toBe(10);
    expect(audioTokens(Buffer.alloc(8_000).toString('base64'), 'mp3')).toBe(20);
    const body: ChatCompletionCreateParams = { model: 'gpt-4o-audio-preview', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: Buffer.alloc(4_000).toString('base64'), format: 'mp3' } }] }] };
    expect(countPromptTokens(body)).toBe(FRAME + 10);
  });

  it('estimates files from their size, 1 token per 32 bytes, or a placeholder for a file id', () => {
    expect(fileTokens(Buffer.alloc(32 * 1024).toString('base64'), undefined)).toBe(1024);
    expect(fileTokens(`data:application/pdf;base64,${Buffer.alloc(3_200).toString('base64')}`, undefined)).toBe(100);
    expect(fileTokens(undefined, 'file-abc')).toBe(2048);
    const body: ChatCompletionCreateParams = { model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: Buffer.alloc(320).toString('base64'), filename: 'hello world' } }] }] };
    expect(countPromptTokens(body)).toBe(FRAME + 10 + 2);
  });

  it('counts a JSON-schema response format, and never throws on odd shapes', () => {
    const base: ChatCompletionCreateParams = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] };
    const schema = { name: 'answer', schema: { type: 'object', properties: { text: { type: 'string' } } } };
    expect(countPromptTokens({ ...base, response_format: { type: 'json_schema', json_schema: schema } })).toBe(FRAME + 2 + exact(JSON.stringify(schema)));
    const odd = { model: 'x', messages: [{ role: 'user', content: [null, { type: 'image_url' }, { type: 'text' }] }, { role: 'assistant', tool_calls: [{ type: 'function' }] }] } as unknown as ChatCompletionCreateParams;
    expect(() => countPromptTokens(odd)).not.toThrow();
    expect(countPromptTokens({ model: 'x' } as unknown as ChatCompletionCreateParams)).toBe(3);
  });
});

describe('countPromptTokenParts', () => {
  it('is countPromptTokens by message, the rest (priming, tools, schema) apart: the same sum', () => {
    const body: ChatCompletionCreateParams = {
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    };
    const parts = countPromptTokenParts(body);
    expect(parts.messages).toEqual(body.messages.map((m) => countPromptTokens({ model: 'gpt-4o', messages: [m] }) - 3));
    expect(parts.rest + parts.messages.reduce((a, b) => a + b, 0)).toBe(countPromptTokens(body));
  });

  it('counts the latest messages first: when its limits run out, the earliest messages are the byte bounds, the last one exact', () => {
    clearTokenCountCaches();
    const unseen = (seed: number) => Array.from({ length: 6_000 }, (_, i) => `w${(seed * 7_919 + i * 104_729).toString(36)}q`).join(' ');
    const [early, late] = [unseen(1), unseen(2)];
    const parts = countPromptTokenParts({ model: 'gpt-4o', messages: [{ role: 'user', content: early }, { role: 'user', content: late }] }, { scanChars: late.length + 2 * 'user'.length, bpeBytes: MAX_BPE_BYTES_PER_CALL });
    expect(parts.messages[1]).toBe(4 + exact(late));
    expect(parts.messages[0]).toBeGreaterThan(4 + exact(early));
  });
});

describe('in an esbuild bundle (as constructs/lambda-function.ts builds the router)', () => {
  it('keeps the ranks out of the bundle and loads them from the asset next to it', async () => {
    const out = tempDir('token-count-bundle-');
    await build({
      entryPoints: { index: fileURLToPath(new URL('../../../lambdas/inference/token-count.ts', import.meta.url)) }, bundle: true, minify: true, platform: 'node',
      target: 'node24', format: 'esm', outdir: out, outExtension: { '.js': '.mjs' }, logLevel: 'silent',
    });
    expect(statSync(join(out, 'index.mjs')).size).toBeLessThan(64 * 1024);
    copyFileSync(o200kRanksModulePath(), join(out, O200K_RANKS_ASSET));
    const script = `const m = await import(${JSON.stringify(join(out, 'index.mjs'))}); const info = await m.loadTokenizer();
      console.log(JSON.stringify({ from: info.ranksFrom, n: m.countTextTokens(${JSON.stringify(SAMPLES.chinese.text)}), img: m.countPromptTokens({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: ${JSON.stringify(dataUrl('image/png', png(2048, 4096)))} } }] }] }) }));`;
    const result = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, encoding: 'utf8' }));
    expect(result).toEqual({ from: expect.stringMatching(new RegExp(`${O200K_RANKS_ASSET.replace(/\./g, '\\.')}$`)), n: 18, img: FRAME + 1105 });
  });
});

describe('evaluated again in the same process (vitest resets project modules between the files of a worker)', () => {
  it('reuses the core built from the same ranks and class, and counts as before from fresh caches', async () => {
    await loadTokenizer();
    const [{ default: ranks }, { BytePairEncodingCore }] = await Promise.all([import('gpt-tokenizer/bpeRanks/o200k_base'), import('gpt-tokenizer/BytePairEncodingCore')]);
    const registry = (globalThis as Record<symbol, WeakMap<object, WeakMap<object, object>> | undefined>)[Symbol.for('tessera.token-count.o200k-cores')];
    const built = registry?.get(ranks)?.get(BytePairEncodingCore);
    expect(built).toBeInstanceOf(BytePairEncodingCore);
    vi.resetModules();
    const again = await import('../../../lambdas/inference/token-count.js');
    expect(again.countTextTokens).not.toBe(countTextTokens); // a new copy of the module, with its own state
    expect(again.tokenizerLoaded()).toBe(false);
    expect(again.countTextTokens(SAMPLES.chinese.text)).toBe(utf8(SAMPLES.chinese.text));
    await again.loadTokenizer();
    expect(registry?.get(ranks)?.get(BytePairEncodingCore)).toBe(built);
    for (const { text, tokens } of Object.values(SAMPLES)) expect(again.countTextTokens(text)).toBe(tokens);
    let text = '';
    for (let i = 0; text.length < 20_000; i++) text += `Paragraph ${i}: 中文段落${i}，预算。 const y${i} = f(${i}); 🎉 ${'ab'.repeat(i % 50)}\n`;
    expect(again.countTextTokens(text)).toBe(exact(text));
  });
});
