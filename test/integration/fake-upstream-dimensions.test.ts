import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { EMBEDDING_DIMENSIONS, FakeUpstream } from '../support/fake-upstream.js';
import { configWith } from '../support/config-with.js';
import { serveGateway } from '../support/local-gateway.js';

// The fake upstream without flags (`npx tsx test/bench/fake-upstream-main.ts`, docs/gateway.md "The fake upstream")
// honours `dimensions` on embeddings, as OpenAI's text-embedding-3 models do. It answered 1,536 floats
// whatever was asked, so `dimensions: 8` through tessera serve was a 502 upstream_invalid_answer (the
// gateway checks the width), read as the gateway's failure. Through serve, with the official Node client.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;
const model = 'openai-compatible/embeddings';
const config = () => configWith({
  gateway: { models: [{ id: model, upstream: 'default', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 }], upstreamRetries: 1, upstreamTimeoutMs: 2000 },
});

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config(), upstream.url, [localTenant('acme', 'enterprise')]);
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme'), maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('the fake upstream\'s embeddings honour dimensions, through tessera serve', () => {
  it('dimensions: 8 gives 8 floats of unit length, the full vector\'s first 8 values scaled (text-embedding-3\'s shortening), floats and base64', async () => {
    const full = (await client.embeddings.create({ model, input: 'hello' })).data[0]!.embedding;
    expect(full).toHaveLength(EMBEDDING_DIMENSIONS);
    const short = await client.embeddings.create({ model, input: ['hello', 'world'], dimensions: 8 });
    expect(short.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    const v = short.data[0]!.embedding;
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    const norm = Math.hypot(...full.slice(0, 8));
    v.forEach((x, i) => expect(x).toBeCloseTo(full[i]! / norm, 6));
    const base64 = await client.embeddings.create({ model, input: 'hello', dimensions: 8, encoding_format: 'base64' });
    expect(Buffer.from(base64.data[0]!.embedding as unknown as string, 'base64')).toHaveLength(8 * 4); // asked as base64: 8 float32 values, returned as they came
  });

  it('a dimensions wider than the fake\'s vectors is a 400 naming it, not a 502', async () => {
    const err = await client.embeddings.create({ model, input: 'hello', dimensions: EMBEDDING_DIMENSIONS + 1 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/dimensions.*1537.*from 1 to 1536/);
  });
});
