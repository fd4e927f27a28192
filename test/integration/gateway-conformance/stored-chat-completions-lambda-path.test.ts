import { GetCommand } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { DynamoDbChatCompletionStore } from '../../../lambdas/inference/stores/dynamodb-chat-completion-store.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Stored chat completions on the deployed path: API Gateway (emulated), the authorizer and the streaming router
 * Lambdas, the completion kept in the responses table (moto) under the tenant's partition and its `chatcmpl-` sort key,
 * with the tenant-scoped document client: create with store → retrieve → list → delete; another tenant's id a 404.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')]);
  await createResponsesTable('tessera-responses');
  process.env[GATEWAY_ENV.responsesTable] = 'tessera-responses';
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  delete process.env[GATEWAY_ENV.responsesTable];
  await apigw?.stop();
  await upstream?.stop();
});

const client = (tenant: string) => new OpenAI({ baseURL: apigw.url, apiKey: tokens[tenant], maxRetries: 0 });

describe('stored chat completions through the Lambda adapters, in DynamoDB as the tenant', () => {
  it('create with store → retrieve → list → messages → delete; another tenant gets 404s', async () => {
    const c = client('acme');
    const made = await c.chat.completions.create({ model: 'openai-compatible/default', store: true, metadata: { app: 'lambda' }, messages: [{ role: 'user', content: 'Hello there' }] });
    const doc = await unscopedDocumentClient()('');
    const item = (await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: made.id } }))).Item!;
    expect(item).toMatchObject({ tenantId: 'acme', responseId: expect.stringMatching(/^chatcmpl-[0-9a-f]{24}$/), model: made.model, metadata: { app: 'lambda' } });
    expect(item.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(30 * 86_400 - 60);

    expect(await c.chat.completions.retrieve(made.id)).toMatchObject({ id: made.id, choices: made.choices, metadata: { app: 'lambda' } });
    expect((await c.chat.completions.list({ metadata: { app: 'lambda' } })).data.map((x) => x.id)).toEqual([made.id]);
    expect((await c.chat.completions.messages.list(made.id)).data).toMatchObject([{ id: `${made.id}-0`, role: 'user', content: 'Hello there' }]);
    expect((await c.chat.completions.update(made.id, { metadata: { app: 'moved' } })).metadata).toEqual({ app: 'moved' });

    const other = client('globex');
    expect(await other.chat.completions.retrieve(made.id).catch((e: { status: number }) => e.status)).toBe(404);
    expect((await other.chat.completions.list()).data).toEqual([]);

    expect(await c.chat.completions.delete(made.id)).toEqual({ id: made.id, object: 'chat.completion.deleted', deleted: true });
    expect(await c.chat.completions.retrieve(made.id).catch((e: { status: number }) => e.status)).toBe(404);
  });

  it('the write refused after the answer (a DynamoDB throttle): a 500 with x-should-retry: false, so the Node client\'s default retries do not call the upstream again', async () => {
    vi.spyOn(DynamoDbChatCompletionStore.prototype, 'put').mockRejectedValueOnce(Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' }));
    const c = new OpenAI({ baseURL: apigw.url, apiKey: tokens.acme }); // maxRetries: the default 2
    const sent = upstream.requests.length;
    const e = await c.chat.completions.create({ model: 'openai-compatible/default', store: true, messages: [{ role: 'user', content: 'Hello again' }] }).then(() => undefined, (x: unknown) => x as InstanceType<typeof OpenAI.APIError>);
    vi.restoreAllMocks();
    expect(e).toMatchObject({ status: 500, code: 'internal_error' });
    expect(e!.headers?.get('x-should-retry')).toBe('false');
    expect(e!.message).toMatch(/the answer was billed \(\d+ input \+ \d+ output tokens\), but it could not be returned/);
    expect(upstream.requests.length - sent).toBe(1);
  });
});
