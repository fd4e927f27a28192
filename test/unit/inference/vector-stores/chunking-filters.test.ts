import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { chunkText, DEFAULT_CHUNKING, parseChunking } from '../../../../lambdas/inference/vector-stores/chunking.js';
import { checkFilter, matchesFilter } from '../../../../lambdas/inference/vector-stores/filters.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof GatewayError) return { status: e.status, param: e.param, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('static chunking (OpenAI: 800 tokens, 400 overlap by default; 100-4096, overlap at most half)', () => {
  it('cuts o200k token windows of max_chunk_size_tokens, each starting max - overlap tokens after the previous one', async () => {
    const text = Array.from({ length: 700 }, (_, i) => `w${i}`).join(' ');
    const tokens = encode(text);
    const chunks = await chunkText(text, { max_chunk_size_tokens: 300, chunk_overlap_tokens: 100 });
    // Windows start at 0, 200, 400, …: each holds 300 tokens but the last, which ends at the text's end.
    const starts = chunks.map((_, i) => i * 200);
    expect(chunks.map((c) => c.tokens)).toEqual(starts.map((s) => Math.min(300, tokens.length - s)));
    expect(starts.at(-1)! + chunks.at(-1)!.tokens).toBe(tokens.length);
    // The overlap: the last 100 tokens of a chunk are the first 100 of the next.
    expect(encode(chunks[1]!.text).slice(0, 100)).toEqual(encode(chunks[0]!.text).slice(200));
    expect(chunks.map((c) => c.text).join('').length).toBeGreaterThan(text.length);
  });

  it('never cuts a character o200k writes as several tokens: no chunk holds U+FFFD, each within max tokens, the text all covered in order', async () => {
    const text = '東京は日本の首都であり、世界最大級の都市圏を形成している。𠮷野家の牛丼は有名です。😀🎉👍🏽 '.repeat(60);
    for (const chunking of [{ max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 }, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 17 }, { max_chunk_size_tokens: 137, chunk_overlap_tokens: 50 }]) {
      const chunks = await chunkText(text, chunking);
      expect(chunks.filter((c) => c.text.includes('\uFFFD'))).toEqual([]);
      expect(chunks.every((c) => c.tokens <= chunking.max_chunk_size_tokens && c.tokens >= chunking.max_chunk_size_tokens - 3 || c === chunks.at(-1))).toBe(true);
      expect(text.startsWith(chunks[0]!.text)).toBe(true);
      expect(text.endsWith(chunks.at(-1)!.text)).toBe(true);
      // Each chunk is a piece of the text starting where the previous one's overlap begins (no character lost between them).
      let from = 0;
      for (const c of chunks) {
        const at = text.indexOf(c.text, from);
        expect(at).toBeGreaterThanOrEqual(from);
        from = at + 1;
      }
      if (!chunking.chunk_overlap_tokens) expect(chunks.map((c) => c.text).join('')).toBe(text);
    }
  });

  it('a text shorter than a chunk is one chunk; special-token text is plain text; whitespace is none', async () => {
    expect(await chunkText('hello <|endoftext|> world', DEFAULT_CHUNKING)).toEqual([{ text: 'hello <|endoftext|> world', tokens: encode('hello <|endoftext|> world', { disallowedSpecial: new Set() }).length }]);
    expect(await chunkText(' \n\t ', DEFAULT_CHUNKING)).toEqual([]);
  });

  it('parses chunking_strategy: auto and absent are the defaults; static within OpenAI\'s bounds; else a 400 naming the field and value', () => {
    expect(parseChunking(undefined)).toEqual({ max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 });
    expect(parseChunking({ type: 'auto' })).toEqual(DEFAULT_CHUNKING);
    expect(parseChunking({ type: 'static', static: { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 2048 } })).toEqual({ max_chunk_size_tokens: 4096, chunk_overlap_tokens: 2048 });
    expect(refusal(() => parseChunking({ type: 'static', static: { max_chunk_size_tokens: 99, chunk_overlap_tokens: 0 } }))).toMatchObject({ status: 400, param: 'chunking_strategy.static.max_chunk_size_tokens', message: expect.stringContaining('99') });
    expect(refusal(() => parseChunking({ type: 'static', static: { max_chunk_size_tokens: 4097, chunk_overlap_tokens: 0 } }))).toMatchObject({ param: 'chunking_strategy.static.max_chunk_size_tokens' });
    expect(refusal(() => parseChunking({ type: 'static', static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 151 } }))).toMatchObject({ param: 'chunking_strategy.static.chunk_overlap_tokens', message: expect.stringContaining('151 must not exceed half') });
    expect(refusal(() => parseChunking({ type: 'semantic' }, 'files[1].chunking_strategy'))).toMatchObject({ param: 'files[1].chunking_strategy.type', message: expect.stringContaining('"semantic"') });
  });
});

describe('OpenAI\'s attribute filters', () => {
  const meta = { region: 'eu', year: 2025, draft: false, tag: 'b' };
  it.each([
    [{ key: 'region', type: 'eq', value: 'eu' }, true],
    [{ key: 'region', type: 'ne', value: 'eu' }, false],
    [{ key: 'missing', type: 'ne', value: 'eu' }, true],
    [{ key: 'missing', type: 'eq', value: 'eu' }, false],
    [{ key: 'year', type: 'gt', value: 2024 }, true],
    [{ key: 'year', type: 'gte', value: 2025 }, true],
    [{ key: 'year', type: 'lt', value: 2025 }, false],
    [{ key: 'year', type: 'lte', value: 2025 }, true],
    [{ key: 'year', type: 'gt', value: '2024' }, false], // a number and a string do not compare
    [{ key: 'tag', type: 'lt', value: 'c' }, true],
    [{ key: 'draft', type: 'eq', value: false }, true],
    [{ key: 'region', type: 'in', value: ['us', 'eu'] }, true],
    [{ key: 'region', type: 'nin', value: ['us', 'eu'] }, false],
    [{ key: 'missing', type: 'nin', value: ['x'] }, true],
    [{ type: 'and', filters: [{ key: 'region', type: 'eq', value: 'eu' }, { key: 'year', type: 'lt', value: 2000 }] }, false],
    [{ type: 'or', filters: [{ key: 'region', type: 'eq', value: 'us' }, { type: 'and', filters: [{ key: 'year', type: 'eq', value: 2025 }, { key: 'tag', type: 'in', value: ['b'] }] }] }, true],
  ])('%j → %s', (filter, expected) => {
    expect(matchesFilter(meta, checkFilter(filter))).toBe(expected);
  });

  it('refuses a malformed filter naming where it is and the value', () => {
    expect(refusal(() => checkFilter({ key: 'a', type: 'like', value: 'b' }))).toMatchObject({ status: 400, param: 'filters.type', message: expect.stringContaining('"like"') });
    expect(refusal(() => checkFilter({ type: 'or', filters: [{ key: 'a', type: 'eq', value: 1 }, { key: 'a', type: 'in', value: 'x' }] }))).toMatchObject({ param: 'filters.filters[1].value' });
    expect(refusal(() => checkFilter({ type: 'and', filters: [] }))).toMatchObject({ param: 'filters.filters' });
    // The names the index keeps a chunk's run and text under: no attribute has them, and a filter would read the gateway's.
    expect(refusal(() => checkFilter({ type: 'or', filters: [{ key: 'a', type: 'eq', value: 1 }, { key: '_run', type: 'ne', value: 'x' }] }))).toMatchObject({ status: 400, param: 'filters.filters[1].key', message: expect.stringContaining('"_run" is reserved') });
    expect(refusal(() => checkFilter({ key: '_text', type: 'eq', value: 'x' }))).toMatchObject({ param: 'filters.key' });
    expect(refusal(() => checkFilter({ type: 'gt', key: 'a', value: true }))).toMatchObject({ param: 'filters.value' });
    expect(refusal(() => checkFilter({ type: 'eq', value: 1 }))).toMatchObject({ param: 'filters.key' });
  });
});
