import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeOrphanedTempDirs, tempDir } from '../../support/temp-dirs.js';

describe('temp dirs of killed test processes', () => {
  it('names each dir with its process id, and removes only the dirs of processes that are gone', () => {
    // GIVEN a pid that is certainly gone (a child that has exited and been reaped)
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const parent = tempDir('tessera-test-orphans-');
    expect(basename(parent)).toMatch(new RegExp(`^tessera-test-orphans-pid${process.pid}-[A-Za-z0-9]{6}$`));
    const names = { dead: `tessera-test-x-pid${gone}-Ab12Cd`, live: `tessera-test-x-pid${process.pid}-Ef34Gh`, unrelated: 'tessera-test-Gh56Ij', deadFile: `notes-pid${gone}-Kl78Mn` };
    for (const name of [names.dead, names.live, names.unrelated]) mkdirSync(join(parent, name));
    writeFileSync(join(parent, names.deadFile), 'a file, not a dir');
    // WHEN
    const removed = removeOrphanedTempDirs(parent);
    // THEN
    expect(removed).toEqual([join(parent, names.dead)]);
    expect(existsSync(join(parent, names.live))).toBe(true);
    expect(existsSync(join(parent, names.unrelated))).toBe(true);
    expect(existsSync(join(parent, names.deadFile))).toBe(true);
  });
});

describe('test files make their temp dirs through tempDir', () => {
  it('has no test file that calls mkdtemp itself (its dir would outlive the run: runner-format left one per run in /tmp)', () => {
    // Test files and their helpers; test/bench holds scripts run by hand, which remove their own dirs.
    const root = join(import.meta.dirname, '..', '..');
    const offenders = ['unit', 'integration', 'infra', 'isolation', 'preflight', 'support']
      .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
      .filter((file) => /\.(ts|mts)$/.test(file) && file !== join('support', 'temp-dirs.ts'))
      .filter((file) => /\bmkdtemp(Sync)?\(\s*join\(\s*tmpdir\(\)/.test(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
