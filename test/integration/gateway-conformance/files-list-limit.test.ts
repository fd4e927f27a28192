import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { nodeClient } from './official-clients.js';
import { fakeAwsEnv, plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The `limit` of `GET /v1/files` on `tessera serve` is OpenAI's Files API's ("Limit can range between 1 and 10,000, and
 * the default is 10,000"), not the 1-100 of the batches and vector stores lists: `?limit=101` is answered, and past
 * 10,000 it is OpenAI's bound refusal naming `limit` (docs/gateway.md, *Errors at a glance*).
 */
fakeAwsEnv();

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('files-limit')]);
  token = await gw.token('files-limit');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('GET /v1/files limit, as OpenAI\'s Files API', () => {
  it('answers limit 101 and 10000 and refuses 10001 and 0 in OpenAI\'s words, while the batches list stops at 100', async () => {
    const client = nodeClient(gw.url, token);
    for (const limit of [101, 10_000]) expect((await client.files.list({ limit })).data, `limit ${limit}`).toEqual([]);
    const refusal = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.APIError);
      const err = e as InstanceType<typeof OpenAI.APIError>;
      return { status: err.status, code: err.code, param: err.param, message: err.message };
    };
    expect(await refusal(client.files.list({ limit: 10_001 }))).toEqual({
      status: 400, code: 'integer_above_max_value', param: 'limit',
      message: "400 Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got 10001 instead.",
    });
    expect(await refusal(client.files.list({ limit: 0 }))).toMatchObject({ status: 400, code: 'integer_below_min_value', param: 'limit' });
    expect(await refusal(client.batches.list({ limit: 101 }))).toMatchObject({ status: 400, code: 'integer_above_max_value', param: 'limit' });
  });
});
