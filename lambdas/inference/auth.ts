import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ApiKeyRecord } from '../../lib/identity/api-key-record.js';
import type { Role } from '../../lib/identity/roles.js';
import { SERVING_STATUSES, type TenantRecord } from '../../lib/tenant-record.js';
import { forbidden, unauthorized } from './openai-errors.js';
import type { GatewayStore } from './stores/gateway-store.js';

/** Where a tenant's identity comes from: only these verified claims, never the request body. */
export const TENANT_CLAIM = 'tessera:tenant-id';
export const ROLE_CLAIM = 'tessera:role';

/**
 * Who is calling, from verified claims or the key's record only. A key caller's `userId` is its
 * key id (`key_…`), so every audit record names the user or the key.
 */
export interface Caller {
  tenantId: string;
  userId: string;
  role: Role;
  tenant: TenantRecord;
  /** Set when the caller authenticated with a tenant API key (`tsk_…`): its id and record. */
  keyId?: string;
  key?: ApiKeyRecord;
}

export interface JwtSettings {
  issuer: string;
  audience: string;
  /** A remote JWKS URL, or a JWKS object (local dev keys). */
  jwks: string | { keys: unknown[] };
}

/**
 * Verifies the bearer JWT (signature against the JWKS, issuer, audience, expiry) and resolves the
 * tenant from its claims; an unknown, suspended or offboarded tenant is refused. Results are
 * cached per token until the earlier of its expiry and `cacheMs` (the gateway's authorizer TTL).
 */
export class Authorizer {
  private readonly keys: JWTVerifyGetKey;
  private readonly cache = new Map<string, { caller: Caller; until: number }>();

  constructor(private readonly settings: JwtSettings, private readonly store: GatewayStore, private readonly cacheMs = 60_000) {
    this.keys = typeof settings.jwks === 'string' ? createRemoteJWKSet(new URL(settings.jwks)) : createLocalJWKSet(settings.jwks as never);
  }

  async authorize(header: string | undefined): Promise<Caller> {
    if (!header) throw unauthorized('missing Authorization header: send "Authorization: Bearer <token>"', 'missing_token');
    // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are Bearer.
    const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(header.trim());
    if (!match) throw unauthorized(/^Bearer +\S/i.test(header.trim()) ? 'the bearer token is not a JWT (three base64url parts separated by dots): send a token issued by the platform\'s identity provider' : 'Authorization header must be "Bearer <JWT>"', 'malformed_token');
    const token = match[1];
    const cached = this.cache.get(token);
    if (cached && cached.until > Date.now()) return this.check(cached.caller.tenantId, cached.caller);

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, { issuer: this.settings.issuer, audience: this.settings.audience, clockTolerance: 5 }));
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'invalid_token';
      const reason = code === 'ERR_JWT_EXPIRED' ? 'token expired' : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `token claim rejected: ${(e as Error).message}` : 'token signature or format is invalid';
      throw unauthorized(reason, code === 'ERR_JWT_EXPIRED' ? 'token_expired' : 'invalid_token');
    }
    const tenantId = payload[TENANT_CLAIM] ?? payload['custom:tenant_id'];
    if (typeof tenantId !== 'string' || !tenantId) throw unauthorized(`token has no ${TENANT_CLAIM} claim`, 'missing_tenant_claim');
    const caller = await this.check(tenantId, undefined, payload);
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Date.now();
    this.cache.set(token, { caller, until: Math.min(exp, Date.now() + this.cacheMs) });
    return caller;
  }

  private async check(tenantId: string, cached?: Caller, payload?: Record<string, unknown>): Promise<Caller> {
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw forbidden(`tenant "${tenantId}" is not registered`, 'unknown_tenant');
    if (!SERVING_STATUSES.includes(tenant.status)) throw forbidden(`tenant "${tenantId}" is ${tenant.status}; the gateway serves ${SERVING_STATUSES.join(' and ')} tenants only`, 'tenant_not_active');
    if (cached) return { ...cached, tenant };
    return { tenantId, tenant, userId: String(payload?.sub ?? 'unknown'), role: String(payload?.[ROLE_CLAIM] ?? 'member') as Role };
  }
}
