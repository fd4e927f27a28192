import { BedrockClient, GetFoundationModelAvailabilityCommand, BedrockServiceException } from '@aws-sdk/client-bedrock';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { bedrockChecks, foundationModelId } from '../../../lib/cli/doctor/bedrock-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

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

  describe('Bedrock deployments (gateway.models[].deployments[].region)', () => {
    /** A catalog of one Bedrock model spread over the home region and us-west-2 (two deployments there, one foundation model). */
    const spread = () => testConfig({ gateway: { models: [{
      id: 'bedrock/nova-spread', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0.00006, outputPricePer1k: 0.00024,
      deployments: [{ name: 'east', region: 'us-east-1' }, { name: 'west', region: 'us-west-2' }, { name: 'west-profile', region: 'us-west-2', upstream: 'us.amazon.nova-lite-v1:0' }],
    }] } });
    const regionOf = async (call: { thisValue: unknown }) => (call.thisValue as { config: { region: () => Promise<string> } }).config.region();

    it('checks each deployment region once per foundation model, in the platform account, with a Bedrock client of that region', async () => {
      const lines = await bedrockChecks(testContext(spread()));
      expect(lines.map((l) => [l.id, l.title, l.status, l.account, l.region])).toEqual([
        ['bedrock-model:bedrock/nova-spread', 'Bedrock amazon.nova-lite-v1:0', 'pass', PLATFORM, 'us-east-1'],
        ['bedrock-model:bedrock/nova-spread@us-west-2', 'Bedrock amazon.nova-lite-v1:0 in us-west-2', 'pass', PLATFORM, 'us-west-2'],
      ]);
      expect(lines[1].detail).toBe('usable: authorization AUTHORIZED, entitlement AVAILABLE, region AVAILABLE, agreement AVAILABLE (deployment "west" of bedrock/nova-spread)');
      const calls = bedrock.commandCalls(GetFoundationModelAvailabilityCommand);
      expect(await Promise.all(calls.map(async (c) => [await regionOf(c), c.args[0].input.modelId, await accessKeyOf(c)]))).toEqual([
        ['us-east-1', 'amazon.nova-lite-v1:0', `AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`],
        ['us-west-2', 'amazon.nova-lite-v1:0', `AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`],
      ]);
    });

    it('fails a deployment region without access or offer, naming that region\'s console page and list command; the home line still passes', async () => {
      bedrock.on(GetFoundationModelAvailabilityCommand).callsFake(async (input: { modelId: string }, getClient: () => { config: { region: () => Promise<string> } }) => (
        (await getClient().config.region()) === 'us-west-2' ? { ...available(input.modelId), authorizationStatus: 'NOT_AUTHORIZED', entitlementAvailability: 'NOT_AVAILABLE' } : available(input.modelId)));
      const [home, west] = await bedrockChecks(testContext(spread()));
      expect(home.status).toBe('pass');
      expect(west).toMatchObject({ status: 'fail', region: 'us-west-2', fix: `in account ${PLATFORM}, open the Bedrock console's Model access page (https://us-west-2.console.aws.amazon.com/bedrock/home?region=us-west-2#/modelaccess) and request access to amazon.nova-lite-v1:0` });
      expect(west.detail).toMatch(/^no model access: authorization NOT_AUTHORIZED, .* \(deployment "west" of bedrock\/nova-spread\)$/);

      bedrock.on(GetFoundationModelAvailabilityCommand).callsFake(async (input: { modelId: string }, getClient: () => { config: { region: () => Promise<string> } }) => {
        if ((await getClient().config.region()) === 'us-west-2') throw awsError('ResourceNotFoundException', 'The model does not exist');
        return available(input.modelId);
      });
      const [, missing] = await bedrockChecks(testContext(spread()));
      expect(missing).toMatchObject({ status: 'fail', fix: 'correct deployment "west" of gateway.models "bedrock/nova-spread" (its upstream or region) (aws bedrock list-foundation-models --region us-west-2), or choose a Region that offers it' });
      expect(missing.detail).toMatch(/: no such model in us-west-2 \(deployment "west"/);
    });
  });

  it('passes with no call when the catalog has no bedrock/ model', async () => {
    const config = testConfig({ gateway: { models: [{ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0, outputPricePer1k: 0 }] } });
    expect(await bedrockChecks(testContext(config))).toEqual([expect.objectContaining({ status: 'pass', detail: 'no bedrock/ model in gateway.models' })]);
    expect(bedrock.commandCalls(GetFoundationModelAvailabilityCommand)).toHaveLength(0);
  });
});
