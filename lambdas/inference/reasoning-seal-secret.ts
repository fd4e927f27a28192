import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The platform secret of the reasoning seal (responses/reasoning-seal.ts) from Secrets Manager: the secret the platform
 * stack generates (constructs/inference-api.ts `ReasoningSealSecret`), read with the router's own credentials (its
 * `ReasoningSealSecret` grant) when first needed; reasoningSeal keeps the value for the life of the environment. The SDK
 * package is imported then, not with this module: `tessera serve` (local-gateway.ts, fileSealSecret) loads no AWS SDK
 * client for its embedded registry (command-static-imports.test.ts).
 * @param secretId the secret's ARN (`TESSERA_REASONING_SEAL_SECRET_ARN`)
 * @param client the platform's Secrets Manager client
 * @returns the secret string's UTF-8 bytes
 * @throws Error when the secret has no string value (or an empty one); the SDK's error when the read fails
 */
export function secretsManagerSealSecret(secretId: string, client: () => Promise<SecretsManagerClient>): () => Promise<Uint8Array> {
  return async () => {
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`reasoning seal secret ${secretId} has no string value`);
    return Buffer.from(out.SecretString, 'utf8');
  };
}

/** The bytes of `tessera serve`'s key file. */
const SEAL_KEY_BYTES = 32;

/**
 * `tessera serve`'s secret of the reasoning seal: 32 random bytes in `file` (`<stateDir>/reasoning-seal.key`, mode 0600,
 * beside its dev signing key), made on first use; the threads of `serve --workers N` share it (the first to write wins,
 * the others read what it wrote). The key is written whole to a file of its own, then linked to `file` (link(2) fails
 * where `file` exists, and never shows a part-written file): a thread that reads `file` meanwhile, or after a crash,
 * never reads an empty or short key, which it would keep (and seal with) for its life.
 * @throws Error when `file` holds fewer than 32 bytes (not a key this function made: remove it to make a new one)
 */
export function fileSealSecret(file: string): () => Promise<Uint8Array> {
  const read = () => {
    const key = readFileSync(file);
    if (key.length < SEAL_KEY_BYTES) throw new Error(`reasoning seal key ${file} holds ${key.length} bytes, not ${SEAL_KEY_BYTES}: remove it and tessera serve makes a new one (blobs sealed before then will not open)`);
    return key;
  };
  return async () => {
    try {
      return read();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    mkdirSync(dirname(file), { recursive: true });
    const made = `${file}.${randomBytes(8).toString('hex')}.tmp`;
    writeFileSync(made, randomBytes(SEAL_KEY_BYTES), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(made, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(made, { force: true });
    }
    return read();
  };
}
