import { describe, expect, it } from 'vitest';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { authorizerDenyContext } from '../../../lambdas/inference/gateway-responses.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { renderGatewayResponse } from '../../integration/support/api-gateway-emulator.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

// A message cut at a fixed number of UTF-16 units can end in half of a surrogate pair (an emoji,
// a CJK extension character). JSON.stringify escapes the lone half (`\ud83d`): the body is valid
// JSON, but the string the clients decode is not well-formed Unicode, and Python's openai client
// then raises UnicodeEncodeError as soon as the application prints or logs `str(error)`.
/** No lone surrogate (String.prototype.isWellFormed is ES2024, past this project's lib). */
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);
const RID = '11111111-2222-3333-4444-555555555555';
const messageOf = (ctx: Record<string, string>) => (JSON.parse(renderGatewayResponse('ACCESS_DENIED', RID, ctx).body) as { error: { message: string; code: string } }).error;

describe('the Deny context is well-formed Unicode', () => {
  it('a message cut at 1,024 units inside a surrogate pair keeps no half of it', () => {
    const message = `${'a'.repeat(1023)}😀 and more`;
    const out = messageOf(authorizerDenyContext(new GatewayError(403, message, 'permission_error', 'unknown_tenant')));
    expect(wellFormed(out.message)).toBe(true);
    expect(out.message).toBe(`${'a'.repeat(1023)} (request ${RID})`);
  });

  it('whole pairs are kept, and a lone surrogate in the refusal becomes U+FFFD', () => {
    const out = messageOf(authorizerDenyContext(new GatewayError(403, 'tenant "😀𝄞\ud800x\udc00" is not registered', 'permission_error', 'unknown_tenant')));
    expect(out.message).toBe(`tenant "😀𝄞\ufffdx\ufffd" is not registered (request ${RID})`);
    expect(out.code).toBe('unknown_tenant');
  });

  it('the unknown_role message, whose role claim is cut at 64 units, is well-formed', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
    const store = { getTenant: async () => undefined } as never;
    const authorizer = new Authorizer({ issuer: 'https://issuer.test', audience: 'tessera', jwks: { keys: [jwk] } } as never, store);
    const token = await new SignJWT({ 'tessera:tenant-id': 'acme', 'tessera:role': `${'r'.repeat(63)}😀` })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer('https://issuer.test').setAudience('tessera').setSubject('u').setIssuedAt().setExpirationTime('1h')
      .sign(privateKey);
    const refusal = await authorizer.authorize(`Bearer ${token}`).then(() => undefined, (e: unknown) => e as GatewayError);
    expect(refusal?.code).toBe('unknown_role');
    expect(wellFormed(refusal!.message)).toBe(true);
    expect(refusal!.message).toContain(`role claim "${'r'.repeat(63)}" names no role`);
  });
});
