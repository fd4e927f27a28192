import type { ModelEntry } from '../../../lib/config/schema.js';
import { AUDIO_TOKENS_PER_SECOND, MP3_BYTES_PER_SECOND } from '../token-count.js';

/** The most a speech, transcription or translation request's file may be: 4 MiB (4,194,304 bytes). */
export const MAX_AUDIO_FILE_BYTES = 4 * 1024 * 1024;
/** Room for the multipart framing and the text fields around the file (boundaries, part headers, model, prompt...). */
export const AUDIO_FORM_OVERHEAD = 64 * 1024;
/**
 * The largest body `POST /v1/audio/transcriptions` and `/translations` take (the transports buffer up to this much
 * for those routes): the file limit and its framing. Why 4 MiB, not OpenAI's 25 MB: on AWS the body reaches the router
 * Lambda base64-encoded inside its invocation event (multipart/form-data is a binary media type: routes.ts), and a
 * Lambda invocation takes at most 6 MB, so about 4.4 MB of body; `tessera serve` keeps the same limit so that what
 * works locally works deployed.
 */
export const MAX_AUDIO_BODY_BYTES = MAX_AUDIO_FILE_BYTES + AUDIO_FORM_OVERHEAD;

/** What a transcription or translation request reserves: seconds of audio at most (an estimate), tokens and USD. */
export interface AudioReservation { seconds: number; promptTokens: number; completionTokens: number; costUsd: number }

/**
 * The reservation of a transcription or translation before the call, when the audio's duration is unknown (the
 * gateway does not decode the file): an upper bound on the duration from the file's size at a stated minimum
 * bitrate, 32 kbps (token-count.ts MP3_BYTES_PER_SECOND, a low speech bitrate: 64-128 kbps recordings are counted
 * 2-4 times their length, the safe side), and from it
 * - the per-minute price (`audioPricePerMinute`) of that many minutes;
 * - for a model priced per token, AUDIO_TOKENS_PER_SECOND (10, OpenAI's 1 token per 100 ms of user audio) input
 *   tokens per second and the model's `maxOutputTokens` of text.
 * Why a bound from the size rather than a configured maximum duration refused above it: the size is known before
 * the call and bounds every realistic recording, while a duration limit could only be checked after the upstream
 * had been paid for it. A file coded below 32 kbps (Opus voice at 16 kbps) reserves less than it costs: the settle
 * (settleAudio) charges what the answer reports, so the budget counts it all the same, past its limit by at most
 * that one request (as any settle may).
 * @param fileBytes the `file` part's size in bytes
 */
export function reserveTranscription(model: ModelEntry, fileBytes: number): AudioReservation {
  const seconds = Math.max(1, Math.ceil(fileBytes / MP3_BYTES_PER_SECOND));
  const tokenPriced = model.inputPricePer1k > 0 || model.outputPricePer1k > 0;
  const promptTokens = tokenPriced ? seconds * AUDIO_TOKENS_PER_SECOND : 0;
  const completionTokens = tokenPriced ? model.maxOutputTokens : 0;
  const costUsd = (seconds / 60) * (model.audioPricePerMinute ?? 0) + (promptTokens * model.inputPricePer1k + completionTokens * model.outputPricePer1k) / 1000;
  return { seconds, promptTokens, completionTokens, costUsd };
}

/** OpenAI's `usage` of a transcription (`TranscriptionUsage`... in openai/resources/audio/transcriptions.d.ts), or verbose_json's `duration`. */
export interface ReportedAudioUsage { type?: string; seconds?: number; input_tokens?: number; output_tokens?: number }

/** A token count as OpenAI reports one: a non-negative whole number (a safe integer). */
const tokenCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** A duration as OpenAI reports one: a finite, non-negative number of seconds. */
const secondsOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * What a transcription or translation is charged, from what the answer reports:
 * - `usage: {type: "tokens", input_tokens, output_tokens}` (gpt-4o-transcribe): tokens at the token prices;
 * - `usage: {type: "duration", seconds}` (whisper-1), or verbose_json's `duration` (seconds): minutes at `audioPricePerMinute`;
 * - the part of the price the answer gives no measure of (a model priced per minute answering tokens, an answer in
 *   text, srt or vtt, which carries no usage): the reservation's part, the bound from the file's size.
 * A measure of the wrong shape counts as none (the reservation's part is charged): token counts that are not
 * non-negative safe integers (`input_tokens` and, when present, `output_tokens`: a negative count, a string, 1e300),
 * seconds that are not a finite non-negative number. Taken as reported, a negative count would credit the tenant's
 * budgets and a huge one exhaust them for the rest of the month.
 * Tokens counted against the token budgets: the reported ones, else the reserved ones.
 */
export function settleTranscription(model: ModelEntry, reserved: AudioReservation, usage: ReportedAudioUsage | undefined, duration: number | undefined): { promptTokens: number; completionTokens: number; costUsd: number; reported: boolean } {
  const tokens = usage?.type === 'tokens' && tokenCount(usage.input_tokens) && (usage.output_tokens === undefined || tokenCount(usage.output_tokens)) ? { p: usage.input_tokens, c: usage.output_tokens ?? 0 } : undefined;
  const seconds = (usage?.type === 'duration' ? secondsOf(usage.seconds) : undefined) ?? secondsOf(duration);
  const minutePart = (model.audioPricePerMinute ?? 0) * ((seconds ?? reserved.seconds) / 60);
  const p = tokens?.p ?? reserved.promptTokens;
  const c = tokens?.c ?? reserved.completionTokens;
  const tokenPart = (p * model.inputPricePer1k + c * model.outputPricePer1k) / 1000;
  return { promptTokens: p, completionTokens: c, costUsd: minutePart + tokenPart, reported: Boolean(tokens || seconds !== undefined) };
}

/**
 * What speech is charged, known before the call (the answer is audio, with no usage): `input`'s characters (Unicode
 * code points) at `pricePer1MCharacters` (tts-1, tts-1-hd), and its tokens (`inputTokens`, o200k) at `inputPricePer1k`
 * (gpt-4o-mini-tts). Reserved and settled alike.
 */
export function speechCost(model: ModelEntry, input: string, inputTokens: number): number {
  return ([...input].length * (model.pricePer1MCharacters ?? 0)) / 1e6 + (inputTokens * model.inputPricePer1k) / 1000;
}
