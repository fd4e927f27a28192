import { describe, expect, it } from 'vitest';
import { requestMetadata } from '../../../../lambdas/inference/providers/bedrock/request-metadata.js';
import { body, expectUnsupported } from './refusal.js';

describe('requestMetadata', () => {
  it('maps metadata, user and safety_identifier to requestMetadata', () => {
    expect(requestMetadata(body({ metadata: { session: 'abc-123', team: 'support' }, user: 'jane@example.com', safety_identifier: 'u_42' })))
      .toEqual({ session: 'abc-123', team: 'support', user: 'jane@example.com', safety_identifier: 'u_42' });
  });

  it('sends nothing when nothing was sent', () => {
    expect(requestMetadata(body())).toBeUndefined();
    expect(requestMetadata(body({ metadata: null, safety_identifier: null }))).toBeUndefined();
    expect(requestMetadata(body({ metadata: {} }))).toBeUndefined();
  });

  it('refuses keys and values outside Converse’s characters and lengths, naming the key', () => {
    expectUnsupported(() => requestMetadata(body({ metadata: { 'café': 'x' } })), 'metadata.café');
    expectUnsupported(() => requestMetadata(body({ metadata: { note: 'it’s' } })), 'metadata.note');
    expectUnsupported(() => requestMetadata(body({ metadata: { long: 'x'.repeat(257) } })), 'metadata.long');
    expect(requestMetadata(body({ metadata: { long: 'x'.repeat(256) } }))).toEqual({ long: 'x'.repeat(256) });
    expectUnsupported(() => requestMetadata(body({ user: 'Jane "J" Doe' })), 'user');
  });

  it('refuses a metadata key that user would overwrite, and more than 16 entries', () => {
    expectUnsupported(() => requestMetadata(body({ metadata: { user: 'a' }, user: 'b' })), 'user');
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(requestMetadata(body({ metadata: sixteen }))!)).toHaveLength(16);
    expectUnsupported(() => requestMetadata(body({ metadata: sixteen, user: 'u' })), 'metadata');
  });
});
