/** The issuer an authenticator app shows for the Tessera entry. */
export const TOTP_ISSUER = 'Tessera';

/**
 * The `otpauth://totp/...` URI of a TOTP secret (Google Authenticator's Key Uri Format:
 * label `issuer:account`, base32 `secret`, SHA1, 6 digits, 30 s — the parameters Cognito's TOTP
 * uses), for authenticator apps and QR-code generators.
 */
export function totpUri(secret: string, account: string, issuer = TOTP_ISSUER): string {
  const params = new URLSearchParams({ secret, issuer, algorithm: 'SHA1', digits: '6', period: '30' });
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?${params}`;
}
