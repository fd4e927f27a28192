import { describe, expect, it } from 'vitest';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { NO_API_KEY_SENTENCES } from '../../../lambdas/inference/no-api-key.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

/** The authorizer's refusal of an Authorization header value (undefined: no header). */
async function refusal(header: string | undefined): Promise<GatewayError> {
  const store = new MemoryStore();
  store.putTenant(localTenant('acme', 'starter'));
  const authorizer = new Authorizer({ issuer: 'https://issuer.test', audience: 'tessera', jwks: { keys: [] } }, store);
  const e = await authorizer.authorize(header).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

describe('a request without a Bearer credential is answered as OpenAI answers it: "You didn\'t provide an API key."', () => {
  it.each([
    ['no header', undefined, 'missing_token', /no Authorization header was sent$/],
    ['an empty header', '', 'missing_token', /no Authorization header was sent$/],
    ['Basic credentials', 'Basic dXNlcjpwYXNz', 'malformed_token', /uses the Basic scheme, not Bearer$/],
    ['a Token scheme', 'Token sk-proj-abcdefghijklmnop', 'malformed_token', /uses the Token scheme, not Bearer$/],
    ['a bare key', 'tsk_acme_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG', 'malformed_token', /one word, a key or token without "Bearer " in front of it$/],
    ['a bare OpenAI key', 'sk-proj-abcdefghijklmnop', 'malformed_token', /one word, a key or token without "Bearer " in front of it$/],
    ['Bearer and nothing else', 'Bearer ', 'malformed_token', /says Bearer with nothing after it$/],
  ])('%s: 401, type invalid_request_error, param and code null on the wire; the gateway\'s own code kept for the audit', async (_name, header, outcome, what) => {
    const e = await refusal(header);
    expect([e.status, e.type, e.param, e.code]).toEqual([401, 'invalid_request_error', null, outcome]);
    expect(JSON.parse(e.body())).toEqual({ error: { message: e.message, type: 'invalid_request_error', param: null, code: null } });
    expect(e.message.startsWith(`${NO_API_KEY_SENTENCES} This gateway takes a token issued by the platform's identity provider`)).toBe(true);
    expect(e.message).toMatch(what);
    // RFC 6750 §3.1: no error code for a request without a credential, or with one of an unsupported method.
    expect(e.headers['www-authenticate']).toBe('Bearer');
  });

  it('never repeats the credential of a header it refuses', async () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Token sk-proj-abcdefghijklmnop', 'tsk_acme_secretsecretsecret']) {
      const e = await refusal(header);
      expect(e.message).not.toContain(header.split(' ').at(-1)!);
    }
  });

  it('names no scheme longer than a scheme (a sentence pasted into the header)', async () => {
    const e = await refusal(`${'x'.repeat(30)} words`);
    expect(e.message).toMatch(/does not begin with "Bearer "$/);
  });
});
