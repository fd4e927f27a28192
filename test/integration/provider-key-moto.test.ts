import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTesseraProgram } from '../../lib/cli/program.js';
import { deleteProviderKey, providerKeyStatus, readKey, setProviderKey, statusLines } from '../../lib/cli/provider-key.js';
import { resetProcessEnv } from '../support/process-env.js';
import { tempDir } from '../support/temp-dirs.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

/**
 * `tessera tenants provider-key set|status|delete` against moto's Secrets Manager and STS, with the operator's
 * credentials: the secret the gateway reads (tessera/tenants/<tenant>/<provider>, tagged tessera:tenant-id, KMS key
 * alias/tessera/platform), never the key on the command line.
 */
const saved = { ...process.env };
let moto: MotoServer;
const sm = () => new SecretsManagerClient({});
const clients = () => ({ sm: sm(), sts: new STSClient({}), asRole: (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => new SecretsManagerClient({ credentials }) });

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  delete process.env.AWS_PROFILE;
  delete process.env.TESSERA_API_URL;
});
afterAll(async () => {
  await moto.stop();
  resetProcessEnv(saved);
});
beforeEach(async () => {
  await moto.reset();
});

describe('tessera tenants provider-key set', () => {
  it('from an environment variable: creates the secret tagged and encrypted as the gateway reads it; again from a file: a new version, the tag put back', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    process.env.ACME_OPENAI_KEY = 'sk-acme-1';
    try {
      expect(await runTesseraProgram(['tenants', 'provider-key', 'set', 'acme', 'openai', '--from-env', 'ACME_OPENAI_KEY'])).toBe(0);
    } finally {
      vi.restoreAllMocks();
      delete process.env.ACME_OPENAI_KEY;
    }
    expect(out.join('')).toContain('created tessera/tenants/acme/openai (tagged tessera:tenant-id=acme, encrypted with alias/tessera/platform)');
    const described = await sm().send(new DescribeSecretCommand({ SecretId: 'tessera/tenants/acme/openai' }));
    expect(described.Tags).toEqual([{ Key: 'tessera:tenant-id', Value: 'acme' }]);
    expect(described.KmsKeyId).toBe('alias/tessera/platform');
    // an operator untagged it by hand; set again from a file
    await sm().send(new UntagResourceCommand({ SecretId: 'tessera/tenants/acme/openai', TagKeys: ['tessera:tenant-id'] }));
    const file = join(tempDir('tessera-provider-key'), 'key');
    writeFileSync(file, 'sk-acme-2\n');
    const again = await setProviderKey(sm(), 'acme', 'openai', await readKey({ fromFile: file }));
    expect(again.action).toBe('updated');
    expect((await sm().send(new GetSecretValueCommand({ SecretId: 'tessera/tenants/acme/openai' }))).SecretString).toBe('sk-acme-2');
    expect((await sm().send(new DescribeSecretCommand({ SecretId: 'tessera/tenants/acme/openai' }))).Tags).toEqual([{ Key: 'tessera:tenant-id', Value: 'acme' }]);
  });

  it('takes no key as an argument, and refuses an empty or unset one and a provider that takes no key, naming them', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      expect(await runTesseraProgram(['tenants', 'provider-key', 'set', 'acme', 'openai', 'sk-on-the-command-line'])).toBe(2);
      expect(await runTesseraProgram(['tenants', 'provider-key', 'set', 'acme', 'bedrock', '--from-env', 'X'])).toBe(2);
      expect(await runTesseraProgram(['tenants', 'provider-key', 'set', 'acme', 'openai', '--from-env', 'TESSERA_UNSET_VARIABLE_FOR_TEST'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    const text = err.join('');
    expect(text).toMatch(/too many arguments/);
    expect(text).toContain('provider "bedrock": a tenant brings its own key for openai, huggingface, openai-compatible only');
    expect(text).toContain('--from-env TESSERA_UNSET_VARIABLE_FOR_TEST: the variable is not set');
    await expect(readKey({ fromEnv: 'EMPTY_KEY_FOR_TEST' }).catch((e: Error) => e.message)).resolves.toMatch(/not set/);
    process.env.EMPTY_KEY_FOR_TEST = ' \n';
    await expect(readKey({ fromEnv: 'EMPTY_KEY_FOR_TEST' })).rejects.toThrow('--from-env EMPTY_KEY_FOR_TEST: the key is empty');
    delete process.env.EMPTY_KEY_FOR_TEST;
    expect((await sm().send(new DescribeSecretCommand({ SecretId: 'tessera/tenants/acme/openai' })).catch((e: Error) => e.name))).toBe('ResourceNotFoundException');
  });
});

describe('tessera tenants provider-key status and delete', () => {
  it('per provider: declared, present, tagged, readable by the tenant-data role (a dry read as the role), and what the gateway uses', async () => {
    await setProviderKey(sm(), 'acme', 'openai', 'sk-acme');
    await sm().send(new CreateSecretCommand({ Name: 'tessera/tenants/acme/huggingface', SecretString: 'hf-acme' })); // made by hand, untagged
    const lines = await providerKeyStatus(clients(), 'acme', { openai: 'own', huggingface: 'own' });
    const by = Object.fromEntries(lines.map((l) => [l.provider, l]));
    expect(by.openai).toMatchObject({ declared: 'own', present: true, tagged: true, readable: 'yes', gateway: 'the tenant\'s own key', kmsKeyId: 'alias/tessera/platform' });
    expect(by.huggingface).toMatchObject({ declared: 'own', present: true, tagged: false });
    expect(by['openai-compatible']).toMatchObject({ declared: 'own-or-platform', present: false, tagged: false, readable: 'no', gateway: 'the platform\'s key (no readable own key)' });
    expect(JSON.stringify(lines)).not.toContain('sk-acme'); // the dry read's value is never kept
    const text = statusLines('acme', lines);
    expect(text.split('\n')[1]).toMatch(/^provider\s+declared\s+present\s+tagged\s+readable\s+gateway uses$/);
  });

  it('without the role (AssumeRole refused) it judges by present and tagged, and says so; an own key not tagged fails closed', async () => {
    await sm().send(new CreateSecretCommand({ Name: 'tessera/tenants/acme/openai', SecretString: 'sk-acme' }));
    const refusing = { ...clients(), sts: { send: async () => { throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' }); } } as unknown as STSClient };
    const lines = await providerKeyStatus(refusing, 'acme', { openai: 'own' });
    expect(lines[0]).toMatchObject({ provider: 'openai', present: true, tagged: false, readable: 'unchecked', gateway: 'fails closed: 502 tenant_provider_key_unreadable (set the key, or tag it)' });
    expect(statusLines('acme', lines)).toContain('note: could not assume tessera-tenant-data (AccessDenied: it trusts the gateway\'s Lambdas only); judged by present and tagged');
    const unknown = await providerKeyStatus(refusing, 'acme', new Error('no admin API URL'));
    expect(unknown[0]).toMatchObject({ gateway: 'unknown (the policy could not be read)', declaredError: 'no admin API URL' });
  });

  it('delete schedules the deletion (7 days by default), at once with 0; a missing secret is nothing to delete; set restores a scheduled one', async () => {
    await setProviderKey(sm(), 'acme', 'openai', 'sk-acme');
    expect(await deleteProviderKey(sm(), 'acme', 'openai', 7)).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await providerKeyStatus(clients(), 'acme', {}))[0]).toMatchObject({ present: false });
    expect((await setProviderKey(sm(), 'acme', 'openai', 'sk-acme-3')).action).toBe('updated');
    expect((await sm().send(new GetSecretValueCommand({ SecretId: 'tessera/tenants/acme/openai' }))).SecretString).toBe('sk-acme-3');
    await expect(deleteProviderKey(sm(), 'acme', 'openai', 3)).rejects.toThrow('--recovery-days 3: give 7 to 30');
    expect(await deleteProviderKey(sm(), 'acme', 'openai', 0)).toBeDefined();
    expect(await deleteProviderKey(sm(), 'acme', 'huggingface', 7)).toBeUndefined();
  });
});
