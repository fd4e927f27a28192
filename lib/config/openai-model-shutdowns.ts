/**
 * OpenAI's announced model shutdown dates: model id → the date OpenAI stops serving it, and the replacement
 * OpenAI names where it names one. The one source of truth for the catalog lifecycle check
 * (lib/config/model-lifecycle.ts: `npm run preflight` rule `model-shutdown-dates`, `tessera doctor` line
 * `model-shutdown:<id>`).
 *
 * Source: the doc comments of the installed `openai` package ({@link OPENAI_SHUTDOWNS_PACKAGE}), which carry
 * OpenAI's deprecation notices (resources/shared.d.ts above `ChatModel`, images.d.ts above `ImageModel`,
 * audio/audio.d.ts, audio/speech.d.ts, realtime/realtime.d.ts, responses/responses.d.ts; OpenAI's page:
 * https://developers.openai.com/api/docs/deprecations). test/unit/config/openai-model-shutdowns.test.ts reads
 * those comments (lib/config/openai-shutdown-notices.ts) and fails when this table and the package disagree,
 * so an `openai` upgrade that announces, moves or drops a date forces this table's update (the test prints the
 * entries to paste). A date is the first day the model no longer answers ("Announced shutdown date", "was shut
 * down on", "retired on"). Not in the table: the Sora API ("scheduled to permanently shut down on September 24,
 * 2026", videos.d.ts), which names no model id and which the gateway does not serve.
 */

/** What the table was last read from; the test names it when the installed package differs. */
export const OPENAI_SHUTDOWNS_PACKAGE = 'openai 7.55.0';

/** One model's shutdown. */
export interface OpenAiModelShutdown {
  /** The shutdown date, `YYYY-MM-DD` (a calendar day; the check compares UTC days). */
  readonly shutdown: string;
  /** Model ids OpenAI names as the replacement; empty when its notice names none ("see the deprecations page"). */
  readonly replacements: readonly string[];
}

/** [date, models, replacements?]: one line per notice of the package, by date. */
const NOTICES: ReadonlyArray<readonly [string, readonly string[], (readonly string[])?]> = [
  ['2024-09-13', [
    'gpt-3.5-turbo-0301', 'gpt-3.5-turbo-0613', 'gpt-3.5-turbo-16k', 'gpt-3.5-turbo-16k-0613',
  ]],
  ['2024-12-06', [
    'gpt-4-vision-preview',
  ]],
  ['2025-06-06', [
    'gpt-4-32k', 'gpt-4-32k-0314', 'gpt-4-32k-0613',
  ]],
  ['2025-07-28', [
    'o1-preview', 'o1-preview-2024-09-12',
  ]],
  ['2025-10-10', [
    'gpt-4o-audio-preview-2024-10-01',
  ]],
  ['2025-10-27', [
    'o1-mini', 'o1-mini-2024-09-12',
  ]],
  ['2026-02-12', [
    'codex-mini-latest',
  ]],
  ['2026-02-17', [
    'chatgpt-4o-latest',
  ]],
  ['2026-03-26', [
    'gpt-4-0125-preview', 'gpt-4-0314', 'gpt-4-turbo-preview',
  ]],
  ['2026-05-07', [
    'gpt-4o-audio-preview', 'gpt-4o-audio-preview-2024-12-17', 'gpt-4o-audio-preview-2025-06-03',
    'gpt-4o-mini-audio-preview', 'gpt-4o-mini-audio-preview-2024-12-17',
  ]],
  ['2026-05-12', [
    'dall-e-2', 'dall-e-3',
  ]],
  ['2026-07-23', [
    'computer-use-preview', 'computer-use-preview-2025-03-11', 'gpt-4o-mini-search-preview',
    'gpt-4o-mini-search-preview-2025-03-11', 'gpt-4o-search-preview', 'gpt-4o-search-preview-2025-03-11',
    'gpt-5-chat-latest', 'gpt-5-codex', 'gpt-5.1-chat-latest', 'gpt-5.1-codex', 'gpt-5.1-codex-max',
    'o3-deep-research', 'o3-deep-research-2025-06-26', 'o4-mini-deep-research',
    'o4-mini-deep-research-2025-06-26',
  ]],
  ['2026-08-10', [
    'gpt-5.2-chat-latest', 'gpt-5.3-chat-latest',
  ]],
  ['2026-09-28', [
    'gpt-3.5-turbo-1106',
  ]],
  ['2026-10-23', [
    'gpt-3.5-turbo', 'gpt-3.5-turbo-0125', 'gpt-4', 'gpt-4-0613', 'gpt-4-1106-preview', 'gpt-4-turbo',
    'gpt-4-turbo-2024-04-09', 'gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14', 'gpt-4o-2024-05-13', 'o1',
    'o1-2024-12-17', 'o1-pro', 'o1-pro-2025-03-19', 'o3-mini', 'o3-mini-2025-01-31', 'o4-mini',
    'o4-mini-2025-04-16',
  ]],
  ['2026-10-23', [
    'gpt-image-1',
  ], ['gpt-image-2.5-sunburst', 'gpt-image-2.5-flare']],
  ['2026-12-11', [
    'gpt-5', 'gpt-5-2025-08-07', 'gpt-5-mini', 'gpt-5-mini-2025-08-07', 'gpt-5-nano', 'gpt-5-nano-2025-08-07',
    'gpt-5-pro', 'gpt-5-pro-2025-10-06', 'o3', 'o3-2025-04-16', 'o3-pro', 'o3-pro-2025-06-10',
  ]],
  ['2027-01-06', [
    'gpt-4o-mini-tts', 'gpt-4o-mini-tts-2025-03-20', 'gpt-4o-mini-tts-2025-12-15', 'tts-1', 'tts-1-hd',
  ], ['gpt-realtime-2.1-mini']],
  ['2027-01-14', [
    'gpt-4.1', 'gpt-4.1-2025-04-14', 'gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14', 'gpt-4o', 'gpt-4o-2024-08-06',
    'gpt-4o-2024-11-20', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18',
  ]],
  ['2027-01-20', [
    'gpt-audio-mini', 'gpt-audio-mini-2025-12-15', 'gpt-realtime', 'gpt-realtime-2025-08-28',
    'gpt-realtime-mini', 'gpt-realtime-mini-2025-12-15',
  ]],
  ['2027-02-26', [
    'gpt-4o-mini-transcribe', 'gpt-4o-mini-transcribe-2025-12-15', 'gpt-4o-transcribe',
    'gpt-4o-transcribe-diarize', 'whisper-1',
  ]],
  ['2027-04-01', [
    'gpt-5.1', 'gpt-5.1-2025-11-13', 'gpt-5.4-nano', 'gpt-5.4-nano-2026-03-17',
  ]],
];

/** Model id (as OpenAI spells it, the catalog entry's `upstream`) → its shutdown. */
export const OPENAI_MODEL_SHUTDOWNS: Readonly<Record<string, OpenAiModelShutdown>> = Object.freeze(Object.fromEntries(
  NOTICES.flatMap(([shutdown, models, replacements = []]) => models.map((id) => [id, Object.freeze({ shutdown, replacements })] as const)),
));
