import { BedrockClient, GetFoundationModelAvailabilityCommand, BedrockServiceException } from '@aws-sdk/client-bedrock';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { bedrockChecks, foundationModelId } from '../../../lib/cli/doctor/bedrock-checks.js';
import { awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const bedrock = mockStrict(BedrockClient, 'bedrock', BedrockServiceException);
const available = (modelId: string) => ({
  modelId, authorizationStatus: 'AUTHORIZED' as const, entitlementAvailability: 'AVAILABLE' as const, regionAvailability: 'AVAILABLE' as const, agreementAvailability: { status: 'AVAILABLE' as const },
});

beforeEach(() => {
  bedrock.reset();
  mockSts();
  bedrock.on(GetFoundationModelAvailabilityCommand).callsFake((input: { modelId: string }) => available(input.modelId));
});

describe('Bedrock model access', () => {
  it('strips a cross-region inference profile prefix', () => {
    expect(foundationModelId('us.anthropic.claude-3-5-haiku-20241022-v1:0')).toEqual({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', profilePrefix: 'us' });
    expect(foundationModelId('amazon.nova-lite-v1:0')).toEqual({ modelId: 'amazon.nova-lite-v1:0' });
  });

  it('passes each bedrock/ model of the catalog (and only those), in the platform account', async () => {
    const lines = await bedrockChecks(testContext());
    expect(lines.map((l) => [l.id, l.status, l.account])).toEqual([
      ['bedrock-model:bedrock/anthropic.claude-3-5-haiku', 'pass', PLATFORM],
      ['bedrock-model:bedrock/amazon.nova-lite', 'pass', PLATFORM],
      ['bedrock-model:bedrock/amazon.titan-embed-text-v2', 'pass', PLATFORM],
      ['bedrock-model:bedrock/cohere.embed-english-v3', 'pass', PLATFORM],
    ]);
  });

  it('checks an inference profile\'s foundation model and says so', async () => {
    const config = testConfig({ gateway: { models: [{ id: 'bedrock/claude', upstream: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', inputPricePer1k: 0, outputPricePer1k: 0 }] } });
    const [line] = await bedrockChecks(testContext(config));
    expect(bedrock.commandCalls(GetFoundationModelAvailabilityCommand)[0].args[0].input.modelId).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(line.detail).toContain('(upstream us.anthropic.claude-3-5-haiku-20241022-v1:0 is a "us." cross-region inference profile: checked its foundation model)');
  });

  it('fails a model without access, naming the console page', async () => {
    bedrock.on(GetFoundationModelAvailabilityCommand).resolves({ ...available('amazon.nova-lite-v1:0'), authorizationStatus: 'NOT_AUTHORIZED', entitlementAvailability: 'NOT_AVAILABLE' });
    const [line] = await bedrockChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^no model access: authorization NOT_AUTHORIZED, entitlement NOT_AVAILABLE/);
    expect(line.fix).toBe(`in account ${PLATFORM}, open the Bedrock console's Model access page (https://us-east-1.console.aws.amazon.com/bedrock/home?region=us-east-1#/modelaccess) and request access to anthropic.claude-3-5-haiku-20241022-v1:0`);
  });

  it('fails a model not offered in the Region', async () => {
    bedrock.on(GetFoundationModelAvailabilityCommand).resolves({ ...available('x'), regionAvailability: 'NOT_AVAILABLE' });
    const [line] = await bedrockChecks(testContext());
    expect(line).toMatchObject({ status: 'fail' });
    expect(line.detail).toMatch(/^not offered in us-east-1/);
  });

  it('warns while the agreement is pending', async () => {
    bedrock.on(GetFoundationModelAvailabilityCommand).resolves({ ...available('x'), agreementAvailability: { status: 'PENDING' } });
    const [line] = await bedrockChecks(testContext());
    expect(line.status).toBe('warn');
  });

  it('fails an unknown model id (ResourceNotFoundException) with the list command', async () => {
    bedrock.on(GetFoundationModelAvailabilityCommand).rejects(awsError('ResourceNotFoundException', 'The model does not exist'));
    const [line] = await bedrockChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.fix).toContain('aws bedrock list-foundation-models --region us-east-1');
  });

  it('translates AccessDenied', async () => {
    bedrock.on(GetFoundationModelAvailabilityCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const [line] = await bedrockChecks(testContext());
    expect(line.detail).toMatch(/^bedrock:GetFoundationModelAvailability failed: AccessDeniedException: not authorized \(your credentials/);
  });

  // Against moto (no GetFoundationModelAvailability: an HTML 501) and for a throttled read, doctor said
  // "bedrock:GetFoundationModelAvailability failed: SyntaxError: Unexpected token 'T', "The get_fo"... is not valid JSON"
  // with "fix: grant bedrock:GetFoundationModelAvailability to role …": no grant changes either.
  it('a grant is the fix of a refusal only: a throttled read and an answer that is not Bedrock\'s say to rerun, with the CLI command; the latter names the endpoint', async () => {
    const grant = `grant bedrock:GetFoundationModelAvailability to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`;
    const look = `rerun doctor; if it persists, see AWS's answer: in account ${PLATFORM}: aws bedrock get-foundation-model-availability --model-id anthropic.claude-3-5-haiku-20241022-v1:0 --region us-east-1`;
    bedrock.on(GetFoundationModelAvailabilityCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    expect((await bedrockChecks(testContext()))[0].fix).toBe(grant);
    bedrock.on(GetFoundationModelAvailabilityCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 429));
    expect((await bedrockChecks(testContext()))[0]).toMatchObject({ status: 'fail', detail: 'bedrock:GetFoundationModelAvailability failed: ThrottlingException: Rate exceeded', fix: look });
    const html = Object.assign(new SyntaxError('Unexpected token \'T\', "The get_fo"... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { $response: { statusCode: 501 } });
    bedrock.on(GetFoundationModelAvailabilityCommand).rejects(html);
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:40359';
    try {
      expect((await bedrockChecks(testContext()))[0]).toMatchObject({
        status: 'fail',
        detail: 'bedrock:GetFoundationModelAvailability failed: the endpoint http://127.0.0.1:40359 (AWS_ENDPOINT_URL) answered HTTP 501 with a body that is not the service\'s answer (an emulator without this call, such as moto, or a proxy)',
        fix: look,
      });
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it('passes with no call when the catalog has no bedrock/ model', async () => {
    const config = testConfig({ gateway: { models: [{ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0, outputPricePer1k: 0 }] } });
    expect(await bedrockChecks(testContext(config))).toEqual([expect.objectContaining({ status: 'pass', detail: 'no bedrock/ model in gateway.models' })]);
    expect(bedrock.commandCalls(GetFoundationModelAvailabilityCommand)).toHaveLength(0);
  });
});
