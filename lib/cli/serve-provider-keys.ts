// `tessera serve --provider-keys <file>`: the platform provider keys by the secret names the deployed router reads
// (gateway.providers.<p>.apiKeySecretId, gateway.models[].deployments[].apiKeySecretId), read and checked at start.
import { closeSync, openSync, readSync } from 'node:fs';
import { PROVIDER_SECRET_NAME } from '../config/schema.js';
import type { PlatformConfig } from '../config/schema.js';
import { providerSecretOf, secretUsesOf, type LocalProviderKeys } from '../../lambdas/inference/local-provider-keys.js';
import { nearest } from '../config/nearest.js';
import { ServeError } from './serve-setup.js';

/** The providers whose keys are secrets (bedrock and sagemaker call AWS with credentials). */
const KEYED_PROVIDERS = ['openai', 'huggingface', 'openai-compatible'] as const;

/** The largest --provider-keys file read: keys are short; a larger file is not one. */
const MAX_KEYS_FILE_BYTES = 1024 * 1024;
/** The longest name outside tessera/providers/ a refusal quotes: a longer one may be a key written in the name's place. */
const MAX_QUOTED_NAME = 32;

/**
 * The first MAX_KEYS_FILE_BYTES + 1 bytes of `file` at most, read until its end or past the bound: a device or a pipe
 * that never ends (`/dev/zero`, `/dev/stdin` held open) is not read whole (readFileSync held it until memory ran out).
 */
function readBounded(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_KEYS_FILE_BYTES + 1);
    let length = 0;
    for (let n; length < buf.byteLength && (n = readSync(fd, buf, length, buf.byteLength - length, null)) > 0; ) length += n;
    return buf.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a `--provider-keys` file: one JSON object, each key a platform secret name under `tessera/providers/` (the
 * names the config's `apiKeySecretId`s give, PROVIDER_SECRET_NAME) and each value that secret's key, a non-empty string:
 * `{"tessera/providers/openai": "sk-…", "tessera/providers/openai-eu": "sk-…"}`. A file, not an environment variable
 * per secret: a secret name's `/`, `.`, `+`, `=` and `@` have no place in a variable's name, and a name mangled into one
 * could stand for two secrets; not the command line, where a key lands in the shell's history and in `ps`.
 * @throws ServeError (exit 2) naming the file and what is wrong (unreadable, too large, not JSON, not an object, a name
 *   outside tessera/providers/, a value that is not a non-empty string); never quoting a value, nor a name that may be
 *   a key (nameOutside)
 */
export function readProviderKeysFile(file: string): LocalProviderKeys {
  let text: string;
  try {
    const bytes = readBounded(file);
    if (bytes.length > MAX_KEYS_FILE_BYTES) throw new ServeError(`--provider-keys ${file}: more than ${MAX_KEYS_FILE_BYTES} bytes, more than a keys file holds; give the JSON object of secret names and keys`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof ServeError) throw e;
    throw new ServeError(`--provider-keys ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: V8's quotes the text it could not read, which may be a key.
    throw new ServeError(`--provider-keys ${file}: not JSON; give one object of secret names and keys, e.g. {"tessera/providers/openai": "sk-…"}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServeError(`--provider-keys ${file}: expected one JSON object of secret names and keys, e.g. {"tessera/providers/openai": "sk-…"}, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!PROVIDER_SECRET_NAME.test(name)) throw new ServeError(`--provider-keys ${file}: ${nameOutside(name, value)} is not a platform secret name (tessera/providers/…, as the config's apiKeySecretId gives it)`);
    if (typeof value !== 'string' || value.trim() === '') throw new ServeError(`--provider-keys ${file}: the key of ${name} must be a non-empty string (got ${typeof value === 'string' ? 'an empty one' : typeof value})`);
    keys[name] = value;
  }
  return keys;
}

/**
 * How a refusal names a member whose name is not a platform secret name, never quoting what may be a key: a name and
 * key swapped (its value a platform secret name) or a name longer than MAX_QUOTED_NAME characters is described, not quoted.
 */
function nameOutside(name: string, value: unknown): string {
  if (typeof value === 'string' && PROVIDER_SECRET_NAME.test(value)) return `the name given the value ${value} (not quoted: a key written in the name's place? write {"${value}": "<key>"})`;
  if (name.length > MAX_QUOTED_NAME) return `a name of ${name.length} characters (not quoted: it may be a key)`;
  return JSON.stringify(name);
}

/**
 * Refuses a start that would call a deployment with another secret's key, as the deployed router never does: for each
 * OpenAI-speaking provider serve reaches (`served`), every secret its catalog models read (secretUsesOf) must have a
 * key: a deployment's own `apiKeySecretId` one in `keys` (the `--provider-keys` file), the provider's own one there or
 * `--upstream-key`. Under `--upstream` the providers' endpoints are the local server, which answers whatever the key
 * (a key the file lacks falls back to `--upstream-key`): only a deployment with its own `baseUrl` and `apiKeySecretId`,
 * which serve still calls at that `baseUrl`, is refused there without its key.
 * A missing secret near (nearest: a few edits) a name the file gives that no provider or model reads is named with it, as
 * a likely misspelling (`tessera/providers/openai-ue` for `…/openai-eu`).
 * @param file the `--provider-keys` file as given, named in the message (undefined: none was given)
 * @throws ServeError (exit 2) listing each model and deployment without a key, with the secret it reads and the fix
 */
export function checkProviderKeys(config: PlatformConfig, options: { served: readonly string[]; upstream?: string; upstreamKey?: string; keys?: LocalProviderKeys; file?: string }): void {
  const has = (secret: string) => Boolean(options.keys && Object.hasOwn(options.keys, secret));
  const read = new Set(KEYED_PROVIDERS.flatMap((p) => [providerSecretOf(config, p), ...secretUsesOf(config, p).map((u) => u.secret)]));
  const unread = Object.keys(options.keys ?? {}).filter((name) => !read.has(name));
  const missing: string[] = [];
  for (const provider of options.served) {
    for (const use of secretUsesOf(config, provider)) {
      // Under --upstream only a deployment with its own baseUrl is called elsewhere than the local server.
      if (use.secret === undefined || has(use.secret) || (options.upstream && !(use.deploymentOwn && use.baseUrl))) continue;
      if (!use.deploymentOwn && options.upstreamKey) continue;
      const where = use.deploymentOwn ? 'its apiKeySecretId' : `gateway.providers.${provider}.apiKeySecretId`;
      const fix = options.file ? `add "${use.secret}": "<key>" to --provider-keys ${options.file}` : `give --provider-keys <file> with "${use.secret}": "<key>"`;
      const near = nearest(use.secret, unread);
      const misspelt = near ? `; the file's ${JSON.stringify(near)} is read by no provider or model: a misspelling of it?` : '';
      missing.push(`${use.who} reads its key from ${use.secret} (${where}), which serve has no key for: ${fix}${use.deploymentOwn ? '' : ' (or --upstream-key)'}${misspelt}`);
    }
  }
  if (missing.length) {
    throw new ServeError(`no key for ${missing.length === 1 ? 'a secret' : `${missing.length} secrets`} the deployed router reads (each deployment is called with its own secret's key, never another's):\n  ${missing.join('\n  ')}`);
  }
}
