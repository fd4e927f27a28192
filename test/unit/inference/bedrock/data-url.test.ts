import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeDataUrl, isDataUrl } from '../../../../lambdas/inference/providers/bedrock/data-url.js';
import { expectInvalid } from './refusal.js';

describe('data URLs', () => {
  it('decodes a base64 data URL to its media type and bytes', () => {
    expect(decodeDataUrl('data:image/PNG;base64,iVBORw==', 'f')).toEqual({ mediaType: 'image/png', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) });
    expect(decodeDataUrl('data:text/plain;charset=utf-8;base64,aGk=', 'f')).toEqual({ mediaType: 'text/plain', bytes: new Uint8Array([0x68, 0x69]) });
  });

  it('tells data URLs from others', () => {
    expect(isDataUrl('data:image/png;base64,AA==')).toBe(true);
    expect(isDataUrl('https://example.com/a.png')).toBe(false);
  });

  it('refuses data URLs that are not base64, and invalid base64, naming the field', () => {
    expectInvalid(() => decodeDataUrl('data:text/plain,hello', 'messages[0].content[0].image_url'), 'messages[0].content[0].image_url');
    expectInvalid(() => decodeDataUrl('data:image/png;base64,***', 'x'), 'x');
    expectInvalid(() => decodeBase64('', 'y'), 'y');
    expectInvalid(() => decodeBase64('abcde', 'y'), 'y');
  });

  it('reads base64 with line breaks and without padding', () => {
    expect(decodeBase64('aGVs\nbG8', 'f')).toEqual(new Uint8Array(Buffer.from('hello')));
  });
});
