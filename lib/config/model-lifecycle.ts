/**
 * The model catalog's lifecycle check: catalog entries whose upstream OpenAI has announced a shutdown date
 * for (lib/config/openai-model-shutdowns.ts). Run by `npm run preflight` (rule `model-shutdown-dates`) and
 * `tessera doctor` (`model-shutdown:<id>` lines); never by synth, which must stay deterministic and offline:
 * a date-based refusal would break a build on a date with no change of the code or the config.
 */
import { OPENAI_MODEL_SHUTDOWNS } from './openai-model-shutdowns.js';
import type { ModelEntry } from './schema.js';

/**
 * Days before a shutdown date from which a catalog model routed to it is a warning: a quarter, time to add
 * the replacement, move tenants' keys, fallbacks and aliases to it and deploy, since OpenAI announces most
 * shutdowns three to twelve months ahead.
 */
export const SHUTDOWN_WARNING_DAYS = 90;

/** One catalog entry with an announced shutdown. */
export interface ModelShutdownFinding {
  /** The catalog id, `openai/gpt-4o-mini`. */
  readonly modelId: string;
  /** The entry's `upstream` (the OpenAI model id looked up). */
  readonly upstream: string;
  /** `YYYY-MM-DD`. */
  readonly shutdown: string;
  /** Whole days from `today` (UTC) to the shutdown date: 0 on the day, negative after. */
  readonly daysLeft: number;
  /**
   * `fail`: an `openai/` entry on or past its date (OpenAI answers every request for it with an error);
   * `warn`: an `openai/` entry within the warning window, or an `openai-compatible/` entry whose upstream is an
   * OpenAI id on or within the window (the server behind it may relay to OpenAI, or may be a self-hosted model or
   * another vendor's deployment with its own schedule: the check cannot tell, so it never fails it);
   * `info`: announced, further off than the window.
   */
  readonly severity: 'fail' | 'warn' | 'info';
  /** OpenAI's suggested replacements (model ids), possibly none. */
  readonly replacements: readonly string[];
  /** The names of `gateway.modelAliases` that stand for this entry (requests by them reach it), in config order; empty when none. */
  readonly aliases?: readonly string[];
  /** One line naming the entry, the upstream, the date, the days and the replacement. */
  readonly message: string;
}

export interface ModelShutdownOptions {
  /** The day to judge from (its UTC date is used). Injected by tests; the callers pass the clock. */
  readonly today: Date;
  /** @default SHUTDOWN_WARNING_DAYS (90) */
  readonly warnWithinDays?: number;
  /**
   * `gateway.modelAliases` (alias → catalog id): a finding names the aliases of its entry (the embedded default's bare
   * OpenAI names among them), whose requests go to it and stop working with it. @default - none
   */
  readonly aliases?: Readonly<Record<string, string>>;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a Date's UTC day. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The day of an `--as-of YYYY-MM-DD` option (preflight, doctor): the date-based checks judge from it instead of the
 * clock, to plan ahead ("what fails on 2027-01-14?") or to get the same answer on any day.
 * @returns midnight UTC of that day
 * @throws Error naming the option and the value when it is not a calendar day `YYYY-MM-DD`
 */
export function parseAsOfDay(value: string, option = '--as-of'): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || utcDay(day) !== value) throw new Error(`${option} ${value}: expected a calendar day YYYY-MM-DD, e.g. ${option} 2027-01-14`);
  return day;
}

/**
 * The OpenAI model id an entry's `upstream` stands for, and how it was found:
 * - as it is (`gpt-4o-mini`, `gpt-4o-mini-2024-07-18`): `exact`;
 * - an OpenAI fine-tune `ft:<base>:<org>:<suffix>:<id>` (OpenAI's `fine_tuned_model` form): its base, `fineTune`. The
 *   package's notices name base models only and say nothing of their fine-tunes, and OpenAI's deprecations page has
 *   decided it per deprecation (the GPT-3 base models' fine-tunes were shut down with them; some later ones kept
 *   serving fine-tunes while refusing new training): a fine-tune of a base with a date is reported, never failed;
 * - on `openai-compatible/` only, an upstream with a provider prefix as LiteLLM-style proxies name OpenAI's models
 *   (`openai/gpt-4o-mini`, `azure/gpt-4o`): the part after the last `/` (no OpenAI id contains one), `prefixed`.
 */
function openAiIdOf(provider: string, upstream: string): { id: string; via: 'exact' | 'fineTune' | 'prefixed' } {
  const bare = provider === 'openai-compatible' && upstream.includes('/') ? upstream.slice(upstream.lastIndexOf('/') + 1) : upstream;
  const via = bare === upstream ? 'exact' : 'prefixed';
  const fineTuned = /^ft:([^:]+):/.exec(bare);
  return fineTuned ? { id: fineTuned[1], via: 'fineTune' } : { id: bare, via };
}

/**
 * OpenAI's announced shutdown date of a catalog entry of provider `openai` (lib/config/openai-model-shutdowns.ts), for the
 * `shutdown_date` of its `Model` object (`GET /v1/models`, `GET /v1/models/{model}`): its `upstream`'s date, or, for an
 * OpenAI fine-tune (`ft:<base>:<org>:<suffix>:<id>`), its base's (the package's notices name base models only, and OpenAI
 * decides per deprecation whether a base's fine-tunes stop with it: the base's date is the one to plan for). Other providers, `openai-compatible/` included, have no date here: the server behind one may be a self-hosted
 * model that OpenAI's schedule does not touch (the preflight and doctor check still warn about those, modelShutdownFindings).
 * @returns `YYYY-MM-DD` (the string OpenAI's `Model.shutdown_date` holds: `openai`'s models.d.ts `shutdown_date?: string | null`),
 *   or undefined when the entry is not `openai/` or its model has no announced date
 */
export function openAiShutdownDateOf(m: Pick<ModelEntry, 'id' | 'upstream'>): string | undefined {
  if (!m.id.startsWith('openai/')) return undefined;
  const { id } = openAiIdOf('openai', m.upstream);
  return Object.hasOwn(OPENAI_MODEL_SHUTDOWNS, id) ? OPENAI_MODEL_SHUTDOWNS[id].shutdown : undefined;
}

/**
 * The catalog entries of provider `openai` and `openai-compatible` whose `upstream` has an announced OpenAI
 * shutdown date (exact id match: `gpt-4o-mini`, `gpt-4o-mini-2024-07-18`; an OpenAI fine-tune `ft:<base>:…` by its base,
 * and on `openai-compatible/` an id behind a provider prefix, `openai/gpt-4o-mini`: openAiIdOf), most urgent first. A
 * fine-tune's finding is at most a warning (OpenAI's notice does not say whether its fine-tunes stop with the base).
 * Other providers (Bedrock, Hugging Face, SageMaker) have their own lifecycles, not read here.
 * @param models the catalog (`gateway.models`)
 * @returns one finding per such entry; empty when none has a date
 */
export function modelShutdownFindings(models: readonly Pick<ModelEntry, 'id' | 'upstream'>[], opts: ModelShutdownOptions): ModelShutdownFinding[] {
  const window = opts.warnWithinDays ?? SHUTDOWN_WARNING_DAYS;
  const today = Date.parse(`${utcDay(opts.today)}T00:00:00Z`);
  const out: ModelShutdownFinding[] = [];
  for (const m of models) {
    const provider = m.id.slice(0, m.id.indexOf('/'));
    if (provider !== 'openai' && provider !== 'openai-compatible') continue;
    const { id, via } = openAiIdOf(provider, m.upstream);
    // Own keys only: the table is a plain object, and an upstream named `constructor` or `toString` found Object's.
    const notice = Object.hasOwn(OPENAI_MODEL_SHUTDOWNS, id) ? OPENAI_MODEL_SHUTDOWNS[id] : undefined;
    if (!notice) continue;
    const daysLeft = Math.round((Date.parse(`${notice.shutdown}T00:00:00Z`) - today) / DAY_MS);
    const near = daysLeft <= window;
    const severity = !near ? 'info' : daysLeft <= 0 && provider === 'openai' && via !== 'fineTune' ? 'fail' : 'warn';
    const base = via === 'fineTune' ? `, a fine-tune of ${id}` : via === 'prefixed' ? `, OpenAI's ${id}` : '';
    const who = via === 'fineTune' ? `its base ${id} ` : '';
    const when = daysLeft > 0 ? `${who}shuts down on ${notice.shutdown} (in ${daysLeft} day${daysLeft === 1 ? '' : 's'})`
      : daysLeft === 0 ? `${who}shuts down today, ${notice.shutdown}` : `${who}was shut down on ${notice.shutdown} (${-daysLeft} day${daysLeft === -1 ? '' : 's'} ago)`;
    const effect = via === 'fineTune'
      ? ': OpenAI says per deprecation whether a base model\'s fine-tunes stop with it (the package\'s notice does not), check its deprecations page'
      : provider === 'openai'
        ? daysLeft <= 0 ? ': OpenAI answers every request for it with an error' : ''
        : ' if the openai-compatible server behind it relays to OpenAI';
    const aliases = Object.entries(opts.aliases ?? {}).filter(([, target]) => target === m.id).map(([alias]) => alias);
    const named = aliases.length === 0 ? '' : `; requests for ${aliases.length === 1 ? 'its alias' : 'its aliases'} ${aliases.join(', ')} (gateway.modelAliases) go to it`;
    const instead = notice.replacements.length ? `; OpenAI suggests ${notice.replacements.join(' or ')}` : '; see https://developers.openai.com/api/docs/deprecations for the replacement';
    out.push({
      modelId: m.id, upstream: m.upstream, shutdown: notice.shutdown, daysLeft, severity, replacements: notice.replacements, aliases,
      message: `${m.id} (upstream ${m.upstream}${base}) ${when}${effect}${instead}${named}`,
    });
  }
  const rank = { fail: 0, warn: 1, info: 2 } as const;
  return out.sort((a, b) => rank[a.severity] - rank[b.severity] || a.daysLeft - b.daysLeft || a.modelId.localeCompare(b.modelId));
}

/**
 * What to do about a finding, for a fail or warn line: add the replacement to `gateway.models`, move tenants'
 * keys, fallbacks and `gateway.modelAliases` to it, then remove the entry (or point its `upstream` at the replacement).
 */
export function shutdownFix(f: ModelShutdownFinding): string {
  const to = f.replacements[0] ? `a catalog entry for ${f.replacements.join(' or ')}` : 'a catalog entry for a current OpenAI model';
  const aliases = f.aliases?.length ? ` (${f.aliases.map((a) => `${a}: point it at the replacement, or null to remove it`).join('; ')})` : '';
  return `add ${to} to gateway.models, move tenants' keys, fallbacks and gateway.modelAliases${aliases} off ${f.modelId}, then remove it (or change its upstream ${f.upstream})`;
}
