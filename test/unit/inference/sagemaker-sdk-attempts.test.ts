import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { SageMakerProvider } from '../../../lambdas/inference/providers/sagemaker.js';
import { UpstreamCalls } from '../../../lambdas/inference/upstream-calls.js';
import { stubSdkHttp, type StubbedAnswer } from '../../support/sdk-http-stub.js';

/**
 * The SDK's own retries of InvokeEndpoint, which aws-sdk-client-mock cannot show (it replaces
 * `send`): the provider's real SageMakerRuntimeClient, platform and tenant-role, with a middleware
 * inside the SDK's retry step that answers every InvokeEndpoint as an unavailable endpoint (503
 * ServiceUnavailable, which both the SDK and the gateway retry) and STS's AssumeRole with a session.
 * Before the fix each gateway attempt was 3 HTTP requests (with backoff).
 */
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const ASSUMED = '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAUNITUNITUNIT0000</AccessKeyId>'
  + '<SecretAccessKey>unit</SecretAccessKey><SessionToken>unit</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>'
  + '<AssumedRoleUser><Arn>arn:aws:sts::222233334444:assumed-role/tessera-acme-model-invoker/tessera-acme-invoke</Arn><AssumedRoleId>AROAUNIT:tessera-acme-invoke</AssumedRoleId></AssumedRoleUser>'
  + '</AssumeRoleResult><ResponseMetadata><RequestId>unit</RequestId></ResponseMetadata></AssumeRoleResponse>';

/** HTTP requests per command: STS's AssumeRole answered with a session, every InvokeEndpoint as an unavailable endpoint. */
const http = stubSdkHttp((command): StubbedAnswer => (command === 'AssumeRoleCommand'
  ? { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: ASSUMED }
  : { statusCode: 503, headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceUnavailable', 'x-amzn-requestid': 'req-unavailable' }, body: JSON.stringify({ message: 'Service is unavailable' }) }));

const model = (invokeRoleArn?: string): ModelEntry => ({ id: 'sagemaker/acme-support', upstream: 'acme-support', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, ...(invokeRoleArn ? { invokeRoleArn } : {}) });
const BODY = { model: 'sagemaker/acme-support', messages: [{ role: 'user', content: 'hi' }] } as ChatCompletionCreateParams;
const gateway = () => {
  const provider = new SageMakerProvider();
  return new UpstreamCalls(async () => provider, { firstByteMs: 10_000, idleMs: 10_000, retries: 1 });
};

describe('SageMaker endpoints through the gateway: one SDK attempt per gateway attempt', () => {
  for (const [who, role] of [['the platform\'s client', undefined], ['a tenant\'s model-invoker session', 'arn:aws:iam::222233334444:role/tessera-acme-model-invoker']] as const) {
    it(`InvokeEndpoint and its stream, as ${who}: 2 gateway attempts (retries: 1) are 2 HTTP requests each`, async () => {
      const whole = await gateway().complete([model(role)], { body: BODY, tenantId: 'acme' }, new AbortController().signal).catch((e: unknown) => e);
      expect(whole).toBeInstanceOf(GatewayError);
      expect((whole as GatewayError).status).toBeGreaterThanOrEqual(500);
      const streamed = await gateway().stream([model(role)], { body: { ...BODY, stream: true }, tenantId: 'acme' }, new AbortController().signal).catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(GatewayError);
      const { AssumeRoleCommand: _sts, ...calls } = http.attempts;
      expect(calls).toEqual({ InvokeEndpointCommand: 2, InvokeEndpointWithResponseStreamCommand: 2 });
    });
  }
});
