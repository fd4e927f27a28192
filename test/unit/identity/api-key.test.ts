import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, hashApiKey, keyIdOf, looksLikeApiKey, mintApiKey, parseApiKey } from '../../../lib/identity/api-key.js';

describe('tenant API keys', () => {
  it('mints tsk_<tenant>_<43 base62> keys that parse back to their tenant and hash', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const minted = mintApiKey('acme-corp');
      expect(minted.key).toMatch(/^tsk_acme-corp_[0-9A-Za-z]{43}$/);
      expect(parseApiKey(minted.key)).toEqual({ tenantId: 'acme-corp', keyHash: minted.keyHash });
      expect(minted.keyHash).toBe(hashApiKey(minted.key));
      expect(minted.keyId).toBe(keyIdOf(minted.keyHash));
      expect(minted.keyId).toMatch(/^key_[0-9a-f]{16}$/);
      expect(minted.hint).toBe(`tsk_acme-corp_…${minted.key.slice(-4)}`);
      seen.add(minted.key);
    }
    expect(seen.size).toBe(2000);
  });

  it('spreads the secret over the whole alphabet (no fixed leading characters)', () => {
    const firsts = new Set(Array.from({ length: 500 }, () => mintApiKey('acme').key.split('_')[2]![0]));
    expect(firsts.size).toBeGreaterThan(20);
  });

  it('refuses to mint for a string that is not a tenant id', () => {
    expect(() => mintApiKey('Acme_Corp')).toThrow('not a tenant id');
  });

  it.each([
    ['tsk_acme_short'],
    ['tsk_acme_' + 'a'.repeat(44)],
    ['tsk_Acme_' + 'a'.repeat(43)],
    ['tsk_acme_' + 'a'.repeat(42) + '-'],
    ['tsk_a.b.c'],
    ['tsk_acme_' + 'a'.repeat(43) + '\n'],
    ['sk-proj-' + 'a'.repeat(43)],
    [' tsk_acme_' + 'a'.repeat(43)],
  ])('does not parse %j', (key) => {
    expect(parseApiKey(key)).toBeUndefined();
  });

  it('tells tsk_ tokens from others by prefix only', () => {
    expect(looksLikeApiKey('tsk_whatever')).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOi.x.y')).toBe(false);
    expect(API_KEY_PATTERN.test(mintApiKey('t-1x').key)).toBe(true);
  });
});
