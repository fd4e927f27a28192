import { describe, expect, it } from 'vitest';
import { contentBlocks, textBlocks } from '../../../../lambdas/inference/providers/bedrock/content-parts.js';
import { documentNamer } from '../../../../lambdas/inference/providers/bedrock/file-part.js';
import { expectUnsupported } from './refusal.js';

const USER = ['text', 'image_url', 'file', 'input_audio'] as const;

describe('contentBlocks', () => {
  it('maps a string and each part type in order', () => {
    expect(contentBlocks('hi', 'messages[0].content', USER, documentNamer())).toEqual([{ text: 'hi' }]);
    expect(contentBlocks([
      { type: 'text', text: 'What is in these?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw==' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
      { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
    ], 'messages[0].content', USER, documentNamer())).toEqual([
      { text: 'What is in these?' },
      { image: { format: 'png', source: { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) } } },
      { document: { format: 'pdf', name: 'a', source: { bytes: new Uint8Array(Buffer.from('%PDF-')) } } },
      { audio: { format: 'wav', source: { bytes: new Uint8Array(Buffer.from('RIFF')) } } },
    ]);
  });

  it('turns an assistant’s earlier refusal into text, and leaves empty text out', () => {
    expect(contentBlocks([{ type: 'text', text: '' }, { type: 'refusal', refusal: 'I can’t help with that.' }], 'messages[1].content', ['text', 'refusal'], documentNamer()))
      .toEqual([{ text: 'I can’t help with that.' }]);
    expect(contentBlocks('', 'c', USER, documentNamer())).toEqual([]);
    expect(contentBlocks(null, 'c', USER, documentNamer())).toEqual([]);
  });

  it('refuses a part the role cannot carry, and prompt cache breakpoints, naming the part', () => {
    expectUnsupported(() => textBlocks([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] as never, 'messages[0].content'), 'messages[0].content[0]');
    expectUnsupported(() => contentBlocks([{ type: 'text', text: 'long prefix', prompt_cache_breakpoint: { mode: 'explicit' } }], 'messages[3].content', USER, documentNamer()), 'messages[3].content[0].prompt_cache_breakpoint');
  });

  it('reads text-only content as text blocks', () => {
    expect(textBlocks([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], 'c')).toEqual([{ text: 'a' }, { text: 'b' }]);
  });
});
