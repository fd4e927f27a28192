import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENAI_MODEL_SHUTDOWNS, OPENAI_SHUTDOWNS_PACKAGE } from '../../../lib/config/openai-model-shutdowns.js';
import { parseShutdownNotices } from '../../../lib/config/openai-shutdown-notices.js';

/**
 * The shutdown table (lib/config/openai-model-shutdowns.ts) against the installed `openai` package's own notices.
 *
 * When this fails after an `openai` upgrade: OpenAI announced, moved or dropped a shutdown date. Update
 * NOTICES in lib/config/openai-model-shutdowns.ts from the failure's "expected" side (the package's dates; the
 * assertion message lists the entries to add, change or remove), set OPENAI_SHUTDOWNS_PACKAGE to the new version,
 * and run `npm run preflight`: a catalog model whose new date is near or past now warns or fails there.
 * When it fails with "unattributed": a dated notice names no model id (or two dates) in a form the parser does
 * not read: read it, then extend lib/config/openai-shutdown-notices.ts or add it to KNOWN_UNATTRIBUTED.
 */
const packageRoot = dirname(createRequire(import.meta.url).resolve('openai'));
const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
const resources = join(packageRoot, 'resources');

/** Dated notices that name no model: the Sora API (videos.d.ts, every method of `Videos`). */
const KNOWN_UNATTRIBUTED = ['2026-09-24 The Sora API is scheduled to permanently shut down'];

function packageTable() {
  const table: Record<string, { shutdown: string; replacements: string[] }> = {};
  const conflicts: string[] = [];
  const unattributed = new Set<string>();
  // .d.ts only: the .d.mts files are the same declarations for ESM.
  for (const file of (readdirSync(resources, { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts')).sort()) {
    const parsed = parseShutdownNotices(readFileSync(join(resources, file), 'utf8'));
    for (const u of parsed.unattributed) unattributed.add(`${u.dates.join(',')} ${u.text.replace(/^@deprecated /, '').replace(/ on .*$/, '')}`);
    for (const n of parsed.notices) {
      for (const id of n.models) {
        const had = table[id];
        if (!had) table[id] = { shutdown: n.date, replacements: [...n.replacements] };
        else if (had.shutdown !== n.date) conflicts.push(`${id}: ${had.shutdown} and ${n.date} (${file})`);
        else for (const r of n.replacements) if (!had.replacements.includes(r)) had.replacements.push(r);
      }
    }
  }
  return { table, conflicts, unattributed: [...unattributed] };
}

describe('OpenAI model shutdown table', () => {
  const fromPackage = packageTable();

  it(`agrees with the installed openai package's deprecation notices (read from ${OPENAI_SHUTDOWNS_PACKAGE})`, () => {
    const ours = Object.fromEntries(Object.entries(OPENAI_MODEL_SHUTDOWNS).map(([id, s]) => [id, { shutdown: s.shutdown, replacements: [...s.replacements] }]));
    const missing = Object.keys(fromPackage.table).filter((id) => !ours[id]).map((id) => `add ['${fromPackage.table[id].shutdown}', ['${id}']${fromPackage.table[id].replacements.length ? `, ${JSON.stringify(fromPackage.table[id].replacements)}` : ''}]`);
    const changed = Object.keys(fromPackage.table).filter((id) => ours[id] && JSON.stringify(ours[id]) !== JSON.stringify(fromPackage.table[id])).map((id) => `change ${id}: ${JSON.stringify(ours[id])} -> ${JSON.stringify(fromPackage.table[id])}`);
    const gone = Object.keys(ours).filter((id) => !fromPackage.table[id]).map((id) => `remove ${id} (no notice in openai ${version})`);
    expect([...missing, ...changed, ...gone], `lib/config/openai-model-shutdowns.ts vs openai ${version}`).toEqual([]);
    expect(ours).toEqual(fromPackage.table);
  });

  it('the package gives each model one date, and every dated notice it names no model in is known', () => {
    expect(fromPackage.conflicts).toEqual([]);
    expect(fromPackage.unattributed).toEqual(KNOWN_UNATTRIBUTED);
  });

  it('holds the dates the catalog depends on', () => {
    expect(OPENAI_MODEL_SHUTDOWNS['gpt-4o-mini']).toEqual({ shutdown: '2027-01-14', replacements: [] });
    expect(OPENAI_MODEL_SHUTDOWNS['gpt-image-1']).toEqual({ shutdown: '2026-10-23', replacements: ['gpt-image-2.5-sunburst', 'gpt-image-2.5-flare'] });
    expect(OPENAI_MODEL_SHUTDOWNS['gpt-3.5-turbo'].shutdown).toBe('2026-10-23');
    expect(OPENAI_MODEL_SHUTDOWNS['dall-e-3'].shutdown).toBe('2026-05-12');
    expect(OPENAI_MODEL_SHUTDOWNS['tts-1']).toEqual({ shutdown: '2027-01-06', replacements: ['gpt-realtime-2.1-mini'] });
    expect(OPENAI_MODEL_SHUTDOWNS['whisper-1'].shutdown).toBe('2027-02-26');
    for (const id of ['gpt-5', 'gpt-5-mini', 'o3']) expect(OPENAI_MODEL_SHUTDOWNS[id].shutdown).toBe('2026-12-11');
    // Current models have no notice.
    for (const id of ['gpt-5.4-mini', 'gpt-5.4', 'text-embedding-3-small', 'omni-moderation-latest']) expect(OPENAI_MODEL_SHUTDOWNS[id]).toBeUndefined();
  });
});

describe('parseShutdownNotices', () => {
  it('reads a "Deprecated values" list: ISO dates, dates in words, ids before the date, replacements after "Use"', () => {
    const source = [
      '/**',
      ' * Deprecated values:',
      ' *',
      ' * - "m-1", "m-1-2024-01-01": Announced shutdown',
      ' *   date: 2027-01-14. See https://developers.openai.com/api/docs/deprecations for',
      ' *   details and recommended replacements.',
      ' * - "m-2": Not a supported model ID. Retained for SDK compatibility.',
      ' * - "img-1": Image 1 was shut down on October 3, 2026. Use img-2.5-sun or',
      ' *   img-2.5-flare instead.',
      ' * - "old-a", "old-b": This model was retired on May 12, 2026. Use a GPT image model instead.',
      ' */',
      'export type M = string;',
    ].join('\n');
    const { notices, unattributed } = parseShutdownNotices(source);
    expect(notices.map(({ models, date, replacements }) => ({ models, date, replacements }))).toEqual([
      { models: ['m-1', 'm-1-2024-01-01'], date: '2027-01-14', replacements: [] },
      { models: ['img-1'], date: '2026-10-03', replacements: ['img-2.5-sun', 'img-2.5-flare'] },
      { models: ['old-a', 'old-b'], date: '2026-05-12', replacements: [] },
    ]);
    expect(unattributed).toEqual([]);
  });

  it('reads a paragraph with backquoted ids and "migrate to", and sets aside a dated paragraph that names no model or an endpoint', () => {
    const source = [
      '/**',
      ' * Generates audio.',
      ' *',
      ' * The `s-1` and `s-1-hd` models are deprecated and scheduled to shut down on',
      ' * January 6, 2027. For new integrations, migrate to `rt-2.1-mini` through the',
      ' * [Realtime API](https://example.com/realtime). See the schedule.',
      ' *',
      ' * Supports only `w-1`. Scheduled to shut down on February 26, 2027. Migrate to',
      ' * `/v1/realtime/translations`, which requires a separate integration.',
      ' */',
      '/** @deprecated The V API is scheduled to permanently shut down on September 24, 2026. */',
    ].join('\n');
    const { notices, unattributed } = parseShutdownNotices(source);
    expect(notices.map(({ models, date, replacements }) => ({ models, date, replacements }))).toEqual([
      { models: ['s-1', 's-1-hd'], date: '2027-01-06', replacements: ['rt-2.1-mini'] },
      { models: ['w-1'], date: '2027-02-26', replacements: [] },
    ]);
    expect(unattributed).toEqual([{ text: '@deprecated The V API is scheduled to permanently shut down on September 24, 2026.', dates: ['2026-09-24'] }]);
  });

  it('reads every replacement of "Use A or B instead", bare ids without a hyphen and bare beside backquoted; sets aside a date that is no calendar day', () => {
    // s31q: before, "o3" and "o4" were dropped (a bare id needed a hyphen), one backquoted id hid the bare ones, and
    // 2027-02-29 or 2027-13-45 became a table date that never warns
    const comment = (...items: string[]) => ['/**', ' * Deprecated values:', ' *', ...items.map((i) => ` * - ${i}`), ' */'].join('\n');
    const { notices, unattributed } = parseShutdownNotices(comment(
      '"a-1": Announced shutdown date: 2027-01-14. Use o3 or gpt-5.4-mini instead.',
      '"a-2": Announced shutdown date: 2027-01-14. Use `o3` or gpt-5.4-mini instead.',
      '"a-3": Announced shutdown date: 2027-01-14. Use gpt-5.4-mini, gpt-5.4 or o4 (see `o4-mini` too, https://x.example/o9) instead.',
      '"a-4": retired on May 12, 2026. Use a GPT image model or a built-in tool instead.',
      '`a-5`, `a-6`: Announced shutdown date: 2027-01-14.',
      '"a-7": Announced shutdown date: 2027-13-45.',
      '"a-8": GPT A 8 was shut down on February 29, 2027.',
    ));
    expect(notices.map(({ models, date, replacements }) => [models, date, replacements])).toEqual([
      [['a-1'], '2027-01-14', ['o3', 'gpt-5.4-mini']],
      [['a-2'], '2027-01-14', ['o3', 'gpt-5.4-mini']],
      [['a-3'], '2027-01-14', ['gpt-5.4-mini', 'gpt-5.4', 'o4', 'o4-mini']],
      [['a-4'], '2026-05-12', []],
      [['a-5', 'a-6'], '2027-01-14', []],
    ]);
    expect(unattributed.map((u) => u.dates)).toEqual([['2027-13-45'], ['2027-02-29']]);
  });
});
