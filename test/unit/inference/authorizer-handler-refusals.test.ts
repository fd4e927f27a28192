import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { forbidden, GatewayError, unauthorized } from '../../../lambdas/inference/openai-errors.js';
import { logSpy } from '../../support/service-log.js';

// What API Gateway makes of each answer of the authorizer Lambda: "Unauthorized" → UNAUTHORIZED
// (401), a Deny → ACCESS_DENIED (403, with the Deny's context), any other throw → AUTHORIZER_FAILURE (500).
const fake = vi.hoisted(() => ({ authorize: vi.fn(), settled: vi.fn(async () => {}) }));
vi.mock('../../../lambdas/inference/lambda-deps.js', () => ({ lambdaAuthorizer: async () => fake }));
const { handler } = await import('../../../lambdas/inference/authorizer-handler.js');

const event = { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:111111111111:abc123/prod/POST/v1/chat/completions', headers: { authorization: 'Bearer x' } } as unknown as APIGatewayRequestAuthorizerEvent;

describe('the authorizer Lambda\'s refusals', () => {
  it('a 403 is a Deny whose context holds the code and the message, escaped for the gateway response\'s JSON', async () => {
    fake.authorize.mockRejectedValueOnce(forbidden('tenant "acme" is SUSPENDED\n(since \\ today)', 'tenant_not_active'));
    const answer = await handler(event);
    // Every /v1 method, as the Allow: API Gateway reuses a cached answer for any method of the same Authorization header.
    expect(answer.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: 'arn:aws:execute-api:us-east-1:111111111111:abc123/*/*/v1/*' }]);
    expect(answer.context).toEqual({ reason: 'tenant_not_active', message: 'tenant \\"acme\\" is SUSPENDED\\n(since \\\\ today)' });
    expect(JSON.parse(`"${answer.context!.message}"`)).toBe('tenant "acme" is SUSPENDED\n(since \\ today)');
  });

  it('a 401 throws "Unauthorized", and logs the reason under API Gateway\'s request id (the answer cannot carry it)', async () => {
    const log = logSpy('tessera-gateway', 'info');
    fake.authorize.mockRejectedValueOnce(unauthorized('API key key_1 was revoked at 2026-12-01T00:00:00Z', 'api_key_revoked').withAudit({ tenantId: 'acme', keyId: 'key_1' }));
    await expect(handler({ ...event, requestContext: { requestId: 'c0ffee00-0000-4000-8000-000000000001' } } as never)).rejects.toThrow(/^Unauthorized$/);
    expect(log.lines()).toEqual([{
      level: 'INFO', message: 'credentials refused', requestId: 'c0ffee00-0000-4000-8000-000000000001', status: 401, code: 'api_key_revoked',
      reason: 'API key key_1 was revoked at 2026-12-01T00:00:00Z', tenantId: 'acme', keyId: 'key_1',
    }]);
    log.mockRestore();
  });

  it('a check that could not be made (the key set, DynamoDB) throws something else: API Gateway\'s 500, which the SDKs retry, not a 401', async () => {
    const log = logSpy('tessera-gateway', 'error');
    for (const failure of [new GatewayError(503, 'the identity provider\'s key set could not be read', 'server_error', 'identity_provider_unavailable'), Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' })]) {
      fake.authorize.mockRejectedValueOnce(failure);
      const thrown = await handler(event).then(() => undefined, (e: Error) => e);
      expect(thrown?.message).not.toBe('Unauthorized');
      expect(thrown?.message).toMatch(/^AuthorizerFailure/);
    }
    expect(log.lines().map((l) => l.error)).toEqual([expect.stringContaining('identity provider'), 'ProvisionedThroughputExceededException: Rate exceeded']);
    log.mockRestore();
  });
});

describe('the authorizer Lambda reads the Authorization header whatever its name\'s case', () => {
  it('passes the value of `AUTHORIZATION` (API Gateway hands the name as sent) to the check', async () => {
    fake.authorize.mockResolvedValueOnce({ tenantId: 'acme', userId: 'u1', role: 'developer', tenant: {} });
    const answer = await handler({ ...event, headers: { AUTHORIZATION: 'Bearer upper' } } as never);
    expect(fake.authorize).toHaveBeenLastCalledWith('Bearer upper');
    expect(answer.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });
});
