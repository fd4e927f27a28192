import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Every .ts file under test/, repository-relative. */
function testSources(dir = join(ROOT, 'test')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testSources(path);
    return e.name.endsWith('.ts') ? [relative(ROOT, path)] : [];
  });
}

/**
 * A driver interpreter started directly: `execFile('.venv/bin/python', ...)`, `spawn(join(process.cwd(),
 * '.venv/bin/python'), ...)` and the like, which pay a fresh Python's start and `openai` import (~0.9 s of CPU,
 * ~3 s with the Agents SDK) instead of a fork of the run's driver zygote (test/support/python-zygote.ts).
 */
const DIRECT_DRIVER = /\b(?:execFile|execFileSync|spawn|spawnSync)\)?\(\s*(?:'[^']*\.venv[^']*\/bin\/python'|join\((?:[^'()]|\(\))*'\.venv[^']*\/bin\/python'\))/;

describe('Python client drivers start through the run\'s zygote', () => {
  it('no test file starts a .venv Python directly (use runPythonCode or pythonScriptCommand)', () => {
    const direct = testSources().filter((f) => f !== relative(ROOT, import.meta.filename) && DIRECT_DRIVER.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(direct).toEqual([]);
  });

  it('the check finds the shapes the suite used before', () => {
    for (const line of [
      "await promisify(execFile)('.venv/bin/python', ['-c', script, url])",
      "await promisify(execFile)(join(process.cwd(), '.venv/bin/python'), [script, url], { timeout: 25_000 })",
      "spawn('.venv-legacy-clients/bin/python', [script])",
    ]) expect(DIRECT_DRIVER.test(line), line).toBe(true);
    expect(DIRECT_DRIVER.test("spawn(...pythonScriptCommand(join(root, '.venv', 'bin', 'python'), script))")).toBe(false);
  });
});
