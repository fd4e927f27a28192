import type { CheckStatus, DoctorReport } from './types.js';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!' };

/**
 * The text report: one line per check (`✓`/`✗`/`!`, the title padded to one column, what was found,
 * the account and Region read), an indented `fix:` line under each failure and warning, and a
 * closing count. Plain text, no colours (it is pasted into tickets).
 */
export function formatReport(report: DoctorReport): string {
  const width = Math.min(48, Math.max(...report.checks.map((c) => c.title.length)));
  const lines: string[] = [];
  for (const c of report.checks) {
    const where = c.account || c.region ? ` [${[c.account, c.region].filter(Boolean).join(' ')}]` : '';
    lines.push(`${MARK[c.status]} ${c.title.padEnd(width)}  ${c.detail}${where}`);
    if (c.fix && c.status !== 'pass') lines.push(`    fix: ${c.fix}`);
  }
  const { pass, fail, warn } = report.summary;
  lines.push('', `doctor: ${pass} pass, ${fail} fail, ${warn} warn${fail ? ' (fix each ✗ line and run it again)' : ''}`);
  return lines.join('\n');
}

/** `--json`: `{ checks: [{ id, title, status, detail, fix?, account?, region? }], summary: { pass, fail, warn } }`. */
export function formatJson(report: DoctorReport): string {
  return JSON.stringify({ checks: report.checks, summary: report.summary }, null, 2);
}

/** Exit code: 1 when any check fails, else 0 (warnings pass). */
export function exitCodeOf(report: DoctorReport): 0 | 1 {
  return report.summary.fail > 0 ? 1 : 0;
}
