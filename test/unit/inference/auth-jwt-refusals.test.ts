import { exportJWK, generateKeyPair, SignJWT, type CryptoKey as JoseKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { Authorizer, type JwtSettings } from '../../../lambdas/inference/auth.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'tessera';
let trusted: { privateKey: JoseKey; publicJwk: JWK };
let other: JoseKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  trusted = { privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'tessera-dev', alg: 'ES256' } };
  other = (await generateKeyPair('ES256')).privateKey;
});

const sign = (key: JoseKey, kid: string) =>
  new SignJWT({ 'tessera:tenant-id': 'acme' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('u').setIssuedAt().setExpirationTime('1h').sign(key);

async function refusal(settings: Partial<JwtSettings>, token: string): Promise<GatewayError> {
  const store = new MemoryStore();
  store.putTenant(localTenant('acme', 'starter'));
  const authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [trusted.publicJwk] }, ...settings }, store);
  const e = await authorizer.authorize(`Bearer ${token}`).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

describe('Authorizer: a JWT the gateway\'s keys do not verify says which and where its tokens come from', () => {
  const hint = 'this gateway accepts tokens signed with the dev key in /srv/.tessera/dev-keys.json';

  it('the same kid signed by another key (another state directory\'s dev key): the signature, the kid and the hint', async () => {
    const e = await refusal({ keyHint: hint }, await sign(other, 'tessera-dev'));
    expect([e.status, e.code, e.type]).toEqual([401, 'invalid_token', 'authentication_error']);
    expect(e.message).toBe(`the token's signature does not verify with this gateway's key for kid "tessera-dev": ${hint}`);
  });

  it('a kid the key set lacks (a dev token at a gateway trusting an identity provider): the kid and the hint', async () => {
    const e = await refusal({ keyHint: hint }, await sign(other, 'dummy'));
    expect(e.code).toBe('invalid_token');
    expect(e.message).toBe(`no key in this gateway's key set matches the token's kid "dummy" and alg "ES256": ${hint}`);
  });

  it('a token without a kid, and a kid of 1,000 characters: "none", and the first 64 quoted', async () => {
    const noKid = await new SignJWT({ 'tessera:tenant-id': 'acme' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(other);
    expect((await refusal({}, noKid)).message).toBe('the token\'s signature does not verify with this gateway\'s key for kid none');
    const long = (await refusal({}, await sign(other, 'k'.repeat(1000)))).message;
    expect(long).toBe(`no key in this gateway's key set matches the token's kid "${'k'.repeat(64)}" and alg "ES256"`);
  });

  it('the kid of a key in the set with another alg (RS256 against an ES256 key), and a kid that is no string: both named as sent', async () => {
    const rsa = (await generateKeyPair('RS256')).privateKey;
    const wrongAlg = await new SignJWT({ 'tessera:tenant-id': 'acme' }).setProtectedHeader({ alg: 'RS256', kid: 'tessera-dev' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(rsa);
    expect((await refusal({ keyHint: hint }, wrongAlg)).message).toBe(`no key in this gateway's key set matches the token's kid "tessera-dev" and alg "RS256": ${hint}`);
    const objectKid = await new SignJWT({ 'tessera:tenant-id': 'acme' }).setProtectedHeader({ alg: 'ES256', kid: { a: 1 } as unknown as string }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(other);
    expect((await refusal({}, objectKid)).message).toMatch(/kid \{"a":1\}/);
  });

  it('without a hint, the reason alone; the trusted key\'s token is accepted', async () => {
    expect((await refusal({}, await sign(other, 'tessera-dev'))).message).toBe('the token\'s signature does not verify with this gateway\'s key for kid "tessera-dev"');
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'starter'));
    const caller = await new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [trusted.publicJwk] }, keyHint: hint }, store).authorize(`Bearer ${await sign(trusted.privateKey, 'tessera-dev')}`);
    expect(caller.tenantId).toBe('acme');
  });
});

describe('Authorizer: an issuer key set that cannot be read is the gateway\'s failure (503), not the token\'s (401)', () => {
  /** A loopback JWKS endpoint answering `status` with `body` (@default the trusted key set). */
  async function jwksServer(status: number, body = JSON.stringify({ keys: [trusted.publicJwk] })) {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => void res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const refused = { url: 'http://127.0.0.1:9/jwks.json', close: async () => {} }; // the discard port: nothing listens

  it('a JWKS endpoint answering 503, answering no JSON, or refusing connections: 503 identity_provider_unavailable naming it; a good key set then verifies', async () => {
    for (const endpoint of [await jwksServer(503, 'down'), await jwksServer(200, '<html>'), refused]) {
      const e = await refusal({ jwks: endpoint.url }, await sign(trusted.privateKey, 'tessera-dev'));
      await endpoint.close();
      expect([e.status, e.code, e.type], endpoint.url).toEqual([503, 'identity_provider_unavailable', 'server_error']);
      expect(e.message, endpoint.url).toContain(`key set (JWKS ${endpoint.url}) could not be read to verify the token`);
    }
    const good = await jwksServer(200);
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'starter'));
    const caller = await new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: good.url }, store).authorize(`Bearer ${await sign(trusted.privateKey, 'tessera-dev')}`);
    await good.close();
    expect(caller.tenantId).toBe('acme');
  });

  it('a key set that failed is answered again at once for KEY_SET_RETRY_MS, without waiting on the endpoint, then read again', async () => {
    const { KEY_SET_RETRY_MS } = await import('../../../lambdas/inference/auth.js');
    const { createServer } = await import('node:http');
    let requests = 0;
    let up = false;
    const server = createServer((_req, res) => { requests++; void (up ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [trusted.publicJwk] })) : res.writeHead(503).end('down')); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let now = 1_000_000;
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'starter'));
    const authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json` }, store, { now: () => now });
    const token = await sign(trusted.privateKey, 'tessera-dev');
    const first = await authorizer.authorize(`Bearer ${token}`).catch((e: GatewayError) => e);
    const again = await authorizer.authorize(`Bearer ${token}`).catch((e: GatewayError) => e);
    expect([first, again].map((e) => (e as GatewayError).code)).toEqual(['identity_provider_unavailable', 'identity_provider_unavailable']);
    expect(requests).toBe(1);
    // The wait until the key set is read again, which the SDKs honour (retry-after-ms first): their own 0.5 s and 1 s
    // backoff fell inside it, two retries refused the same without a read.
    expect((first as GatewayError).headers).toEqual({ 'retry-after': '5', 'retry-after-ms': String(KEY_SET_RETRY_MS) });
    now += 1_200;
    const later = await authorizer.authorize(`Bearer ${token}`).catch((e: GatewayError) => e);
    expect((later as GatewayError).headers).toEqual({ 'retry-after': '4', 'retry-after-ms': String(KEY_SET_RETRY_MS - 1_200) });
    expect(requests).toBe(1);
    up = true;
    now += KEY_SET_RETRY_MS - 1_200;
    expect((await authorizer.authorize(`Bearer ${token}`)).tenantId).toBe('acme');
    expect(requests).toBe(2);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a token a reachable key set does not verify stays a 401', async () => {
    const good = await jwksServer(200);
    const e = await refusal({ jwks: good.url }, await sign(other, 'tessera-dev'));
    await good.close();
    expect([e.status, e.code]).toEqual([401, 'invalid_token']);
  });
});

describe('Authorizer: a tenant claim no registered tenant can have', () => {
  it('is 403 unknown_tenant without a lookup (a 3 KB claim, upper case, a path), its first 40 characters named', async () => {
    for (const claim of ['a'.repeat(3000), 'ACME', '../acme', 'acme--x']) {
      const store = new MemoryStore();
      let lookups = 0;
      const getTenant = store.getTenant.bind(store);
      store.getTenant = async (id: string) => { lookups++; return getTenant(id); };
      const token = await new SignJWT({ 'tessera:tenant-id': claim }).setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(trusted.privateKey);
      const e = await new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [trusted.publicJwk] } }, store).authorize(`Bearer ${token}`).catch((err: GatewayError) => err);
      expect([(e as GatewayError).status, (e as GatewayError).code], claim.slice(0, 10)).toEqual([403, 'unknown_tenant']);
      expect((e as GatewayError).message).toBe(`tenant "${claim.slice(0, 40)}" is not registered`);
      expect(lookups).toBe(0);
    }
  });
});

describe('Authorizer: a token without a sub names no user', () => {
  it('is 401 missing_subject_claim (absent, empty or not a string), with no lookup; the same token with a sub is the user it names', async () => {
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'starter'));
    let lookups = 0;
    const getTenant = store.getTenant.bind(store);
    store.getTenant = async (id: string) => { lookups++; return getTenant(id); };
    const authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [trusted.publicJwk] } }, store);
    const token = (sub?: unknown) => new SignJWT({ 'tessera:tenant-id': 'acme', ...(sub === undefined ? {} : { sub }) } as never).setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('1h').sign(trusted.privateKey);
    // Two users' tokens without a sub were both the user "unknown": one's cached answers (scope caller) were the other's.
    for (const sub of [undefined, '', 42, { id: 'u' }]) {
      const e = await authorizer.authorize(`Bearer ${await token(sub)}`).catch((err: GatewayError) => err);
      expect([(e as GatewayError).status, (e as GatewayError).code], JSON.stringify(sub)).toEqual([401, 'missing_subject_claim']);
      expect((e as GatewayError).message).toBe('token has no sub claim (a string naming the user): the gateway tells users apart by it');
    }
    expect(lookups).toBe(0);
    expect(await authorizer.authorize(`Bearer ${await token('ada')}`)).toMatchObject({ tenantId: 'acme', userId: 'ada' });
  });
});
