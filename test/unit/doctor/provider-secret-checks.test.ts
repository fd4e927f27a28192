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
    expect(await providerSecretChecks(testContext(config))).toEqual([expect.objectContaining({ status: 'pass', detail: 'no gateway.providers.*.apiKeySecretId in the config' })]);
  });
});
