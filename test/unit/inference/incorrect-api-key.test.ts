import { describe, expect, it } from 'vitest';
import { incorrectApiKey, maskedCredential } from '../../../lambdas/inference/incorrect-api-key.js';

describe('OpenAI\'s 401 to a bearer that is no key', () => {
  it('masks a credential as OpenAI\'s answers show one: first 8, a star each, last 4; 12 characters or fewer whole', () => {
    expect(maskedCredential('sk-VKMIs0123456789wjh3')).toBe('sk-VKMIs**********wjh3');
    expect(maskedCredential('Toxic')).toBe('Toxic');
    expect(maskedCredential('abcdefghijkl')).toBe('abcdefghijkl');
    expect(maskedCredential('abcdefghijklm')).toBe('abcdefgh*jklm');
    // At most 64 stars (a 6 KB header made a 6 KB message), and no control character in the message.
    expect(maskedCredential(`${'x'.repeat(5000)}tail`)).toBe(`xxxxxxxx${'*'.repeat(64)}tail`);
    expect(maskedCredential('a\nb')).toBe('a?b');
  });

  it('is a 401 invalid_request_error / invalid_api_key, param null, in OpenAI\'s first words', () => {
    const e = incorrectApiKey('not-a-token');
    expect([e.status, e.type, e.code, e.param]).toEqual([401, 'invalid_request_error', 'invalid_api_key', null]);
    expect(e.message).toMatch(/^Incorrect API key provided: not-a-token\. This gateway takes /);
  });
});
