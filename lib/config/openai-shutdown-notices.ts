/**
 * Reads OpenAI's model shutdown notices out of the `openai` package's type declarations, where OpenAI
 * publishes them as doc comments (resources/shared.d.ts above `ChatModel`, images.d.ts above `ImageModel`,
 * audio/audio.d.ts, audio/speech.d.ts, audio/translations.d.ts, realtime/*.d.ts). Used by
 * test/unit/config/openai-model-shutdowns.test.ts to hold lib/config/openai-model-shutdowns.ts to the
 * installed package; nothing at run time reads node_modules.
 *
 * The formats read (one notice = one list item of a "Deprecated values:" block, or one paragraph):
 * - `- "gpt-4o-mini", "gpt-4o-mini-2024-07-18": Announced shutdown date: 2027-01-14. See …`
 * - `- "gpt-image-1": GPT Image 1 was shut down on October 23, 2026. Use gpt-image-2.5-sunburst or gpt-image-2.5-flare instead.`
 * - `- "dall-e-2", "dall-e-3": This model was retired on May 12, 2026. Use a GPT image model instead.`
 * - a paragraph: ``The `tts-1`, … models are deprecated and scheduled to shut down on January 6, 2027. … migrate to `gpt-realtime-2.1-mini` …``
 * The model ids are the quoted ("…") or backquoted (`…`) ids before the date; the replacements, the model
 * ids OpenAI names after "Use" or "migrate to" in the same notice (none when it names only a kind of
 * model, "a GPT image model", or an endpoint, `/v1/realtime/translations`).
 */

/** One notice: the ids it names, the date they stop working, OpenAI's suggested replacements. */
export interface ShutdownNotice {
  /** Model ids, as OpenAI spells them (`gpt-4o-mini`, `gpt-4o-mini-2024-07-18`). */
  readonly models: readonly string[];
  /** The shutdown (or retirement) date, `YYYY-MM-DD`. */
  readonly date: string;
  /** Model ids OpenAI names as the replacement, in its order; empty when it names none. */
  readonly replacements: readonly string[];
  /** The notice's text (comment markers removed, lines joined), for messages. */
  readonly text: string;
}

/** What a file's comments hold. */
export interface ParsedNotices {
  readonly notices: ShutdownNotice[];
  /**
   * Notices with a date and no model id before it (the Sora API's "scheduled to permanently shut down on
   * September 24, 2026"), with more than one date (which this parser does not split), or whose date is no calendar
   * day (2027-02-29): listed so that a
   * test can pin them and a new one is looked at rather than dropped.
   */
  readonly unattributed: Array<{ readonly text: string; readonly dates: readonly string[] }>;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * The date phrases: "Announced shutdown date: 2027-01-14" (also split over two lines: "Announced shutdown\n date:"),
 * "shut down on October 23, 2026" (also "scheduled to (permanently) shut down on"), "retired on May 12, 2026".
 */
const DATE_PHRASE = new RegExp(
  String.raw`shutdown\s+date:\s*(\d{4})-(\d{2})-(\d{2})` +
  String.raw`|(?:shut\s+down|retired)\s+on\s+(${MONTHS.join('|')})\s+(\d{1,2}),\s*(\d{4})`,
  'gi',
);

/** A model id as OpenAI writes one: letters, digits, `.`, `-`, `_`, `:` (not a path, not prose). */
const MODEL_ID = /^[a-z0-9][a-z0-9._:-]*$/i;
const QUOTED = /"([^"\n]+)"|`([^`\n]+)`/g;

const pad = (n: number) => String(n).padStart(2, '0');

/** Whether `YYYY-MM-DD` names a day of the calendar (not February 29 of a common year, not month 13). */
const isCalendarDay = (day: string) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;

function dateOf(m: RegExpExecArray): string {
  if (m[1]) return `${m[1]}-${m[2]}-${m[3]}`;
  const month = MONTHS.indexOf(m[4].toLowerCase()) + 1;
  return `${m[6]}-${pad(month)}-${pad(Number(m[5]))}`;
}

/** The JSDoc comments of a file, each as its lines without the ` * ` margin. */
function commentsOf(source: string): string[][] {
  const out: string[][] = [];
  for (const m of source.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    out.push(m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trimEnd()));
  }
  return out;
}

/** A comment's notices: each list item ("- …" and its indented continuation lines) and each other paragraph. */
function segmentsOf(lines: string[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length) out.push(current.map((l) => l.trim()).join(' '));
    current = [];
  };
  for (const line of lines) {
    if (!line.trim()) flush();
    else if (/^- /.test(line)) {
      flush();
      current.push(line.slice(2));
    } else current.push(line);
  }
  flush();
  return out;
}

/**
 * The model ids named after "Use" / "migrate to" in `after` (the text following the date), in the notice's order: each
 * backquoted id (`` `gpt-realtime-2.1-mini` ``), and each bare one (gpt-image-2.5-sunburst, o3): a lower-case word with a
 * digit, of letters and digits joined by `-` or `.`, outside a link's URL and a parenthesis (whose backquoted ids count).
 * Before, a bare id needed a hyphen ("Use o3 or gpt-5.4-mini instead" gave gpt-5.4-mini alone) and one backquoted id hid
 * the bare ones of its clause ("Use `o3` or gpt-5.4-mini" gave o3 alone); "a GPT image model", "built-in" name none.
 */
function replacementsIn(after: string): string[] {
  const found: string[] = [];
  for (const m of after.matchAll(/\b(?:use|migrate\s+to)\b/gi)) {
    const rest = after.slice(m.index! + m[0].length);
    const end = rest.search(/\.(?=\s|$)/);
    const clause = (end < 0 ? rest : rest.slice(0, end)).replace(/\([^)]*\)/g, (p) => ` ${[...p.matchAll(/`[^`]+`/g)].map((q) => q[0]).join(' ')} `);
    for (const t of clause.matchAll(/`([^`]+)`|(?<![\w./`-])([a-z][a-z0-9]*(?:[-.][a-z0-9]+)*)(?![\w/-])/g)) {
      const id = t[1] ?? (/\d/.test(t[2]) ? t[2] : undefined);
      if (id !== undefined && MODEL_ID.test(id) && !found.includes(id)) found.push(id);
    }
  }
  return found;
}

/**
 * The shutdown notices in one `.d.ts` file's doc comments.
 * @param source the file's text
 * @returns notices with model ids, and the dated notices that name none (or more than one date)
 */
export function parseShutdownNotices(source: string): ParsedNotices {
  const notices: ShutdownNotice[] = [];
  const unattributed: Array<{ text: string; dates: string[] }> = [];
  for (const comment of commentsOf(source)) {
    for (const text of segmentsOf(comment)) {
      const dates = [...text.matchAll(DATE_PHRASE)];
      if (!dates.length) continue;
      const first = dates[0];
      const models = [...text.slice(0, first.index).matchAll(QUOTED)].map((q) => q[1] ?? q[2]).filter((id) => MODEL_ID.test(id));
      // A date that is no calendar day (2027-02-29, 2027-13-45) is set aside too: in the table it would never warn (NaN days).
      if (!models.length || dates.length > 1 || !isCalendarDay(dateOf(first))) {
        unattributed.push({ text, dates: dates.map(dateOf) });
        continue;
      }
      notices.push({ models: [...new Set(models)], date: dateOf(first), replacements: replacementsIn(text.slice(first.index! + first[0].length)), text });
    }
  }
  return { notices, unattributed };
}
