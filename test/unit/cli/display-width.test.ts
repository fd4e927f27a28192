import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import { clipDisplay, displayWidth, padDisplay } from '../../../lib/cli/display-width.js';
import { detailLines, table } from '../../../lib/cli/format.js';
import { watch } from '../../../lib/cli/tenants-command.js';
import { identitiesLines } from '../../../lib/cli/offboarding-format.js';

/**
 * The CLI's columns and cuts count what a terminal shows (lib/cli/display-width.ts): a CJK character takes two columns, a
 * combining mark none, an emoji sequence two. Counted by `length` (UTF-16 code units), a tenant named `株式会社アクメ` pushed
 * its row's later columns seven columns out of line, and a cause cut at 300 characters was 600 columns of CJK.
 */
afterEach(() => vi.restoreAllMocks());

describe('display width', () => {
  it('counts columns: CJK two, a combining mark none, an emoji sequence two', () => {
    expect(displayWidth('acme')).toBe(4);
    expect(displayWidth('株式会社アクメ')).toBe(14);
    expect(displayWidth('Ame\u0301lie')).toBe(6);
    expect(displayWidth('👨‍👩‍👧')).toBe(2);
  });

  it('counts every RGI emoji ZWJ sequence two columns and an invisible character none (string-width 4.2.3 counted 5 to 8, and 1)', () => {
    // string-width 4.2.3 (the version installed) counts a ZWJ sequence whose parts carry U+FE0F or a skin tone as its parts:
    // a tag or tenant name holding one pushed the table's later columns out of line by up to 6 columns
    for (const emoji of ['❤️‍🔥', '😶‍🌫️', '🐻‍❄️', '🧔‍♂️', '🏳️‍⚧️', '🧑🏻‍🤝‍🧑🏿', '👩‍❤️‍💋‍👨', '🏴‍☠️', '1️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿']) expect([emoji, displayWidth(emoji)]).toEqual([emoji, 2]);
    expect(displayWidth('a\u200bb')).toBe(2); // a zero-width space (DisplayName allows format characters)
    expect(displayWidth('a\u200db\u2060c\ufeff')).toBe(3);
    expect(displayWidth('株\u200b式')).toBe(4);
    expect(displayWidth('\x1b[31m株❤️‍🔥\x1b[0m')).toBe(4);
    expect(clipDisplay('ab🧑🏻‍🤝‍🧑🏿cdef', 7)).toBe('ab🧑🏻‍🤝‍🧑🏿...');
    const lines = table([{ tenantId: 'acme', name: 'Team 🧑🏻‍🤝‍🧑🏿', tier: 'starter' }, { tenantId: 'beta', name: 'Beta', tier: 'pro' }], ['tenantId', 'name', 'tier']).split('\n');
    expect(lines.map((l) => displayWidth(l.slice(0, l.lastIndexOf(' ') + 1)))).toEqual([20, 20, 20]);
  });

  it('pads to a width in columns, and cuts on a grapheme boundary within it, the marker included', () => {
    expect(padDisplay('株', 4)).toBe('株  ');
    expect(padDisplay('toolong', 3)).toBe('toolong');
    expect(clipDisplay('株式会社アクメ', 9)).toBe('株式会...');
    expect(displayWidth(clipDisplay('株式会社アクメ', 9))).toBeLessThanOrEqual(9);
    // never between a letter and its accent, nor inside an emoji sequence
    expect(clipDisplay('abcde\u0301fghij', 8)).toBe('abcde\u0301...');
    expect(clipDisplay('ab👨‍👩‍👧cdef', 6)).toBe('ab...');
    expect(clipDisplay('short', 10)).toBe('short');
  });
});

describe('the CLI\'s layouts in terminal columns', () => {
  it('table: a CJK cell widens its column by its columns, and the next column starts in line', () => {
    const lines = table([{ tenantId: 'acme', name: '株式会社アクメ', tier: 'starter' }, { tenantId: 'beta', name: 'Beta', tier: 'pro' }], ['tenantId', 'name', 'tier']).split('\n');
    expect(lines).toEqual([
      'TENANT ID  NAME            TIER',
      'acme       株式会社アクメ  starter',
      'beta       Beta            pro',
    ]);
    expect(new Set(lines.map((l) => displayWidth(l.slice(0, l.lastIndexOf('  ') + 2))))).toEqual(new Set([displayWidth('TENANT ID  NAME            ')]));
  });

  it('tenants show\'s labels: a wide label sets the value column by its columns', () => {
    expect(detailLines([['名前ラベル長い', 'x'], ['tier', 'starter']])).toEqual(['名前ラベル長い  x', 'tier            starter']);
  });

  it('watch: a stopped step\'s cause is cut at 300 columns (CJK: 148 characters and the marker), on a grapheme boundary', async () => {
    const cause = '原因'.repeat(400);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const api = { call: async () => ({ status: 'PROVISIONING', kind: 'onboard', executionStatus: 'ABORTED', steps: [{ name: 'Deploy baseline', seconds: 30, status: 'ABORTED', error: 'Operator', cause }] }) } as unknown as AdminClient;
    await watch(api, 'acme', 1, false, undefined, false);
    vi.restoreAllMocks();
    const stopped = out.join('').split('\n').find((l) => l.startsWith('stopped at'))!;
    const shown = stopped.slice(stopped.indexOf('Operator (') + 'Operator ('.length, -1);
    expect(shown).toBe(`${'原因'.repeat(74)}...`);
    expect(displayWidth(shown)).toBeLessThanOrEqual(300);
  });

  it('offboarding\'s identities: a reason is wrapped at its columns', () => {
    const skipped = '利用者プールがないため利用者は無効化されていません 再実行は不要です 確認済み'.repeat(2);
    const lines = identitiesLines({ apiKeys: { deleted: 0, checkedAt: 't' }, users: { skipped, checkedAt: 't' }, executionArns: [] } as never);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(1)) expect(displayWidth(l.trim())).toBeLessThanOrEqual(100);
  });
});
