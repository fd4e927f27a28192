import { describe, expect, it } from 'vitest';
import { firstDuplicateKey } from '../../lib/json-duplicate-keys.js';

describe('firstDuplicateKey', () => {
  it.each([
    ['{"tenantId":"acme","tenantId":"globex"}', { path: [], key: 'tenantId' }],
    ['{"a":{"b":1,"c":[{"x":1},{"y":2,"y":3}]}}', { path: ['a', 'c', 1], key: 'y' }],
    // The same key written two ways: JSON.parse reads both as "a".
    ['{"a":1,"\\u0061":2}', { path: [], key: 'a' }],
    ['{"q\\"k":1,"x":{"q\\"k":2},"q\\"k":3}', { path: [], key: 'q"k' }],
    ['{"__proto__":1,"__proto__":2}', { path: [], key: '__proto__' }],
  ])('finds the key %s gives twice', (text, found) => {
    JSON.parse(text);
    expect(firstDuplicateKey(text)).toEqual(found);
  });

  it.each([
    '{"tenantId":"acme","name":"{\\"tenantId\\":1,\\"tenantId\\":2}"}',
    '[{"a":1},{"a":2}]',
    '{"a":{"k":1},"b":{"k":1}}',
    '{"a":["k","k"],"k":1}',
    '"{\\"a\\":1,\\"a\\":2}"',
    '{}', '[]', '42', 'null',
  ])('finds none in %s (keys of other objects, text inside strings, list items)', (text) => {
    JSON.parse(text);
    expect(firstDuplicateKey(text)).toBeUndefined();
  });

  it('scans a body nested 100,000 deep without recursion', () => {
    const deep = `${'['.repeat(100_000)}{"a":1,"a":2}${']'.repeat(100_000)}`;
    expect(firstDuplicateKey(deep)).toEqual({ path: Array(100_000).fill(0), key: 'a' });
  });
});
