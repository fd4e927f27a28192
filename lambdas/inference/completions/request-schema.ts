import { z } from 'zod';
import { invalid } from '../openai-errors.js';
import { int64 } from '../openai-issues.js';

const token = z.number().int().min(0);

/**
 * What the gateway reads of OpenAI's legacy text completions request (`CompletionCreateParams` of the `openai`
 * package, resources/completions.ts, and OpenAI's API reference "Create completion" are the contract):
 * - `model` (a catalog id or alias, at most 256 characters, as chat's); `prompt`: a string, an array of strings, an
 *   array of token ids (one prompt) or an array of token-id arrays (required; `null` is OpenAI's `<|endoftext|>`);
 * - `best_of` 0-20, `n` 1-128, `logprobs` 0-5, `max_tokens` ≥ 0 (@default 16, OpenAI's), `echo`, `stream`,
 *   `stream_options.include_usage` and `.include_obfuscation` (booleans, OpenAI's `ChatCompletionStreamOptions`), `frequency_penalty` / `presence_penalty` -2..2, `temperature` 0..2,
 *   `top_p` 0..1, `seed`, `stop` (a string or up to 4), `suffix`, `logit_bias` (token id → -100..100), `user`.
 * `stream_options` only with `stream: true` (a 400 naming it otherwise, as OpenAI's API and chat's schema refuse it).
 * Every optional field accepts `null` as "absent". The object is loose, as chat's: fields the gateway does not
 * read (a vLLM / SGLang server's `min_tokens`, `repetition_penalty`, `guided_json`) go on to the upstream as sent.
 */
export const CompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(token).min(1), z.array(z.array(token).min(1)).min(1)]).nullable(),
  best_of: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string().regex(/^\d+$/, 'must be a token id'), z.number().min(-100).max(100)).nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  max_tokens: z.number().int().min(0).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  /** A 64-bit integer, as chat's (openai-issues.ts int64): `.int()` refused a seed past 2^53 that chat took. */
  seed: int64().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() }).nullish(),
  suffix: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  user: z.string().nullish(),
}).superRefine((body, ctx) => {
  // OpenAI's `CompletionCreateParams.stream_options`: "Only set this when you set `stream: true`", and its API refuses it
  // otherwise, as chat's (chat/request-schema.ts). Before session 47 a whole completion's `stream_options` was left out
  // of what the upstream got (textComplete sends no stream fields), without a word.
  if (body.stream_options != null && body.stream !== true) {
    ctx.addIssue({ code: 'custom', path: ['stream_options'], message: 'the stream_options parameter is only allowed when stream is true (OpenAI: "Only set this when you set `stream: true`")' });
  }
});

/** The parsed body: OpenAI's params and whatever else the caller sent. */
export type CompletionRequestBody = z.infer<typeof CompletionRequest>;

/** OpenAI's default `max_tokens` of a text completion (CompletionCreateParams: "Defaults to 16"). */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/**
 * OpenAI's rules joining `best_of` to `n` and `stream` (CompletionCreateParams.best_of, the `openai` package and
 * OpenAI's API reference: "`best_of` controls the number of candidate completions and `n` specifies how many to
 * return – `best_of` must be greater than `n`"; "Results cannot be streamed"). OpenAI's API takes `best_of` equal to
 * `n` (each candidate returned), so the gateway refuses only fewer candidates than choices to return; and `best_of`
 * over 1 with `stream: true`. `best_of` absent, null or 1 (OpenAI's default) asks nothing of either.
 * @throws GatewayError 400 `invalid_value` naming `best_of` and both values
 */
export function checkBestOf(body: Pick<CompletionRequestBody, 'best_of' | 'n' | 'stream'>): void {
  const bestOf = body.best_of;
  if (bestOf == null) return;
  const n = body.n ?? 1;
  if (bestOf < n) throw invalid(`best_of is ${bestOf} and n is ${n}; best_of must be greater than or equal to n (best_of candidates are generated and the best n returned): raise best_of or lower n`, 'best_of', 'invalid_value');
  if (bestOf > 1 && body.stream === true) throw invalid(`best_of is ${bestOf} with stream: true; results of best_of cannot be streamed (the best are chosen once all are made): leave best_of out (or 1), or set stream to false`, 'best_of', 'invalid_value');
}
