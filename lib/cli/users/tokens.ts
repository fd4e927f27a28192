import type { AuthenticationResultType } from '@aws-sdk/client-cognito-identity-provider';
import { CliError } from '../cli-error.js';
import { TENANT_ATTRIBUTE } from './tenant-users.js';

/** What `tessera login --json` prints. Times are ISO 8601 (UTC); `expiresIn` is in seconds. */
export interface LoginTokens {
  /** The bearer token the gateway accepts: the ID token (`aud` = the gateway's client id, with `custom:tenant_id`). */
  idToken: string;
  /** Cognito's access token: no `aud` and no tenant claim, so the gateway refuses it; for Cognito's own user APIs. */
  accessToken: string;
  /** Exchanges for new ID and access tokens (InitiateAuth REFRESH_TOKEN_AUTH) until it expires (30 days by default). */
  refreshToken?: string;
  tokenType: string;
  expiresIn: number;
  expiresAt: string;
  tenantId: string;
  /** The address the user signed in with. */
  email: string;
}

/** The payload of a JWT, not verified (the gateway verifies; this only reads what to print). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * The tokens of a sign-in, with the tenant and expiry read from the ID token.
 * @throws CliError (exit 1) when the ID token carries no `custom:tenant_id`: the gateway would refuse it.
 */
export function loginTokens(result: AuthenticationResultType, email: string, now = Date.now()): LoginTokens {
  const idToken = result.IdToken!;
  const claims = jwtPayload(idToken);
  const tenantId = claims[TENANT_ATTRIBUTE];
  if (typeof tenantId !== 'string' || !tenantId) {
    throw new CliError(`signed in, but the ID token has no ${TENANT_ATTRIBUTE} claim, so the gateway would refuse it: this user was not created by tessera users invite; ask your platform admin to invite you with --tenant`, 1);
  }
  const expiresIn = result.ExpiresIn ?? 3600;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : now + expiresIn * 1000;
  return {
    idToken, accessToken: result.AccessToken ?? '', refreshToken: result.RefreshToken, tokenType: result.TokenType ?? 'Bearer',
    expiresIn, expiresAt: new Date(exp).toISOString(), tenantId, email,
  };
}
