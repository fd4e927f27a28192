import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { fileSealSecret, secretsManagerSealSecret } from '../../../../lambdas/inference/reasoning-seal-secret.js';
import { checkEncryptedReasoningInclude, checkSentReasoning, isOpenAIReasoningModel, reasoningSealerOf } from '../../../../lambdas/inference/responses/encrypted-reasoning.js';
import { reasoningSeal } from '../../../../lambdas/inference/responses/reasoning-seal.js';
import { thrown } from './thrown.js';
import { tempDir } from '../../../support/temp-dirs.js';

const secret = randomBytes(32);
const seal = reasoningSeal(async () => secret);
const ITEM = { id: 'rs_1', text: 'Think in Norwegian.' };

describe('reasoningSeal: AES-256-GCM under a per-tenant HKDF key, the tenant id as additional data', () => {
  it('opens its own blob for the same tenant, and only for it', async () => {
    const blob = await seal.seal('acme', ITEM);
    expect(await seal.open('acme', blob)).toEqual(ITEM);
    expect(await seal.open('globex', blob)).toBeUndefined();
    // another platform secret opens nothing
    expect(await reasoningSeal(async () => randomBytes(32)).open('acme', blob)).toBeUndefined();
  });

  it('seals the same item differently each time (random IV) and never in clear', async () => {
    const [a, b] = [await seal.seal('acme', ITEM), await seal.seal('acme', ITEM)];
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').toString('latin1')).not.toContain('Norwegian');
  });

  it('refuses an altered blob (any byte), a truncated one, another version, and what is not base64', async () => {
    const bytes = Buffer.from(await seal.seal('acme', ITEM), 'base64');
    for (const i of [0, 5, 20, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[i] ^= 1;
      expect(await seal.open('acme', altered.toString('base64')), `byte ${i}`).toBeUndefined();
    }
    expect(await seal.open('acme', bytes.subarray(0, 28).toString('base64'))).toBeUndefined();
    expect(await seal.open('acme', 'gAAAAABfakefakefake==')).toBeUndefined();
    expect(await seal.open('acme', 'not base64 at all!')).toBeUndefined();
  });

  it('reads the platform secret once, and again after a failed read', async () => {
    const read = vi.fn().mockRejectedValueOnce(new Error('throttled')).mockResolvedValue(secret);
    const s = reasoningSeal(read);
    await expect(s.seal('acme', ITEM)).rejects.toThrow('throttled');
    const blob = await s.seal('acme', ITEM);
    expect(await s.open('acme', blob)).toEqual(ITEM);
    expect(await seal.open('acme', blob)).toEqual(ITEM);
    expect(read).toHaveBeenCalledTimes(2);
  });
});

describe('fileSealSecret: tessera serve\'s key file', () => {
  it('makes 32 random bytes (mode 0600) on first use and reads the same after', async () => {
    const file = join(tempDir('seal-'), 'state', 'reasoning-seal.key');
    const first = await fileSealSecret(file)();
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(await fileSealSecret(file)())).toEqual(readFileSync(file));
  });
});

describe('secretsManagerSealSecret: the platform stack\'s secret', () => {
  it('reads the secret string once per seal (GetSecretValue by its ARN); no string value is an error', async () => {
    const sm = mockClient(SecretsManagerClient);
    const arn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:tessera/platform/reasoning-seal-AbCdEf';
    sm.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: 'x'.repeat(64) });
    const s = reasoningSeal(secretsManagerSealSecret(arn, async () => new SecretsManagerClient({})));
    const blob = await s.seal('acme', ITEM);
    expect(await s.open('acme', blob)).toEqual(ITEM);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(4) });
    await expect(secretsManagerSealSecret(arn, async () => new SecretsManagerClient({}))()).rejects.toThrow('has no string value');
    sm.restore();
  });
});

describe('the include and the items sent back', () => {
  it('isOpenAIReasoningModel: the o-series and gpt-5 family, not gpt-5-chat nor gpt-4o', () => {
    for (const id of ['o1', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5.4-mini', 'gpt-5-mini', 'codex-mini-latest']) expect(isOpenAIReasoningModel(id), id).toBe(true);
    for (const id of ['gpt-4o-mini', 'gpt-4.1', 'gpt-5-chat-latest', 'gpt-5.1-chat-latest', 'omni-moderation-latest']) expect(isOpenAIReasoningModel(id), id).toBe(false);
  });

  it('checkEncryptedReasoningInclude: OpenAI\'s 400 for an OpenAI model that does not reason; other providers taken; no seal is a 400', () => {
    const include = ['message.output_text.logprobs', 'reasoning.encrypted_content'];
    // OpenAI's body as sent: param `include` (not the element), code null on the wire
    const refused = thrown(() => checkEncryptedReasoningInclude(include, { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' }, seal)) as GatewayError;
    expect(refused).toMatchObject({ status: 400, param: 'include', message: 'Encrypted content is not supported with this model.' });
    expect(JSON.parse(refused.body())).toEqual({ error: { message: 'Encrypted content is not supported with this model.', type: 'invalid_request_error', param: 'include', code: null } });
    expect(() => checkEncryptedReasoningInclude(include, { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini' }, seal)).not.toThrow();
    expect(() => checkEncryptedReasoningInclude(include, { id: 'openai-compatible/default', upstream: 'default' }, seal)).not.toThrow();
    expect(() => checkEncryptedReasoningInclude(['message.output_text.logprobs'], { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' }, seal)).not.toThrow();
    expect(thrown(() => checkEncryptedReasoningInclude(include, { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini' }, undefined))).toMatchObject({ status: 400, param: 'include[1]', code: 'unsupported_parameter' });
  });

  it('reasoningSealerOf: reasoning items get encrypted_content (one blob per item), others unchanged; without the include nothing changes', async () => {
    const item = { id: 'rs_9', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Think.' }] };
    const sealed = reasoningSealerOf(['reasoning.encrypted_content'], seal, 'acme');
    const out = await sealed(item);
    expect(out).toEqual({ ...item, encrypted_content: expect.any(String) });
    expect(await sealed(structuredClone(item))).toEqual(out);
    expect(await seal.open('acme', (out as any).encrypted_content)).toEqual({ id: 'rs_9', text: 'Think.' });
    const message = { id: 'msg_1', type: 'message' };
    expect(await sealed(message)).toBe(message);
    expect(await reasoningSealerOf(undefined, seal, 'acme')(item)).toBe(item);
  });

  it('checkSentReasoning: the tenant\'s own blob passes; a forged or another tenant\'s is OpenAI\'s 400 invalid_encrypted_content naming the item', async () => {
    const blob = await seal.seal('acme', ITEM);
    const input = (encrypted_content: unknown) => [{ role: 'user', content: 'Hi' }, { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content }];
    await expect(checkSentReasoning(input(blob), 'acme', seal)).resolves.toBeUndefined();
    await expect(checkSentReasoning(input(null), 'acme', seal)).resolves.toBeUndefined();
    await expect(checkSentReasoning('Hi', 'acme', seal)).resolves.toBeUndefined();
    for (const [tenant, value] of [['globex', blob], ['acme', 'gAAAAABforgedforgedforged=='], ['acme', 42]] as const) {
      const e = await checkSentReasoning(input(value), tenant, seal).then(() => undefined, (x: unknown) => x);
      expect(e, `${tenant} ${value}`).toMatchObject({ status: 400, code: 'invalid_encrypted_content', param: 'input[1].encrypted_content', message: expect.stringMatching(/^The encrypted content .* could not be verified\. Reason: Encrypted content could not be decrypted or parsed\.$/) });
    }
    const none = await checkSentReasoning(input(blob), 'acme', undefined).then(() => undefined, (x: unknown) => x);
    expect(none).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'input[1].encrypted_content' });
  });
});

describe('a short platform secret or key file is refused, never sealed with (s41l)', () => {
  it('reasoningSeal: a secret under 32 bytes (an empty key file, a hand-set value) throws at seal and open', async () => {
    for (const short of [new Uint8Array(0), Buffer.from('changeme')]) {
      const weak = reasoningSeal(async () => short);
      await expect(weak.seal('acme', ITEM)).rejects.toThrow(/at least 32/);
      await expect(weak.open('acme', await seal.seal('acme', ITEM))).rejects.toThrow(/at least 32/);
    }
  });

  it('fileSealSecret: a key file left empty (a crash, or read by another thread between its create and its write) is refused, not used', async () => {
    const dir = tempDir('seal-');
    const file = join(dir, 'reasoning-seal.key');
    writeFileSync(file, new Uint8Array(0), { mode: 0o600 });
    await expect(fileSealSecret(file)()).rejects.toThrow(/holds 0 bytes, not 32/);
    // made afresh: whole, 0600, and no temporary file left beside it
    rmSync(file);
    expect(await fileSealSecret(file)()).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['reasoning-seal.key']);
  });
});
