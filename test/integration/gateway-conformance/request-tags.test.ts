import { describe, expect, it, vi } from 'vitest';
import { CLIENTS, PythonClient, runClient, type ClientCall, type ClientName } from './clients.js';
import { openAiAnswer, openAiChunks } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * Request tags (`x-tessera-tags`, lambdas/inference/request-tags.ts) as an application sends them through the official
 * clients on `tessera serve`: per call (Node `{ headers }`, Python `extra_headers`), read back on the request's record
 * (`GET /v1/tenant/requests/{id}`), and a bad value refused with OpenAI's error shape naming the header.
 */
const MODEL = 'openai-compatible/default';
const suite = useConformanceGateway(PythonClient.start, { tenants: [plainTenant('acme')] });
const ask = { model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }] };

/** The request's record as its caller reads it back (the Node client's generic get). */
async function recordOf(id: string): Promise<Record<string, unknown>> {
  return nodeClient(suite.env.gw.url, suite.env.tokens.acme).get(`/tenant/requests/${id}`) as Promise<Record<string, unknown>>;
}

describe('x-tessera-tags through the official clients (tessera serve)', () => {
  it('chat completions whole and streamed, Node and Python: the tags sent are on each request\'s record, trimmed, in order, each once', async () => {
    const calls = CLIENTS.flatMap((client) => [[client, 'create'], [client, 'stream']] as Array<[ClientName, ClientCall['op']]>);
    for (const [client, op] of calls) {
      if (op === 'create') suite.env.upstream.script({ body: openAiAnswer('text') });
      else suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
      const tags = `checkout, jobID:42,client=${client},op=${op}, checkout`;
      const out = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op, params: ask, headers: true, extraHeaders: { 'x-tessera-tags': tags } });
      expect(out.error, `${client} ${op}`).toBeUndefined();
      const id = out.headers!['x-request-id']!;
      await suite.env.gw.settled();
      const record = await recordOf(id);
      expect(record, `${client} ${op}`).toMatchObject({ object: 'tenant.request', id, status: 200, outcome: 'ok', tags: ['checkout', 'jobID:42', `client=${client}`, `op=${op}`] });
    }
  });

  it('a request without the header has no tags; embeddings and the Responses API keep them too', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const { response: plainAnswer } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const { response: tagged } = await client.responses.create({ model: MODEL, input: 'hi', store: false }, { headers: { 'x-tessera-tags': 'feature/summarize' } }).withResponse();
    await suite.env.gw.settled();
    expect((await recordOf(plainAnswer.headers.get('x-request-id')!)).tags).toBeUndefined();
    expect(await recordOf(tagged.headers.get('x-request-id')!)).toMatchObject({ path: '/v1/responses', tags: ['feature/summarize'] });
  });

  it.each(CLIENTS)('a bad tag is a 400 in OpenAI\'s shape naming x-tessera-tags, before any upstream call (%s client)', async (client) => {
    const out = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params: ask, extraHeaders: { 'x-tessera-tags': 'team api' } });
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { type: 'invalid_request_error', param: 'x-tessera-tags', code: 'invalid_value' } });
    expect(out.error!.body.message).toContain('tag 1 "team api" is not a tag');
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it('LiteLLM\'s body form, metadata: {tags: [...]}, is the 400 naming metadata.tags (OpenAI\'s Metadata takes strings): the header is the way', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const refused = await client.chat.completions.create({ ...ask, metadata: { tags: ['checkout'] } } as never).catch((e: unknown) => e) as { status?: number; error?: { param?: string; message?: string } };
    expect([refused.status, refused.error?.param]).toEqual([400, 'metadata.tags']);
    expect(refused.error?.message).toContain('send the tags in the x-tessera-tags header instead: x-tessera-tags: checkout');
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});
