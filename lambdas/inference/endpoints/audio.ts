import { createHash } from 'node:crypto';
import { answerCostHeaders, sha256 } from '../audit.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { redactPii } from '../guardrails.js';
import type { GatewayResponder } from '../gateway.js';
import { boundaryOf, formParts, textOf, withFields, type FormPart } from '../audio/multipart.js';
import { MAX_AUDIO_BODY_BYTES, MAX_AUDIO_FILE_BYTES, reserveTranscription, settleTranscription, speechCost, type ReportedAudioUsage } from '../audio/pricing.js';
import { GatewayError, invalid, tooLarge, upstream as upstreamFailed } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { providerOf } from '../policy.js';
import { parseJson } from '../request-body.js';
import { countTextTokens, loadTokenizer, tokenizerLoaded } from '../token-count.js';
import type { AudioAnswer } from '../providers/provider.js';

/** The most characters (Unicode code points) speech's `input` takes: OpenAI's API reference, "Create speech": "The maximum length is 4096 characters." */
export const MAX_SPEECH_INPUT_CHARS = 4096;

/** The 429 of a refused reservation or upstream, with the served rate headers (as moderations answers it). */
async function withRates(pipeline: RequestPipeline, r: PipelineRequest, e: unknown): Promise<never> {
  if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
  throw e;
}

/**
 * `POST /v1/audio/speech`, OpenAI's contract (`SpeechCreateParams` in, the audio's bytes out) on the shared pipeline:
 * the model (`model` a catalog id of `kind: speech`; another kind is a 400 `model_kind_mismatch` naming `model`) →
 * rate limits → the tenant's input guardrails on `input`, then on `instructions` when given (prompt-injection screen,
 * PII redaction: the upstream speaks `[EMAIL]`, not the address; the Bedrock guardrail), as embeddings applies them → a reservation of the input's o200k
 * tokens and its price (audio/pricing.ts speechCost: per 1M characters and/or per input token), the same charge
 * settled after the answer (speech answers no usage) → the upstream (`/audio/speech`, one model, retries, no fallback:
 * another voice model would speak otherwise) → the audio relayed as bytes with the upstream's Content-Type (mp3:
 * audio/mpeg, opus, aac, flac, wav, pcm).
 * Every field but `model`, `input` and `instructions` goes on untouched (`voice`, `response_format`, `speed`, fields
 * OpenAI adds later). `stream_format: "sse"` is a 400 naming `stream_format`: the relay reads the answer whole (its
 * `speech.audio.delta` events would have to be relayed as a stream, which this endpoint does not do); `"audio"`, the
 * default, goes on.
 * `input` must be 1 to MAX_SPEECH_INPUT_CHARS (4,096) characters, as OpenAI takes it: checked before the reservation
 * (an OpenAI-compatible server might speak an empty or longer text, and be paid for it).
 * An upstream answering 200 with a JSON error object instead of audio is a 502 `upstream_invalid_answer` with its
 * message, not charged (errorInsteadOfAudio).
 * @throws GatewayError 400 naming `model`, `input` (absent, not a string, empty or over 4,096 characters) or
 *   `stream_format`; 404 `model_not_found`; 429; the upstream's 4xx as the caller's; 502 as above
 */
export async function speech(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, accept: string | undefined, res: GatewayResponder): Promise<void> {
  const body = parseJson(rawBody);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a JSON object (SpeechCreateParams: model, input, voice...)', null, 'invalid_value');
  const params = body as Record<string, unknown>;
  if (typeof params.model !== 'string' || !params.model || params.model.length > 256) throw invalid(`model is required: a speech model's id (a string of 1 to 256 characters), not ${JSON.stringify(params.model)?.slice(0, 80)}`, 'model', params.model === undefined ? 'missing_required_parameter' : 'invalid_value');
  if (typeof params.input !== 'string') throw invalid(`input is required: the text to speak (a string), not ${JSON.stringify(params.input)?.slice(0, 80)}`, 'input', params.input === undefined ? 'missing_required_parameter' : 'invalid_value');
  const chars = [...params.input].length;
  if (chars < 1 || chars > MAX_SPEECH_INPUT_CHARS) throw invalid(`input is ${chars} characters; speech takes 1 to ${MAX_SPEECH_INPUT_CHARS} (OpenAI's limit): split longer text into several requests`, 'input', 'invalid_value');
  if (params.stream_format === 'sse') throw invalid('stream_format "sse" is not supported by this gateway: it relays the audio whole; leave stream_format out (or "audio")', 'stream_format', 'unsupported_value');
  const model = pipeline.model(r, params.model, 'speech');
  r.audit.stream = false;
  await pipeline.admit(r);

  const { texts } = await guardInputTexts(pipeline, r, [params.input], () => 'input');
  const input = texts[0]!;
  // `instructions` (gpt-4o-mini-tts: how to speak) is text the model reads too: the same guardrails, named apart, so that
  // a refusal names it. Before session 47 it went upstream as sent, unscreened and unredacted. Another type is the upstream's to refuse.
  const instructions = typeof params.instructions === 'string' && params.instructions !== ''
    ? (await guardInputTexts(pipeline, r, [params.instructions], () => 'instructions', 'instructions')).texts[0]!
    : undefined;
  r.audit.promptSha256 = sha256(input);
  if (r.policy.gateway.auditPromptText) r.audit.prompt = input;
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined); // without it, counts are the byte bound: larger, never smaller
  const tokens = countTextTokens(input);
  const cost = speechCost(model, input, tokens);
  const reservation = await pipeline.reserve(r, model, tokens, 0, 1, cost).catch((e) => withRates(pipeline, r, e));
  let settled = false;
  try {
    const called = performance.now();
    const { result, model: used } = await pipeline.upstream.audio(pipeline.chain(r, model).slice(0, 1), {
      path: '/audio/speech', accept: accept || 'application/octet-stream', tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys,
      body: (upstream) => ({ bytes: Buffer.from(JSON.stringify({ ...params, input, ...(instructions !== undefined ? { instructions } : {}), model: upstream })), contentType: 'application/json' }),
    }, r.signal, r.deadline, r.audit);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    const failure = errorInsteadOfAudio(result);
    if (failure !== undefined) throw upstreamFailed(`the upstream of ${used.id} answered 200 with an error instead of audio: ${failure}`, 'upstream_invalid_answer');
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: tokens, completionTokens: 0, costUsd: cost });
    settled = true;
    await pipeline.settle(reservation, tokens, cost, { model: used.id, promptTokens: tokens, completionTokens: 0, reported: false, estimatedTokens: tokens });
    await answer(res, result, result.bytes, { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit) });
  } catch (e) {
    await withRates(pipeline, r, e);
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was answered: release the reservation
  }
}

/**
 * The message of a speech answer that is an OpenAI error object (`{"error": {...}}`, JSON) sent with status 200
 * instead of audio, as some OpenAI-compatible servers do; undefined for any other answer. OpenAI's speech answers
 * the audio's bytes (audio/mpeg...) with 200 and its errors with a 4xx or 5xx: relayed, such an answer would be
 * saved by the caller as an audio file, and charged.
 */
function errorInsteadOfAudio(result: AudioAnswer): string | undefined {
  if (!/\bjson\b/i.test(result.contentType) || result.bytes.length > 64 * 1024) return undefined;
  try {
    const body = JSON.parse(Buffer.from(result.bytes).toString('utf8')) as { error?: unknown } | null;
    if (typeof body !== 'object' || body === null || body.error === undefined || body.error === null) return undefined;
    const message = typeof body.error === 'string' ? body.error : (body.error as { message?: unknown }).message;
    return typeof message === 'string' ? message.slice(0, 500) : JSON.stringify(body.error).slice(0, 500);
  } catch {
    return undefined;
  }
}

/** A whole answer that is not (necessarily) JSON: the bytes with their Content-Type. */
async function answer(res: GatewayResponder, result: AudioAnswer, bytes: Uint8Array, headers: Record<string, string>): Promise<void> {
  if (!res.content) throw new GatewayError(500, 'this transport cannot answer audio', 'server_error', 'internal_error');
  await res.content(200, bytes, result.contentType, headers);
}

/** A transcription's list fields of text the model reads (`keywords[]`, `known_speaker_names[]`), guarded as `prompt` is. */
const LISTED_TEXT_FIELDS: ReadonlySet<string> = new Set(['keywords', 'known_speaker_names']);

/** The text fields of a transcription form whose value the gateway reads; a file part is `file`. */
const one = (parts: FormPart[], name: string) => {
  const found = parts.filter((p) => p.name === name);
  if (found.length > 1) throw invalid(`field "${name}" is given ${found.length} times; give it once`, name, 'invalid_value');
  return found[0];
};

/**
 * `POST /v1/audio/transcriptions` and `POST /v1/audio/translations`, OpenAI's contract (`TranscriptionCreateParams`,
 * `TranslationCreateParams` as multipart/form-data in; `Transcription`, `TranscriptionVerbose`, text, srt or vtt out)
 * on the shared pipeline: `model` read (a catalog id of `kind: transcription`; another kind is a 400
 * `model_kind_mismatch` naming `model`) → rate limits → the tenant's input guardrails on `prompt`, `keywords[i]` and
 * `known_speaker_names[i]` when sent (text the model reads) → a reservation bounded by the file's size (audio/pricing.ts reserveTranscription) → the upstream,
 * one model, no fallback → settled from the answer's `usage` (tokens or duration; verbose_json's `duration`), else at
 * the reservation (settleTranscription) → the answer relayed with its Content-Type, its text PII-redacted when the
 * tenant sets `redactResponses` (json's `text`; verbose_json's `text`, `segments[].text`, `words[].word`; a text, srt
 * or vtt answer as a whole: its timestamps hold no PII the patterns take).
 * The body is relayed byte for byte: the file part and every field untouched, only `model`'s content replaced by the
 * catalog entry's `upstream` (and `prompt`'s by its redacted text). Limits: a body over MAX_AUDIO_BODY_BYTES or a file
 * over MAX_AUDIO_FILE_BYTES (4 MiB; OpenAI takes 25 MB) is a 413 naming the limit. `stream: true` (the SSE of
 * `transcript.text.delta` events) is a 400 naming `stream`: the relay reads answers whole.
 * @param kind which endpoint
 * @param bytes the body as received; @param contentType the request's Content-Type
 * @throws GatewayError 400 naming `file`, `model`, `stream`, or the body (invalid_content_type, invalid_multipart); 413; 404; 429
 */
export async function transcription(pipeline: RequestPipeline, r: PipelineRequest, kind: 'transcriptions' | 'translations', bytes: Buffer | undefined, contentType: string | undefined, res: GatewayResponder): Promise<void> {
  const route = `POST /v1/audio/${kind}`;
  const boundary = boundaryOf(contentType);
  if (!boundary) throw invalid(`${route} takes multipart/form-data with the fields file and model (as the OpenAI SDKs send it), not ${contentType ? `"${contentType.slice(0, 100)}"` : 'a body without Content-Type'}`, null, 'invalid_content_type');
  if (!bytes || bytes.byteLength > MAX_AUDIO_BODY_BYTES) throw tooLarge(`the request body is over ${MAX_AUDIO_BODY_BYTES} bytes, the most ${route} reads on this gateway (a file of up to ${MAX_AUDIO_FILE_BYTES} bytes, 4 MiB, and the form around it; a Lambda invocation takes at most 6 MB, where OpenAI takes files of up to 25 MB): split the audio into shorter files`);
  let parts: FormPart[];
  try {
    parts = formParts(bytes, boundary);
  } catch (e) {
    throw invalid(`the multipart/form-data body could not be read (${(e as Error).message})`, null, 'invalid_multipart');
  }
  const modelPart = one(parts, 'model');
  if (!modelPart || modelPart.filename !== undefined) throw invalid(`model is required as a text field: a transcription model's id`, 'model', modelPart ? 'invalid_value' : 'missing_required_parameter');
  const requested = textOf(bytes, modelPart);
  if (!requested || requested.length > 256) throw invalid(`model must be a model id of 1 to 256 characters`, 'model', 'invalid_value');
  const file = one(parts, 'file');
  if (!file || (file.filename === undefined && !file.typed)) throw invalid(`file is required as a file part (the audio: flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm)`, 'file', file ? 'invalid_value' : 'missing_required_parameter');
  const fileBytes = file.end - file.start;
  if (fileBytes > MAX_AUDIO_FILE_BYTES) throw tooLarge(`file is ${fileBytes} bytes, over the ${MAX_AUDIO_FILE_BYTES}-byte (4 MiB) limit of ${route} on this gateway (a Lambda invocation takes at most 6 MB, where OpenAI takes files of up to 25 MB): split the audio into shorter files`);
  const stream = one(parts, 'stream');
  if (stream && textOf(bytes, stream).trim() === 'true') throw invalid(`stream is not supported by this gateway on ${route}: it relays the transcription whole; leave stream out (or false)`, 'stream', 'unsupported_value');
  const formatPart = one(parts, 'response_format');
  const format = formatPart ? textOf(bytes, formatPart) : 'json';

  const model = pipeline.model(r, requested, 'transcription');
  r.audit.stream = false;
  await pipeline.admit(r);

  // `prompt` is text the model reads: the tenant's input guardrails apply to it as to any input.
  const promptPart = one(parts, 'prompt');
  let prompt: string | undefined;
  if (promptPart) {
    const sent = textOf(bytes, promptPart);
    const { texts, changed } = await guardInputTexts(pipeline, r, [sent], () => 'prompt', 'prompt');
    if (changed) prompt = texts[0];
    if (r.policy.gateway.auditPromptText) r.audit.prompt = texts[0];
  }
  // `keywords` and `known_speaker_names` (TranscriptionCreateParams, openai 7.55: words to guide the transcription, the
  // names the speaker labels take) are text the model reads too: guarded as `prompt` is, each named `<field>[i]` (the
  // official clients send a list as repeated `<field>[]` parts). Before session 47 they went upstream unscreened.
  const listed = parts.filter((p) => LISTED_TEXT_FIELDS.has(p.name.replace(/\[\]$/, '')) && p.filename === undefined && !p.typed);
  const guardedList: Array<[FormPart, string]> = [];
  for (const field of LISTED_TEXT_FIELDS) {
    const of = listed.filter((p) => p.name.replace(/\[\]$/, '') === field);
    if (!of.length) continue;
    const { texts, changed } = await guardInputTexts(pipeline, r, of.map((p) => textOf(bytes, p)), (i) => `${field}[${i}]`, field);
    if (changed) of.forEach((p, i) => guardedList.push([p, texts[i]!]));
  }
  r.audit.promptSha256 = createHash('sha256').update(bytes.subarray(file.start, file.end)).digest('hex');
  const reserved = reserveTranscription(model, fileBytes);
  const reservation = await pipeline.reserve(r, model, reserved.promptTokens, reserved.completionTokens, 1, reserved.costUsd).catch((e) => withRates(pipeline, r, e));
  let settled = false;
  try {
    const called = performance.now();
    const { result, model: used } = await pipeline.upstream.audio(pipeline.chain(r, model).slice(0, 1), {
      path: `/audio/${kind}`, accept: 'application/json', tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys,
      body: (upstream) => ({ bytes: withFields(bytes, [[modelPart, upstream], ...(prompt !== undefined ? [[promptPart!, prompt] as [FormPart, string]] : []), ...guardedList]), contentType: contentType! }),
    }, r.signal, r.deadline, r.audit);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    const json = /json/i.test(result.contentType) || format === 'json' || format === 'verbose_json';
    let out: Uint8Array = result.bytes;
    let usage: ReportedAudioUsage | undefined;
    let duration: number | undefined;
    const found: string[] = [];
    if (json) {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(result.bytes.toString('utf8'));
      } catch {
        parsed = undefined; // relayed as it came; settled at the reservation
      }
      if (parsed && typeof parsed === 'object') {
        usage = typeof parsed.usage === 'object' && parsed.usage !== null ? parsed.usage as ReportedAudioUsage : undefined;
        duration = typeof parsed.duration === 'number' ? parsed.duration : undefined;
        if (r.policy.gateway.guardrails.redactResponses) {
          const redacted = redactTranscript(parsed, found);
          if (found.length) out = Buffer.from(JSON.stringify(redacted));
        }
      }
    } else if (r.policy.gateway.guardrails.redactResponses) {
      const red = redactPii(result.bytes.toString('utf8'));
      if (red.found.length) {
        found.push(...red.found);
        out = Buffer.from(red.text, 'utf8');
      }
    }
    if (found.length) r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...found.map((f) => `response:${f}`)])];
    const charge = settleTranscription(model, reserved, usage, duration);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: charge.promptTokens, completionTokens: charge.completionTokens, costUsd: charge.costUsd });
    settled = true;
    await pipeline.settle(reservation, charge.promptTokens + charge.completionTokens, charge.costUsd, { model: used.id, promptTokens: charge.promptTokens, completionTokens: charge.completionTokens, reported: charge.reported, estimatedTokens: reserved.promptTokens });
    await answer(res, result, out, { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit) });
  } catch (e) {
    await withRates(pipeline, r, e);
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0);
  }
}

/** A json or verbose_json transcription with its text PII-redacted: `text`, `segments[].text`, `words[].word`; the kinds found go to `found`. */
function redactTranscript(answer: Record<string, unknown>, found: string[]): Record<string, unknown> {
  const red = (text: unknown) => {
    if (typeof text !== 'string') return text;
    const r = redactPii(text);
    found.push(...r.found);
    return r.text;
  };
  const out: Record<string, unknown> = { ...answer, text: red(answer.text) };
  if (Array.isArray(answer.segments)) out.segments = answer.segments.map((s) => (typeof s === 'object' && s !== null ? { ...s, text: red((s as { text?: unknown }).text) } : s));
  if (Array.isArray(answer.words)) out.words = answer.words.map((w) => (typeof w === 'object' && w !== null ? { ...w, word: red((w as { word?: unknown }).word) } : w));
  return out;
}
