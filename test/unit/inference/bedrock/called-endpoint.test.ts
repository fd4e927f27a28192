import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { ProviderError } from '../../../../lambdas/inference/providers/provider.js';
import { BedrockProvider } from '../../../../lambdas/inference/providers/bedrock.js';
import { stubSdkHttp } from '../../../support/sdk-http-stub.js';
import { tempDir } from '../../../support/temp-dirs.js';
import { logSpy } from '../../../support/service-log.js';
import { nameRequestLog, withRequestLog } from '../../../../lambdas/shared/request-log-context.js';

/**
 * Under `tessera serve --profile <p>` (AWS_PROFILE) the SDK sends Bedrock's calls where the profile's
 * `endpoint_url` or `services` section says (aws-profiles.ts configuredEndpoint), and the caller's message for an answer
 * that is not Bedrock's named only the endpoint variables' endpoint: none here, so it blamed "a proxy between the
 * gateway and AWS". Now it names the host the SDK called. The provider's real client; a stub answers each request as
 * moto answers Converse (HTTP 500, an HTML page), just before the HTTP handler, after the endpoint is resolved.
 */
const dir = tempDir('tessera-called-endpoint-');
writeFileSync(join(dir, 'config'), [
  '[profile serve]', 'endpoint_url = http://127.0.0.1:4599', 'aws_access_key_id = unit', 'aws_secret_access_key = unit', '',
].join('\n'));
writeFileSync(join(dir, 'credentials'), '');
process.env.AWS_CONFIG_FILE = join(dir, 'config');
process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
process.env.AWS_REGION = 'us-east-1';
// The SDK's default chain skips the environment's keys when AWS_PROFILE is set: the profiles hold them.
for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']) delete process.env[v];

/** The "network" refuses the connection instead, as a profile's endpoint_url with nothing listening does. */
let refused = false;
stubSdkHttp(() => {
  if (refused) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 4599 });
  return { statusCode: 500, headers: { 'content-type': 'text/html' }, body: '<!doctype html><html><title>500 Internal Server Error</title></html>' };
});

const MODEL: ModelEntry = { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 };
const BODY = { model: MODEL.id, messages: [{ role: 'user', content: 'hi' }] } as ChatCompletionCreateParams;

process.env.AWS_PROFILE = 'serve';

let warned: ReturnType<typeof logSpy> | undefined;

async function converseError(): Promise<ProviderError> {
  warned = logSpy('tessera-gateway', 'warn');
  const e = await new BedrockProvider().complete({ model: MODEL, body: BODY, tenantId: 'acme', signal: new AbortController().signal }).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

describe('Bedrock answer not parsed: the message names the endpoint the SDK called', () => {
  it('a profile\'s endpoint_url (no endpoint variable): its host, configured, not "a proxy between the gateway and AWS"', async () => {
    const e = await converseError();
    expect(e).toMatchObject({ status: 502, details: { code: 'upstream_invalid_answer' } });
    expect(e.message).toBe("Bedrock's endpoint 127.0.0.1:4599 (configured for the SDK: a profile's endpoint_url or services section) answered HTTP 500 with a body that is not a Bedrock answer (an emulator without this call, such as moto, or a proxy)");
    expect(warned!.lines()[0]).toMatchObject({ endpoint: 'http://127.0.0.1:4599', httpStatus: 500 });
  });

  it('within a request, its line names the request and tenant (tessera serve printed it with neither: no way to the audit record)', async () => {
    const request = { requestId: 'chatcmpl-0123456789abcdef01234567', tenantId: 'acme' };
    await withRequestLog(async () => {
      nameRequestLog(request);
      await converseError();
    });
    expect(warned!.lines()[0]).toMatchObject({ message: 'Bedrock answer not parsed by the AWS SDK', requestId: request.requestId, tenantId: 'acme', endpoint: 'http://127.0.0.1:4599' });
  });
});

/**
 * Bedrock unreachable under a profile's endpoint_url said only "Bedrock's endpoint could not be reached (ECONNREFUSED
 * …)", not which endpoint nor where it came from: it names them as the answer-not-parsed message does.
 */
describe('Bedrock unreachable: the message names the endpoint the SDK called and where it came from', () => {
  it('a profile\'s endpoint_url with nothing listening: its host, configured for the SDK', async () => {
    refused = true;
    try {
      const e = await converseError();
      expect(e).toMatchObject({ retryable: true, details: { type: 'upstream_error', code: 'bedrock_unreachable' } });
      expect(e.message).toBe("Bedrock's endpoint 127.0.0.1:4599 (configured for the SDK: a profile's endpoint_url or services section) could not be reached (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4599)");
    } finally {
      refused = false;
    }
  });
});
