import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** An audio request the fake upstream received: its path, headers and body as bytes. */
export interface AudioCall { path: string; headers: IncomingHttpHeaders; bytes: Buffer }

/** What the fake transcribes every file to: a sentence with an email address (for the redaction cells). */
export const FAKE_TRANSCRIPT = 'Hello from the fake upstream, mail jane.doe@example.com today.';

/** A tiny valid WAV: 16-bit mono 8 kHz, `samples` samples of silence (RIFF header, fmt and data chunks). */
export function tinyWav(samples = 80): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0); b.writeUInt32LE(36 + data, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(data, 40);
  return b;
}

/** A tiny valid MP3: two MPEG-1 Layer III frames (128 kbps, 44.1 kHz, 417 bytes each) of silence. */
export function tinyMp3(): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return Buffer.concat([frame, frame]);
}

/** OpenAI's Content-Type of each speech `response_format`, and the fake's bytes for it (real files for mp3 and wav). */
const SPEECH: Record<string, { type: string; bytes: () => Buffer }> = {
  mp3: { type: 'audio/mpeg', bytes: tinyMp3 },
  wav: { type: 'audio/wav', bytes: () => tinyWav() },
  pcm: { type: 'audio/pcm', bytes: () => Buffer.alloc(160) },
  opus: { type: 'audio/opus', bytes: () => Buffer.from('OggS\0fake-opus') },
  aac: { type: 'audio/aac', bytes: () => Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x01, 0x7f, 0xfc]) },
  flac: { type: 'audio/flac', bytes: () => Buffer.from('fLaC\0fake-flac') },
};

/** The speech bytes the fake answers for `format` (default mp3): what a test compares the saved file with. */
export const fakeSpeech = (format = 'mp3') => (SPEECH[format] ?? SPEECH.mp3!).bytes();

/**
 * Answers `POST /audio/speech`, `/audio/transcriptions` and `/audio/translations` as OpenAI does: speech the audio in
 * the asked `response_format` with its Content-Type; a transcription or translation of FAKE_TRANSCRIPT as json (with
 * `usage`: tokens for a gpt-4o... model, duration for any other), verbose_json (task, language, duration, segments,
 * usage), text, srt or vtt. The file's duration is taken as its size at 16 kB a second.
 */
export async function answerAudio(path: string, headers: IncomingHttpHeaders, bytes: Buffer, res: ServerResponse): Promise<void> {
  if (path.endsWith('/audio/speech')) {
    const body = JSON.parse(bytes.toString('utf8'));
    const s = SPEECH[body.response_format ?? 'mp3'] ?? SPEECH.mp3!;
    const out = s.bytes();
    return void res.writeHead(200, { 'content-type': s.type, 'content-length': out.length }).end(out);
  }
  const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(headers['content-type']) }, body: bytes }).formData();
  const model = String(form.get('model'));
  const file = form.get('file') as File;
  const seconds = Math.max(1, Math.round(file.size / 16_000));
  const format = String(form.get('response_format') ?? 'json');
  const task = path.endsWith('/translations') ? 'translate' : 'transcribe';
  const usage = model.startsWith('gpt-4o') ? { type: 'tokens', input_tokens: seconds * 10, output_tokens: 15, total_tokens: seconds * 10 + 15, input_token_details: { audio_tokens: seconds * 10, text_tokens: 0 } } : { type: 'duration', seconds };
  const json = (v: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
  const text = (t: string) => void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(t);
  if (format === 'text') return text(`${FAKE_TRANSCRIPT}\n`);
  if (format === 'srt') return text(`1\n00:00:00,000 --> 00:00:0${Math.min(seconds, 9)},000\n${FAKE_TRANSCRIPT}\n\n`);
  if (format === 'vtt') return text(`WEBVTT\n\n00:00:00.000 --> 00:00:0${Math.min(seconds, 9)}.000\n${FAKE_TRANSCRIPT}\n\n`);
  if (format === 'verbose_json') {
    return json({ task, language: 'english', duration: seconds, text: FAKE_TRANSCRIPT, segments: [{ id: 0, seek: 0, start: 0, end: seconds, text: FAKE_TRANSCRIPT, tokens: [1, 2], temperature: 0, avg_logprob: -0.1, compression_ratio: 1, no_speech_prob: 0 }], usage: { type: 'duration', seconds } });
  }
  return json(task === 'translate' ? { text: FAKE_TRANSCRIPT } : { text: FAKE_TRANSCRIPT, usage });
}
