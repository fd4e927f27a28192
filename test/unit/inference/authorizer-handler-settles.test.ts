import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { unauthorized } from '../../../lambdas/inference/openai-errors.js';

// The authorizer the handler builds (lambda-deps.ts) replaced by one whose writes the test holds.
const fake = vi.hoisted(() => ({ authorize: vi.fn(), settled: vi.fn() }));
vi.mock('../../../lambdas/inference/lambda-deps.js', () => ({ lambdaAuthorizer: async () => fake }));
const { handler } = await import('../../../lambdas/inference/authorizer-handler.js');

const event = (authorization: string) => ({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:111111111111:abc123/prod/POST/v1/chat/completions', headers: { authorization } }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('the authorizer Lambda', () => {
  it('answers only after the authorizer settled (a key\'s lastUsedAt write), allowing and refusing alike', async () => {
    // GIVEN an authorizer whose pending write ends when the test says
    let release!: () => void;
    fake.settled.mockImplementation(() => new Promise<void>((r) => { release = r; }));
    fake.authorize.mockResolvedValueOnce({ tenantId: 'acme', userId: 'key_1', role: 'member', keyId: 'key_1', tenant: localTenant('acme', 'starter') });
    // WHEN the handler runs, THEN it has not answered while the write is pending
    let answered = false;
    const allowed = handler(event('Bearer tsk_x')).then((r) => { answered = true; return r; });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    expect((await allowed).policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    // AND a refusal waits too (a refused key wrote nothing, but a cached one's write may be pending)
    answered = false;
    fake.authorize.mockRejectedValueOnce(unauthorized('no such key', 'invalid_api_key'));
    const refused = handler(event('Bearer tsk_y')).then(() => 'allowed', (e: Error) => { answered = true; return e.message; });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    expect(await refused).toBe('Unauthorized');
  });
});
