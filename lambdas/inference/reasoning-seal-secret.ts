import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The platform secret of the reasoning seal (responses/reasoning-seal.ts) from Secrets Manager: the secret the platform
 * stack generates (constructs/inference-api.ts `ReasoningSealSecret`), read with the router's own credentials (its
 * `ReasoningSealSecret` grant) when first needed; reasoningSeal keeps the value for the life of the environment.
 * @param secretId the secret's ARN (`TESSERA_REASONING_SEAL_SECRET_ARN`)
 * @param client the platform's Secrets Manager client
 * @returns the secret string's UTF-8 bytes
 * @throws Error when the secret has no string value (or an empty one); the SDK's error when the read fails
 */
export function secretsManagerSealSecret(secretId: string, client: () => Promise<SecretsManagerClient>): () => Promise<Uint8Array> {
  return async () => {
    const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`reasoning seal secret ${secretId} has no string value`);
    return Buffer.from(out.SecretString, 'utf8');
  };
}

/**
 * `tessera serve`'s secret of the reasoning seal: 32 random bytes in `file` (`<stateDir>/reasoning-seal.key`, mode 0600,
 * beside its dev signing key), made on first use; the threads of `serve --workers N` share it (the first to write wins,
 * the others read what it wrote).
 */
export function fileSealSecret(file: string): () => Promise<Uint8Array> {
  return async () => {
    try {
      return readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return readFileSync(file);
  };
}
