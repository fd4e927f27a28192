import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { EMBEDDING_DIMENSIONS, FakeUpstream } from '../support/fake-upstream.js';
import { configWith } from '../support/config-with.js';
import { serveGateway } from '../support/local-gateway.js';

// The fake upstream's follow-format mode (`npx tsx test/bench/fake-upstream-main.ts --follow-format`,
// docs/gateway.md "tessera serve"): what a tenant developer trying a framework locally needs from the stand-in
// model. Without it the fake echoes text whatever `response_format` asks, so the Vercel AI SDK's
// generateObject / streamObject fail (AI_NoObjectGeneratedError: could not parse the response),
// LangChain's withStructuredOutput and LlamaIndex's structured_predict fail to parse "echo: …", and
// `dimensions` on embeddings is a 502 (the gateway checks the upstream honoured it): errors that read
// as the gateway's. The official clients below send what those frameworks send (response_format
// json_schema with a strict schema, text.format on /v1/responses, json_object, dimensions).

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;
const model = 'openai-compatible/default';
const config = () => configWith({
  gateway: {
    models: [
      { id: model, upstream: 'default', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 },
      { id: 'openai-compatible/embeddings', upstream: 'default', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 },
    ],
    upstreamRetries: 1,
    upstreamTimeoutMs: 2000,
  },
});
const Recipe = z.object({
  name: z.string(),
  minutes: z.number(),
  vegan: z.boolean(),
  kind: z.enum(['soup', 'salad']),
  steps: z.array(z.object({ text: z.string(), order: z.number().int() })),
  note: z.string().nullable(),
});

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.followFormat = true;
  gw = await serveGateway(config(), upstream.url, [localTenant('acme', 'enterprise')]);
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme'), maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('the fake upstream with --follow-format through tessera serve', () => {
  it('answers response_format json_schema with an instance of the schema, whole and streamed (chat.completions.parse)', async () => {
    const parsed = await client.chat.completions.parse({ model, messages: [{ role: 'user', content: 'tomato soup' }], response_format: zodResponseFormat(Recipe, 'recipe') });
    expect(parsed.choices[0]!.message.parsed).toEqual({ name: 'tomato soup', minutes: 1, vegan: true, kind: 'soup', steps: [{ text: 'tomato soup', order: 1 }], note: 'tomato soup' });
    const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'salad' }], response_format: zodResponseFormat(Recipe, 'recipe') });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(Recipe.parse(JSON.parse(text)).name).toBe('salad');
  });

  it('follows $ref into $defs and anyOf, as pydantic and zod schemas write them', async () => {
    const schema = { type: 'object', properties: { item: { $ref: '#/$defs/Item' }, size: { anyOf: [{ type: 'null' }, { type: 'integer' }] } }, required: ['item', 'size'], additionalProperties: false, $defs: { Item: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'], additionalProperties: false } } };
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'out', schema, strict: true } } });
    expect(JSON.parse(r.choices[0]!.message.content!)).toEqual({ item: { label: 'x' }, size: 1 });
  });

  it('answers json_object with a JSON object, and /v1/responses text.format json_schema with an instance (responses.parse)', async () => {
    const json = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'as json' }], response_format: { type: 'json_object' } });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ echo: 'as json' });
    const parsed = await client.responses.parse({ model, input: 'pea salad', text: { format: zodTextFormat(Recipe, 'recipe') } });
    expect(parsed.output_parsed).toMatchObject({ name: 'pea salad', kind: 'soup' });
  });

  it('honours dimensions on embeddings (the gateway refuses an upstream that does not: 502 upstream_invalid_answer)', async () => {
    const r = await client.embeddings.create({ model: 'openai-compatible/embeddings', input: ['a', 'b'], dimensions: 256 });
    expect(r.data.map((d) => d.embedding.length)).toEqual([256, 256]);
    const full = await client.embeddings.create({ model: 'openai-compatible/embeddings', input: 'a' });
    expect(full.data[0]!.embedding).toHaveLength(EMBEDDING_DIMENSIONS);
  });

  it('embeds each input by its words: a query is nearest the document sharing its words, as a retriever needs (LlamaIndex, LangChain RAG)', async () => {
    const docs = ['Paris is the capital of France.', 'Cats sleep sixteen hours a day.', 'Tessera runs tenants in isolated tiles.'];
    const r = await client.embeddings.create({ model: 'openai-compatible/embeddings', input: [...docs, 'How long do cats sleep?'] });
    const [query, ...vectors] = [r.data[3]!.embedding, ...r.data.slice(0, 3).map((d) => d.embedding)];
    const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    const scores = vectors.map((v) => cosine(query!, v));
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
    expect(cosine(vectors[0]!, vectors[0]!)).toBeCloseTo(1, 6);
    const narrow = await client.embeddings.create({ model: 'openai-compatible/embeddings', input: docs[1]!, dimensions: 64 });
    expect(Math.hypot(...narrow.data[0]!.embedding)).toBeCloseTo(1, 6);
  });

  it('still echoes text when no response_format is asked, and echoes as before without the mode', async () => {
    const plain = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.choices[0]!.message.content).toBe('echo: hi');
    upstream.followFormat = false;
    try {
      const echoed = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } });
      expect(echoed.choices[0]!.message.content).toBe('echo: hi');
    } finally {
      upstream.followFormat = true;
    }
  });
});
