import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ROLE_CLAIM, TENANT_CLAIM } from './auth.js';

/** Local development signing keys of `tessera serve` (ES256), kept in a file the server and `dev-token` share. */
export const DEV_ISSUER = 'https://tessera.local/dev';
export const DEV_AUDIENCE = 'tessera';

interface DevKeys { privateJwk: JWK; publicJwk: JWK }

export async function devKeys(file: string): Promise<DevKeys> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const keys = { privateJwk: { ...(await exportJWK(privateKey)), kid: 'tessera-dev', alg: 'ES256' }, publicJwk: { ...(await exportJWK(publicKey)), kid: 'tessera-dev', alg: 'ES256', use: 'sig' } };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

export async function mintDevToken(file: string, claims: { tenantId: string; sub?: string; role?: string; expiresIn?: string; issuer?: string; audience?: string }): Promise<string> {
  const keys = await devKeys(file);
  return new SignJWT({ [TENANT_CLAIM]: claims.tenantId, [ROLE_CLAIM]: claims.role ?? 'member' })
    .setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' })
    .setIssuer(claims.issuer ?? DEV_ISSUER)
    .setAudience(claims.audience ?? DEV_AUDIENCE)
    .setSubject(claims.sub ?? `dev-user@${claims.tenantId}`)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '1h')
    .sign(await importJWK(keys.privateJwk, 'ES256'));
}
