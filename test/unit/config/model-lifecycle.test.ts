import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { modelShutdownFindings, parseAsOfDay, SHUTDOWN_WARNING_DAYS, shutdownFix } from '../../../lib/config/model-lifecycle.js';
import { modelShutdownLines, outcomeLine } from '../../../lib/preflight/format.js';
import { preflightPasses, type PreflightReport } from '../../../lib/preflight/run.js';

/** The day the tests judge from: fixed, never the clock. */
const TODAY = new Date('2026-12-05T15:30:00Z');
const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
const m = (id: string, upstream: string) => ({ id, upstream });

describe('modelShutdownFindings (rule model-shutdown-dates)', () => {
  it('reads an OpenAI fine-tune by its base (a warning at most: the notice does not say its fine-tunes stop), an openai-compatible upstream behind a provider prefix, and no Object.prototype name', () => {
    // s31q: before, all of these were silent, and `constructor` gave a finding with NaN days
    const findings = modelShutdownFindings([
      m('openai/support-bot', 'ft:gpt-4o-mini-2024-07-18:acme::9ZxY12ab'), // base 2027-01-14: 6 days after
      m('openai/old-ft', 'ft:gpt-3.5-turbo-0125:acme:triage:Ab12'), // base 2026-10-23
      m('openai-compatible/proxied', 'openai/gpt-4o-mini'),
      m('openai-compatible/proxied-ft', 'openai/ft:gpt-4o-mini:acme::x1'),
      m('openai-compatible/ctor', 'constructor'),
      m('openai/proto', '__proto__'),
      m('openai/tostring', 'toString'),
      m('openai/prefixed', 'openai/gpt-4o-mini'), // the openai provider sends upstream as it is: OpenAI knows no such id
      m('openai/ft-unknown', 'ft:my-own-base:acme::x'),
    ], { today: day('2027-01-20') });
    expect(findings.map((f) => [f.modelId, f.severity, f.daysLeft])).toEqual([
      ['openai/old-ft', 'warn', -89],
      ['openai-compatible/proxied', 'warn', -6],
      ['openai-compatible/proxied-ft', 'warn', -6],
      ['openai/support-bot', 'warn', -6],
    ]);
    expect(findings[3].message).toBe('openai/support-bot (upstream ft:gpt-4o-mini-2024-07-18:acme::9ZxY12ab, a fine-tune of gpt-4o-mini-2024-07-18) its base gpt-4o-mini-2024-07-18 was shut down on 2027-01-14 (6 days ago): '
      + 'OpenAI says per deprecation whether a base model\'s fine-tunes stop with it (the package\'s notice does not), check its deprecations page; see https://developers.openai.com/api/docs/deprecations for the replacement');
    expect(findings[1].message).toBe('openai-compatible/proxied (upstream openai/gpt-4o-mini, OpenAI\'s gpt-4o-mini) was shut down on 2027-01-14 (6 days ago) if the openai-compatible server behind it relays to OpenAI; see https://developers.openai.com/api/docs/deprecations for the replacement');
  });

  it('fails an openai/ entry on or past its date, warns within 90 days, notes one further off, and skips models without a notice', () => {
    const findings = modelShutdownFindings([
      m('openai/gpt-4o-mini', 'gpt-4o-mini'), // 2027-01-14: 40 days
      m('openai/legacy', 'gpt-3.5-turbo'), // 2026-10-23: 43 days ago
      m('openai/gpt-5-mini', 'gpt-5-mini-2025-08-07'), // 2026-12-11: 6 days
      m('openai/whisper', 'whisper-1'), // 2027-02-26: 83 days
      m('openai/nano', 'gpt-5.4-nano'), // 2027-04-01: 117 days
      m('openai/gpt-5.4-mini', 'gpt-5.4-mini'), // no notice
      m('bedrock/x', 'gpt-4o-mini'), // another provider: its own lifecycle
    ], { today: TODAY });
    expect(findings.map((f) => [f.modelId, f.severity, f.daysLeft])).toEqual([
      ['openai/legacy', 'fail', -43],
      ['openai/gpt-5-mini', 'warn', 6],
      ['openai/gpt-4o-mini', 'warn', 40],
      ['openai/whisper', 'warn', 83],
      ['openai/nano', 'info', 117],
    ]);
    expect(findings[0].message).toBe('openai/legacy (upstream gpt-3.5-turbo) was shut down on 2026-10-23 (43 days ago): OpenAI answers every request for it with an error; see https://developers.openai.com/api/docs/deprecations for the replacement');
    expect(findings[2].message).toBe('openai/gpt-4o-mini (upstream gpt-4o-mini) shuts down on 2027-01-14 (in 40 days); see https://developers.openai.com/api/docs/deprecations for the replacement');
  });

  it('the shutdown day itself fails; the window edge (90 days) warns, 91 does not', () => {
    const at = (today: string) => modelShutdownFindings([m('openai/gpt-4o-mini', 'gpt-4o-mini')], { today: day(today) })[0];
    expect(at('2027-01-14')).toMatchObject({ severity: 'fail', daysLeft: 0, message: expect.stringContaining('shuts down today, 2027-01-14: OpenAI answers every request') });
    expect(at('2027-01-13')).toMatchObject({ severity: 'warn', daysLeft: 1, message: expect.stringContaining('(in 1 day)') });
    expect(SHUTDOWN_WARNING_DAYS).toBe(90);
    expect(at('2026-10-16')).toMatchObject({ severity: 'warn', daysLeft: 90 });
    expect(at('2026-10-15')).toMatchObject({ severity: 'info', daysLeft: 91 });
    expect(modelShutdownFindings([m('openai/gpt-4o-mini', 'gpt-4o-mini')], { today: day('2026-10-15'), warnWithinDays: 120 })[0].severity).toBe('warn');
  });

  it('an openai-compatible/ entry whose upstream is an OpenAI id warns, never fails (the server behind it may not be OpenAI)', () => {
    const [f] = modelShutdownFindings([m('openai-compatible/proxy', 'gpt-image-1')], { today: TODAY });
    expect(f).toMatchObject({ severity: 'warn', daysLeft: -43, replacements: ['gpt-image-2.5-sunburst', 'gpt-image-2.5-flare'] });
    expect(f.message).toBe('openai-compatible/proxy (upstream gpt-image-1) was shut down on 2026-10-23 (43 days ago) if the openai-compatible server behind it relays to OpenAI; OpenAI suggests gpt-image-2.5-sunburst or gpt-image-2.5-flare');
    expect(modelShutdownFindings([m('openai-compatible/default', 'default')], { today: TODAY })).toEqual([]);
    expect(shutdownFix(f)).toBe("add a catalog entry for gpt-image-2.5-sunburst or gpt-image-2.5-flare to gateway.models, move tenants' keys, fallbacks and gateway.modelAliases off openai-compatible/proxy, then remove it (or change its upstream gpt-image-1)");
  });

  it('the default catalog: gpt-4o-mini warns (kept until its date), gpt-5.4-mini and gpt-image-2.5-flare have no notice; gpt-4o-mini fails from 2027-01-14', () => {
    const findings = modelShutdownFindings(DEFAULT_CONFIG.gateway.models, { today: TODAY });
    expect(findings.map((f) => [f.modelId, f.severity])).toEqual([['openai/gpt-4o-mini', 'warn']]);
    // The rule is about dates, synth is not: the same catalog fails the day gpt-4o-mini is shut down.
    expect(modelShutdownFindings(DEFAULT_CONFIG.gateway.models, { today: day('2027-01-14') }).map((f) => [f.modelId, f.severity])).toEqual([['openai/gpt-4o-mini', 'fail']]);
  });

  it('synth does not judge dates: the default config loads on any day, past every shutdown', () => {
    expect(() => loadConfig({})).not.toThrow();
    const entry = loadConfig({}).gateway.models.find((x) => x.id === 'openai/gpt-5.4-mini');
    expect(entry).toMatchObject({ upstream: 'gpt-5.4-mini', inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, maxOutputTokens: 128_000 });
    expect(entry?.kind).toBeUndefined(); // chat
  });
});

describe('the preflight verdict with model-shutdown-dates', () => {
  const report = (severities: Array<'fail' | 'warn' | 'info'>): Pick<PreflightReport, 'tiers' | 'baselinePresent' | 'platform' | 'modelShutdowns'> => ({
    tiers: [], baselinePresent: true, platform: { region: 'us-east-1', violations: [] },
    modelShutdowns: {
      today: '2026-12-05', warnWithinDays: 90,
      findings: severities.map((severity, i) => ({ modelId: `openai/m${i}`, upstream: `m${i}`, shutdown: '2027-01-14', daysLeft: 40, severity, replacements: [], message: `openai/m${i} (upstream m${i}) …` })),
    },
  });

  it('a warning passes (exit 0), a catalog model past its date fails (exit 1)', () => {
    expect(preflightPasses(report([]))).toBe(true);
    expect(preflightPasses(report(['warn', 'info']))).toBe(true);
    expect(preflightPasses(report(['fail', 'warn']))).toBe(false);
    expect(preflightPasses({ ...report([]), baselinePresent: false })).toBe(false);
    // The platform stack's Region (offered-in-region over TesseraPlatform) fails it too.
    expect(preflightPasses({ ...report([]), platform: { region: 'us-west-1', violations: ['TesseraPlatform (us-west-1): … g5.2xlarge is not offered in us-west-1'] } })).toBe(false);
  });

  it('prints the rule with its verdict and one line per finding, with the fix under a failure or a warning', () => {
    expect(modelShutdownLines(report(['warn']).modelShutdowns)).toEqual([
      '== model catalog: rule WARN model-shutdown-dates: no catalog model routed to an OpenAI model past its shutdown date (fail) or within 90 days of it (warning), as of 2026-12-05 (lib/config/openai-model-shutdowns.ts, from the openai package\'s deprecation notices)',
      '  WARN openai/m0 (upstream m0) …',
      '    fix: add a catalog entry for a current OpenAI model to gateway.models, move tenants\' keys, fallbacks and gateway.modelAliases off openai/m0, then remove it (or change its upstream m0)',
    ]);
    expect(modelShutdownLines(report(['fail', 'warn']).modelShutdowns)[0]).toMatch(/^== model catalog: rule FAIL model-shutdown-dates: /);
    expect(modelShutdownLines(report([]).modelShutdowns)).toHaveLength(1);
    expect(modelShutdownLines(report(['info']).modelShutdowns)[0]).toMatch(/^== model catalog: rule pass /);
  });

  it('ends the report with the verdict the exit code gives and what made it (a failure is named at the end, not only among ~235 lines)', () => {
    const full = (r: ReturnType<typeof report>) => ({ ...r, cfnLintVersion: 'x', cannotSee: [] }) as unknown as PreflightReport;
    expect(outcomeLine(full(report([])))).toBe('preflight: PASS');
    expect(outcomeLine(full(report(['warn', 'info'])))).toBe('preflight: PASS with 1 warning (model-shutdown-dates)');
    expect(outcomeLine(full(report(['fail', 'warn'])))).toBe('preflight: FAIL (exit 1): model-shutdown-dates: openai/m0 (shut down 2027-01-14) — see the FAIL lines above');
    expect(outcomeLine(full({ ...report([]), baselinePresent: false }))).toBe('preflight: FAIL (exit 1): no account baseline template — see the FAIL lines above');
    expect(outcomeLine(full({ ...report([]), platform: { region: 'us-west-1', violations: ['x'] } }))).toBe('preflight: FAIL (exit 1): platform stack offered-in-region — see the FAIL lines above');
  });
});

describe('parseAsOfDay (--as-of of preflight and doctor)', () => {
  it('takes a calendar day YYYY-MM-DD as midnight UTC, and refuses anything else naming the option and the value', () => {
    expect(parseAsOfDay('2027-01-14').toISOString()).toBe('2027-01-14T00:00:00.000Z');
    expect(modelShutdownFindings([m('openai/gpt-4o-mini', 'gpt-4o-mini')], { today: parseAsOfDay('2027-01-14') }).map((f) => f.severity)).toEqual(['fail']);
    for (const bad of ['2027-02-30', '2027-1-14', '14/01/2027', '2027-01-14T00:00Z', '']) {
      expect(() => parseAsOfDay(bad), bad).toThrow(`--as-of ${bad}: expected a calendar day YYYY-MM-DD, e.g. --as-of 2027-01-14`);
    }
  });
});
