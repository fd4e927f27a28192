import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { providerSecretChecks } from '../../../lib/cli/doctor/provider-secret-checks.js';
import { awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const sm = mockStrict(SecretsManagerClient, 'secretsmanager', SecretsManagerServiceException);

beforeEach(() => {
  sm.reset();
  mockSts();
  sm.on(DescribeSecretCommand).resolves({ Name: 'x', VersionIdsToStages: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] } });
});

describe('provider secrets', () => {
  it('passes every provider secret with an AWSCURRENT version, read in the platform account, never reading a value', async () => {
    const lines = await providerSecretChecks(testContext());
    expect(lines.map((l) => [l.id, l.status, l.account])).toEqual([['provider-secret:openai', 'pass', PLATFORM], ['provider-secret:huggingface', 'pass', PLATFORM]]);
    expect(sm.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual(['tessera/providers/openai', 'tessera/providers/huggingface']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('fails a missing secret with create-secret in the platform account', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'tessera/providers/openai' }).rejects(awsError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.'));
    const [openai, hf] = await providerSecretChecks(testContext());
    expect(openai).toMatchObject({ status: 'fail', detail: `no secret tessera/providers/openai in account ${PLATFORM} (us-east-1)`, fix: `in account ${PLATFORM}: aws secretsmanager create-secret --region us-east-1 --name tessera/providers/openai --secret-string '<openai API key>'` });
    expect(hf.status).toBe('pass');
  });

  it('fails a secret without an AWSCURRENT version, with put-secret-value', async () => {
    sm.on(DescribeSecretCommand).resolves({ Name: 'x', VersionIdsToStages: {} });
    const [openai] = await providerSecretChecks(testContext());
    expect(openai).toMatchObject({ status: 'fail', detail: 'exists but has no AWSCURRENT version (no value was ever put)' });
    expect(openai.fix).toMatch(/^aws secretsmanager put-secret-value --region us-east-1 --secret-id tessera\/providers\/openai/);
  });

  it('fails a secret scheduled for deletion, with restore-secret', async () => {
    sm.on(DescribeSecretCommand).resolves({ Name: 'x', DeletedDate: new Date('2026-12-01T00:00:00Z'), VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    const [openai] = await providerSecretChecks(testContext());
    expect(openai).toMatchObject({ status: 'fail', fix: 'aws secretsmanager restore-secret --region us-east-1 --secret-id tessera/providers/openai' });
  });

  it('translates AccessDenied', async () => {
    sm.on(DescribeSecretCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: secretsmanager:DescribeSecret'));
    const [openai] = await providerSecretChecks(testContext());
    expect(openai.status).toBe('fail');
    expect(openai.detail).toMatch(/^secretsmanager:DescribeSecret tessera\/providers\/openai failed: AccessDeniedException/);
    expect(openai.fix).toBe(`grant secretsmanager:DescribeSecret to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('a failure other than a refusal (a server error) says to rerun, with the CLI command, not to grant', async () => {
    sm.on(DescribeSecretCommand).rejects(Object.assign(awsError('InternalServiceError', 'An error occurred on the server side.', 500), { $fault: 'server' }));
    const [openai] = await providerSecretChecks(testContext());
    expect(openai).toMatchObject({ status: 'fail', fix: `rerun doctor; if it persists, see AWS's answer: in account ${PLATFORM}: aws secretsmanager describe-secret --secret-id tessera/providers/openai --region us-east-1` });
  });

  it('fails, not crashes, when the platform account cannot be read', async () => {
    mockSts(() => true);
    const lines = await providerSecretChecks(testContext());
    expect(lines.every((l) => l.status === 'fail' && l.detail.startsWith(`not checked: cannot read account ${PLATFORM}`))).toBe(true);
  });

  it('passes when no provider names a secret', async () => {
    const config = testConfig({ gateway: { providers: { openai: { apiKeySecretId: null }, huggingface: { apiKeySecretId: null } } } });
    expect(await providerSecretChecks(testContext(config))).toEqual([expect.objectContaining({ status: 'pass', detail: 'no gateway.providers.*.apiKeySecretId or gateway.models[].deployments[].apiKeySecretId in the config' })]);
  });
});

describe('deployment secrets (gateway.models[].deployments[].apiKeySecretId)', () => {
  const model = (id: string, deployments: Array<Record<string, unknown>>) => ({ id, upstream: id.split('/')[1], inputPricePer1k: 0.001, outputPricePer1k: 0.002, deployments });
  /** Two openai entries sharing one deployment secret, one deployment on the provider's own secret, and a huggingface deployment with its own. */
  const withDeployments = () => testConfig({
    gateway: {
      models: [
        model('openai/gpt-4o', [{ name: 'home' }, { name: 'org-b', apiKeySecretId: 'tessera/providers/openai-org-b' }, { name: 'same-as-provider', baseUrl: 'https://eu.api.openai.com/v1', apiKeySecretId: 'tessera/providers/openai' }]),
        model('openai/gpt-4o-mini', [{ name: 'org-b-mini', apiKeySecretId: 'tessera/providers/openai-org-b' }]),
        model('huggingface/llama', [{ name: 'dedicated', baseUrl: 'https://x.endpoints.huggingface.cloud/v1', apiKeySecretId: 'tessera/providers/hf-dedicated' }]),
      ],
    },
  });

  it('adds one line per distinct deployment secret no provider names, described in the platform account', async () => {
    const lines = await providerSecretChecks(testContext(withDeployments()));
    expect(lines.map((l) => [l.id, l.title, l.status, l.account])).toEqual([
      ['provider-secret:openai', 'Secret tessera/providers/openai (openai)', 'pass', PLATFORM],
      ['provider-secret:huggingface', 'Secret tessera/providers/huggingface (huggingface)', 'pass', PLATFORM],
      ['provider-secret:tessera/providers/openai-org-b', 'Secret tessera/providers/openai-org-b (deployment "org-b" of openai/gpt-4o and 1 more)', 'pass', PLATFORM],
      ['provider-secret:tessera/providers/hf-dedicated', 'Secret tessera/providers/hf-dedicated (deployment "dedicated" of huggingface/llama)', 'pass', PLATFORM],
    ]);
    expect(sm.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual(['tessera/providers/openai', 'tessera/providers/huggingface', 'tessera/providers/openai-org-b', 'tessera/providers/hf-dedicated']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('fails a missing deployment secret with the same create-secret fix as a provider\'s, naming its provider', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'tessera/providers/hf-dedicated' }).rejects(awsError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.'));
    const lines = await providerSecretChecks(testContext(withDeployments()));
    expect(lines.find((l) => l.id === 'provider-secret:tessera/providers/hf-dedicated')).toMatchObject({
      status: 'fail', detail: `no secret tessera/providers/hf-dedicated in account ${PLATFORM} (us-east-1)`,
      fix: `in account ${PLATFORM}: aws secretsmanager create-secret --region us-east-1 --name tessera/providers/hf-dedicated --secret-string '<huggingface API key>'`,
    });
    expect(lines.filter((l) => l.status === 'fail')).toHaveLength(1);
  });

  it('checks deployment secrets when no provider names one', async () => {
    const base = withDeployments();
    const config = testConfig({ gateway: { providers: { openai: { apiKeySecretId: null }, huggingface: { apiKeySecretId: null } }, models: base.gateway.models } });
    sm.on(DescribeSecretCommand).resolves({ Name: 'x', VersionIdsToStages: {} });
    const lines = await providerSecretChecks(testContext(config));
    expect(lines.map((l) => l.id)).toEqual(['provider-secret:tessera/providers/openai-org-b', 'provider-secret:tessera/providers/openai', 'provider-secret:tessera/providers/hf-dedicated']);
    expect(lines[0]).toMatchObject({ status: 'fail', fix: "aws secretsmanager put-secret-value --region us-east-1 --secret-id tessera/providers/openai-org-b --secret-string '<openai API key>'" });
  });
});
