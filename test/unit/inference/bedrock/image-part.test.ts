import { describe, expect, it } from 'vitest';
import { imageBlock } from '../../../../lambdas/inference/providers/bedrock/image-part.js';
import { expectInvalid, expectUnsupported } from './refusal.js';

const part = (url: string, detail?: 'auto' | 'low' | 'high') => ({ type: 'image_url' as const, image_url: { url, ...(detail ? { detail } : {}) } });

describe('imageBlock', () => {
  it('maps a data URL image to inline bytes with its format', () => {
    expect(imageBlock(part('data:image/png;base64,iVBORw=='), 'messages[0].content[1]'))
      .toEqual({ image: { format: 'png', source: { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) } } });
    expect(imageBlock(part('data:image/jpg;base64,/9j/', 'auto'), 'p')).toEqual({ image: { format: 'jpeg', source: { bytes: new Uint8Array([0xff, 0xd8, 0xff]) } } });
    expect(imageBlock(part('data:image/webp;base64,AA=='), 'p')).toMatchObject({ image: { format: 'webp' } });
    expect(imageBlock(part('data:image/gif;base64,AA=='), 'p')).toMatchObject({ image: { format: 'gif' } });
  });

  it('refuses an https image, asking for a data URL (the gateway never fetches)', () => {
    const e = expectUnsupported(() => imageBlock(part('https://example.com/cat.png'), 'messages[2].content[1]'), 'messages[2].content[1].image_url');
    expect(e.message).toContain('data URL');
    expectUnsupported(() => imageBlock(part('http://169.254.169.254/latest/meta-data'), 'p'), 'p.image_url');
  });

  it('refuses image types Converse does not take, detail other than auto, and broken data', () => {
    expectUnsupported(() => imageBlock(part('data:image/svg+xml;base64,PHN2Zz4='), 'p'), 'p.image_url');
    expectUnsupported(() => imageBlock(part('data:image/png;base64,AA==', 'high'), 'p'), 'p.image_url.detail');
    expectInvalid(() => imageBlock(part('data:image/png;base64,!!'), 'p'), 'p.image_url');
  });
});
