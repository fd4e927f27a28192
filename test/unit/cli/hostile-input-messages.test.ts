import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TenantsFileError } from '../../../lib/cli/tenants-apply-command.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * session 45: the `tessera` CLI met with hostile and sloppy input, as a platform engineer types it: each refusal names the flag
 * or field and the value, says what it takes, prints no terminal escape (ESC, BEL) it was given or answered, and calls
 * nothing when the input is the problem.
 */
const ESC_TITLE = '\u001b]0;owned\u0007';
/** The admin API answering every call with a 400 whose message and field hold escapes (a key of a --file, say). */
const admin = fakeAdminApi(() => ({ status: 400, body: { error: { message: `tenant "a${ESC_TITLE}" refused`, type: 'invalid_request_error', param: `policy.${ESC_TITLE}`, code: 'invalid_request' } } }));
const dir = tempDir('hostile-input-');
/** Any C0 control but the line feed, DEL or a C1 control: what a terminal acts on. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('tessera: escapes are shown, not sent to the terminal', () => {
  it('an admin API error whose message and field hold ESC and BEL prints them escaped (was raw: the terminal\'s title changed)', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'show', 'acme');
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('error: tenant "a\\u001b]0;owned\\u0007" refused (invalid_request, field policy.\\u001b]0;owned\\u0007)\n');
  });

  it('a tenant id argument with ESC: commander\'s refusal quotes it escaped, exit 2, nothing called', async () => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'show', 'a\u001b[2J');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^error: command-argument value 'a\\u001b\[2J' is invalid for argument 'id'/);
    expect(out.stderr).not.toMatch(CONTROL);
    expect(admin.calls).toEqual([]);
  });

  it('a --file that is not JSON: the parser\'s quote of the file shown escaped, exit 2, nothing called', async () => {
    admin.calls.length = 0;
    const path = join(dir, 'policy.json');
    writeFileSync(path, `not json ${ESC_TITLE}`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'gateway', 'acme', '--file', path);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('\\u001b]0;owned\\u0007');
    expect(out.stderr).not.toMatch(CONTROL);
    expect(admin.calls).toEqual([]);
  });
});

describe('tessera tenants create: a bad flag says what it takes, exit 2, nothing called', () => {
  const create = (...flags: string[]) => runTesseraInProcess(admin.url, 'tenants', 'create', '--id', 'acme', '--name', 'Acme', '--tier', 'starter', ...flags);
  it.each([
    [['--admin-email', 'nope'], 'error: --admin-email "nope": must be an email address (name@example.com)\n'],
    [['--admin-email', 'ops@acme.example', '--request-id', 'r-1'], 'error: --request-id "r-1": must be at least 8 characters (it has 3)\n'],
    [['--admin-email', `${'a'.repeat(65)}@acme.example`], `error: --admin-email "${'a'.repeat(65)}@acme.example": its local part (before the @) must be at most 64 characters (RFC 5321 §4.5.3.1.1)\n`],
  ])('%j', async (flags, stderr) => {
    admin.calls.length = 0;
    const out = await create(...flags);
    expect([out.code, out.stderr, admin.calls]).toEqual([2, stderr, []]);
  });
});

describe('--allow-replacement: a reason too long says its limit and length, exit 2, nothing called', () => {
  const reason = 'cache rebuild '.repeat(40).slice(0, 501);
  it.each([
    [['tenants', 'update', 'acme', '--tier', 'pro', '--allow-replacement', reason]],
    [['tenants', 'upgrade', '--tier', 'pro', '--blueprint-version', '1.0.0', '--allow-replacement', reason]],
  ])('%j', async (args) => {
    admin.calls.length = 0;
    const out = await runTesseraInProcess(admin.url, ...args);
    // Was zod's `Too big: expected string to have <=500 characters`.
    expect([out.code, out.stderr, admin.calls]).toEqual([2, `error: --allow-replacement: reason = ${JSON.stringify(reason)}: must be at most 500 characters (it has 501)\n`, []]);
  });
});

describe('tessera tenants apply: a file of many bad entries', () => {
  it('lists the first 50 problems and counts the rest (was every one: 150,000 lines for a 10 MB file); --json keeps them all', () => {
    const problems = Array.from({ length: 120 }, (_, i) => `tenants.yaml: tenants[${i}].tier = 7: must be a string, not a number`);
    const e = new TenantsFileError(problems);
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('120 problems; nothing was applied:');
    expect(lines.slice(1, 51)).toEqual(problems.slice(0, 50).map((p) => `  - ${p}`));
    expect(lines.slice(51)).toEqual(['  ... and 70 more (--json lists every problem)']);
    expect(e.problems).toHaveLength(120);
  });
});
