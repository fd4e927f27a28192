import OpenAI, { toFile } from 'openai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The Vector Stores API on `tessera serve` against a hostile tenant (the official Node client and raw requests):
 * deletes racing processing, files named twice, fields OpenAI defines otherwise or not at all, a cancel with nothing
 * to cancel. Each case here failed before its fix.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
const EMBEDDING = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const c = conformanceConfig();
  const config = { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING], vectorStores: { embeddingModel: EMBEDDING.id } } };
  gw = await serveGateway(config, upstream.url, [localTenant('acme', 'enterprise')]);
  token = await gw.token('acme');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  upstream.followFormat = true;
});

const client = () => nodeClient(gw.url, token);
const POLL = { pollIntervalMs: 20 };
const upload = async (text: string, name = 'notes.txt') => client().files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, param: e.param, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('vector stores against a hostile tenant', () => {
  it('a store deleted while its file is embedded leaves no index behind (processing made it again after the delete)', async () => {
    const store = await client().vectorStores.create({ name: 'short-lived' });
    const file = await upload('a file whose chunks are being embedded when its store goes');
    upstream.delayMs = 300;
    await client().vectorStores.files.create(store.id, { file_id: file.id });
    await upstream.received(1);
    expect(await client().vectorStores.delete(store.id)).toMatchObject({ deleted: true });
    upstream.delayMs = 0;
    await gw.idle();
    expect(existsSync(join(gw.stateDir, 'vector-stores', 'index', 'acme', store.id))).toBe(false);
  });
});
