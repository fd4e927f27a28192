import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { BedrockProvider } from '../../../../lambdas/inference/providers/bedrock.js';
import { UpstreamCalls, type UpstreamTimeouts } from '../../../../lambdas/inference/upstream-calls.js';
import { stubSdkHttp } from '../../../support/sdk-http-stub.js';

/**
 * The SDK's own retries, which aws-sdk-client-mock cannot show (it replaces `send`, so the retry
 * middleware never runs): the provider's real BedrockRuntimeClient, with a middleware just before
 * the HTTP handler (deserialize step, low priority: inside the SDK's retry and deserializer) that
 * answers every request as Bedrock answers a throttled one. Each HTTP answer is one SDK attempt.
 * Before the fix the client made 3 attempts (with backoff) per gateway attempt.
 */
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const MODEL: ModelEntry = { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 };
const BODY = { model: MODEL.id, messages: [{ role: 'user', content: 'hi' }] } as ChatCompletionCreateParams;

/** HTTP requests that reached the "network", per command: Bedrock's throttled answer to each. */
const http = stubSdkHttp(() => ({
  statusCode: 429,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/', 'x-amzn-requestid': 'req-throttled' },
  body: JSON.stringify({ message: 'Too many requests, please wait before trying again.' }),
}));

const gateway = (timeouts: Partial<UpstreamTimeouts> = {}) => {
  const provider = new BedrockProvider();
  return new UpstreamCalls(async () => provider, { firstByteMs: 10_000, idleMs: 10_000, retries: 1, ...timeouts });
};

async function callerError(call: Promise<unknown>): Promise<GatewayError> {
  const e = await call.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

describe('Bedrock throttling through the gateway: one SDK attempt per gateway attempt', () => {
  it('Converse: 2 gateway attempts (retries: 1) are 2 HTTP requests, and the caller gets OpenAI\'s 429 rate_limit_exceeded', async () => {
    const e = await callerError(gateway().complete([MODEL], { body: BODY, tenantId: 'acme' }, new AbortController().signal));
    expect(http.attempts).toEqual({ ConverseCommand: 2 });
    expect(e.status).toBe(429);
    expect(JSON.parse(e.body())).toEqual({ error: {
      message: 'the upstream of bedrock/amazon.nova-lite is rate limited: Bedrock ThrottlingException: Too many requests, please wait before trying again.',
      type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded',
    } });
    expect(e.headers['x-should-retry']).toBe('false'); // no Retry-After: the gateway retried already
  });

  it('ConverseStream: the same, before the first chunk', async () => {
    const e = await callerError(gateway().stream([MODEL], { body: { ...BODY, stream: true }, tenantId: 'acme' }, new AbortController().signal));
    expect(http.attempts).toEqual({ ConverseStreamCommand: 2 });
    expect(e).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  });

  it('a throttle is a 429 at once, not a 504 upstream_timeout after the SDK\'s hidden backoff outlasted a short first-byte timeout', async () => {
    // The caller's status says it: the 504 came from the first-byte timer running out during the SDK's backoff (no timing assert: shared machines).
    const e = await callerError(gateway({ firstByteMs: 300, retries: 0 }).complete([MODEL], { body: BODY, tenantId: 'acme' }, new AbortController().signal));
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(http.attempts).toEqual({ ConverseCommand: 1 });
  });

  it('InvokeModel (embeddings) makes one SDK attempt per gateway attempt too', async () => {
    const titan: ModelEntry = { id: 'bedrock/amazon.titan-embed-text-v2', upstream: 'amazon.titan-embed-text-v2:0', kind: 'embedding', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 8192 };
    const e = await callerError(gateway().embed([titan], { body: { model: titan.id, input: 'hi' }, tenantId: 'acme' }, new AbortController().signal));
    expect(http.attempts).toEqual({ InvokeModelCommand: 2 });
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
  });
});
