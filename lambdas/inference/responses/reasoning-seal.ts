import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The sealed form of a reasoning item's text, for `include: ["reasoning.encrypted_content"]` (OpenAI's stateless
 * reasoning: with `store: false` the client carries a reasoning model's items from turn to turn, each with an opaque
 * `encrypted_content`, and sends them back in the next request's `input`). The gateway's blob is AES-256-GCM (node:crypto)
 * under a key derived with HKDF-SHA256 from the platform's secret and the tenant id, with the tenant id as the additional
 * authenticated data: only this platform makes one, and a tenant's blob opens for that tenant only (another tenant's,
 * or a forged or altered one, fails its tag check).
 *
 * Blob: base64 of `version (1 byte, 1) ‖ IV (12 bytes, random) ‖ tag (16 bytes) ‖ ciphertext`, the plaintext the
 * JSON `{"id": "rs_…", "text": "…"}` of the item.
 */
export interface ReasoningSeal {
  /** The blob of one reasoning item of `tenantId`'s answer. */
  seal(tenantId: string, sealed: SealedReasoning): Promise<string>;
  /**
   * Opens a blob a caller of `tenantId` sent back.
   * @returns the item it sealed, or undefined when it is not one of this platform's blobs for that tenant (not base64 of
   *   the layout above, another version, a tag that does not check: forged, altered or another tenant's)
   */
  open(tenantId: string, blob: string): Promise<SealedReasoning | undefined>;
}

/** What a blob holds: the reasoning item's id and its text (its `reasoning_text` parts, joined). */
export interface SealedReasoning {
  id: string;
  text: string;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The fewest bytes the platform secret may have (the Secrets Manager secret is 64 characters, serve's key file 32 bytes). */
const MIN_SECRET_BYTES = 32;
/** HKDF salt: names the use, so a key derived from the same platform secret for anything else differs. */
const SALT = 'tessera/responses/reasoning.encrypted_content/v1';

/**
 * The seal of a platform secret (at least 32 bytes of entropy: Secrets Manager's generated string on AWS, 32 random
 * bytes in `tessera serve`'s state dir), read once when first needed and kept.
 * @param secret reads the platform secret; called once (a failure is not kept: the next use reads again)
 * @throws Error (from seal and open) when the secret is shorter than 32 bytes: it is not used
 */
export function reasoningSeal(secret: () => Promise<Uint8Array>): ReasoningSeal {
  let ikm: Promise<Uint8Array> | undefined;
  const keyOf = async (tenantId: string): Promise<Buffer> => {
    const read = (ikm ??= secret().then((value) => {
      // A short secret (an operator's hand-set "changeme", an empty key file) would seal with a key anyone may guess.
      if (value.length < MIN_SECRET_BYTES) throw new Error(`the reasoning seal's platform secret is ${value.length} bytes; it must be at least ${MIN_SECRET_BYTES}`);
      return value;
    }).catch((e: unknown) => {
      ikm = undefined;
      throw e;
    }));
    return Buffer.from(hkdfSync('sha256', await read, SALT, `tenant:${tenantId}`, 32));
  };
  return {
    async seal(tenantId, sealed) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', await keyOf(tenantId), iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(tenantId, 'utf8'));
      const body = Buffer.concat([cipher.update(JSON.stringify({ id: sealed.id, text: sealed.text }), 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]).toString('base64');
    },
    async open(tenantId, blob) {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
      const bytes = Buffer.from(blob, 'base64');
      if (bytes.length <= 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', await keyOf(tenantId), bytes.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(tenantId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      try {
        const plain = Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
        const value = JSON.parse(plain) as Partial<SealedReasoning>;
        return typeof value.id === 'string' && typeof value.text === 'string' ? { id: value.id, text: value.text } : undefined;
      } catch {
        return undefined; // the tag did not check (forged, altered, another tenant's or another platform's)
      }
    },
  };
}
