import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mintApiKey } from '../../lib/identity/api-key.js';
import { ApiKeyRecord } from '../../lib/identity/api-key-record.js';
import type { Role } from '../../lib/identity/roles.js';
import { FileApiKeyStore } from '../identity/stores/file-api-key-store.js';
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

/**
 * The seconds from now until a token minted with `expiresIn` expires, as jose reads it (jose's
 * duration format: `15m`, `8h`, `2 days`, units s, m, h, d, w, y; `-5m` and `1h ago` are in the
 * past: 0 or less). Read from a throwaway HS256 token, so the format is exactly jose's.
 * @throws TypeError (jose's "Invalid time period format") when `expiresIn` is no duration
 */
export async function tokenLifetimeSeconds(expiresIn: string): Promise<number> {
  const probe = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiresIn).sign(new Uint8Array(32));
  return decodeJwt(probe).exp! - Math.floor(Date.now() / 1000);
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

/** Where `tessera serve` keeps tenant API key records: `<stateDir>/api-keys/` (one file per key, FileApiKeyStore). */
export const apiKeysDir = (stateDir: string) => join(stateDir, 'api-keys');

/** A tenant API key for `tessera serve` (`tessera dev-key`): who it is for and what it may do. */
export interface DevApiKeyRequest {
  tenantId: string;
  /** @default 'member' */
  role?: Role;
  /** @default 'dev key' */
  name?: string;
  /** The models it may call (a subset of the tenant's). @default - all of the tenant's */
  models?: string[];
  /** Days until it expires. @default - never */
  expiresInDays?: number;
}

/**
 * Mints a tenant API key straight into serve's key directory (`<stateDir>/api-keys/`), where every
 * worker thread of a running `tessera serve --state-dir <stateDir>` reads it on its next request.
 * The record is checked against ApiKeyRecord; the tenant's models and limits are not (serve's
 * tenants are given to serve itself): a model the tenant lacks is then a 404 at call time.
 * `createdBy` is `admin:tessera dev-key`.
 * @returns the key (shown once) and its record
 * @throws Error naming the bad value (tenant id, name, models, role)
 */
export async function createDevApiKey(stateDir: string, request: DevApiKeyRequest, now = new Date()): Promise<{ key: string; record: ApiKeyRecord }> {
  const minted = mintApiKey(request.tenantId);
  const record = ApiKeyRecord.parse({
    tenantId: request.tenantId, keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: request.name ?? 'dev key',
    role: request.role ?? 'member', models: request.models, createdBy: 'admin:tessera dev-key', createdAt: now.toISOString(),
    expiresAt: request.expiresInDays === undefined ? undefined : new Date(now.getTime() + request.expiresInDays * 86_400_000).toISOString(),
  });
  await new FileApiKeyStore(apiKeysDir(stateDir)).put(record);
  return { key: minted.key, record };
}
