import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';

// Refused before any call: the API URL below answers nothing (port 9 is discard).
const API = 'http://127.0.0.1:9';

describe('tessera tenants usage --month and tenants update --allow-replacement refuse bad combinations locally (exit 2)', () => {
  it.each([
    [['tenants', 'usage', 'acme', '--month', '2026-13'], /--month: month = "2026-13": must be a month as YYYY-MM/],
    [['tenants', 'usage', 'acme', '--month', '2026-10', '--by', 'user'], /--by does not go with --month/],
    [['--json', 'tenants', 'usage', 'acme', '--month', '2026-10', '--csv'], /--csv and --json each choose the output: give one/],
    [['tenants', 'usage', 'acme', '--csv'], /--csv needs --month/],
    // An empty month was taken as no month: the command answered today's counters instead of refusing it.
    [['tenants', 'usage', 'acme', '--month', ''], /--month: month = "": must be a month as YYYY-MM/],
    [['tenants', 'usage', 'acme', '--month', '', '--csv'], /--month: month = "": must be a month as YYYY-MM/],
    [['tenants', 'usage', 'acme', '--month', '../2026-10'], /--month: month = "..\/2026-10": must be a month as YYYY-MM/],
    [['tenants', 'update', 'acme', '--blueprint-version', '0.3.0', '--allow-replacement', 'short'], /--allow-replacement: reason = "short": must say why \(at least 8 characters\)/],
  ])('%j', async (args, message) => {
    const run = await runTesseraInProcess(API, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
