import { describe, expect, it } from 'vitest';
import { audioBlock } from '../../../../lambdas/inference/providers/bedrock/audio-part.js';
import { expectInvalid, expectUnsupported } from './refusal.js';

describe('audioBlock', () => {
  it('maps input_audio to a Converse audio block with the bytes', () => {
    expect(audioBlock({ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }, 'messages[0].content[0]'))
      .toEqual({ audio: { format: 'wav', source: { bytes: new Uint8Array(Buffer.from('RIFF')) } } });
    expect(audioBlock({ type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } }, 'p')).toMatchObject({ audio: { format: 'mp3' } });
  });

  it('refuses other formats and broken data, naming the path', () => {
    expectUnsupported(() => audioBlock({ type: 'input_audio', input_audio: { data: 'AA==', format: 'flac' as never } }, 'p'), 'p.input_audio.format');
    expectInvalid(() => audioBlock({ type: 'input_audio', input_audio: { data: '%%', format: 'wav' } }, 'p'), 'p.input_audio.data');
  });
});
